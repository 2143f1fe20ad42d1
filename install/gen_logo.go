//go:build ignore

// gen_logo draws tracebook's kernel logo, a pulse trace over a histogram, and
// writes it as logo/logo-svg.svg, logo/logo-32x32.png and logo/logo-64x64.png.
// The SVG and the PNGs come from the same shapes, so they always agree.
// Run it with `go generate ./install`.
package main

import (
	"fmt"
	"image"
	"image/color"
	"image/png"
	"log"
	"math"
	"os"
	"strings"
)

// The logo in a 64×64 box.
const (
	size   = 64.0
	radius = 12.0 // corners of the background
	stroke = 3.5  // width of the trace line
)

var (
	background = color.NRGBA{0x1e, 0x22, 0x35, 0xff}
	barColour  = color.NRGBA{0xf6, 0xa6, 0x23, 0xff}
	lineColour = color.NRGBA{0x7f, 0xdb, 0xff, 0xff}

	// Histogram bars: x0, x1, top; all end at baseline.
	baseline = 54.0
	bars     = [][3]float64{{11.5, 19.5, 44}, {22.5, 30.5, 36}, {33.5, 41.5, 30}, {44.5, 52.5, 40}}
	// The trace: a flat line with one heartbeat.
	trace = [][2]float64{{9, 18}, {22, 18}, {27, 7}, {33, 26}, {38, 12}, {42, 18}, {55, 18}}
)

func main() {
	if err := os.WriteFile("logo/logo-svg.svg", []byte(svg()), 0o644); err != nil {
		log.Fatal(err)
	}
	for _, px := range []int{32, 64} {
		f, err := os.Create(fmt.Sprintf("logo/logo-%dx%d.png", px, px))
		if err != nil {
			log.Fatal(err)
		}
		if err := png.Encode(f, raster(px)); err != nil {
			log.Fatal(err)
		}
		if err := f.Close(); err != nil {
			log.Fatal(err)
		}
	}
}

func hex(c color.NRGBA) string { return fmt.Sprintf("#%02x%02x%02x", c.R, c.G, c.B) }

func svg() string {
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="64" height="64" viewBox="0 0 64 64">`+"\n")
	fmt.Fprintf(&b, `  <title>tracebook</title>`+"\n")
	fmt.Fprintf(&b, `  <rect x="0" y="0" width="64" height="64" rx="%g" fill="%s"/>`+"\n", radius, hex(background))
	for _, r := range bars {
		fmt.Fprintf(&b, `  <rect x="%g" y="%g" width="%g" height="%g" fill="%s"/>`+"\n", r[0], r[2], r[1]-r[0], baseline-r[2], hex(barColour))
	}
	var pts []string
	for _, p := range trace {
		pts = append(pts, fmt.Sprintf("%g,%g", p[0], p[1]))
	}
	fmt.Fprintf(&b, `  <polyline points="%s" fill="none" stroke="%s" stroke-width="%g" stroke-linecap="round" stroke-linejoin="round"/>`+"\n",
		strings.Join(pts, " "), hex(lineColour), stroke)
	b.WriteString("</svg>\n")
	return b.String()
}

// raster draws the logo at px×px, averaging 8×8 samples per pixel for
// anti-aliased edges.
func raster(px int) image.Image {
	const ss = 8
	img := image.NewNRGBA(image.Rect(0, 0, px, px))
	scale := size / float64(px)
	for y := 0; y < px; y++ {
		for x := 0; x < px; x++ {
			var r, g, bl, a float64
			for sy := 0; sy < ss; sy++ {
				for sx := 0; sx < ss; sx++ {
					u := (float64(x) + (float64(sx)+0.5)/ss) * scale
					v := (float64(y) + (float64(sy)+0.5)/ss) * scale
					c, ok := sample(u, v)
					if !ok {
						continue
					}
					r += float64(c.R)
					g += float64(c.G)
					bl += float64(c.B)
					a++
				}
			}
			if a == 0 {
				continue
			}
			img.SetNRGBA(x, y, color.NRGBA{uint8(r/a + 0.5), uint8(g/a + 0.5), uint8(bl/a + 0.5), uint8(a/(ss*ss)*255 + 0.5)})
		}
	}
	return img
}

// sample is the colour at (u, v), or false outside the logo.
func sample(u, v float64) (color.NRGBA, bool) {
	if !inRoundedSquare(u, v) {
		return color.NRGBA{}, false
	}
	for i := 0; i+1 < len(trace); i++ {
		if segmentDistance(u, v, trace[i], trace[i+1]) <= stroke/2 {
			return lineColour, true
		}
	}
	for _, r := range bars {
		if u >= r[0] && u < r[1] && v >= r[2] && v < baseline {
			return barColour, true
		}
	}
	return background, true
}

func inRoundedSquare(u, v float64) bool {
	if u < 0 || v < 0 || u > size || v > size {
		return false
	}
	cx := math.Max(radius, math.Min(size-radius, u))
	cy := math.Max(radius, math.Min(size-radius, v))
	return math.Hypot(u-cx, v-cy) <= radius
}

func segmentDistance(u, v float64, a, b [2]float64) float64 {
	dx, dy := b[0]-a[0], b[1]-a[1]
	t := ((u-a[0])*dx + (v-a[1])*dy) / (dx*dx + dy*dy)
	t = math.Max(0, math.Min(1, t))
	return math.Hypot(u-(a[0]+t*dx), v-(a[1]+t*dy))
}
