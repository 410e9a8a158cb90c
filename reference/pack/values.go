package pack

import (
	"encoding/hex"
	"hash/fnv"
	"math"
	"math/rand/v2"
	"sort"
	"strconv"
	"strings"
	"time"
)

// vocabulary is what words and text generators draw from.
var vocabulary = strings.Fields(`able about account action add address after again agent answer app
apply ask back bad bank basic before best bill billing blue board book box broken browser bug build
button call can cancel card cart case change charge chat check clear click close code color company
confirm contact copy cost create credit customer daily data date day delete delivery desk device
download due edit email empty enable error event export fail file filter find fix form free help
home hour import invoice issue item key label late link list load lock login mail manage menu
message missing mobile month name network new note number open order page paid password payment
phone plan please price print problem profile quick reason refund report request reset restore
return save screen search send server service setting ship slow sort start status stop store
support sync team test ticket time today update upload urgent user video view wait week window work
wrong year`)

// row is where a generated row stands: its index in the table and, in a
// fanout, its parent row's index.
type row struct {
	i, parent int64
}

// valueFn appends one value in COPY text format.
type valueFn func(b []byte, r *row) []byte

// newStream returns the random stream of one column of one table: it
// depends on the seed and the names only, so the data of a column does not
// change when other columns or tables are added.
func newStream(seed uint64, table, column string) *rand.Rand {
	h := fnv.New64a()
	h.Write([]byte(table))
	h.Write([]byte{0})
	h.Write([]byte(column))
	return rand.New(rand.NewPCG(seed, h.Sum64()))
}

// sampler draws numbers of a Dist.
type sampler func() float64

// newSampler returns a sampler of d on r.
func newSampler(d Dist, r *rand.Rand) sampler {
	switch d.Kind {
	case DistConstant:
		return func() float64 { return d.Min }
	case DistUniform:
		if d.Decimals == 0 {
			lo, n := int64(math.Ceil(d.Min)), int64(math.Floor(d.Max))-int64(math.Ceil(d.Min))+1
			return func() float64 { return float64(lo + r.Int64N(max(n, 1))) }
		}
		return func() float64 { return d.Min + r.Float64()*(d.Max-d.Min) }
	case DistNormal:
		return func() float64 {
			v := d.Mean + r.NormFloat64()*d.Stddev
			if d.HasMin {
				v = max(v, d.Min)
			}
			if d.HasMax {
				v = min(v, d.Max)
			}
			return v
		}
	case DistZipf:
		z := rand.NewZipf(r, d.S, 1, uint64(d.Max-d.Min))
		return func() float64 { return d.Min + float64(z.Uint64()) }
	}
	panic("pack: unknown distribution " + d.Kind)
}

// numberFn returns a generator of numbers of d with decimals decimals.
func numberFn(d Dist, decimals int) func(r *rand.Rand) valueFn {
	d.Decimals = decimals
	return func(r *rand.Rand) valueFn {
		s := newSampler(d, r)
		if decimals == 0 {
			return func(b []byte, _ *row) []byte { return strconv.AppendInt(b, int64(math.Round(s())), 10) }
		}
		return func(b []byte, _ *row) []byte { return strconv.AppendFloat(b, s(), 'f', decimals, 64) }
	}
}

// prefixFn returns the values of mk written after prefix (already in
// COPY text form).
func prefixFn(prefix string, mk func(*rand.Rand) valueFn) func(*rand.Rand) valueFn {
	return func(r *rand.Rand) valueFn {
		gen := mk(r)
		return func(b []byte, rw *row) []byte { return gen(append(b, prefix...), rw) }
	}
}

// sequenceFn returns start, start+step, ... by row index.
func sequenceFn(start, step int64) func(*rand.Rand) valueFn {
	return func(*rand.Rand) valueFn {
		return func(b []byte, r *row) []byte { return strconv.AppendInt(b, start+r.i*step, 10) }
	}
}

// perParentSequenceFn returns start, start+step, … restarting for each
// parent row: a row's position among its parent's rows.
func perParentSequenceFn(start, step int64) func(*rand.Rand) valueFn {
	return func(*rand.Rand) valueFn {
		group, k := int64(-1), int64(0)
		return func(b []byte, r *row) []byte {
			if r.parent != group {
				group, k = r.parent, 0
			}
			k++
			return strconv.AppendInt(b, start+(k-1)*step, 10)
		}
	}
}

// choiceFn returns one of values (already in COPY text form) by weight.
func choiceFn(values []string, weights []float64) func(*rand.Rand) valueFn {
	index := weightedIndex(weights)
	return func(r *rand.Rand) valueFn {
		return func(b []byte, _ *row) []byte { return append(b, values[index(r)]...) }
	}
}

// weightedIndex returns a draw of an index of weights, each with
// probability proportional to its weight (some weight must be > 0).
func weightedIndex(weights []float64) func(*rand.Rand) int {
	cum := make([]float64, len(weights))
	var sum float64
	for i, w := range weights {
		sum += w
		cum[i] = sum
	}
	return func(r *rand.Rand) int {
		x := r.Float64() * sum
		i := sort.SearchFloat64s(cum, x)
		for i < len(cum)-1 && (cum[i] <= x || weights[i] == 0) {
			i++
		}
		return i
	}
}

// Layouts of generated times, by the column's base type.
var timeLayouts = map[string]string{
	"timestamptz": "2006-01-02 15:04:05.999999Z07",
	"timestamp":   "2006-01-02 15:04:05.999999",
	"date":        "2006-01-02",
	"time":        "15:04:05",
}

// timeFn returns times uniform in [from, to) at microsecond resolution, in
// layout.
func timeFn(from, to time.Time, layout string) func(*rand.Rand) valueFn {
	lo, n := from.UnixMicro(), to.UnixMicro()-from.UnixMicro()
	return func(r *rand.Rand) valueFn {
		return func(b []byte, _ *row) []byte {
			return time.UnixMicro(lo+r.Int64N(n)).UTC().AppendFormat(b, layout)
		}
	}
}

// wordsFn returns between lo and hi words, cut to limit characters when
// limit > 0.
func wordsFn(lo, hi, limit int) func(*rand.Rand) valueFn {
	return func(r *rand.Rand) valueFn {
		return func(b []byte, _ *row) []byte {
			start := len(b)
			for k := range lo + r.IntN(hi-lo+1) {
				if k > 0 {
					b = append(b, ' ')
				}
				b = append(b, vocabulary[r.IntN(len(vocabulary))]...)
			}
			if limit > 0 && len(b)-start > limit {
				b = b[:start+limit]
			}
			return b
		}
	}
}

// textFn returns text of between lo and hi characters: words, cut to the
// length.
func textFn(lo, hi int) func(*rand.Rand) valueFn {
	return func(r *rand.Rand) valueFn {
		return func(b []byte, _ *row) []byte {
			start := len(b)
			n := lo + r.IntN(hi-lo+1)
			for len(b)-start < n {
				if len(b) > start {
					b = append(b, ' ')
				}
				b = append(b, vocabulary[r.IntN(len(vocabulary))]...)
			}
			b = b[:start+n]
			if b[len(b)-1] == ' ' {
				b[len(b)-1] = '.'
			}
			return b
		}
	}
}

// refFn returns keys of a parent's rows (start + index*step of parents
// rows), the index drawn by d (uniform or zipf: the first rows most). With
// distinct, no parent repeats among the rows of one fanout group (while
// the group is smaller than parents).
func refFn(parents, start, step int64, d Dist, distinct bool) func(*rand.Rand) valueFn {
	return func(r *rand.Rand) valueFn {
		pick := func() int64 { return r.Int64N(parents) }
		if d.Kind == DistZipf {
			z := rand.NewZipf(r, d.S, 1, uint64(parents-1))
			pick = func() int64 { return int64(z.Uint64()) }
		}
		if !distinct {
			return func(b []byte, _ *row) []byte { return strconv.AppendInt(b, start+pick()*step, 10) }
		}
		group := int64(-1)
		var used []int64
		return func(b []byte, rw *row) []byte {
			if rw.parent != group {
				group, used = rw.parent, used[:0]
			}
			p := pick()
			for tries := 0; contains(used, p) && int64(len(used)) < parents; tries++ {
				if tries < 8 {
					p = pick()
				} else {
					p = (p + 1) % parents
				}
			}
			used = append(used, p)
			return strconv.AppendInt(b, start+p*step, 10)
		}
	}
}

func contains(s []int64, v int64) bool {
	for _, x := range s {
		if x == v {
			return true
		}
	}
	return false
}

// parentKeyFn returns the key of the row's parent in a fanout.
func parentKeyFn(start, step int64) func(*rand.Rand) valueFn {
	return func(*rand.Rand) valueFn {
		return func(b []byte, r *row) []byte { return strconv.AppendInt(b, start+r.parent*step, 10) }
	}
}

// uuidFn returns random (version 4) UUIDs.
func uuidFn(r *rand.Rand) valueFn {
	return func(b []byte, _ *row) []byte {
		var u [16]byte
		x, y := r.Uint64(), r.Uint64()
		for i := range 8 {
			u[i], u[8+i] = byte(x>>(8*i)), byte(y>>(8*i))
		}
		u[6] = u[6]&0x0f | 0x40
		u[8] = u[8]&0x3f | 0x80
		var s [36]byte
		hex.Encode(s[0:8], u[0:4])
		s[8] = '-'
		hex.Encode(s[9:13], u[4:6])
		s[13] = '-'
		hex.Encode(s[14:18], u[6:8])
		s[18] = '-'
		hex.Encode(s[19:23], u[8:10])
		s[23] = '-'
		hex.Encode(s[24:], u[10:])
		return append(b, s[:]...)
	}
}

// constFn returns the same value (in COPY text form) every row.
func constFn(v string) func(*rand.Rand) valueFn {
	return func(*rand.Rand) valueFn { return func(b []byte, _ *row) []byte { return append(b, v...) } }
}

// withNulls makes a fraction of a generator's values NULL. The generator
// is called for every row, NULL or not, so the fraction does not shift the
// other values.
func withNulls(frac float64, mk func(*rand.Rand) valueFn) func(*rand.Rand) valueFn {
	if frac == 0 {
		return mk
	}
	return func(r *rand.Rand) valueFn {
		gen := mk(r)
		nulls := rand.New(rand.NewPCG(r.Uint64(), r.Uint64()))
		return func(b []byte, rw *row) []byte {
			start := len(b)
			b = gen(b, rw)
			if nulls.Float64() < frac {
				return append(b[:start], `\N`...)
			}
			return b
		}
	}
}

// copyText escapes s for COPY's text format.
func copyText(s string) string {
	if !strings.ContainsAny(s, "\\\t\n\r") {
		return s
	}
	return strings.NewReplacer(`\`, `\\`, "\t", `\t`, "\n", `\n`, "\r", `\r`).Replace(s)
}
