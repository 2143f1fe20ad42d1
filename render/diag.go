package render

import (
	"html"
	"strconv"
	"strings"

	"github.com/tracebook/tracebook/runtime/value"
)

// DiagText formats a diagnostic as bpftrace prints errors and warnings:
//
//	stdin:1:16-18: ERROR: syntax error, unexpected ;
//	BEGIN { @x = 1 ;; }
//	               ~~
//
// A span over several lines prints only "FILE:L1-L2: ERROR: msg"; a
// diagnostic without a position prints "ERROR: msg". Tabs in the source
// line become four spaces, and so do their markers. Notes follow, one per
// line. The appendix (Detail) is left to the caller.
func DiagText(d value.Diagnostic) string {
	var b strings.Builder
	writeDiag(&b, d, plainStyle)
	return b.String()
}

// DiagsText formats several diagnostics, in order.
func DiagsText(ds []value.Diagnostic) string {
	var b strings.Builder
	for _, d := range ds {
		writeDiag(&b, d, plainStyle)
	}
	return b.String()
}

// DiagANSI is DiagText with ANSI colours, for terminals and for the
// traceback of a Jupyter error message: the severity in bold red or
// yellow, the message in bold, the markers in green.
func DiagANSI(d value.Diagnostic) string {
	var b strings.Builder
	writeDiag(&b, d, ansiStyle)
	return b.String()
}

// DiagTraceback is the traceback list of a Jupyter error reply for the
// diagnostics: one string per output line, ANSI-coloured.
func DiagTraceback(ds []value.Diagnostic) []string {
	var lines []string
	for _, d := range ds {
		text := strings.TrimSuffix(DiagANSI(d), "\n")
		lines = append(lines, strings.Split(text, "\n")...)
	}
	return lines
}

// DiagHTML formats diagnostics as an HTML <pre> block with the same layout
// as the text, the severity and markers coloured, and the verifier log (or
// other Detail) folded in a <details> element.
func DiagHTML(ds []value.Diagnostic) string {
	var b strings.Builder
	b.WriteString(`<pre class="tracebook-diag" style="white-space:pre-wrap">`)
	for _, d := range ds {
		writeDiag(&b, d, htmlStyle)
	}
	b.WriteString("</pre>")
	for _, d := range ds {
		if d.Detail != "" {
			b.WriteString("<details><summary>details</summary><pre>")
			b.WriteString(html.EscapeString(d.Detail))
			b.WriteString("</pre></details>")
		}
	}
	return b.String()
}

// diagStyle wraps the parts of a diagnostic; text is already escaped for
// the medium by esc.
type diagStyle struct {
	esc      func(string) string
	severity func(sev string, warning bool) string
	msg      func(string) string
	marker   func(string) string
}

var plainStyle = diagStyle{
	esc:      func(s string) string { return s },
	severity: func(s string, _ bool) string { return s },
	msg:      func(s string) string { return s },
	marker:   func(s string) string { return s },
}

var ansiStyle = diagStyle{
	esc: func(s string) string { return s },
	severity: func(s string, warning bool) string {
		if warning {
			return "\x1b[1;33m" + s + "\x1b[0m"
		}
		return "\x1b[1;31m" + s + "\x1b[0m"
	},
	msg:    func(s string) string { return "\x1b[1m" + s + "\x1b[0m" },
	marker: func(s string) string { return "\x1b[32m" + s + "\x1b[0m" },
}

var htmlStyle = diagStyle{
	esc: html.EscapeString,
	severity: func(s string, warning bool) string {
		if warning {
			return `<span style="color:#b8860b;font-weight:bold">` + s + "</span>"
		}
		return `<span style="color:#c00;font-weight:bold">` + s + "</span>"
	},
	msg:    func(s string) string { return "<b>" + s + "</b>" },
	marker: func(s string) string { return `<span style="color:#080">` + s + "</span>" },
}

func writeDiag(b *strings.Builder, d value.Diagnostic, st diagStyle) {
	sev := "ERROR"
	if d.Warning {
		sev = "WARNING"
	}
	msg := strings.TrimSuffix(d.Msg, "\n")
	head := st.severity(sev, d.Warning) + ": " + st.msg(st.esc(msg)) + "\n"
	defer func() {
		for _, n := range d.Notes {
			b.WriteString(st.esc(n))
			b.WriteByte('\n')
		}
	}()
	if d.Line <= 0 {
		b.WriteString(head)
		return
	}
	if d.File != "" {
		b.WriteString(st.esc(d.File))
		b.WriteByte(':')
	}
	if d.EndLine > d.Line {
		b.WriteString(strconv.Itoa(d.Line) + "-" + strconv.Itoa(d.EndLine) + ": " + head)
		return
	}
	b.WriteString(strconv.Itoa(d.Line) + ":" + strconv.Itoa(d.Col) + "-" + strconv.Itoa(d.EndCol) + ": " + head)
	src := d.SourceLine
	if src == "" {
		return
	}
	b.WriteString(st.esc(strings.ReplaceAll(src, "\t", "    ")))
	b.WriteByte('\n')
	var m strings.Builder
	for x := 0; x < len(src) && x < d.EndCol-1; x++ {
		c := byte('~')
		if x < d.Col-1 {
			c = ' '
		}
		if src[x] == '\t' {
			m.WriteString(strings.Repeat(string(c), 4))
		} else {
			m.WriteByte(c)
		}
	}
	marks := m.String()
	lead := len(marks) - len(strings.TrimLeft(marks, " "))
	b.WriteString(marks[:lead])
	if lead < len(marks) {
		b.WriteString(st.marker(marks[lead:]))
	}
	b.WriteByte('\n')
}
