package render

import (
	"fmt"
	"html"
	"strings"

	"github.com/tracebook/tracebook/runtime/value"
)

// Tables suit maps whose values are not one number: stats() maps (count,
// average, total side by side) and maps of strings or tuples, above all
// with several key parts (@m[pid, comm] = str), where a column per key
// part reads better than "@m[1234, bash]: ...". Rows follow bpftrace's
// order; past TableRows rows the table stops and says how many it left
// out (the text still lists them all).

// DefaultTableRows is how many rows an HTML table shows.
const DefaultTableRows = 200

const tableStyle = `border-collapse:collapse;font-size:13px;font-family:'Liberation Sans',Arial,Helvetica,sans-serif`
const cellStyle = `padding:2px 10px;border-bottom:1px solid #e4e4e4;text-align:left;vertical-align:top`
const numStyle = `padding:2px 10px;border-bottom:1px solid #e4e4e4;text-align:right;font-variant-numeric:tabular-nums`

// TableHTML renders a map as an HTML table: one column per key part, then
// the value (count, average and total columns for stats maps). It returns
// "" for an empty map.
func TableHTML(m *value.Map, opts Options) string {
	es := SortedEntries(m)
	if len(es) == 0 {
		return ""
	}
	limit := opts.TableRows
	if limit <= 0 {
		limit = DefaultTableRows
	}
	hidden := 0
	if len(es) > limit {
		// Keep the end of the order: the largest, as print(@m, N) would.
		hidden = len(es) - limit
		es = es[hidden:]
	}
	nkeys := 0
	for _, e := range es {
		nkeys = max(nkeys, len(e.Key))
	}
	stats := mapKind(m) == value.MapStats
	var b strings.Builder
	fmt.Fprintf(&b, `<table class="tracebook-map" style="%s"><caption style="text-align:left;font-weight:bold;padding:2px 0">%s</caption><thead><tr>`,
		tableStyle, html.EscapeString(m.Name+truncNote(m)))
	for i := range nkeys {
		name := "key"
		if nkeys > 1 {
			name = fmt.Sprintf("key %d", i+1)
		}
		fmt.Fprintf(&b, `<th style="%s">%s</th>`, cellStyle, name)
	}
	if stats {
		for _, h := range []string{"count", "average", "total"} {
			fmt.Fprintf(&b, `<th style="%s">%s</th>`, numStyle, h)
		}
	} else {
		fmt.Fprintf(&b, `<th style="%s">value</th>`, cellStyle)
	}
	b.WriteString("</tr></thead><tbody>")
	for _, e := range es {
		b.WriteString("<tr>")
		for i := range nkeys {
			var k string
			if i < len(e.Key) {
				k = KeyPartText(e.Key[i])
			}
			writeCell(&b, k, false)
		}
		if st, ok := e.Value.(value.Stats); stats && ok {
			writeCell(&b, groupSigned(int64(st.Count)), true)
			writeCell(&b, groupSigned(average(st.Total, st.Count)), true)
			writeCell(&b, groupSigned(st.Total), true)
		} else {
			_, num := e.Value.(value.Int)
			writeCell(&b, ValueText(e.Value), num || numericEntry(e.Value))
		}
		b.WriteString("</tr>")
	}
	b.WriteString("</tbody></table>")
	if hidden > 0 {
		fmt.Fprintf(&b, `<div style="color:#666;font-size:12px">… %d more %s not shown; the text lists every key</div>`, hidden, plural(hidden, "row", "rows"))
	}
	return b.String()
}

func writeCell(b *strings.Builder, s string, num bool) {
	style := cellStyle
	if num {
		style = numStyle
	}
	s = strings.TrimPrefix(s, "\n")
	if strings.Contains(s, "\n") {
		fmt.Fprintf(b, `<td style="%s"><pre style="margin:0">%s</pre></td>`, style, html.EscapeString(strings.TrimRight(s, "\n")))
		return
	}
	fmt.Fprintf(b, `<td style="%s">%s</td>`, style, html.EscapeString(s))
}

func groupSigned(n int64) string {
	if n < 0 {
		return "-" + groupThousands(uint64(-n))
	}
	return groupThousands(uint64(n))
}

// PreHTML wraps text in a <pre> block, escaped.
func PreHTML(text string) string {
	return `<pre style="margin:0">` + html.EscapeString(text) + "</pre>"
}

// inlineSVG strips the XML prolog and generator comment from an SVG
// document, so it can sit inside HTML.
func inlineSVG(svg string) string {
	if strings.HasPrefix(svg, "<?xml") {
		if i := strings.Index(svg, "?>"); i >= 0 {
			svg = strings.TrimLeft(svg[i+2:], "\n")
		}
	}
	if strings.HasPrefix(svg, "<!--") {
		if i := strings.Index(svg, "-->"); i >= 0 {
			svg = strings.TrimLeft(svg[i+3:], "\n")
		}
	}
	return svg
}
