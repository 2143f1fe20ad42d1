package lang

import (
	"bytes"
	"fmt"
	"io"
	"strings"
)

// FormatDiagnostics prints errs as bpftrace 0.17 prints its errors and
// warnings on stderr. A diagnostic within one line prints three lines:
//
//	stdin:1:9-14: ERROR: Unknown function: conut
//	BEGIN { conut(); }
//	        ~~~~~
//
// the location ("FILE:LINE:COL-COL", the end column exclusive), the source
// line with tabs widened to four spaces, and '~' under the span. A span
// over several lines prints only "FILE:FIRST-LAST: ERROR: msg", and a
// diagnostic without a position prints "ERROR: msg" alone, both as bpftrace
// does. Notes (hints, did-you-mean) follow, one per line. src is the text
// the positions refer to; the excerpt is left out when a line is missing
// or empty. An error inside an included header quotes the header's line
// (Error.Src) instead.
func FormatDiagnostics(w io.Writer, errs ErrorList, src []byte) {
	var b strings.Builder
	for _, e := range errs {
		formatDiagnostic(&b, e, src)
	}
	io.WriteString(w, b.String())
}

func formatDiagnostic(b *strings.Builder, e *Error, src []byte) {
	sev := "ERROR"
	if e.Severity == SevWarning {
		sev = "WARNING"
	}
	msg := strings.TrimSuffix(e.Msg, "\n")
	if !e.Pos.IsValid() {
		fmt.Fprintf(b, "%s: %s\n", sev, msg)
		writeNotes(b, e)
		return
	}
	if e.File != "" {
		b.WriteString(e.File)
		b.WriteByte(':')
	}
	fmt.Fprintf(b, "%s: %s: %s\n", e.location(), sev, msg)
	end := e.End
	if !end.IsValid() || end.Before(e.Pos) {
		end = Pos{e.Pos.Line, e.Pos.Col + 1}
	}
	if e.Src != nil {
		src = e.Src
	}
	if end.Line == e.Pos.Line {
		if line := sourceLine(src, e.Pos.Line); line != "" {
			writeExcerpt(b, line, e.Pos.Col, end.Col)
		}
	}
	writeNotes(b, e)
}

func writeNotes(b *strings.Builder, e *Error) {
	for _, n := range e.Notes {
		b.WriteString(n)
		b.WriteByte('\n')
	}
}

// writeExcerpt writes the line and the underline from column from up to,
// not including, column to.
func writeExcerpt(b *strings.Builder, line string, from, to int) {
	b.WriteString(strings.ReplaceAll(line, "\t", "    "))
	b.WriteByte('\n')
	for x := 0; x < len(line) && x < to-1; x++ {
		mark := "~"
		if x < from-1 {
			mark = " "
		}
		if line[x] == '\t' {
			mark = strings.Repeat(mark, 4)
		}
		b.WriteString(mark)
	}
	b.WriteByte('\n')
}

// sourceLine returns line n (1-based) of src without its newline, or "".
func sourceLine(src []byte, n int) string {
	for i := 1; i < n; i++ {
		j := bytes.IndexByte(src, '\n')
		if j < 0 {
			return ""
		}
		src = src[j+1:]
	}
	if j := bytes.IndexByte(src, '\n'); j >= 0 {
		src = src[:j]
	}
	return string(src)
}
