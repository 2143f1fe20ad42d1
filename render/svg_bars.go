package render

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/tracebook/tracebook/runtime/value"
)

// Maps of numbers (count, sum, min, max, avg and integer values) plot as
// horizontal bars, one per key, in bpftrace's order (ascending, so the
// largest bar is at the bottom, where the text ends too). A map with more
// keys than the limit shows the last TopN of that order, the largest, as
// print(@m, N) would, and says how many it left out. Keys print as in the
// text, stack keys on one line ("inner ← outer"), cut to 40 characters.

// barLabelRunes is the longest key label a bar chart writes.
const barLabelRunes = 40

// Plottable reports whether a map's values are numbers a bar chart can
// show.
func Plottable(m *value.Map) bool {
	switch mapKind(m) {
	case value.MapCount, value.MapSum, value.MapMin, value.MapMax, value.MapAvg:
		return true
	case value.MapPlain:
		if len(m.Entries) > 0 {
			_, ok := m.Entries[0].Value.(value.Int)
			return ok
		}
	}
	return false
}

// BarsSVG plots a keyed numeric map as bars of its top N keys. It returns
// "" when the map has no entries or its values are not numbers; scalar
// maps are better read as text and get no plot either.
func BarsSVG(m *value.Map, opts Options) string {
	if !Plottable(m) || len(m.Entries) == 0 || (len(m.Entries) == 1 && len(m.Entries[0].Key) == 0) {
		return ""
	}
	opts = opts.withDefaults()
	es := SortedEntries(m)
	hidden := 0
	if len(es) > opts.TopN {
		hidden = len(es) - opts.TopN
		es = es[hidden:]
	}
	names := make([]string, len(es))
	vals := make([]float64, len(es))
	labels := make([]string, len(es))
	for i, e := range es {
		names[i] = ellipsize(KeyLabel(e.Key), barLabelRunes)
		vals[i] = barValue(e.Value)
		labels[i] = barLabel(e.Value)
	}
	title := m.Name
	if hidden > 0 {
		title = fmt.Sprintf("%s: top %d of %d keys", m.Name, len(es), len(es)+hidden)
	}
	title += truncNote(m)
	p, _ := newBarPlot(title, names, vals, labels)
	p.X.Label.Text = barAxisLabel(mapKind(m))
	noteH := 0.0
	if hidden > 0 {
		noteH = 20
	}
	h := float64(len(es))*(rowPx+4) + 74 + noteH
	if hidden == 0 {
		return plotSVG(p, opts.Width, h)
	}
	c := svgCanvas(opts.Width, h)
	dc := drawCanvas(c)
	p.Draw(cropBottom(dc, noteH))
	drawNote(dc, fmt.Sprintf("… %d more %s not shown (smaller values); the text lists every key", hidden, plural(hidden, "key", "keys")), px(6))
	return svgString(c)
}

// KeyLabel is a key on one line, for plot labels: its parts joined by
// ", " without the brackets of KeyText, an empty string as "", stacks as
// their frames joined innermost first by " ← ".
func KeyLabel(key []value.Value) string {
	parts := make([]string, len(key))
	for i, k := range key {
		parts[i] = oneLine(KeyPartText(k))
		if parts[i] == "" {
			parts[i] = `""` // an empty string, which the text shows as nothing
		}
	}
	return strings.Join(parts, ", ")
}

// barLabel is the value written at a bar's end: the text's value, its
// digits grouped in thousands as the axis groups them (600,125).
func barLabel(v value.Value) string {
	s := ValueText(v)
	digits := strings.TrimPrefix(s, "-")
	if digits == "" || strings.Trim(digits, "0123456789") != "" {
		return s
	}
	n, err := strconv.ParseUint(digits, 10, 64)
	if err != nil {
		return s
	}
	return s[:len(s)-len(digits)] + groupThousands(n)
}

func barValue(v value.Value) float64 {
	switch v := v.(type) {
	case value.Count:
		return float64(v.N)
	case value.Int:
		if v.Signed {
			return float64(int64(v.Bits))
		}
		return float64(truncUnsigned(v))
	case value.Avg:
		return float64(average(v.Total, v.Count))
	}
	return float64(numericValue(v))
}

func barAxisLabel(k value.MapKind) string {
	switch k {
	case value.MapCount:
		return "count"
	case value.MapSum:
		return "sum"
	case value.MapMin:
		return "min"
	case value.MapMax:
		return "max"
	case value.MapAvg:
		return "average"
	}
	return "value"
}

// truncNote warns, in a plot title, that the snapshot is partial: the
// reader stopped before the end of the map.
func truncNote(m *value.Map) string {
	if !m.Truncated {
		return ""
	}
	return fmt.Sprintf(" (snapshot holds %d of %d keys)", len(m.Entries), m.Total)
}
