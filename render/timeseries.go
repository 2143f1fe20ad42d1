package render

import (
	"fmt"
	"image/color"
	"math"
	"slices"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/plotter"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/tracebook/tracebook/runtime/value"
)

// A map printed again and again (print(@) in an interval probe, or the
// live display reading it a few times a second) is a time series. Series
// collects those snapshots; its plot is a line per key for numeric maps,
// and a latency heatmap for histograms: time across, buckets up, colour
// for the count in each bucket at each snapshot. Values are plotted as
// the snapshots hold them: a map cleared after each print shows per-
// interval values, one never cleared shows running totals.

// DefaultMaxSnapshots is how many snapshots a Series keeps.
const DefaultMaxSnapshots = 600

// Snapshot is one reading of a map.
type Snapshot struct {
	At  time.Time
	Map *value.Map
}

// Series is the sequence of snapshots of one map, oldest first. Only the
// last Max snapshots are kept.
type Series struct {
	Name  string
	Kind  value.MapKind
	Snaps []Snapshot
	Max   int // DefaultMaxSnapshots when 0
}

// NewSeries starts an empty series for the map called name.
func NewSeries(name string) *Series { return &Series{Name: name} }

// Add records a snapshot taken at at. Snapshots of other maps are ignored.
func (s *Series) Add(at time.Time, m *value.Map) {
	if m == nil || (s.Name != "" && m.Name != s.Name) {
		return
	}
	s.Name = m.Name
	if k := mapKind(m); k != value.MapPlain || s.Kind == value.MapPlain {
		s.Kind = k
	}
	s.Snaps = append(s.Snaps, Snapshot{At: at, Map: m})
	limit := s.Max
	if limit <= 0 {
		limit = DefaultMaxSnapshots
	}
	if len(s.Snaps) > limit {
		s.Snaps = slices.Delete(s.Snaps, 0, len(s.Snaps)-limit)
	}
}

// Len is the number of snapshots held.
func (s *Series) Len() int { return len(s.Snaps) }

// Timeline holds one Series per map name, for a display that reads many
// maps at each tick.
type Timeline struct {
	series map[string]*Series
	order  []string
}

// Add records a snapshot of each map taken at at.
func (t *Timeline) Add(at time.Time, maps ...*value.Map) {
	if t.series == nil {
		t.series = map[string]*Series{}
	}
	for _, m := range maps {
		s := t.series[m.Name]
		if s == nil {
			s = NewSeries(m.Name)
			t.series[m.Name] = s
			t.order = append(t.order, m.Name)
		}
		s.Add(at, m)
	}
}

// Series returns the series of a map, or nil.
func (t *Timeline) Series(name string) *Series { return t.series[name] }

// Names lists the maps seen, sorted bytewise as bpftrace sorts them.
func (t *Timeline) Names() []string {
	n := slices.Clone(t.order)
	slices.Sort(n)
	return n
}

// SeriesSVG plots a series: a heatmap for histogram maps, lines for
// numeric maps. It returns "" when there is nothing to plot (fewer than
// two snapshots, or values that are not numbers).
func SeriesSVG(s *Series, opts Options) string {
	if s == nil || len(s.Snaps) < 2 {
		return ""
	}
	switch s.Kind {
	case value.MapHist, value.MapLhist:
		return HeatmapSVG(s, opts)
	}
	return LinesSVG(s, opts)
}

// seconds is the time of each snapshot since the first.
func (s *Series) seconds() []float64 {
	xs := make([]float64, len(s.Snaps))
	for i, sn := range s.Snaps {
		xs[i] = sn.At.Sub(s.Snaps[0].At).Seconds()
	}
	return xs
}

// LinesSVG draws a line per key (or one line for a scalar map). With more
// keys than opts.Lines, the keys with the largest last values are drawn
// and a note counts the others.
func LinesSVG(s *Series, opts Options) string {
	opts = opts.withDefaults()
	xs := s.seconds()
	type line struct {
		label string
		ys    []float64
		seen  []bool
		last  float64
		order int
	}
	lines := map[string]*line{}
	var ids []string
	for i, sn := range s.Snaps {
		for _, e := range SortedEntries(sn.Map) {
			if !numericEntry(e.Value) {
				continue
			}
			id := entryID(e.Key)
			l := lines[id]
			if l == nil {
				l = &line{label: ellipsize(KeyLabel(e.Key), 40), ys: make([]float64, len(xs)), seen: make([]bool, len(xs)), order: len(ids)}
				if len(e.Key) == 0 {
					l.label = s.Name
				}
				lines[id] = l
				ids = append(ids, id)
			}
			v := barValue(e.Value)
			l.ys[i], l.seen[i] = v, true
			l.last = v
		}
	}
	if len(ids) == 0 {
		return ""
	}
	// The latest largest keys win; ties keep first-seen order.
	slices.SortStableFunc(ids, func(a, b string) int {
		la, lb := lines[a], lines[b]
		switch {
		case la.last > lb.last:
			return -1
		case la.last < lb.last:
			return 1
		}
		return la.order - lb.order
	})
	hidden := 0
	if len(ids) > opts.Lines {
		hidden = len(ids) - opts.Lines
		ids = ids[:opts.Lines]
	}
	p := newPlot()
	p.Title.Text = s.Name + " over time"
	p.X.Label.Text = "seconds"
	p.Y.Label.Text = barAxisLabel(s.Kind)
	p.Y.Tick.Marker = countTicks{}
	p.X.Tick.Marker = plot.TickerFunc(func(min, max float64) []plot.Tick {
		return niceTicks(min, max, 6, false, humanNumber)
	})
	p.Add(&hgrid{})
	p.Legend.Top = true
	p.Legend.Left = true
	p.Legend.ThumbnailWidth = px(14)
	p.Legend.Padding = px(2)
	for n, id := range ids {
		l := lines[id]
		var pts plotter.XYs
		for i, ok := range l.seen {
			if ok {
				pts = append(pts, plotter.XY{X: xs[i], Y: l.ys[i]})
			}
		}
		ln, err := plotter.NewLine(pts)
		if err != nil {
			continue
		}
		ln.Color = lineColors[n%len(lineColors)]
		ln.Width = px(2)
		if n >= len(lineColors) {
			ln.Dashes = []vg.Length{px(5), px(3)}
		}
		p.Add(ln)
		if len(ids) > 1 {
			p.Legend.Add(l.label, ln)
		}
	}
	if p.Y.Min > 0 {
		p.Y.Min = 0
	}
	p.Y.Max *= 1.05 + 0.05*float64(min(len(ids), 10)) // room for the legend
	height := 300.0
	if hidden == 0 {
		return plotSVG(p, opts.Width, height)
	}
	c := svgCanvas(opts.Width, height+20)
	dc := drawCanvas(c)
	p.Draw(cropBottom(dc, 20))
	drawNote(dc, fmt.Sprintf("… %d more %s not drawn (smaller latest values)", hidden, plural(hidden, "key", "keys")), px(6))
	return svgString(c)
}

func numericEntry(v value.Value) bool {
	switch v.(type) {
	case value.Count, value.Sum, value.Min, value.Max, value.Avg, value.Int:
		return true
	}
	return false
}

// hgrid draws light horizontal lines at the y axis's major ticks.
type hgrid struct{}

func (hgrid) Plot(c draw.Canvas, p *plot.Plot) {
	_, trY := p.Transforms(&c)
	sty := draw.LineStyle{Color: gridColor, Width: px(1)}
	for _, t := range p.Y.Tick.Marker.Ticks(p.Y.Min, p.Y.Max) {
		if t.Label == "" {
			continue
		}
		y := trY(t.Value)
		c.StrokeLine2(sty, c.Min.X, y, c.Max.X, y)
	}
}

// HeatmapSVG draws a histogram series as a heatmap: one column per
// snapshot, one row per bucket (the range any snapshot used, smallest at
// the bottom, labelled as in the text), darker for larger counts on a
// logarithmic scale. Keyed histograms are summed over their keys.
func HeatmapSVG(s *Series, opts Options) string {
	opts = opts.withDefaults()
	cols := make([][]uint64, len(s.Snaps))
	var proto value.Value
	lo, hi := math.MaxInt, -1
	var top uint64
	for i, sn := range s.Snaps {
		for _, e := range sn.Map.Entries {
			b := buckets(e.Value)
			if b == nil {
				continue
			}
			if proto == nil {
				proto = e.Value
			}
			if cols[i] == nil {
				cols[i] = make([]uint64, len(b))
			}
			for j, c := range b {
				if j < len(cols[i]) {
					cols[i][j] += c
				}
			}
		}
		if l, h, ok := BucketRange(cols[i]); ok {
			lo, hi = min(lo, l), max(hi, h)
		}
		top = max(top, maxCount(cols[i]))
	}
	if hi < 0 {
		return ""
	}
	names, _ := histRows(proto, lo, hi)
	xs := s.seconds()
	hm := &heatCells{cols: cols, lo: lo, hi: hi, xs: xs, max: top}
	p := newPlot()
	p.Title.Text = s.Name + " over time"
	if len(s.Snaps[len(s.Snaps)-1].Map.Entries) > 1 || (len(s.Snaps[0].Map.Entries) > 0 && len(s.Snaps[0].Map.Entries[0].Key) > 0) {
		p.Title.Text += " (all keys)"
	}
	p.X.Label.Text = "seconds"
	p.Add(hm)
	ticks := make([]plot.Tick, 0, len(names))
	every := 1
	if len(names) > 24 {
		every = 2
	}
	for i, n := range names {
		t := plot.Tick{Value: float64(i)}
		if i%every == 0 {
			t.Label = n
		}
		ticks = append(ticks, t)
	}
	p.Y.Tick.Marker = plot.ConstantTicks(ticks)
	p.X.Tick.Marker = plot.TickerFunc(func(min, max float64) []plot.Tick {
		return niceTicks(min, max, 6, false, humanNumber)
	})
	height := float64(hi-lo+1)*rowPx + 100
	c := svgCanvas(opts.Width, height)
	dc := drawCanvas(c)
	p.Draw(cropBottom(dc, 20))
	drawNote(dc, fmt.Sprintf("colour: count per bucket and snapshot, log scale, darkest = %s", humanNumber(float64(top))), px(6))
	return svgString(c)
}

// heatCells draws the heatmap's cells. Column i spans from the previous
// snapshot's time to its own (the first as wide as the second).
type heatCells struct {
	cols   [][]uint64
	lo, hi int
	xs     []float64
	max    uint64
}

func (h *heatCells) span(i int) (x0, x1 float64) {
	x1 = h.xs[i]
	switch {
	case i > 0:
		x0 = h.xs[i-1]
	case len(h.xs) > 1:
		x0 = x1 - (h.xs[1] - h.xs[0])
	default:
		x0 = x1 - 1
	}
	return x0, x1
}

func (h *heatCells) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	for i, col := range h.cols {
		x0, x1 := h.span(i)
		for j := h.lo; j <= h.hi; j++ {
			n := bucketAt(col, j)
			if n == 0 {
				continue
			}
			y := float64(j - h.lo)
			pts := []vg.Point{
				{X: trX(x0), Y: trY(y - 0.5)}, {X: trX(x1), Y: trY(y - 0.5)},
				{X: trX(x1), Y: trY(y + 0.5)}, {X: trX(x0), Y: trY(y + 0.5)},
			}
			c.FillPolygon(heatColor(n, h.max), pts)
		}
	}
}

func (h *heatCells) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, _ = h.span(0)
	return xmin, h.xs[len(h.xs)-1], -0.5, float64(h.hi-h.lo) + 0.5
}

// heatColor maps a count to the viridis scale by log(1+n): pale yellow
// for the fewest, dark purple for the most. Viridis stays readable in grey
// and for colour-blind readers, and its light end shows on white.
func heatColor(n, max uint64) color.Color {
	t := 1.0
	if max > 1 {
		t = math.Log1p(float64(n)) / math.Log1p(float64(max))
	}
	stops := [...][3]float64{
		{0xfd, 0xe7, 0x25}, {0x5e, 0xc9, 0x62}, {0x21, 0x91, 0x8c}, {0x3b, 0x52, 0x8b}, {0x44, 0x01, 0x54},
	}
	f := t * float64(len(stops)-1)
	i := min(int(f), len(stops)-2)
	u := f - float64(i)
	mix := func(k int) uint8 { return uint8(stops[i][k] + (stops[i+1][k]-stops[i][k])*u) }
	return color.RGBA{R: mix(0), G: mix(1), B: mix(2), A: 0xff}
}

// entryID identifies a key across snapshots.
func entryID(key []value.Value) string {
	var b strings.Builder
	for _, k := range key {
		b.WriteString(KeyPartText(k))
		b.WriteByte(0)
	}
	return b.String()
}
