package render

import (
	"fmt"
	"html"
	"slices"
	"strconv"
	"strings"

	"github.com/tracebook/tracebook/runtime/value"
)

// A map keyed by stacks (@[kstack] = count(), @[comm, ustack] = count())
// is a profile; it renders as a flame graph: the root at the bottom, each
// frame's width proportional to the samples under it, callers below
// callees, siblings in alphabetical order (so the same data always draws
// the same picture), colours chosen from a hash of the function name
// (warm hues for user code, orange-brown for the kernel, grey-blue for
// key parts that are not stacks, such as comm). Hovering a frame shows its
// full name, sample count and share in a <title> tooltip. Frames narrower
// than a third of a pixel are merged away. The SVG is written directly
// rather than through gonum/plot, which has no way to attach tooltips.

const (
	flameFrameH = 17 // px per stack level
	flameFontPx = 11
	flameCharPx = 6.6 // a generous average glyph width at 11px
	flameMinPx  = 0.33
)

// HasStackKey reports whether any key part of m's entries is a stack.
func HasStackKey(m *value.Map) bool {
	for _, e := range m.Entries {
		for _, k := range e.Key {
			if _, ok := k.(value.Stack); ok {
				return true
			}
		}
		return false // every entry has the same key type
	}
	return false
}

type flameKind uint8

const (
	flameUser flameKind = iota
	flameKernel
	flameOther
)

type flameNode struct {
	name   string
	kind   flameKind
	weight float64
	// kids are the children; most nodes have a few, found by a scan, and
	// index finds them once there are many (a map per node made the
	// tree of 5k stacks spend most of its time in map inserts).
	kids  []*flameNode
	index map[flameID]*flameNode
	order []*flameNode // children wide enough to draw, sorted before layout
}

// flameIndexAfter is the number of children from which a node indexes them.
const flameIndexAfter = 8

// flameID tells children apart: a kernel and a user function may share a
// name.
type flameID struct {
	name string
	kind flameKind
}

func (n *flameNode) child(name string, kind flameKind) *flameNode {
	if n.index != nil {
		if c := n.index[flameID{name, kind}]; c != nil {
			return c
		}
	} else {
		for _, c := range n.kids {
			if c.name == name && c.kind == kind {
				return c
			}
		}
	}
	c := &flameNode{name: name, kind: kind}
	n.kids = append(n.kids, c)
	switch {
	case n.index != nil:
		n.index[flameID{name, kind}] = c
	case len(n.kids) > flameIndexAfter:
		n.index = make(map[flameID]*flameNode, 2*len(n.kids))
		for _, k := range n.kids {
			n.index[flameID{k.name, k.kind}] = k
		}
	}
	return c
}

// frameName names a frame in a flame graph: the function without its
// offset (all samples in one function merge), or the address.
func frameName(f value.Frame) string {
	if f.Sym == "" {
		return "0x" + strconv.FormatUint(f.Addr, 16)
	}
	return f.Sym
}

// FlameSVG draws a flame graph of a stack-keyed map. It returns "" when the
// map has no stack keys or no positive weights.
func FlameSVG(m *value.Map, opts Options) string {
	if !HasStackKey(m) {
		return ""
	}
	opts = opts.withDefaults()
	root := &flameNode{name: "all", kind: flameOther}
	for _, e := range m.Entries {
		w := flameWeight(e.Value)
		if w <= 0 {
			continue
		}
		root.weight += w
		n := root
		// Key parts that are not stacks come first (grouping by comm,
		// pid...), then user stacks, then kernel stacks, each from the
		// outermost frame in.
		for _, k := range e.Key {
			if _, ok := k.(value.Stack); !ok {
				n = n.child(KeyPartText(k), flameOther)
				n.weight += w
			}
		}
		for _, user := range []bool{true, false} {
			for _, k := range e.Key {
				s, ok := k.(value.Stack)
				if !ok || s.User != user {
					continue
				}
				kind := flameUser
				if !s.User {
					kind = flameKernel
				}
				for i := len(s.Frames) - 1; i >= 0; i-- {
					n = n.child(frameName(s.Frames[i]), kind)
					n.weight += w
				}
			}
		}
	}
	if root.weight <= 0 {
		return ""
	}
	width := opts.Width
	inner := width - 20
	scale := inner / root.weight
	depth := flameDepth(root, scale)
	const headH, footH = 34, 8
	height := float64(depth)*flameFrameH + headH + footH

	var b strings.Builder
	b.Grow(4096 + 200*len(m.Entries))
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%g" height="%g" viewBox="0 0 %g %g" font-family="'Liberation Sans',Arial,Helvetica,sans-serif" font-size="%d">`+"\n",
		width, height, width, height, flameFontPx)
	b.WriteString(`<style>.w rect{stroke:#fff;stroke-width:0.5}.f:hover rect{stroke:#222;stroke-width:1}.f text{fill:#000;pointer-events:none}</style>` + "\n")
	fmt.Fprintf(&b, `<rect x="0" y="0" width="%g" height="%g" fill="#fff"/>`+"\n", width, height)
	title := fmt.Sprintf("%s: flame graph of %s %s", m.Name, humanNumber(root.weight), weightUnit(m))
	fmt.Fprintf(&b, `<text x="%g" y="20" text-anchor="middle" font-size="13">%s</text>`+"\n", width/2, html.EscapeString(title))
	base := height - footH // the bottom of the root frame
	writeFlame(&b, root, 10, base, 0, scale, root.weight)
	b.WriteString("</svg>\n")
	return b.String()
}

func weightUnit(m *value.Map) string {
	if mapKind(m) == value.MapCount {
		return "samples"
	}
	return "(" + barAxisLabel(mapKind(m)) + ")"
}

func flameWeight(v value.Value) float64 {
	switch v := v.(type) {
	case value.Hist:
		return float64(histTotal(v.Buckets))
	case value.Lhist:
		return float64(histTotal(v.Buckets))
	case value.Stats:
		return float64(v.Count)
	}
	return barValue(v)
}

// flameDepth sorts children and returns the number of levels wide enough
// to draw.
func flameDepth(n *flameNode, scale float64) int {
	n.order = n.order[:0]
	for _, c := range n.kids {
		if c.weight*scale >= flameMinPx {
			n.order = append(n.order, c)
		}
	}
	slices.SortFunc(n.order, func(a, b *flameNode) int {
		if c := strings.Compare(a.name, b.name); c != 0 {
			return c
		}
		return int(a.kind) - int(b.kind)
	})
	d := 0
	for _, c := range n.order {
		d = max(d, flameDepth(c, scale))
	}
	return d + 1
}

func writeFlame(b *strings.Builder, n *flameNode, x, base float64, level int, scale, total float64) {
	w := n.weight * scale
	y := base - float64(level+1)*flameFrameH
	pct := 100 * n.weight / total
	if w >= 3 {
		b.WriteString(`<g class="f w"><title>`)
	} else {
		b.WriteString(`<g class="f"><title>`)
	}
	// name (count, pct%)
	b.WriteString(html.EscapeString(n.name))
	b.WriteString(" (")
	b.WriteString(humanNumber(n.weight))
	b.WriteString(", ")
	b.WriteString(strconv.FormatFloat(pct, 'f', 2, 64))
	b.WriteString(`%)</title><rect x="`)
	b.WriteString(fmtPx(x))
	b.WriteString(`" y="`)
	b.WriteString(fmtPx(y))
	b.WriteString(`" width="`)
	b.WriteString(fmtPx(w))
	b.WriteString(`" height="`)
	b.WriteString(strconv.Itoa(flameFrameH - 1))
	b.WriteString(`" fill="`)
	b.WriteString(flameColor(n))
	b.WriteString(`" rx="2"/>`)
	if chars := int((w - 6) / flameCharPx); chars >= 3 {
		label := n.name
		label = ellipsize(label, chars)
		b.WriteString(`<text x="`)
		b.WriteString(fmtPx(x + 3))
		b.WriteString(`" y="`)
		b.WriteString(fmtPx(y + flameFrameH - 5))
		b.WriteString(`">`)
		b.WriteString(html.EscapeString(label))
		b.WriteString(`</text>`)
	}
	b.WriteString("</g>\n")
	cx := x
	for _, c := range n.order {
		writeFlame(b, c, cx, base, level+1, scale, total)
		cx += c.weight * scale
	}
}

func fmtPx(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }

// flameColor picks a stable colour for a frame from its name: the hash
// chooses a point inside the palette of the frame's kind.
func flameColor(n *flameNode) string {
	// FNV-1a, inline to spare an allocation per frame.
	v := uint32(2166136261)
	for i := 0; i < len(n.name); i++ {
		v ^= uint32(n.name[i])
		v *= 16777619
	}
	a := float64(v&0xff) / 255
	c := float64(v>>8&0xff) / 255
	var r, g, bl float64
	switch {
	case strings.HasPrefix(n.name, "0x"):
		r, g, bl = 180+20*a, 180+20*a, 180+20*a // unresolved: grey
	case n.kind == flameKernel:
		r, g, bl = 200+45*a, 110+60*c, 40+30*a // orange-brown
	case n.kind == flameOther:
		r, g, bl = 140+30*a, 170+30*c, 210+30*a // grey-blue
	default:
		r, g, bl = 225+30*a, 60+150*c, 40+40*a // red to yellow
	}
	return string([]byte{'#',
		hexDigits[clampByte(r)>>4], hexDigits[clampByte(r)&15],
		hexDigits[clampByte(g)>>4], hexDigits[clampByte(g)&15],
		hexDigits[clampByte(bl)>>4], hexDigits[clampByte(bl)&15]})
}

func clampByte(f float64) uint8 {
	switch {
	case f < 0:
		return 0
	case f > 255:
		return 255
	}
	return uint8(f)
}
