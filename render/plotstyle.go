package render

import (
	"bytes"
	"image/color"
	"math"
	"strconv"
	"strings"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/vg"
	"gonum.org/v1/plot/vg/draw"
	"gonum.org/v1/plot/vg/vgsvg"
)

// Sizes are in CSS pixels; gonum/plot works in points (3/4 px), and the
// SVGs carry their size in points, so a 480pt-wide plot shows 640px wide.
const (
	// DefaultWidth is the width of plots in pixels: readable in a
	// notebook column without horizontal scrolling.
	DefaultWidth = 640
	// DefaultTopN is how many keys a bar chart shows.
	DefaultTopN = 20
	// DefaultPanels is how many keys of a keyed histogram get a panel.
	DefaultPanels = 8
	// DefaultLines is how many keys a time series draws a line for.
	DefaultLines = 10

	rowPx = 16 // the height of one bar or bucket row
)

func px(n float64) vg.Length { return vg.Length(n * 0.75) }

// Colours: one blue for bars (the text's '@'), a qualitative palette for
// lines (Tableau 10, colour-blind friendly), greys for axes and grids.
var (
	barColor   = color.RGBA{R: 0x4c, G: 0x78, B: 0xa8, A: 0xff}
	negColor   = color.RGBA{R: 0xe1, G: 0x57, B: 0x59, A: 0xff}
	gridColor  = color.RGBA{R: 0xe4, G: 0xe4, B: 0xe4, A: 0xff}
	axisColor  = color.RGBA{R: 0x55, G: 0x55, B: 0x55, A: 0xff}
	noteColor  = color.RGBA{R: 0x66, G: 0x66, B: 0x66, A: 0xff}
	lineColors = []color.RGBA{
		{0x4e, 0x79, 0xa7, 0xff}, {0xf2, 0x8e, 0x2b, 0xff}, {0xe1, 0x57, 0x59, 0xff},
		{0x76, 0xb7, 0xb2, 0xff}, {0x59, 0xa1, 0x4f, 0xff}, {0xed, 0xc9, 0x48, 0xff},
		{0xb0, 0x7a, 0xa1, 0xff}, {0xff, 0x9d, 0xa7, 0xff}, {0x9c, 0x75, 0x5f, 0xff},
		{0xba, 0xb0, 0xac, 0xff},
	}
)

var (
	sansFont = font.Font{Typeface: "Liberation", Variant: "Sans"}
	monoFont = font.Font{Typeface: "Liberation", Variant: "Mono"}
)

func sans(sizePx float64) font.Font {
	f := sansFont
	f.Size = px(sizePx)
	return f
}

// newPlot returns a plot styled for notebooks: sans-serif text, grey axes,
// no title padding waste.
func newPlot() *plot.Plot {
	p := plot.New()
	p.Title.TextStyle.Handler = textHandler
	p.Title.TextStyle.Font = sans(13)
	p.Title.Padding = px(6)
	for _, a := range []*plot.Axis{&p.X, &p.Y} {
		a.Label.TextStyle.Handler = textHandler
		a.Tick.Label.Handler = textHandler
		a.Label.TextStyle.Font = sans(11)
		a.Label.TextStyle.Color = axisColor
		a.Tick.Label.Font = sans(11)
		a.Tick.Label.Color = axisColor
		a.LineStyle.Color = axisColor
		a.Tick.LineStyle.Color = axisColor
	}
	p.Legend.TextStyle.Font = sans(11)
	p.Legend.TextStyle.Handler = textHandler
	return p
}

// svgCanvas is a vgsvg canvas of the given pixel size.
func svgCanvas(wpx, hpx float64) *vgsvg.Canvas {
	return vgsvg.New(px(wpx), px(hpx))
}

// svgString finishes a canvas as an SVG document for a notebook: fonts get
// generic fallbacks (the SVG names Liberation, which is metric-compatible
// with Arial and Helvetica, so layouts hold where Liberation is missing).
func svgString(c *vgsvg.Canvas) string {
	var b bytes.Buffer
	if _, err := c.WriteTo(&b); err != nil {
		return ""
	}
	return fixFonts(b.String())
}

var fontFallbacks = strings.NewReplacer(
	"font-family:Liberation Sans;", "font-family:'Liberation Sans',Arial,Helvetica,sans-serif;",
	"font-family:Liberation Mono;", "font-family:'Liberation Mono','DejaVu Sans Mono',Menlo,monospace;",
	"font-family:Liberation Serif;", "font-family:'Liberation Sans',Arial,Helvetica,sans-serif;",
)

func fixFonts(s string) string { return fontFallbacks.Replace(s) }

// plotSVG draws one plot on a canvas of the given size.
func plotSVG(p *plot.Plot, wpx, hpx float64) string {
	c := svgCanvas(wpx, hpx)
	p.Draw(drawCanvas(c))
	return svgString(c)
}

// countTicks marks a count axis with round numbers (1, 2 or 5 times a
// power of ten, never fractions) labelled compactly: 2,500 and 1.5M.
type countTicks struct{}

func (countTicks) Ticks(min, max float64) []plot.Tick {
	return niceTicks(min, max, 5, true, humanNumber)
}

// fewCountTicks is countTicks for narrow axes (the panels of a keyed
// histogram), where five labels like "1,500" run into each other.
type fewCountTicks struct{}

func (fewCountTicks) Ticks(min, max float64) []plot.Tick {
	return niceTicks(min, max, 3, true, humanNumber)
}

// niceTicks returns about n ticks between min and max at a round step,
// with minor ticks halfway.
func niceTicks(min, max float64, n int, integer bool, label func(float64) string) []plot.Tick {
	if max <= min {
		max = min + 1
	}
	step := niceStep((max - min) / float64(n))
	if integer && step < 1 {
		step = 1
	}
	var ticks []plot.Tick
	start := math.Ceil(min/step) * step
	for v := start; v <= max+step*1e-9; v += step {
		if math.Abs(v) < step*1e-9 {
			v = 0
		}
		ticks = append(ticks, plot.Tick{Value: v, Label: label(v)})
		if half := v + step/2; half <= max && (!integer || step >= 2) {
			ticks = append(ticks, plot.Tick{Value: half})
		}
	}
	return ticks
}

func niceStep(raw float64) float64 {
	if raw <= 0 || math.IsNaN(raw) || math.IsInf(raw, 0) {
		return 1
	}
	mag := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*mag >= raw {
			return m * mag
		}
	}
	return 10 * mag
}

// humanNumber formats a number compactly for axes and bar ends: exact
// with thousands separators below a million, then one decimal with a
// suffix (k for thousands is avoided so counts never look like bpftrace's
// binary K).
func humanNumber(v float64) string {
	neg := v < 0
	a := math.Abs(v)
	var s string
	switch {
	case a < 1e6:
		if a != math.Trunc(a) {
			s = strconv.FormatFloat(a, 'f', -1, 64)
			if len(s) > 6 {
				s = strconv.FormatFloat(a, 'g', 3, 64)
			}
		} else {
			s = groupThousands(uint64(a))
		}
	case a < 1e9:
		s = trimZero(a/1e6) + "M"
	case a < 1e12:
		s = trimZero(a/1e9) + "G"
	case a < 1e15:
		s = trimZero(a/1e12) + "T"
	default:
		s = strconv.FormatFloat(a, 'g', 3, 64)
	}
	if neg {
		return "-" + s
	}
	return s
}

func trimZero(f float64) string {
	s := strconv.FormatFloat(f, 'f', 1, 64)
	return strings.TrimSuffix(s, ".0")
}

// groupThousands writes n with commas: 1234567 is "1,234,567".
func groupThousands(n uint64) string {
	s := strconv.FormatUint(n, 10)
	if len(s) <= 3 {
		return s
	}
	var b strings.Builder
	pre := len(s) % 3
	if pre > 0 {
		b.WriteString(s[:pre])
	}
	for i := pre; i < len(s); i += 3 {
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(s[i : i+3])
	}
	return b.String()
}

// ellipsize cuts s to at most n runes, ending in "…" when cut.
func ellipsize(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	if n <= 1 {
		return "…"
	}
	return string(r[:n-1]) + "…"
}

// oneLine turns a multi-line label (a stack key) into one line: the
// frames joined innermost first with " ← ".
func oneLine(s string) string {
	if !strings.Contains(s, "\n") {
		return s
	}
	var parts []string
	for _, l := range strings.Split(s, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			parts = append(parts, l)
		}
	}
	return strings.Join(parts, " ← ")
}

// drawCanvas is the drawing area of a canvas inside a small margin, so
// labels never touch the edge of the image.
func drawCanvas(c *vgsvg.Canvas) draw.Canvas {
	return draw.Crop(draw.New(c), px(8), -px(12), px(4), -px(6))
}

// cropBottom leaves hpx pixels free at the bottom of dc.
func cropBottom(dc draw.Canvas, hpx float64) draw.Canvas {
	return draw.Crop(dc, 0, 0, px(hpx), 0)
}
