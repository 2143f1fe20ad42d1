package render

import (
	"math"
	"strings"
	"sync"

	"gonum.org/v1/plot"
	"gonum.org/v1/plot/font"
	"gonum.org/v1/plot/text"
	"gonum.org/v1/plot/vg"
)

// textHandler is gonum/plot's plain text handling with a cache of text
// widths. Measuring a string walks the font's glyph tables, and a plot
// measures every label several times while laying itself out; the live
// display redraws the same labels a few times a second. The cache is
// shared and bounded (it is dropped when it grows past textCacheMax).
var textHandler = newCachedText()

const textCacheMax = 1 << 14

type widthKey struct {
	font font.Font
	txt  string
}

type cachedText struct {
	plain  text.Plain
	mu     sync.Mutex
	widths map[widthKey]vg.Length
}

func newCachedText() *cachedText {
	p, ok := plot.DefaultTextHandler.(text.Plain)
	if !ok {
		p = text.Plain{Fonts: font.DefaultCache}
	}
	return &cachedText{plain: p, widths: map[widthKey]vg.Length{}}
}

func (h *cachedText) width(fnt font.Font, txt string) vg.Length {
	k := widthKey{fnt, txt}
	h.mu.Lock()
	w, ok := h.widths[k]
	h.mu.Unlock()
	if ok {
		return w
	}
	face := h.plain.Fonts.Lookup(fnt, fnt.Size)
	w = face.Width(txt)
	h.mu.Lock()
	if len(h.widths) >= textCacheMax {
		h.widths = map[widthKey]vg.Length{}
	}
	h.widths[k] = w
	h.mu.Unlock()
	return w
}

func (h *cachedText) Cache() *font.Cache                 { return h.plain.Cache() }
func (h *cachedText) Extents(fnt font.Font) font.Extents { return h.plain.Extents(fnt) }
func (h *cachedText) Lines(txt string) []string          { return h.plain.Lines(txt) }

func (h *cachedText) Box(txt string, fnt font.Font) (width, height, depth vg.Length) {
	ext := h.plain.Extents(fnt)
	return h.width(fnt, txt), ext.Ascent, ext.Descent
}

// Draw places text as text.Plain does (alignment relative to the whole
// block, lines stacked by font size, optional rotation), measuring
// through the cache.
func (h *cachedText) Draw(c vg.Canvas, txt string, sty text.Style, pt vg.Point) {
	txt = strings.TrimRight(txt, "\n")
	if txt == "" {
		return
	}
	face := h.plain.Fonts.Lookup(sty.Font, sty.Font.Size)
	c.SetColor(sty.Color)
	if sty.Rotation != 0 {
		c.Push()
		c.Rotate(sty.Rotation)
		s, co := math.Sincos(sty.Rotation)
		sin, cos := vg.Length(s), vg.Length(co)
		pt.X, pt.Y = pt.Y*sin+pt.X*cos, pt.Y*cos-pt.X*sin
	}
	lines := h.Lines(txt)
	block := sty.Height(txt)
	pt.Y += block*vg.Length(sty.YAlign) - face.Extents().Ascent
	for i, line := range lines {
		dx := vg.Length(sty.XAlign) * h.width(sty.Font, line)
		dy := vg.Length(len(lines)-i) * sty.Font.Size
		c.FillString(face, pt.Add(vg.Point{X: dx, Y: dy}), line)
	}
	if sty.Rotation != 0 {
		c.Pop()
	}
}

// reset empties the width cache (for measuring cold renders).
func (h *cachedText) reset() {
	h.mu.Lock()
	h.widths = map[widthKey]vg.Length{}
	h.mu.Unlock()
}
