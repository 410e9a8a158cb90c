package datagen

import "math/bits"

// Vocabularies of the generated names, as constants (split by New).
const (
	firstNames = `Ada Alan Grace Linus Barbara Ken Dennis Margaret Edsger Donald Frances John Radia Tim Vint
Leslie Niklaus Hedy Katherine Dorothy Annie Brian Rob Bjarne Guido James Larry Sophie Karen Anita
Shafi Fran Jean Betty Kathleen Ruth Marlyn Erna Mary Elena Lucas Mila Noah Emma Liam Olivia Mateo Zoe
Hugo Ines Yuki Arjun Priya Chen Amara Kofi Lena Omar Sara Tariq Nora Felix Ingrid Pablo Aiko`
	lastNames = `Lovelace Turing Hopper Torvalds Liskov Thompson Ritchie Hamilton Dijkstra Knuth Allen McCarthy
Perlman Berners-Lee Cerf Lamport Wirth Lamarr Johnson Vaughan Easley Kernighan Pike Stroustrup Rossum
Gosling Page Wilson Sparck Borg Goldwasser Bilas Jennings Holberton Antonelli Teitelbaum Wescoff
Schneider Keller Rossi Silva Nakamura Patel Okafor Haddad Larsen Novak Moreau Fischer Garcia Kim
Nguyen Mensah Ivanova Svensson Tanaka Costa Mueller Dubois Horvat Jansen Kowalski`
	streetNames = `Main Oak Pine Maple Cedar Elm Walnut Willow Birch Chestnut Harbor Mill Church Station Park
Lake Hill River Meadow Garden Bridge Market King Queen Castle Forest Spring Valley Orchard Baker`
	cityNames = `Oslo,Lisbon,Berlin,Paris,Madrid,Rome,Vienna,Prague,Warsaw,Dublin,Amsterdam,Brussels,Copenhagen,` +
		`Stockholm,Helsinki,Zurich,Milan,Lyon,Munich,Hamburg,Porto,Seville,Krakow,Budapest,Athens,Tallinn,Riga,` +
		`Vilnius,Ljubljana,Zagreb,Bordeaux,Valencia,Gothenburg,Bergen,Antwerp,Rotterdam,Cork,Geneva,Salzburg,Turin`
	countryCodes      = `NO PT DE FR ES IT AT CZ PL IE NL BE DK SE FI CH DE FR DE ES`
	productAdjectives = `Classic Modern Compact Deluxe Rustic Vintage Sleek Sturdy Portable Elegant Cozy Bold
Minimal Premium Handmade Eco Smart Bright Soft Tough`
	productMaterials = `Ceramic Wooden Steel Cotton Leather Glass Bamboo Copper Wool Linen Marble Oak Velvet Silk
Concrete Brass Cork Felt Titanium Aluminium`
	productNouns = `Mug Lamp Chair Backpack Notebook Kettle Blanket Vase Desk Headphones Bottle Watch Wallet
Speaker Pillow Knife Pan Shelf Clock Scarf Jacket Sneakers Frame Planter Tray Bowl Candle Rug Stool Mirror`
)

// mulDiv returns a*b/c without overflow; c > 0 and a*b/c must fit in 64 bits.
func mulDiv(a, b, c uint64) uint64 {
	hi, lo := bits.Mul64(a, b)
	q, _ := bits.Div64(hi, lo, c)
	return q
}
