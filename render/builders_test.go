package render

import (
	"math/bits"
	"regexp"
	"strconv"
	"strings"

	"github.com/tracebook/tracebook/runtime/value"
)

// Builders for test values. They model what the runtime hands to render
// after running a BEGIN program: integers as bpftrace types them, and
// aggregation states folded from samples.

func i64(n int64) value.Int  { return value.Int{Bits: uint64(n), Signed: true, Size: 8} }
func u64(n uint64) value.Int { return value.Int{Bits: n, Size: 8} }
func u32(n uint32) value.Int { return value.Int{Bits: uint64(n), Size: 4} }
func i32(n int32) value.Int  { return value.Int{Bits: uint64(int64(n)), Signed: true, Size: 4} }
func str(s string) value.Str { return value.Str{S: s} }
func tup(vs ...value.Value) value.Tuple {
	return value.Tuple{Elems: vs}
}
func key(vs ...value.Value) []value.Value { return vs }

// mapB builds a map snapshot entry by entry, in insertion order.
type mapB struct {
	m                 *value.Map
	lmin, lmax, lstep int64
	index             map[string]int
}

func newMap(name string, kind value.MapKind) *mapB {
	return &mapB{m: &value.Map{Name: name, Kind: kind}, index: map[string]int{}}
}

func (b *mapB) lhist(min, max, step int64) *mapB {
	b.lmin, b.lmax, b.lstep = min, max, step
	return b
}

func keyID(k []value.Value) string {
	var s strings.Builder
	for _, p := range k {
		s.WriteString(KeyPartText(p))
		s.WriteByte(0)
	}
	return s.String()
}

// set assigns a value (plain maps).
func (b *mapB) set(v value.Value, k ...value.Value) *mapB {
	id := keyID(k)
	if len(k) > 0 {
		b.m.Keyed = true
	}
	if i, ok := b.index[id]; ok {
		b.m.Entries[i].Value = v
		return b
	}
	b.index[id] = len(b.m.Entries)
	b.m.Entries = append(b.m.Entries, value.Entry{Key: k, Value: v})
	return b
}

// add folds samples into the aggregation under key k.
func (b *mapB) add(k []value.Value, samples ...int64) *mapB {
	id := keyID(k)
	if len(k) > 0 {
		b.m.Keyed = true
	}
	i, ok := b.index[id]
	if !ok {
		i = len(b.m.Entries)
		b.index[id] = i
		b.m.Entries = append(b.m.Entries, value.Entry{Key: k, Value: b.zero()})
	}
	for _, s := range samples {
		b.m.Entries[i].Value = b.fold(b.m.Entries[i].Value, s)
	}
	return b
}

func (b *mapB) zero() value.Value {
	switch b.m.Kind {
	case value.MapCount:
		return value.Count{}
	case value.MapSum:
		return value.Sum{}
	case value.MapMin:
		return value.Min{}
	case value.MapMax:
		return value.Max{}
	case value.MapAvg:
		return value.Avg{}
	case value.MapStats:
		return value.Stats{}
	case value.MapHist:
		return value.Hist{Buckets: make([]uint64, HistBuckets)}
	case value.MapLhist:
		n := (b.lmax-b.lmin)/b.lstep + 2
		return value.Lhist{Min: b.lmin, Max: b.lmax, Step: b.lstep, Buckets: make([]uint64, n)}
	}
	return nil
}

func (b *mapB) fold(v value.Value, s int64) value.Value {
	switch v := v.(type) {
	case value.Count:
		v.N++
		return v
	case value.Sum:
		v.V += s
		return v
	case value.Min:
		if !v.Set || s < v.V {
			v.V, v.Set = s, true
		}
		return v
	case value.Max:
		if !v.Set || s > v.V {
			v.V, v.Set = s, true
		}
		return v
	case value.Avg:
		v.Count++
		v.Total += s
		return v
	case value.Stats:
		v.Count++
		v.Total += s
		return v
	case value.Hist:
		v.Buckets = append([]uint64(nil), v.Buckets...)
		v.Buckets[histIndex(s)]++
		return v
	case value.Lhist:
		v.Buckets = append([]uint64(nil), v.Buckets...)
		v.Buckets[lhistIndex(v, s)]++
		return v
	}
	return v
}

// histIndex is bpftrace's log2 bucket: 0 for negatives, 1 for zero, 2 for
// one, and floor(log2 v)+2 above.
func histIndex(s int64) int {
	switch {
	case s < 0:
		return 0
	case s == 0:
		return 1
	}
	return bits.Len64(uint64(s)) + 1
}

func lhistIndex(l value.Lhist, s int64) int {
	n := int64(len(l.Buckets) - 2)
	switch {
	case s < l.Min:
		return 0
	case s >= l.Max:
		return int(n + 1)
	}
	i := (s-l.Min)/l.Step + 1
	if i > n+1 {
		i = n + 1
	}
	return int(i)
}

func (b *mapB) done() *value.Map { return b.m }

// specRE matches a conversion as bpftrace 0.17's parser does.
var specRE = regexp.MustCompile(`%(-?)([0-9]*)(\.[0-9]+)?(rx|rh|r|s|c|(?:hh|h|ll|l|j|z|t)?[duoxXp])`)

// parseFormat splits a format the way lang's parser does, for tests:
// "%%" collapses to "%" in text before a conversion, not after the last.
func parseFormat(f string) *value.Format {
	out := &value.Format{Source: f}
	last := 0
	for _, m := range specRE.FindAllStringSubmatchIndex(f, -1) {
		lit := strings.ReplaceAll(f[last:m[0]], "%%", "%")
		sp := &value.Spec{Precision: -1}
		sp.Flags = f[m[2]:m[3]]
		w := f[m[4]:m[5]]
		if strings.HasPrefix(w, "0") {
			sp.Flags += "0"
		}
		if w != "" {
			sp.Width, _ = strconv.Atoi(w)
		}
		if m[6] >= 0 {
			sp.Precision, _ = strconv.Atoi(f[m[6]+1 : m[7]])
		}
		conv := f[m[8]:m[9]]
		switch {
		case conv == "rx" || conv == "rh" || len(conv) == 1:
			sp.Verb = conv
		default:
			sp.Length, sp.Verb = conv[:len(conv)-1], conv[len(conv)-1:]
		}
		out.Segments = append(out.Segments, value.Segment{Literal: lit, Spec: sp})
		last = m[1]
	}
	if last < len(f) {
		out.Segments = append(out.Segments, value.Segment{Literal: f[last:]})
	}
	return out
}

func printfEv(f string, args ...value.Value) value.Event {
	return value.Printf{Format: parseFormat(f), Args: args}
}
