// Package langtest holds test helpers for lang and its clients: a reader
// of chunked expected-error files, and a fixture TypeSource with a few
// tracepoint formats, kernel structs and functions.
//
// # Chunked files
//
// A chunked file (lang/testdata/check/*.bt) holds many small programs
// separated by lines that are exactly "---". Each chunk is padded with
// leading newlines, so that line numbers the checker reports are line
// numbers of the whole file, and editors jump to the right place.
//
// Expectations are comments on the line where a diagnostic must be
// reported, after the marker "// ###" (a bare "#" would be a preprocessor
// line in bpftrace):
//
//	@x = sum(1);   // ### "Type mismatch for @x"
//	$y = $x / 2;   // ### warning: "signed operands"
//	foo(); bar();  // ### "Unknown function: foo" ### "Unknown function: bar"
//
// What follows the marker is a Go string literal ("..." or `...`), a
// regular expression that must match the message. "warning:" before it
// expects a warning instead of an error; "note:" expects the previous
// expectation's diagnostic to carry a note (a hint) matching it. Every
// error must be expected, and every expectation met; warnings that are not
// expected are ignored unless the chunk says "// option:warnings", so that
// chunks about errors need not list incidental warnings.
//
// Per-chunk options are comment text too: "// option:NAME" or
// "// option:NAME=VALUE" anywhere in the chunk (see Chunk.Options).
package langtest

import (
	"fmt"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// Chunk is one program of a chunked file.
type Chunk struct {
	File   string // the file's name, for messages
	Line   int    // the line the chunk starts on
	Source string // the chunk, padded with leading newlines
	// Options holds "// option:NAME[=VALUE]" settings; a flag without a
	// value maps to "".
	Options map[string]string

	t     testing.TB
	wants map[int][]*want // by line
}

type want struct {
	warning bool
	re      *regexp.Regexp
	notes   []*regexp.Regexp
	met     bool
}

var optionRE = regexp.MustCompile(`//\s*option:([A-Za-z_]+)(?:=(\S*))?`)

// ReadChunks reads a chunked file.
func ReadChunks(t testing.TB, filename string) []*Chunk {
	t.Helper()
	data, err := os.ReadFile(filename)
	if err != nil {
		t.Fatal(err)
	}
	var chunks []*Chunk
	lines := strings.SplitAfter(string(data), "\n")
	start := 0
	flush := func(end int) {
		if end <= start {
			return
		}
		c := &Chunk{
			File:    filename,
			Line:    start + 1,
			Source:  strings.Repeat("\n", start) + strings.Join(lines[start:end], ""),
			Options: map[string]string{},
			t:       t,
			wants:   map[int][]*want{},
		}
		for i := start; i < end; i++ {
			c.parseLine(i+1, lines[i])
		}
		chunks = append(chunks, c)
	}
	for i, l := range lines {
		if strings.TrimRight(l, "\r\n") == "---" {
			flush(i)
			start = i + 1
		}
	}
	flush(len(lines))
	return chunks
}

// parseLine collects the options and expectations of one line.
func (c *Chunk) parseLine(line int, text string) {
	for _, m := range optionRE.FindAllStringSubmatch(text, -1) {
		c.Options[m[1]] = m[2]
	}
	i := strings.Index(text, "// ###")
	if i < 0 {
		return
	}
	rest := text[i+len("// "):]
	var last *want
	for _, part := range strings.Split(rest, "###")[1:] {
		part = strings.TrimSpace(part)
		for part != "" {
			kind := ""
			for _, k := range []string{"warning:", "note:"} {
				if strings.HasPrefix(part, k) {
					kind = k
					part = strings.TrimSpace(part[len(k):])
				}
			}
			lit, err := strconv.QuotedPrefix(part)
			if err != nil {
				c.t.Errorf("%s:%d: bad expectation %q: want a Go string literal", c.File, line, part)
				return
			}
			part = strings.TrimSpace(part[len(lit):])
			pat, _ := strconv.Unquote(lit)
			re, err := regexp.Compile(pat)
			if err != nil {
				c.t.Errorf("%s:%d: bad pattern %s: %v", c.File, line, lit, err)
				return
			}
			switch kind {
			case "note:":
				if last == nil {
					c.t.Errorf("%s:%d: note: without a diagnostic before it", c.File, line)
					return
				}
				last.notes = append(last.notes, re)
			default:
				last = &want{warning: kind == "warning:", re: re}
				c.wants[line] = append(c.wants[line], last)
			}
		}
	}
}

// Has reports whether the chunk sets option name.
func (c *Chunk) Has(name string) bool {
	_, ok := c.Options[name]
	return ok
}

// Got records a diagnostic the code under test reported at line.
func (c *Chunk) Got(line int, warning bool, msg string, notes []string) {
	c.t.Helper()
	for _, w := range c.wants[line] {
		if w.met || w.warning != warning || !w.re.MatchString(msg) {
			continue
		}
		w.met = true
		for _, nre := range w.notes {
			found := false
			for _, n := range notes {
				if nre.MatchString(n) {
					found = true
				}
			}
			if !found {
				c.t.Errorf("\n%s:%d: %q: no note matching %q (notes: %q)", c.File, line, msg, nre, notes)
			}
		}
		return
	}
	if warning && !c.Has("warnings") {
		return
	}
	what := "error"
	if warning {
		what = "warning"
	}
	if len(c.wants[line]) > 0 {
		c.t.Errorf("\n%s:%d: %s %q does not match the expectations of the line", c.File, line, what, msg)
		return
	}
	c.t.Errorf("\n%s:%d: unexpected %s: %s", c.File, line, what, msg)
}

// Done reports every expectation no diagnostic met.
func (c *Chunk) Done() {
	c.t.Helper()
	for line, ws := range c.wants {
		for _, w := range ws {
			if !w.met {
				what := "error"
				if w.warning {
					what = "warning"
				}
				c.t.Errorf("\n%s:%d: expected %s matching %q", c.File, line, what, w.re)
			}
		}
	}
}

// Expectations returns how many diagnostics the chunk expects.
func (c *Chunk) Expectations() int {
	n := 0
	for _, ws := range c.wants {
		n += len(ws)
	}
	return n
}

// String names the chunk for test names: "maps.bt:12".
func (c *Chunk) String() string {
	name := c.File
	if i := strings.LastIndexByte(name, '/'); i >= 0 {
		name = name[i+1:]
	}
	return fmt.Sprintf("%s:%d", name, c.Line)
}
