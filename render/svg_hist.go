package render

import (
	"fmt"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/tracebook/tracebook/runtime/value"
)

// A histogram plots as horizontal bars, one row per bucket, in the same
// order, range and labels as bpftrace's text ("[4K, 8K)" on top of
// "[8K, 16K)"), so the plot and the text beside it read alike; the count
// is written at each bar's end. Keyed histograms get one small panel per
// key, sharing the bucket range so the panels compare at a glance, in
// bpftrace's order (ascending total, as the text), capped at the keys with
// the largest totals.

// histRows returns the labels and counts of the rows to plot: the buckets
// from lo to hi.
func histRows(v value.Value, lo, hi int) (names []string, counts []uint64) {
	for i := lo; i <= hi; i++ {
		switch v := v.(type) {
		case value.Hist:
			names = append(names, HistLabel(i))
			counts = append(counts, bucketAt(v.Buckets, i))
		case value.Lhist:
			names = append(names, LhistLabel(v, i))
			counts = append(counts, bucketAt(v.Buckets, i))
		}
	}
	return names, counts
}

func bucketAt(b []uint64, i int) uint64 {
	if i < len(b) {
		return b[i]
	}
	return 0
}

// HistSVG plots one hist() or lhist() value (title is usually "@name" or
// "@name[key]"). It returns "" for an empty histogram.
func HistSVG(title string, v value.Value, opts Options) string {
	lo, hi, ok := BucketRange(buckets(v))
	if !ok {
		return ""
	}
	opts = opts.withDefaults()
	p := histPlot(title, v, lo, hi)
	h := float64(hi-lo+1)*rowPx + 78
	return plotSVG(p, opts.Width, h)
}

func histPlot(title string, v value.Value, lo, hi int) *plot.Plot {
	names, counts := histRows(v, lo, hi)
	vals := make([]float64, len(counts))
	labels := make([]string, len(counts))
	for i, c := range counts {
		vals[i] = float64(c)
		if c > 0 {
			labels[i] = humanNumber(float64(c))
		}
	}
	p, _ := newBarPlot(title, names, vals, labels)
	p.X.Label.Text = "count"
	return p
}

// KeyedHistSVG plots a hist or lhist map with keys as a grid of panels.
// Only the maxPanels keys with the largest totals are drawn (in
// bpftrace's ascending order); a line under the grid says how many keys
// were left out. The panels share their rows (the bucket range of all of
// them), so a bucket is at the same height in each; each has its own
// count axis, so that a key with a thousand times fewer values than the
// busiest still shows its shape (the counts at the bar ends compare them).
func KeyedHistSVG(m *value.Map, opts Options) string {
	opts = opts.withDefaults()
	all := SortedEntries(m)
	var es []value.Entry
	for _, e := range all {
		if _, _, ok := BucketRange(buckets(e.Value)); ok {
			es = append(es, e)
		}
	}
	if len(es) == 0 {
		return ""
	}
	if len(es) == 1 && len(es[0].Key) == 0 {
		return HistSVG(m.Name, es[0].Value, opts)
	}
	hidden := 0
	if len(es) > opts.Panels {
		hidden = len(es) - opts.Panels
		es = es[hidden:]
	}
	// One bucket range for all panels, so rows line up across them.
	lo, hi := len(buckets(es[0].Value)), -1
	for _, e := range es {
		l, h, _ := BucketRange(buckets(e.Value))
		lo, hi = min(lo, l), max(hi, h)
	}
	cols := 1
	if len(es) > 1 {
		cols = 2
	}
	rows := (len(es) + cols - 1) / cols
	panelH := float64(hi-lo+1)*(rowPx-3) + 64
	noteH := 0.0
	if hidden > 0 {
		noteH = 22
	}
	c := svgCanvas(opts.Width, float64(rows)*panelH+noteH)
	dc := drawCanvas(c)
	grid := cropBottom(dc, noteH)
	plots := make([][]*plot.Plot, rows)
	for r := range plots {
		plots[r] = make([]*plot.Plot, cols)
	}
	for i, e := range es {
		title := m.Name + ellipsize("["+KeyLabel(e.Key)+"]", 48)
		if i == 0 {
			title += truncNote(m)
		}
		p := histPlot(title, e.Value, lo, hi)
		p.Title.TextStyle.Font = sans(12)
		p.X.Label.Text = ""
		p.X.Tick.Marker = fewCountTicks{}
		for _, a := range []*plot.Axis{&p.X, &p.Y} {
			a.Tick.Label.Font = sans(10)
		}
		plots[i/cols][i%cols] = p
	}
	tiles := draw.Tiles{Rows: rows, Cols: cols, PadX: px(14), PadY: px(8), PadTop: px(2), PadRight: px(6), PadLeft: px(2)}
	canvases := plot.Align(plots, tiles, grid)
	for r := range plots {
		for col, p := range plots[r] {
			if p != nil {
				p.Draw(canvases[r][col])
			}
		}
	}
	if hidden > 0 {
		note := fmt.Sprintf("… %d more %s not shown (smaller totals); the text lists every key", hidden, plural(hidden, "key", "keys"))
		drawNote(dc, note, px(6))
	}
	return svgString(c)
}

// drawNote writes a grey note at the bottom left of the canvas.
func drawNote(dc draw.Canvas, note string, y vg.Length) {
	sty := draw.TextStyle{Color: noteColor, Font: sans(11), Handler: textHandler}
	dc.FillText(sty, vg.Point{X: dc.Min.X + px(8), Y: dc.Min.Y + y}, note)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
