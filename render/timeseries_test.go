package render

import (
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/tracebook/tracebook/runtime/value"
)

// counts builds a count map snapshot; keys in ks order with counts ns.
func counts(name string, kv ...any) *value.Map {
	m := &value.Map{Name: name, Kind: value.MapCount, Keyed: true}
	for i := 0; i < len(kv); i += 2 {
		m.Entries = append(m.Entries, value.Entry{Key: key(str(kv[i].(string))), Value: value.Count{N: uint64(kv[i+1].(int))}})
	}
	return m
}

var t0 = time.Date(2026, 11, 25, 12, 0, 0, 0, time.UTC)

func sec(n float64) time.Time { return t0.Add(time.Duration(n * float64(time.Second))) }

// points returns the points of a polyline as "x,y" pairs.
func points(p map[string]string) []string { return strings.Fields(p["points"]) }

func TestSeriesLinesZeroFillAndGaps(t *testing.T) {
	// A count map cleared after each print: a key missing from a complete
	// snapshot had no events, so its line goes through zero.
	s := NewSeries("@c")
	s.Add(sec(0), counts("@c", "a", 5, "b", 7))
	s.Add(sec(1), counts("@c", "b", 9))
	s.Add(sec(2), counts("@c", "a", 3, "b", 8))
	d := parseSVG(t, SeriesSVG(s, Options{}))
	if len(d.polylines) != 2 || len(d.circles) != 0 {
		t.Fatalf("%d polylines and %d dots, want 2 unbroken lines", len(d.polylines), len(d.circles))
	}
	for _, p := range d.polylines {
		if n := len(points(p)); n != 3 {
			t.Errorf("a line of %d points, want 3: %v", n, p)
		}
	}
	for _, w := range []string{"@c over time", "a", "b", "count", "seconds"} {
		if !d.hasText(w) {
			t.Errorf("no %q in %q", w, d.texts)
		}
	}
	// b has the larger values over the period: it is first in the legend.
	if i, j := slices.Index(d.texts, "b"), slices.Index(d.texts, "a"); i < 0 || j < i {
		t.Errorf("legend order: %q", d.texts)
	}
	if !slices.Contains(d.titles, "b: last 8, peak 9 count") {
		t.Errorf("line titles %q", d.titles)
	}

	// A partial snapshot (the reader's limit, print's top) says nothing
	// of a missing key: the line breaks there, and a point standing alone
	// is a dot.
	s = NewSeries("@c")
	s.Add(sec(0), counts("@c", "a", 5, "b", 7))
	part := counts("@c", "b", 9)
	part.Truncated, part.Total = true, 2
	s.Add(sec(1), part)
	s.Add(sec(2), counts("@c", "a", 3, "b", 8))
	s.Add(sec(3), counts("@c", "a", 4, "b", 8))
	d = parseSVG(t, SeriesSVG(s, Options{}))
	if len(d.polylines) != 2 || len(d.circles) != 1 {
		t.Errorf("%d polylines and %d dots, want 2 and 1 (a's first point alone)", len(d.polylines), len(d.circles))
	}

	// min, max and avg values are not zero when missing.
	av := func(kv ...int64) *value.Map {
		m := &value.Map{Name: "@avg", Kind: value.MapAvg, Keyed: true}
		for i := 0; i < len(kv); i += 2 {
			m.Entries = append(m.Entries, value.Entry{Key: key(i64(kv[i])), Value: value.Avg{Total: kv[i+1], Count: 1}})
		}
		return m
	}
	s = NewSeries("@avg")
	for i, m := range []*value.Map{av(1, 10, 2, 20), av(2, 21), av(1, 12, 2, 22), av(1, 11, 2, 19)} {
		s.Add(sec(float64(i)), m)
	}
	d = parseSVG(t, SeriesSVG(s, Options{}))
	if len(d.polylines) != 2 || len(d.circles) != 1 || !d.hasText("average") {
		t.Errorf("avg: %d polylines and %d dots, want 2 and 1; texts %q", len(d.polylines), len(d.circles), d.texts)
	}
}

func TestSeriesDeltas(t *testing.T) {
	// Running totals read once a second: the plot is the growth per
	// second; a count that went down was cleared and counts from zero.
	s := NewSeries("@c")
	s.Deltas = true
	for i, n := range []int{0, 10, 30, 60, 5} {
		s.Add(sec(float64(i)), counts("@c", "a", n))
	}
	d := parseSVG(t, SeriesSVG(s, Options{}))
	if !d.hasText("@c per second") || !d.hasText("count/s") {
		t.Errorf("texts %q", d.texts)
	}
	if len(d.polylines) != 1 {
		t.Fatalf("%d polylines", len(d.polylines))
	}
	if n := len(points(d.polylines[0])); n != 4 {
		t.Errorf("%d points, want 4 (one per interval)", n)
	}
	if !slices.Contains(d.titles, "a: last 5, peak 30 count/s") {
		t.Errorf("titles %q", d.titles)
	}
	// Two readings make one interval: not yet a series.
	two := &Series{Name: "@c", Deltas: true}
	two.Add(sec(0), counts("@c", "a", 1))
	two.Add(sec(1), counts("@c", "a", 2))
	if SeriesSVG(two, Options{}) != "" {
		t.Error("a delta series of two readings plotted")
	}
	// Deltas of kinds that do not accumulate plot values.
	mx := &Series{Name: "@m", Deltas: true}
	for i := range 3 {
		mx.Add(sec(float64(i)), &value.Map{Name: "@m", Kind: value.MapMax, Entries: []value.Entry{{Value: value.Max{V: int64(10 - i), Set: true}}}})
	}
	d = parseSVG(t, SeriesSVG(mx, Options{}))
	if !d.hasText("@m over time") || len(points(d.polylines[0])) != 3 {
		t.Errorf("max series: %q", d.texts)
	}

	// A histogram series with deltas: each column is what the buckets
	// gained, per second.
	h := &Series{Name: "@h", Deltas: true}
	hist := func(n4, n8 uint64) *value.Map {
		b := make([]uint64, HistBuckets)
		b[3], b[4] = n4, n8 // [2, 4) and [4, 8)
		return &value.Map{Name: "@h", Kind: value.MapHist, Entries: []value.Entry{{Value: value.Hist{Buckets: b}}}}
	}
	h.Add(sec(0), hist(1, 0))
	h.Add(sec(1), hist(5, 0))
	h.Add(sec(3), hist(5, 20))
	d = parseSVG(t, SeriesSVG(h, Options{}))
	want := []string{"[2, 4) at 1s: 4/s", "[4, 8) at 3s: 10/s"}
	if !slices.Equal(d.titles, want) {
		t.Errorf("cells %q, want %q", d.titles, want)
	}
	if !d.hasText("@h per second") {
		t.Errorf("heatmap texts %q", d.texts)
	}
}

func TestSeriesLongRunIsSampled(t *testing.T) {
	s := &Series{Name: "@c", Max: 1000}
	for i := range 1000 {
		s.Add(sec(float64(i)/10), counts("@c", "a", i%37, "b", 3))
	}
	svg := SeriesSVG(s, Options{})
	d := parseSVG(t, svg)
	for _, p := range d.polylines {
		pts := points(p)
		if len(pts) > maxColumns {
			t.Errorf("%d points, want at most %d", len(pts), maxColumns)
		}
	}
	if len(svg) > 40<<10 {
		t.Errorf("a two-line series of 1000 snapshots is %d bytes", len(svg))
	}
	idx := s.pick(maxColumns)
	if idx[0] != 0 || idx[len(idx)-1] != 999 || !slices.IsSorted(idx) {
		t.Errorf("picked %v...", idx[:5])
	}
	// Drawn again unchanged, the series is not drawn twice; a new
	// snapshot draws it again.
	if SeriesSVG(s, Options{}) != svg {
		t.Error("cache")
	}
	s.Add(sec(100), counts("@c", "a", 1))
	if SeriesSVG(s, Options{}) == svg {
		t.Error("cache not refreshed by a new snapshot")
	}
	// The compact panel has fewer columns.
	d = parseSVG(t, SeriesSVG(s, Options{compact: true}))
	if n := len(points(d.polylines[0])); n > compactColumns {
		t.Errorf("compact: %d points", n)
	}
}

func TestSeriesManyKeys(t *testing.T) {
	s := NewSeries("@c")
	for i := range 3 {
		var kv []any
		for k := range 25 {
			kv = append(kv, fmt.Sprintf("proc-%02d", k), (k+1)*(i+1))
		}
		s.Add(sec(float64(i)), counts("@c", kv...))
	}
	d := parseSVG(t, SeriesSVG(s, Options{}))
	if len(d.polylines) != DefaultLines {
		t.Errorf("%d lines, want %d", len(d.polylines), DefaultLines)
	}
	if d.textContaining("15 more keys not drawn") == "" {
		t.Errorf("no note of the keys left out: %q", d.texts)
	}
	if !d.hasText("proc-24") || d.hasText("proc-00") {
		t.Error("the largest keys should be drawn")
	}
}

func TestSeriesPlottable(t *testing.T) {
	st := newMap("@s", value.MapStats).add(key(str("a")), 1).done()
	stacks := newMap("@k", value.MapCount).add(key(value.Stack{Frames: []value.Frame{{Sym: "f"}}}), 0).done()
	for _, c := range []struct {
		m    *value.Map
		want bool
	}{
		{counts("@c", "a", 1), true},
		{newMap("@h", value.MapHist).add(nil, 5).done(), true},
		{newMap("@l", value.MapLhist).lhist(0, 100, 10).add(nil, 5).done(), true},
		{newMap("@a", value.MapAvg).add(nil, 5).done(), true},
		{st, false},
		{stacks, false},
		{(&mapB{m: &value.Map{Name: "@s"}, index: map[string]int{}}).set(str("x"), i64(1)).done(), false},
		{nil, false},
	} {
		if got := SeriesPlottable(c.m); got != c.want {
			t.Errorf("SeriesPlottable(%v) = %v", c.m, got)
		}
	}
}

func TestSeriesBundle(t *testing.T) {
	s := NewSeries("@c")
	for i := range 5 {
		s.Add(sec(float64(i)), counts("@c", "a", i))
	}
	b := SeriesBundle(s, Options{})
	if b.Text() != "@c over time: 5 prints in 4s" {
		t.Errorf("text %q", b.Text())
	}
	if _, ok := b[MIMEJSON]; ok {
		t.Error("a series has no bpftrace JSON")
	}
	parseSVG(t, b[MIMESVG].(string))
	if SeriesBundle(s, Options{NoPlots: true})[MIMESVG] != nil {
		t.Error("NoPlots")
	}
}

func TestLiveBundleDeltas(t *testing.T) {
	tl := Timeline{Deltas: true}
	var last *value.Map
	for i := range 4 {
		last = counts("@c", "a", 10*i*i, "b", 5*i)
		tl.Add(sec(float64(i)), last)
	}
	h := LiveBundle([]*value.Map{last}, value.Status{Elapsed: 3 * time.Second}, &tl, Options{})[MIMEHTML].(string)
	checkXML(t, h)
	if !strings.Contains(h, `<div class="tracebook-over-time">`) || !strings.Contains(h, "@c per second") {
		t.Errorf("no per-second panel in the live display:\n%.2000s", h)
	}
	// A series put in place of the sampled one (a map the cell prints)
	// is what the panel shows.
	ps := NewSeries("@c")
	for i := range 3 {
		ps.Add(sec(float64(i)), counts("@c", "a", i))
	}
	tl.Put(ps)
	h = LiveBundle([]*value.Map{last}, value.Status{}, &tl, Options{})[MIMEHTML].(string)
	if !strings.Contains(h, "@c over time") || strings.Contains(h, "@c per second") {
		t.Error("the put series is not the one shown")
	}
}

func TestSeriesStart(t *testing.T) {
	// Prints a second apart from the start of the run, each a little
	// early: the axis counts from the start and ends on a whole second.
	s := &Series{Name: "@c", Start: sec(0)}
	for i := 1; i <= 3; i++ {
		s.Add(sec(float64(i)-0.01), counts("@c", "a", i))
	}
	d := parseSVG(t, SeriesSVG(s, Options{}))
	if !d.hasText("seconds since the start") || !d.hasText("0") || !d.hasText("3") {
		t.Errorf("time axis: %q", d.texts)
	}
	// The heatmap's first column covers the time from the start to the
	// first print.
	h := &Series{Name: "@h", Start: sec(0)}
	for i := 1; i <= 2; i++ {
		b := make([]uint64, HistBuckets)
		b[5] = uint64(i)
		h.Add(sec(float64(i)), &value.Map{Name: "@h", Kind: value.MapHist, Entries: []value.Entry{{Value: value.Hist{Buckets: b}}}})
	}
	d = parseSVG(t, SeriesSVG(h, Options{}))
	if len(d.rects) != 2 || d.rects[0]["width"] != d.rects[1]["width"] {
		t.Errorf("cells %v", d.rects)
	}
	if !d.hasText("0") || !d.hasText("seconds since the start") {
		t.Errorf("heatmap axis: %q", d.texts)
	}
}

func TestBarLabels(t *testing.T) {
	m := newMap("@b", value.MapCount).add(key(str("")), 0).add(key(str("big")), make([]int64, 1234)...).done()
	d := parseSVG(t, BarsSVG(m, Options{}))
	if !d.hasText(`""`) || !d.hasText("1,234") {
		t.Errorf("labels %q", d.texts)
	}
	if barLabel(value.Sum{V: -1234567}) != "-1,234,567" || barLabel(value.Avg{Total: 3, Count: 2}) != "1" {
		t.Errorf("barLabel: %q %q", barLabel(value.Sum{V: -1234567}), barLabel(value.Avg{Total: 3, Count: 2}))
	}
}

// Each panel of a keyed histogram has its own count axis: a key with
// three values next to one with ten thousand still shows its bars.
func TestKeyedHistOwnScales(t *testing.T) {
	m := newMap("@h", value.MapHist).add(key(str("small")), 100, 100, 100).add(key(str("big")), make([]int64, 10000)...).done()
	d := parseSVG(t, KeyedHistSVG(m, Options{}))
	if !d.hasText("2") || !d.hasText("10,000") {
		t.Errorf("axis labels %q", d.texts)
	}
}

func TestSeriesOneKeyNamed(t *testing.T) {
	s := NewSeries("@c")
	for i := range 3 {
		s.Add(sec(float64(i)), counts("@c", "only", i))
	}
	if d := parseSVG(t, SeriesSVG(s, Options{})); !d.hasText("only") {
		t.Errorf("the one key is not named: %q", d.texts)
	}
}
