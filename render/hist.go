package render

import (
	"strconv"
	"strings"

	"github.com/tracebook/tracebook/runtime/value"
)

// Histogram rows are printed as printf("%-16s%8d |%-52s|\n", label, count,
// bar): the label column is 16 wide, left-aligned (longer labels push the
// rest right), the count 8 wide, right-aligned, and the bar 52 cells.
const (
	histLabelWidth = 16
	histCountWidth = 8
	histBarWidth   = 52
)

// HistBuckets is the number of buckets of a full 64-bit hist(): negative,
// zero, one, and one per power of two up to [2^63, 2^64).
const HistBuckets = 66

// HistText formats the rows of a hist() value as bpftrace prints them
// under the "@name: " header: only the range from the first to the last
// non-empty bucket, counts divided by div (0 means 1), bars scaled to the
// largest undivided count. An empty hist gives "".
func HistText(h value.Hist, div uint64) string {
	if div == 0 {
		div = 1
	}
	lo, hi, ok := BucketRange(h.Buckets)
	if !ok {
		return ""
	}
	max := maxCount(h.Buckets)
	var b strings.Builder
	for i := lo; i <= hi; i++ {
		writeHistRow(&b, HistLabel(i), h.Buckets[i]/div, h.Buckets[i], max)
	}
	return b.String()
}

// LhistText formats the rows of an lhist() value. bpftrace 0.17 ignores
// print()'s div for lhist, so there is no div here.
func LhistText(l value.Lhist) string {
	lo, hi, ok := BucketRange(l.Buckets)
	if !ok {
		return ""
	}
	max := maxCount(l.Buckets)
	var b strings.Builder
	for i := lo; i <= hi; i++ {
		writeHistRow(&b, LhistLabel(l, i), l.Buckets[i], l.Buckets[i], max)
	}
	return b.String()
}

// BucketRange returns the first and last non-empty bucket. ok is false
// when every bucket is empty.
func BucketRange(buckets []uint64) (lo, hi int, ok bool) {
	lo, hi = -1, -1
	for i, c := range buckets {
		if c > 0 {
			if lo < 0 {
				lo = i
			}
			hi = i
		}
	}
	return lo, hi, lo >= 0
}

func maxCount(buckets []uint64) uint64 {
	var m uint64
	for _, c := range buckets {
		m = max(m, c)
	}
	return m
}

// BarCells is the number of '@' cells a count gets next to the largest
// count. bpftrace computes it in single-precision floating point and
// truncates, so the arithmetic here is float32 as well.
func BarCells(count, max uint64) int {
	if max == 0 {
		return 0
	}
	return int(float32(count) / float32(max) * histBarWidth)
}

func writeHistRow(b *strings.Builder, label string, shown, count, max uint64) {
	b.WriteString(label)
	for n := len(label); n < histLabelWidth; n++ {
		b.WriteByte(' ')
	}
	c := strconv.FormatUint(shown, 10)
	for n := len(c); n < histCountWidth; n++ {
		b.WriteByte(' ')
	}
	b.WriteString(c)
	b.WriteString(" |")
	cells := BarCells(count, max)
	for n := 0; n < histBarWidth; n++ {
		if n < cells {
			b.WriteByte('@')
		} else {
			b.WriteByte(' ')
		}
	}
	b.WriteString("|\n")
}

// HistLabel is the label of hist() bucket i: "(..., 0)", "[0]", "[1]",
// then "[2, 4)", ..., "[512, 1K)", ... up to "[8E, 16E)". Powers of two
// take the largest suffix of K, M, G, T, P, E (2^10 steps) that divides
// them. This is the labelling of bpftrace ≥ 0.20, which extended 0.17's
// labels (capped at [2G, 4G)) to the full 64-bit range.
func HistLabel(i int) string {
	switch i {
	case 0:
		return "(..., 0)"
	case 1:
		return "[0]"
	case 2:
		return "[1]"
	}
	return "[" + pow2Label(i-2) + ", " + pow2Label(i-1) + ")"
}

// pow2Label prints 2^p with a binary suffix: 2^13 is "8K".
func pow2Label(p int) string {
	decade := p / 10
	if decade > 6 {
		decade = 6
	}
	n := strconv.FormatUint(uint64(1)<<(p-10*decade), 10)
	if decade == 0 {
		return n
	}
	return n + string("KMGTPE"[decade-1])
}

// HistBounds returns the values bucket i of a hist() holds: lo..hi
// inclusive. The negative bucket (i == 0) has neither bound that a uint64
// can hold: hasLo is false and its upper bound is -1.
func HistBounds(i int) (lo, hi uint64, hasLo bool) {
	switch i {
	case 0:
		return 0, 0, false // hi is -1, which a uint64 cannot say; see histJSON
	case 1:
		return 0, 0, true
	case 2:
		return 1, 1, true
	}
	low := uint64(1) << (i - 2)
	return low, low<<1 - 1, true
}

// LhistLabel is the label of lhist() bucket i: "(..., min)" for values
// below the minimum, "[max, ...)" for values at or above the maximum, and
// "[lo, hi)" between, where a number divisible by 1M or 1K is written with
// that suffix (bpftrace 0.17's rule, whatever the step).
func LhistLabel(l value.Lhist, i int) string {
	n := len(l.Buckets) - 2 // buckets between the two open-ended ones
	switch {
	case i == 0:
		return "(..., " + lhistNumber(l.Min) + ")"
	case i == n+1:
		return "[" + lhistNumber(l.Max) + ", ...)"
	}
	lo := l.Min + int64(i-1)*l.Step
	return "[" + lhistNumber(lo) + ", " + lhistNumber(lo+l.Step) + ")"
}

func lhistNumber(n int64) string {
	const kilo, mega = 1024, 1024 * 1024
	switch {
	case n == 0:
		return "0"
	case n%mega == 0:
		return strconv.FormatInt(n/mega, 10) + "M"
	case n%kilo == 0:
		return strconv.FormatInt(n/kilo, 10) + "K"
	}
	return strconv.FormatInt(n, 10)
}

// histTotal is the sum of a hist's or lhist's buckets, which orders
// histogram maps.
func histTotal(buckets []uint64) uint64 {
	var t uint64
	for _, c := range buckets {
		t += c
	}
	return t
}
