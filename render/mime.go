package render

import (
	"encoding/json"
	"fmt"
	"html"
	"strings"
	"time"

	"github.com/tracebook/tracebook/runtime/value"
)

// Bundle is a Jupyter MIME bundle: the data of a display_data,
// update_display_data or execute_result message. text/plain is always
// there and always bpftrace's exact text; image/svg+xml is added where a
// plot suits the value, text/html where a table suits it (front ends show
// the richest type they can, so a bundle never carries both a plot and a
// table competing for the same value), and application/json holds
// bpftrace's -f json object for the value, as a parsed object (a
// json.RawMessage, which marshals in place), not a string.
type Bundle map[string]any

// MIME types of a bundle.
const (
	MIMEText = "text/plain"
	MIMESVG  = "image/svg+xml"
	MIMEHTML = "text/html"
	MIMEJSON = "application/json"
)

// Text returns the bundle's text/plain.
func (b Bundle) Text() string {
	s, _ := b[MIMEText].(string)
	return s
}

// MapBundle is the display of one map as bpftrace prints it at exit
// (every entry, no top or div).
func MapBundle(m *value.Map, opts Options) Bundle {
	return printMapBundle(m, 0, 0, opts)
}

// PrintMapBundle is the display of print(@m, top, div): the text honours
// top and div exactly as bpftrace does, and so does the JSON; the plot
// shows the same entries.
func PrintMapBundle(e value.PrintMap, opts Options) Bundle {
	return printMapBundle(e.Map, e.Top, e.Div, opts)
}

func printMapBundle(m *value.Map, top, div uint64, opts Options) Bundle {
	b := Bundle{MIMEText: MapText(m, top, div)}
	if js := strings.TrimSuffix(MapJSON(m, top, div), "\n"); js != "" && json.Valid([]byte(js)) {
		b[MIMEJSON] = json.RawMessage(js)
	}
	view := m
	if top != 0 && mapKind(m) != value.MapStats {
		view = &value.Map{Name: m.Name, Keyed: m.Keyed, Kind: m.Kind, Entries: TopEntries(SortedEntries(m), top)}
	}
	svg, table := RichView(view, opts)
	if svg != "" {
		b[MIMESVG] = svg
	}
	if table != "" {
		b[MIMEHTML] = table
	}
	return b
}

// RichView chooses the picture for a map: an SVG (histograms, flame
// graphs of stack-keyed maps, bars of numeric maps) or an HTML table
// (stats maps, keyed maps of strings and tuples), or neither (scalars,
// empty maps, which read best as text). At most one is non-empty.
func RichView(m *value.Map, opts Options) (svg, table string) {
	if m == nil || len(m.Entries) == 0 {
		return "", ""
	}
	scalar := len(m.Entries) == 1 && len(m.Entries[0].Key) == 0
	kind := mapKind(m)
	switch {
	case kind == value.MapStats:
		if scalar {
			return "", ""
		}
		return "", TableHTML(m, opts)
	case opts.NoPlots:
	case HasStackKey(m):
		if s := FlameSVG(m, opts); s != "" {
			return s, ""
		}
	case kind == value.MapHist || kind == value.MapLhist:
		return KeyedHistSVG(m, opts), ""
	case Plottable(m):
		return BarsSVG(m, opts), ""
	}
	if !scalar && !Plottable(m) && kind != value.MapHist && kind != value.MapLhist {
		return "", TableHTML(m, opts)
	}
	return "", ""
}

// ExitBundles are the displays of the maps at the end of a cell: one per
// map, in bpftrace's order (bytewise by name). Their texts joined, after
// "\n\n", are exactly ExitText(maps).
func ExitBundles(maps []*value.Map, opts Options) []Bundle {
	var out []Bundle
	for _, m := range SortMaps(maps) {
		out = append(out, MapBundle(m, opts))
	}
	return out
}

// ValueBundle is the display of print(v) or of an expression's value.
func ValueBundle(v value.Value) Bundle {
	b := Bundle{MIMEText: ValueText(v) + "\n"}
	js := `{"type": "value", "data": ` + ValueJSON(v) + "}"
	if json.Valid([]byte(js)) {
		b[MIMEJSON] = json.RawMessage(js)
	}
	return b
}

// EventBundle is the display of an event that deserves one: print() of a
// value or a map. Other events (printf, time, cat, join, system, lost
// events, warnings) are stream output; for them EventBundle returns nil
// and the caller writes EventText to the stream it names.
func EventBundle(e value.Event, opts Options) Bundle {
	switch e := e.(type) {
	case value.Print:
		return ValueBundle(e.Value)
	case value.PrintMap:
		if e.Map == nil {
			return nil
		}
		return PrintMapBundle(e, opts)
	}
	return nil
}

// SeriesBundle is the display of a map printed again and again: its plot
// over time (a line per key, or a heatmap for histograms). Each print's
// own text went out as it came, so text/plain here only says what the
// plot shows ("@x over time: 5 prints in 4.0s"), and there is no JSON:
// bpftrace has no such object.
func SeriesBundle(s *Series, opts Options) Bundle {
	if s == nil || len(s.Snaps) == 0 {
		return Bundle{MIMEText: ""}
	}
	b := Bundle{MIMEText: fmt.Sprintf("%s over time: %d %s in %s", s.Name, s.Len(), plural(s.Len(), "print", "prints"), formatSeconds(s.Span().Round(100*time.Millisecond)))}
	if !opts.NoPlots {
		if svg := SeriesSVG(s, opts); svg != "" {
			b[MIMESVG] = svg
		}
	}
	return b
}

// DiagBundle is the display of compile errors and warnings: the exact
// text, and coloured HTML.
func DiagBundle(ds []value.Diagnostic) Bundle {
	return Bundle{MIMEText: DiagsText(ds), MIMEHTML: DiagHTML(ds)}
}

// StatusText is the live display's status line: elapsed time (and the
// set duration with a progress bar), events, drops and probes.
//
//	running 12.3s / 30s [########------------] 41% | 1,234 events | 0 drops | 3 probes
func StatusText(st value.Status) string {
	var b strings.Builder
	if st.Done {
		b.WriteString("done after ")
	} else {
		b.WriteString("running ")
	}
	b.WriteString(formatSeconds(st.Elapsed))
	if st.Duration > 0 {
		frac := progress(st)
		const cells = 20
		n := int(frac * cells)
		fmt.Fprintf(&b, " / %s [%s%s] %d%%", formatSeconds(st.Duration), strings.Repeat("#", n), strings.Repeat("-", cells-n), int(frac*100))
	}
	fmt.Fprintf(&b, " | %s %s | %s %s", groupThousands(st.Events), plural(int(min(st.Events, 2)), "event", "events"),
		groupThousands(st.Drops), plural(int(min(st.Drops, 2)), "drop", "drops"))
	if st.Probes > 0 {
		fmt.Fprintf(&b, " | %d %s", st.Probes, plural(st.Probes, "probe", "probes"))
	}
	return b.String()
}

func progress(st value.Status) float64 {
	if st.Duration <= 0 {
		return 0
	}
	f := float64(st.Elapsed) / float64(st.Duration)
	if st.Done {
		f = max(f, 1)
	}
	return min(max(f, 0), 1)
}

// formatSeconds prints a duration as seconds with one decimal ("12.3s";
// "30s" when whole), or minutes and seconds past a minute ("2m05s").
func formatSeconds(d time.Duration) string {
	if d < time.Minute {
		if d%time.Second == 0 {
			return fmt.Sprintf("%ds", int(d/time.Second))
		}
		return fmt.Sprintf("%.1fs", d.Seconds())
	}
	d = d.Round(time.Second)
	return fmt.Sprintf("%dm%02ds", int(d/time.Minute), int(d%time.Minute/time.Second))
}

// StatusHTML is the status line as HTML, with a progress bar when the run
// has a duration and the drop count in red when events were lost.
func StatusHTML(st value.Status) string {
	var b strings.Builder
	b.WriteString(`<div class="tracebook-status" style="font-family:'Liberation Sans',Arial,Helvetica,sans-serif;font-size:13px;color:#333;margin:2px 0 6px">`)
	state := "running"
	if st.Done {
		state = "done after"
	}
	fmt.Fprintf(&b, "<b>%s</b> %s", state, formatSeconds(st.Elapsed))
	if st.Duration > 0 {
		pct := progress(st) * 100
		fmt.Fprintf(&b, ` / %s <span style="display:inline-block;width:160px;height:9px;background:#e4e4e4;border-radius:4px;vertical-align:middle;margin:0 4px">`+
			`<span style="display:block;width:%.1f%%;height:100%%;background:#4c78a8;border-radius:4px"></span></span>%d%%`,
			formatSeconds(st.Duration), pct, int(pct))
	}
	fmt.Fprintf(&b, " · %s %s · ", groupThousands(st.Events), plural(int(min(st.Events, 2)), "event", "events"))
	drops := html.EscapeString(groupThousands(st.Drops) + " " + plural(int(min(st.Drops, 2)), "drop", "drops"))
	if st.Drops > 0 {
		fmt.Fprintf(&b, `<span style="color:#c00;font-weight:bold">%s</span>`, drops)
	} else {
		b.WriteString(drops)
	}
	if st.Probes > 0 {
		fmt.Fprintf(&b, " · %d %s", st.Probes, plural(st.Probes, "probe", "probes"))
	}
	b.WriteString("</div>")
	return b.String()
}

// LiveBundle is the live display of a running cell: the status line, then
// every map the cell writes, in bpftrace's order. text/plain is the status
// line and the maps' exact text; text/html shows each map's plot or table
// (or its text, for scalars), followed by a small panel of its history
// when the timeline has enough of it: a line per key (per second for
// counts and sums when the timeline plots deltas), a heatmap for
// histograms. tl may be nil.
func LiveBundle(maps []*value.Map, st value.Status, tl *Timeline, opts Options) Bundle {
	opts = opts.withDefaults()
	var text strings.Builder
	text.WriteString(StatusText(st))
	text.WriteByte('\n')
	var h strings.Builder
	h.WriteString(`<div class="tracebook-live">`)
	h.WriteString(StatusHTML(st))
	small := opts
	small.compact = true
	for _, m := range SortMaps(maps) {
		t := MapText(m, 0, 0)
		text.WriteString(t)
		svg, table := RichView(m, opts)
		switch {
		case svg != "":
			h.WriteString(`<div>` + inlineSVG(svg) + `</div>`)
		case table != "":
			h.WriteString(table)
		default:
			h.WriteString(PreHTML(strings.TrimRight(t, "\n")))
		}
		if tl != nil && !opts.NoPlots {
			if s := tl.Series(m.Name); s != nil && s.Len() >= 3 && SeriesPlottable(m) {
				if svg := SeriesSVG(s, small); svg != "" {
					h.WriteString(`<div class="tracebook-over-time">` + inlineSVG(svg) + `</div>`)
				}
			}
		}
	}
	h.WriteString("</div>")
	return Bundle{MIMEText: text.String(), MIMEHTML: h.String()}
}
