package render

import (
	"fmt"
	"html"
	"image/color"
	"math"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"

	"github.com/tracebook/tracebook/runtime/value"
)

// A map printed again and again (print(@) in an interval probe, or the
// live display reading it a few times a second) is a time series. Series
// collects those snapshots; its plot is a line per key for numeric maps,
// and a latency heatmap for histograms: time across, buckets up, colour
// for the count in each bucket at each snapshot.
//
// A series is plotted as its snapshots hold the map (a map cleared after
// each print shows per-interval values, one never cleared shows running
// totals), or, with Deltas, as what changed between snapshots: the live
// display reads maps that count from the start of the run, and their
// growth per second is what moves.
//
// The lines and the heatmap's cells are written as SVG elements of their
// own (<polyline>, <rect>, each with a <title> for hovering) over the axes
// gonum/plot draws. A plot shows at most maxColumns snapshots, spread
// evenly over the time span, so a long run stays a small picture.

// DefaultMaxSnapshots is how many snapshots a Series keeps.
const DefaultMaxSnapshots = 600

// maxColumns bounds the points of a line and the columns of a heatmap;
// compactColumns is the bound in the live display's small panels.
const (
	maxColumns     = 150
	compactColumns = 60
)

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
	// Deltas plots the change between successive snapshots instead of
	// the values, for maps that accumulate (count, sum, hist, lhist):
	// per second for lines, per second in each bucket for heatmaps. A
	// count or bucket that went down was cleared and counts from zero.
	// Other kinds are plotted as they are.
	Deltas bool
	// Start is when the series counts from (the start of the run whose
	// maps it reads): the time axis reads seconds since Start, and the
	// first column of a heatmap covers the time from Start to the first
	// snapshot. The zero Start is the first snapshot.
	Start time.Time

	cacheKey string
	cacheSVG string
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

// Span is the time from the first snapshot to the last.
func (s *Series) Span() time.Duration {
	if len(s.Snaps) < 2 {
		return 0
	}
	return s.Snaps[len(s.Snaps)-1].At.Sub(s.Snaps[0].At)
}

// Timeline holds one Series per map name, for a display that reads many
// maps at each tick.
type Timeline struct {
	// Deltas and Start are given to every series the timeline starts.
	Deltas bool
	Start  time.Time

	series map[string]*Series
	order  []string
}

// Add records a snapshot of each map taken at at.
func (t *Timeline) Add(at time.Time, maps ...*value.Map) {
	for _, m := range maps {
		s := t.series[m.Name]
		if s == nil {
			s = NewSeries(m.Name)
			s.Deltas, s.Start = t.Deltas, t.Start
			t.Put(s)
		}
		s.Add(at, m)
	}
}

// Put makes s the series of its map, in place of any other.
func (t *Timeline) Put(s *Series) {
	if t.series == nil {
		t.series = map[string]*Series{}
	}
	if _, ok := t.series[s.Name]; !ok {
		t.order = append(t.order, s.Name)
	}
	t.series[s.Name] = s
}

// Series returns the series of a map, or nil.
func (t *Timeline) Series(name string) *Series { return t.series[name] }

// Names lists the maps seen, sorted bytewise as bpftrace sorts them.
func (t *Timeline) Names() []string {
	n := slices.Clone(t.order)
	slices.Sort(n)
	return n
}

// SeriesPlottable reports whether a map printed again and again makes a
// time series: numbers (a line per key) or histograms (a heatmap). Maps
// keyed by stacks are left to their flame graphs, and strings, tuples and
// stats to their tables.
func SeriesPlottable(m *value.Map) bool {
	if m == nil || HasStackKey(m) {
		return false
	}
	switch k := mapKind(m); k {
	case value.MapHist, value.MapLhist:
		return true
	case value.MapStats:
		return false
	}
	return Plottable(m)
}

// SeriesSVG plots a series: a heatmap for histogram maps, lines for
// numeric maps. It returns "" when there is nothing to plot (fewer than
// two snapshots, or three with Deltas; values that are not numbers).
// The last drawing is kept, so asking again for an unchanged series
// costs nothing.
func SeriesSVG(s *Series, opts Options) string {
	if s == nil || len(s.Snaps) < 2 || (s.deltas() && len(s.Snaps) < 3) {
		return ""
	}
	opts = opts.withDefaults()
	key := fmt.Sprintf("%d %d %d %v %d %d %d", len(s.Snaps), s.Snaps[0].At.UnixNano(), s.Snaps[len(s.Snaps)-1].At.UnixNano(),
		s.Deltas, s.Start.UnixNano(), int(opts.Width), opts.Lines)
	if opts.compact {
		key += " compact"
	}
	if key == s.cacheKey {
		return s.cacheSVG
	}
	var svg string
	switch s.Kind {
	case value.MapHist, value.MapLhist:
		svg = HeatmapSVG(s, opts)
	default:
		svg = LinesSVG(s, opts)
	}
	s.cacheKey, s.cacheSVG = key, svg
	return svg
}

// deltas reports whether the series plots changes: Deltas, on a kind
// that accumulates.
func (s *Series) deltas() bool {
	if !s.Deltas {
		return false
	}
	switch s.Kind {
	case value.MapCount, value.MapSum, value.MapHist, value.MapLhist:
		return true
	}
	return false
}

// pick returns the indices of the snapshots to plot: all of them when
// there are at most n, else n spread evenly over the time span, the first
// and the last always among them.
func (s *Series) pick(n int) []int {
	k := len(s.Snaps)
	idx := make([]int, 0, min(k, n))
	if k <= n {
		for i := range k {
			idx = append(idx, i)
		}
		return idx
	}
	t0 := s.Snaps[0].At
	span := s.Snaps[k-1].At.Sub(t0)
	idx = append(idx, 0)
	for j := 1; j < n-1; j++ {
		var i int
		if span > 0 {
			target := t0.Add(time.Duration(float64(span) * float64(j) / float64(n-1)))
			i = sort.Search(k, func(i int) bool { return !s.Snaps[i].At.Before(target) })
		} else {
			i = j * (k - 1) / (n - 1)
		}
		i = max(i, idx[len(idx)-1]+1)
		if i >= k-1 {
			break
		}
		idx = append(idx, i)
	}
	return append(idx, k-1)
}

// origin is the time the axis counts from: Start, or the first
// snapshot (when Start is unset or not before it).
func (s *Series) origin() time.Time {
	if !s.Start.IsZero() && s.Start.Before(s.Snaps[0].At) {
		return s.Start
	}
	return s.Snaps[0].At
}

// columns picks the snapshots a plot draws (fewer in the live display's
// compact panels) and the time of each since the origin.
func (s *Series) columns(opts Options) (idx []int, xs []float64) {
	cols := maxColumns
	if opts.compact {
		cols = compactColumns
	}
	idx = s.pick(cols)
	return idx, s.secondsAt(idx)
}

// secondsAt is the time of each picked snapshot since the origin.
func (s *Series) secondsAt(idx []int) []float64 {
	o := s.origin()
	xs := make([]float64, len(idx))
	for p, i := range idx {
		xs[p] = s.Snaps[i].At.Sub(o).Seconds()
	}
	return xs
}

// axisLabel names the time axis.
func (s *Series) axisLabel() string {
	if s.origin().Equal(s.Snaps[0].At) {
		return "seconds"
	}
	return "seconds since the start"
}

// roundedEnd widens an axis ending just short of a whole number (the last
// of prints a second apart comes a few milliseconds early) to that number,
// so it gets its tick.
func roundedEnd(max, span float64) float64 {
	if c := math.Ceil(max); c-max < 0.05*span {
		return c
	}
	return max
}

// track is one key's line: a y for each picked snapshot, where defined.
type track struct {
	label string
	ys    []float64
	ok    []bool
	area  float64 // the sum of the defined ys: how lines are ranked
	peak  float64
	last  float64
	order int
}

// tracks reads the picked snapshots into a line per key. Missing keys
// of count and sum maps are zero when the snapshot is complete (the map
// was cleared, or the key had no events yet); other missing values are
// gaps.
func (s *Series) tracks(idx []int, xs []float64) (map[string]*track, []string) {
	accum := s.Kind == value.MapCount || s.Kind == value.MapSum
	deltas := s.deltas()
	type reading struct {
		v  float64
		ok bool
	}
	raw := map[string][]reading{}
	lines := map[string]*track{}
	var ids []string
	for p, i := range idx {
		m := s.Snaps[i].Map
		for _, e := range m.Entries {
			if !numericEntry(e.Value) {
				continue
			}
			id := entryID(e.Key)
			if lines[id] == nil {
				l := &track{label: ellipsize(KeyLabel(e.Key), 32), ys: make([]float64, len(idx)), ok: make([]bool, len(idx)), order: len(ids)}
				if len(e.Key) == 0 {
					l.label = s.Name
				}
				lines[id] = l
				raw[id] = make([]reading, len(idx))
				ids = append(ids, id)
			}
			raw[id][p] = reading{barValue(e.Value), true}
		}
	}
	at := func(id string, p int) (float64, bool) {
		r := raw[id][p]
		if r.ok {
			return r.v, true
		}
		if accum && !s.Snaps[idx[p]].Map.Truncated {
			return 0, true
		}
		return 0, false
	}
	for _, id := range ids {
		l := lines[id]
		for p := range idx {
			v, ok := at(id, p)
			if deltas {
				prev, pok := 0.0, false
				if p > 0 {
					prev, pok = at(id, p-1)
				}
				dt := 0.0
				if p > 0 {
					dt = xs[p] - xs[p-1]
				}
				if !ok || !pok || dt <= 0 {
					continue
				}
				d := v - prev
				if d < 0 && s.Kind == value.MapCount {
					d = v // cleared since the last reading
				}
				v = d / dt
			}
			if !ok {
				continue
			}
			l.ys[p], l.ok[p] = v, true
			l.area += math.Abs(v)
			l.peak = max(l.peak, v)
			l.last = v
		}
	}
	// The largest lines win, and keep their colours while the series
	// grows; ties keep first-seen order.
	slices.SortStableFunc(ids, func(a, b string) int {
		la, lb := lines[a], lines[b]
		switch {
		case la.area > lb.area:
			return -1
		case la.area < lb.area:
			return 1
		}
		return la.order - lb.order
	})
	return lines, ids
}

// LinesSVG draws a line per key (or one line for a scalar map). With more
// keys than opts.Lines, the keys with the largest values over the period
// are drawn and a note counts the others. The legend stands at the right
// of the plot, largest first.
func LinesSVG(s *Series, opts Options) string {
	opts = opts.withDefaults()
	idx, xs := s.columns(opts)
	lines, ids := s.tracks(idx, xs)
	if len(ids) == 0 {
		return ""
	}
	hidden := 0
	if len(ids) > opts.Lines {
		hidden = len(ids) - opts.Lines
		ids = ids[:opts.Lines]
	}
	unit := barAxisLabel(s.Kind)
	title := s.Name + " over time"
	if s.deltas() {
		unit += "/s"
		title = s.Name + " per second"
	}
	p := newPlot()
	p.Title.Text = title
	p.X.Label.Text = s.axisLabel()
	p.Y.Label.Text = unit
	p.Y.Tick.Marker = countTicks{}
	p.X.Tick.Marker = plot.TickerFunc(func(min, max float64) []plot.Tick {
		return niceTicks(min, max, 6, false, humanNumber)
	})
	p.Add(&hgrid{})
	ov := &svgOverlay{}
	for n, id := range ids {
		l := lines[id]
		p.Add(&lineTrace{ov: ov, xs: xs, track: l, color: lineColors[n%len(lineColors)], dashed: n >= len(lineColors), unit: unit})
	}
	if p.Y.Min > 0 {
		p.Y.Min = 0
	}
	if p.Y.Max <= p.Y.Min {
		p.Y.Max = p.Y.Min + 1
	}
	// The axis ends on a labelled tick above the largest value.
	if step := niceStep((p.Y.Max - p.Y.Min) / 5); step > 0 && p.Y.Max > 0 {
		p.Y.Max = math.Ceil(p.Y.Max/step) * step
	}
	p.X.Min = min(p.X.Min, 0)
	p.X.Max = roundedEnd(p.X.Max, p.X.Max-p.X.Min)
	height := 300.0
	if opts.compact {
		height = 180
	}
	note := ""
	if hidden > 0 {
		note = fmt.Sprintf("… %d more %s not drawn (smaller values over the period); the text lists every key", hidden, plural(hidden, "key", "keys"))
	}
	if note != "" {
		height += 20
	}
	c := svgCanvas(opts.Width, height)
	dc := drawCanvas(c)
	if note != "" {
		drawNote(dc, note, px(6))
		dc = cropBottom(dc, 20)
	}
	if len(ids) > 1 || lines[ids[0]].label != s.Name {
		dc = drawLegend(dc, lines, ids) // a keyed map's one line is named too
	}
	p.Draw(dc)
	return ov.spliceInto(svgString(c))
}

func numericEntry(v value.Value) bool {
	switch v.(type) {
	case value.Count, value.Sum, value.Min, value.Max, value.Avg, value.Int:
		return true
	}
	return false
}

// drawLegend writes the lines' names in a column at the right of dc,
// top-aligned with the plot, and returns what is left of dc for the plot.
func drawLegend(dc draw.Canvas, lines map[string]*track, ids []string) draw.Canvas {
	fnt := sans(11)
	var w vg.Length
	for _, id := range ids {
		w = max(w, textHandler.width(fnt, lines[id].label))
	}
	swatch := px(16)
	colW := min(w, px(200)) + swatch + px(14)
	top := dc.Max.Y - px(30) // below the title
	sty := draw.TextStyle{Color: axisColor, Font: fnt, Handler: textHandler, YAlign: draw.YCenter}
	for n, id := range ids {
		y := top - vg.Length(n)*px(15)
		if y < dc.Min.Y+px(10) {
			break
		}
		x := dc.Max.X - colW + px(6)
		ls := draw.LineStyle{Color: lineColors[n%len(lineColors)], Width: px(2)}
		if n >= len(lineColors) {
			ls.Dashes = []vg.Length{px(4), px(2)}
		}
		dc.StrokeLine2(ls, x, y, x+swatch, y)
		dc.FillText(sty, vg.Point{X: x + swatch + px(4), Y: y}, lines[id].label)
	}
	return draw.Crop(dc, 0, -colW, 0, 0)
}

// lineTrace is one key's line. gonum/plot sizes the axes from its data
// range; the line itself is written into the overlay as polylines (one
// per run of defined points) with the key and its figures as a title, and
// points standing alone as dots.
type lineTrace struct {
	ov     *svgOverlay
	xs     []float64
	track  *track
	color  color.RGBA
	dashed bool
	unit   string
}

func (t *lineTrace) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	col := fmt.Sprintf("#%02x%02x%02x", t.color.R, t.color.G, t.color.B)
	dash := ""
	if t.dashed {
		dash = ";stroke-dasharray:4,2"
	}
	title := fmt.Sprintf("%s: last %s, peak %s %s", t.track.label, humanNumber(round3(t.track.last)), humanNumber(round3(t.track.peak)), t.unit)
	var pts []vg.Point
	flush := func() {
		switch {
		case len(pts) == 1:
			fmt.Fprintf(&t.ov.b, `<circle cx="%s" cy="%s" r="2" style="fill:%s"><title>%s</title></circle>`+"\n",
				fmtPt(pts[0].X), fmtPt(pts[0].Y), col, html.EscapeString(title))
		case len(pts) > 1:
			t.ov.b.WriteString(`<polyline points="`)
			for i, q := range pts {
				if i > 0 {
					t.ov.b.WriteByte(' ')
				}
				t.ov.b.WriteString(fmtPt(q.X) + "," + fmtPt(q.Y))
			}
			fmt.Fprintf(&t.ov.b, `" style="fill:none;stroke:%s;stroke-width:1.5;stroke-linejoin:round%s"><title>%s</title></polyline>`+"\n",
				col, dash, html.EscapeString(title))
		}
		pts = pts[:0]
	}
	for i, ok := range t.track.ok {
		if !ok {
			flush()
			continue
		}
		pts = append(pts, vg.Point{X: trX(t.xs[i]), Y: trY(t.track.ys[i])})
	}
	flush()
}

func (t *lineTrace) DataRange() (xmin, xmax, ymin, ymax float64) {
	xmin, xmax = math.Inf(1), math.Inf(-1)
	ymin, ymax = math.Inf(1), math.Inf(-1)
	for i, ok := range t.track.ok {
		if !ok {
			continue
		}
		xmin, xmax = min(xmin, t.xs[i]), max(xmax, t.xs[i])
		ymin, ymax = min(ymin, t.track.ys[i]), max(ymax, t.track.ys[i])
	}
	if math.IsInf(xmin, 1) {
		return 0, 1, 0, 1
	}
	// The axis spans the whole series even where this line is not drawn.
	return min(xmin, t.xs[0]), max(xmax, t.xs[len(t.xs)-1]), ymin, ymax
}

// round3 keeps three significant digits of a rate for a tooltip.
func round3(v float64) float64 {
	if v == 0 || v == math.Trunc(v) {
		return v
	}
	f, _ := strconv.ParseFloat(strconv.FormatFloat(v, 'g', 3, 64), 64)
	return f
}

// svgOverlay collects SVG elements drawn in the plot's coordinates
// (points, y up: the inside of vgsvg's flipped group), for what gonum's
// canvas cannot write: polylines and rects with hover titles.
type svgOverlay struct{ b strings.Builder }

// spliceInto puts the elements at the end of the SVG's outer group.
func (o *svgOverlay) spliceInto(svg string) string {
	i := strings.LastIndex(svg, "</g>")
	if i < 0 || o.b.Len() == 0 {
		return svg
	}
	return svg[:i] + o.b.String() + svg[i:]
}

func fmtPt(v vg.Length) string { return strconv.FormatFloat(float64(v), 'f', 2, 64) }

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
// logarithmic scale. Keyed histograms are summed over their keys. With
// Deltas a column is what the buckets gained since the previous
// snapshot, per second.
func HeatmapSVG(s *Series, opts Options) string {
	opts = opts.withDefaults()
	idx, xs := s.columns(opts)
	sums := make([][]uint64, len(idx))
	var proto value.Value
	for p, i := range idx {
		for _, e := range s.Snaps[i].Map.Entries {
			b := buckets(e.Value)
			if b == nil {
				continue
			}
			if proto == nil {
				proto = e.Value
			}
			if sums[p] == nil {
				sums[p] = make([]uint64, len(b))
			}
			for j, c := range b {
				if j < len(sums[p]) {
					sums[p][j] += c
				}
			}
		}
	}
	deltas := s.deltas()
	vals := make([][]float64, len(idx))
	lo, hi := math.MaxInt, -1
	var top float64
	for p := range idx {
		if deltas && p == 0 {
			continue
		}
		col := make([]float64, max(len(sums[p]), 1))
		for j, c := range sums[p] {
			v := float64(c)
			if deltas {
				prev := bucketAt(sums[p-1], j)
				if c >= prev {
					v = float64(c - prev)
				}
				dt := xs[p] - xs[p-1]
				if dt <= 0 {
					v = 0
				} else {
					v /= dt
				}
			}
			if v > 0 {
				col[j] = v
				lo, hi = min(lo, j), max(hi, j)
				top = max(top, v)
			}
		}
		vals[p] = col
	}
	if hi < 0 {
		return ""
	}
	names, _ := histRows(proto, lo, hi)
	hm := &heatCells{ov: &svgOverlay{}, vals: vals, lo: lo, hi: hi, xs: xs, max: top, names: names, deltas: deltas, titles: !opts.compact,
		fromZero: !s.origin().Equal(s.Snaps[0].At)}
	p := newPlot()
	p.Title.Text = s.Name + " over time"
	if deltas {
		p.Title.Text = s.Name + " per second"
	}
	last := s.Snaps[len(s.Snaps)-1].Map
	if len(last.Entries) > 1 || (len(last.Entries) > 0 && len(last.Entries[0].Key) > 0) {
		p.Title.Text += " (all keys)"
	}
	p.X.Label.Text = s.axisLabel()
	p.Add(hm)
	row := float64(rowPx)
	if opts.compact {
		row = 10
	}
	every := int(math.Ceil(13 / row))
	if len(names) > 24 {
		every = max(every, 2)
	}
	ticks := make([]plot.Tick, 0, len(names))
	for i, n := range names {
		t := plot.Tick{Value: float64(i)}
		if (len(names)-1-i)%every == 0 {
			t.Label = n
		}
		ticks = append(ticks, t)
	}
	p.Y.Tick.Marker = plot.ConstantTicks(ticks)
	p.X.Tick.Marker = plot.TickerFunc(func(min, max float64) []plot.Tick {
		return niceTicks(min, max, 6, false, humanNumber)
	})
	if hm.fromZero {
		p.X.Min = min(p.X.Min, 0)
	}
	p.X.Max = roundedEnd(p.X.Max, p.X.Max-p.X.Min)
	height := float64(hi-lo+1)*row + 100
	c := svgCanvas(opts.Width, height)
	dc := drawCanvas(c)
	p.Draw(cropBottom(dc, 20))
	unit := "count in each cell"
	if deltas {
		unit = "count per second in each cell"
	}
	drawScale(dc, top, unit)
	return hm.ov.spliceInto(svgString(c))
}

// drawScale writes the heatmap's colour key under the plot: a strip of
// the colours from 1 to the largest value, and what they mean.
func drawScale(dc draw.Canvas, top float64, unit string) {
	x := dc.Min.X + px(8)
	y := dc.Min.Y + px(4)
	sty := draw.TextStyle{Color: noteColor, Font: sans(11), Handler: textHandler}
	lo := "1"
	if top < 1 {
		lo = humanNumber(round3(top / 10))
	}
	dc.FillText(sty, vg.Point{X: x, Y: y + px(2)}, lo)
	x += textHandler.width(sty.Font, lo) + px(4)
	const steps = 8
	for i := range steps {
		t := float64(i) / (steps - 1)
		v := math.Expm1(t * math.Log1p(top))
		r := vg.Rectangle{Min: vg.Point{X: x, Y: y}, Max: vg.Point{X: x + px(14), Y: y + px(10)}}
		dc.FillPolygon(heatColor(v, top), []vg.Point{r.Min, {X: r.Max.X, Y: r.Min.Y}, r.Max, {X: r.Min.X, Y: r.Max.Y}})
		x += px(14)
	}
	dc.FillText(sty, vg.Point{X: x + px(4), Y: y + px(2)}, fmt.Sprintf("%s  (%s, log scale)", humanNumber(round3(top)), unit))
}

// heatCells is the heatmap's cells, written into the overlay as rects.
// Column p spans from the previous snapshot's time to its own: what a
// print shows happened since the print before. The first spans from the
// series' start (fromZero), or is as wide as the second.
type heatCells struct {
	ov       *svgOverlay
	vals     [][]float64
	lo, hi   int
	xs       []float64
	max      float64
	names    []string
	deltas   bool
	titles   bool
	fromZero bool
}

func (h *heatCells) span(i int) (x0, x1 float64) {
	x1 = h.xs[i]
	switch {
	case i > 0:
		x0 = h.xs[i-1]
	case h.fromZero:
		x0 = 0
	case len(h.xs) > 1:
		x0 = x1 - (h.xs[1] - h.xs[0])
	default:
		x0 = x1 - 1
	}
	return x0, x1
}

func (h *heatCells) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	for i, col := range h.vals {
		if col == nil {
			continue
		}
		x0, x1 := h.span(i)
		for j := h.lo; j <= h.hi && j < len(col); j++ {
			v := col[j]
			if v <= 0 {
				continue
			}
			y := float64(j - h.lo)
			rx, ry := trX(x0), trY(y-0.5)
			w, ht := trX(x1)-rx, trY(y+0.5)-ry
			cl := heatColor(v, h.max)
			fmt.Fprintf(&h.ov.b, `<rect x="%s" y="%s" width="%s" height="%s" style="fill:#%02x%02x%02x">`,
				fmtPt(rx), fmtPt(ry), fmtPt(w), fmtPt(ht), cl.R, cl.G, cl.B)
			if h.titles {
				per := ""
				if h.deltas {
					per = "/s"
				}
				fmt.Fprintf(&h.ov.b, `<title>%s at %ss: %s%s</title>`, html.EscapeString(h.names[j-h.lo]),
					humanNumber(round3(h.xs[i])), humanNumber(round3(v)), per)
			}
			h.ov.b.WriteString("</rect>\n")
		}
	}
}

func (h *heatCells) DataRange() (xmin, xmax, ymin, ymax float64) {
	first := 0
	for first < len(h.vals)-1 && h.vals[first] == nil {
		first++
	}
	xmin, _ = h.span(first)
	return xmin, h.xs[len(h.xs)-1], -0.5, float64(h.hi-h.lo) + 0.5
}

// heatColor maps a value to the viridis scale by log(1+v): pale yellow
// for the fewest, dark purple for the most. Viridis stays readable in grey
// and for colour-blind readers, and its light end shows on white.
func heatColor(v, top float64) color.RGBA {
	t := 1.0
	if top > 0 && v < top {
		t = math.Log1p(v) / math.Log1p(top)
	}
	// Viridis from its yellow end, led by a paler yellow so that a few
	// stray values do not shout.
	stops := [...][3]float64{
		{0xfb, 0xf3, 0xb0}, {0xfd, 0xe7, 0x25}, {0x5e, 0xc9, 0x62}, {0x21, 0x91, 0x8c}, {0x3b, 0x52, 0x8b}, {0x44, 0x01, 0x54},
	}
	f := min(max(t, 0), 1) * float64(len(stops)-1)
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
