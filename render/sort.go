package render

import (
	"bytes"
	"encoding/binary"
	"slices"
	"strings"

	"github.com/tracebook/tracebook/runtime/value"
)

// SortedEntries returns m's entries in the order bpftrace prints them:
//
//   - count, sum, min, max and integer maps: ascending by value (signed or
//     unsigned as the values are);
//   - avg and stats maps: ascending by average;
//   - hist and lhist maps: ascending by the total of their buckets;
//   - every other map: by key, integers compared unsigned and strings
//     bytewise (strncmp), the first key part first; key parts of other
//     types do not take part.
//
// Ties keep the order of m.Entries (the order the runtime read them, which
// is the kernel's iteration order, as in bpftrace), except for histogram
// and avg/stats maps: bpftrace gathers those in a std::map keyed by the
// raw key bytes before sorting, so ties among them come out in that byte
// order, which is reproduced here.
func SortedEntries(m *value.Map) []value.Entry {
	// Sort pointer-free decorations: the sort key computed once per
	// entry, the original position as the last tie-breaker (a stable sort
	// without the cost of an in-place stable merge).
	kind := mapKind(m)
	items := make([]sortItem, len(m.Entries))
	signed := false
	for i, e := range m.Entries {
		it := sortItem{idx: i}
		switch kind {
		case value.MapHist, value.MapLhist:
			it.u = histTotal(buckets(e.Value))
		case value.MapAvg, value.MapStats:
			it.s = entryAverage(e.Value)
			signed = true
		default:
			var sg bool
			it.u, it.s, sg = numericKey(e.Value)
			signed = signed || sg
		}
		items[i] = it
	}
	byValue := true
	if kind == value.MapPlain && len(m.Entries) > 0 {
		_, byValue = m.Entries[0].Value.(value.Int)
	}
	keyBytes := kind == value.MapHist || kind == value.MapLhist || kind == value.MapAvg || kind == value.MapStats
	es := m.Entries
	slices.SortFunc(items, func(a, b sortItem) int {
		var c int
		switch {
		case !byValue:
			c = compareKeys(es[a.idx].Key, es[b.idx].Key)
		case signed:
			c = cmpInt(a.s, b.s)
		default:
			c = cmpUint(a.u, b.u)
		}
		if c == 0 && keyBytes {
			c = compareKeyBytes(es[a.idx].Key, es[b.idx].Key)
		}
		if c == 0 {
			c = a.idx - b.idx
		}
		return c
	})
	out := make([]value.Entry, len(items))
	for i, it := range items {
		out[i] = es[it.idx]
	}
	return out
}

type sortItem struct {
	idx int
	u   uint64
	s   int64
}

// numericKey is the sort key of a count, sum, min, max or integer value:
// counts and unsigned integers compare unsigned, the rest signed.
func numericKey(v value.Value) (u uint64, s int64, signed bool) {
	switch v := v.(type) {
	case value.Count:
		return v.N, 0, false
	case value.Int:
		if v.Signed {
			return 0, int64(v.Bits), true
		}
		return v.Bits, 0, false
	}
	return 0, numericValue(v), true
}

// TopEntries keeps the last top entries of sorted (all when top is 0 or
// at least the length), as print(@m, top) does: the largest, still in
// ascending order.
func TopEntries(sorted []value.Entry, top uint64) []value.Entry {
	if top == 0 || uint64(len(sorted)) <= top {
		return sorted
	}
	return sorted[uint64(len(sorted))-top:]
}

// mapKind is the map's kind, or, for a map the runtime marked plain, the
// kind its values show.
func mapKind(m *value.Map) value.MapKind {
	if m.Kind != value.MapPlain || len(m.Entries) == 0 {
		return m.Kind
	}
	switch m.Entries[0].Value.(type) {
	case value.Count:
		return value.MapCount
	case value.Sum:
		return value.MapSum
	case value.Min:
		return value.MapMin
	case value.Max:
		return value.MapMax
	case value.Avg:
		return value.MapAvg
	case value.Stats:
		return value.MapStats
	case value.Hist:
		return value.MapHist
	case value.Lhist:
		return value.MapLhist
	}
	return value.MapPlain
}

func buckets(v value.Value) []uint64 {
	switch v := v.(type) {
	case value.Hist:
		return v.Buckets
	case value.Lhist:
		return v.Buckets
	}
	return nil
}

func entryAverage(v value.Value) int64 {
	switch v := v.(type) {
	case value.Avg:
		return average(v.Total, v.Count)
	case value.Stats:
		return average(v.Total, v.Count)
	}
	return 0
}

func numericValue(v value.Value) int64 {
	switch v := v.(type) {
	case value.Count:
		return int64(v.N)
	case value.Sum:
		return v.V
	case value.Min:
		return v.V
	case value.Max:
		return v.V
	case value.Int:
		return int64(v.Bits)
	}
	return 0
}

// compareKeys is bpftrace's sort by key: integer parts unsigned at their
// size, string parts bytewise; other parts compare equal.
func compareKeys(a, b []value.Value) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		switch ka := a[i].(type) {
		case value.Int:
			if kb, ok := b[i].(value.Int); ok {
				if c := cmpUint(truncUnsigned(ka), truncUnsigned(kb)); c != 0 {
					return c
				}
			}
		case value.Str:
			if kb, ok := b[i].(value.Str); ok {
				if c := strings.Compare(ka.S, kb.S); c != 0 {
					return c
				}
			}
		}
	}
	return 0
}

// compareKeyBytes orders keys by their in-kernel byte image (integers
// little-endian, strings NUL-padded), part by part, which is the order of
// bpftrace's std::map of keys. Parts whose bytes render cannot know (stack
// ids) compare equal.
func compareKeyBytes(a, b []value.Value) int {
	for i := 0; i < len(a) && i < len(b); i++ {
		if c := bytes.Compare(keyBytes(a[i]), keyBytes(b[i])); c != 0 {
			return c
		}
	}
	return 0
}

func keyBytes(v value.Value) []byte {
	var buf [8]byte
	switch v := v.(type) {
	case value.Int:
		size := v.Size
		if size <= 0 || size > 8 {
			size = 8
		}
		binary.LittleEndian.PutUint64(buf[:], v.Bits)
		return buf[:size]
	case value.Str:
		return []byte(v.S)
	case value.Text:
		binary.LittleEndian.PutUint64(buf[:], v.Raw)
		return buf[:]
	case value.Pointer:
		binary.LittleEndian.PutUint64(buf[:], v.Addr)
		return buf[:]
	case value.Buffer:
		return v.B
	case value.Tuple:
		var out []byte
		for _, e := range v.Elems {
			out = append(out, keyBytes(e)...)
		}
		return out
	}
	return nil
}

func cmpUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func cmpInt(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}
