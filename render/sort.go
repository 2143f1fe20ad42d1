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
	es := slices.Clone(m.Entries)
	switch mapKind(m) {
	case value.MapHist, value.MapLhist:
		slices.SortStableFunc(es, func(a, b value.Entry) int { return compareKeyBytes(a.Key, b.Key) })
		slices.SortStableFunc(es, func(a, b value.Entry) int {
			return cmpUint(histTotal(buckets(a.Value)), histTotal(buckets(b.Value)))
		})
	case value.MapAvg, value.MapStats:
		slices.SortStableFunc(es, func(a, b value.Entry) int { return compareKeyBytes(a.Key, b.Key) })
		slices.SortStableFunc(es, func(a, b value.Entry) int {
			return cmpInt(entryAverage(a.Value), entryAverage(b.Value))
		})
	case value.MapCount, value.MapSum, value.MapMin, value.MapMax:
		slices.SortStableFunc(es, func(a, b value.Entry) int { return compareNumeric(a.Value, b.Value) })
	default:
		if len(es) > 0 {
			if _, ok := es[0].Value.(value.Int); ok {
				slices.SortStableFunc(es, func(a, b value.Entry) int { return compareNumeric(a.Value, b.Value) })
				break
			}
		}
		slices.SortStableFunc(es, func(a, b value.Entry) int { return compareKeys(a.Key, b.Key) })
	}
	return es
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

// compareNumeric orders aggregation and integer values as bpftrace does:
// counts and unsigned integers unsigned, everything else signed.
func compareNumeric(a, b value.Value) int {
	switch a := a.(type) {
	case value.Count:
		if b, ok := b.(value.Count); ok {
			return cmpUint(a.N, b.N)
		}
	case value.Int:
		if b, ok := b.(value.Int); ok {
			if a.Signed {
				return cmpInt(int64(a.Bits), int64(b.Bits))
			}
			return cmpUint(a.Bits, b.Bits)
		}
	}
	return cmpInt(numericValue(a), numericValue(b))
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
