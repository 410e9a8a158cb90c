// Package datagen generates the benchmark's dataset, deterministically, and
// loads it into a write model fast.
//
// A Config names the dataset: the number of orders (customers default to a
// tenth of that, products to 10,000), a Seed, the run's day (Today) and the
// skew of orders per customer. The same Config always yields byte-identical
// rows, so architectures loaded with it start from the same data:
//
//   - customers with a Zipf-skewed number of orders (many with one to
//     three, some with hundreds) and one or two addresses each;
//   - products with one to three images and skewed popularity;
//   - orders spread over the 90 days before Today and Today itself, ids
//     growing with time, each with one to five lines; old orders mostly
//     shipped or cancelled, recent ones carts or confirmed; version counts
//     the commands an order went through.
//
// Generator exposes each table as a pgx.CopyFromSource that generates rows
// on the fly (a row's values depend only on the seed and its id, so tables
// are generated independently and concurrently). Load creates the schema
// with reference/domain, copies the tables (binary COPY with FREEZE, one
// transaction per table, several tables at once) and then builds indexes,
// keys and foreign keys and runs ANALYZE:
//
//	stats, err := datagen.Load(ctx, pool, "crud", datagen.Config{Orders: 1_000_000, Seed: 1}, func(p datagen.Progress) {
//		bar.Update(p.Phase, p.Done, p.Total)
//	})
//	fmt.Print(stats) // rows and seconds per phase and table
package datagen
