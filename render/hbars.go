package render

import (
	"image/color"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
)

// hbars is a gonum/plot plotter of horizontal bars that read top-down in
// the order given, as the text beside them does: row 0 is the top row. A
// bar may be negative (sums, minimums). Each bar's value is written at its
// end, and GlyphBoxes reserves room for those labels so they never run
// off the plot.
type hbars struct {
	vals   []float64
	labels []string // written at the bar ends; "" for none
	colors []color.Color
	frac   float64 // bar thickness as a fraction of the row
	label  text.Style
}

func newHbars(vals []float64, labels []string) *hbars {
	return &hbars{
		vals:   vals,
		labels: labels,
		frac:   0.72,
		label: text.Style{
			Color:   noteColor,
			Font:    sans(10),
			YAlign:  text.YCenter,
			Handler: textHandler,
		},
	}
}

// rowY is the data y of row i: the first row on top.
func (b *hbars) rowY(i int) float64 { return float64(len(b.vals) - 1 - i) }

func (b *hbars) color(i int) color.Color {
	if i < len(b.colors) && b.colors[i] != nil {
		return b.colors[i]
	}
	if b.vals[i] < 0 {
		return negColor
	}
	return barColor
}

func (b *hbars) Plot(c draw.Canvas, p *plot.Plot) {
	trX, trY := p.Transforms(&c)
	for i, v := range b.vals {
		y := b.rowY(i)
		top, bot := trY(y+b.frac/2), trY(y-b.frac/2)
		x0, x1 := trX(0), trX(v)
		if v != 0 {
			if x1-x0 < 1 && x1-x0 >= 0 {
				x1 = x0 + 1 // a non-zero count stays visible
			}
			c.FillPolygon(b.color(i), []vg.Point{{X: x0, Y: bot}, {X: x1, Y: bot}, {X: x1, Y: top}, {X: x0, Y: top}})
		}
		if i < len(b.labels) && b.labels[i] != "" {
			sty := b.label
			// Centre the digits (which have no descenders) on the bar.
			pt := vg.Point{X: x1 + px(3), Y: trY(y) + px(1)}
			if v < 0 {
				sty.XAlign = text.XRight
				pt.X = x1 - px(3)
			}
			c.FillText(sty, pt, b.labels[i])
		}
	}
}

func (b *hbars) DataRange() (xmin, xmax, ymin, ymax float64) {
	for _, v := range b.vals {
		xmin = min(xmin, v)
		xmax = max(xmax, v)
	}
	if xmin == 0 && xmax == 0 {
		xmax = 1
	}
	return xmin, xmax, -0.5, float64(len(b.vals)) - 0.5
}

func (b *hbars) GlyphBoxes(p *plot.Plot) []plot.GlyphBox {
	var boxes []plot.GlyphBox
	for i, v := range b.vals {
		if i >= len(b.labels) || b.labels[i] == "" {
			continue
		}
		w := b.label.Width(b.labels[i]) + px(3)
		h := b.label.Height(b.labels[i])
		r := vg.Rectangle{Min: vg.Point{X: 0, Y: -h / 2}, Max: vg.Point{X: w, Y: h / 2}}
		if v < 0 {
			r = vg.Rectangle{Min: vg.Point{X: -w, Y: -h / 2}, Max: vg.Point{X: 0, Y: h / 2}}
		}
		boxes = append(boxes, plot.GlyphBox{X: p.X.Norm(v), Y: p.Y.Norm(b.rowY(i)), Rectangle: r})
	}
	return boxes
}

// rowTicks labels the rows of an hbars plot, first row on top.
func rowTicks(names []string) plot.ConstantTicks {
	ticks := make([]plot.Tick, len(names))
	for i, n := range names {
		ticks[i] = plot.Tick{Value: float64(len(names) - 1 - i), Label: n}
	}
	return ticks
}

// newBarPlot is a plot of horizontal bars with row names on the y axis and
// a count axis along x with vertical grid lines.
func newBarPlot(title string, names []string, vals []float64, labels []string) (*plot.Plot, *hbars) {
	p := newPlot()
	p.Title.Text = title
	bars := newHbars(vals, labels)
	grid := &vgrid{}
	p.Add(grid, bars)
	p.Y.Tick.Marker = rowTicks(names)
	p.Y.Tick.Length = 0
	p.Y.LineStyle.Width = 0
	p.Y.Padding = 0
	p.X.Tick.Marker = countTicks{}
	p.X.Padding = px(2)
	return p, bars
}

// vgrid draws light vertical lines at the x axis's major ticks.
type vgrid struct{}

func (vgrid) Plot(c draw.Canvas, p *plot.Plot) {
	trX, _ := p.Transforms(&c)
	sty := draw.LineStyle{Color: gridColor, Width: px(1)}
	for _, t := range p.X.Tick.Marker.Ticks(p.X.Min, p.X.Max) {
		if t.Label == "" {
			continue
		}
		x := trX(t.Value)
		c.StrokeLine2(sty, x, c.Min.Y, x, c.Max.Y)
	}
}
