package lang

import (
	"fmt"
	"sort"
	"strings"
)

// Pos is a position in a source text: 1-based line and 1-based byte column.
// The zero Pos means "no position".
type Pos struct {
	Line, Col int
}

// IsValid reports whether p names a real position.
func (p Pos) IsValid() bool { return p.Line > 0 }

// Before reports whether p comes strictly before q.
func (p Pos) Before(q Pos) bool {
	return p.Line < q.Line || (p.Line == q.Line && p.Col < q.Col)
}

func (p Pos) String() string { return fmt.Sprintf("%d:%d", p.Line, p.Col) }

// Severity tells an error from a warning.
type Severity uint8

const (
	SevError Severity = iota
	SevWarning
)

// Error is one diagnostic. Pos is where it starts and End where it ends
// (exclusive), as bpftrace's bison locations are: a one-character token at
// column 27 has Pos 1:27 and End 1:28, and bpftrace prints "1:27-28".
type Error struct {
	File     string // "stdin", a file name, or a cell name such as "cell[3]"
	Pos, End Pos
	Msg      string
	Severity Severity
	// Notes are secondary lines printed after the source excerpt, each as
	// its own line (bpftrace prints hints such as "HINT: ..." this way).
	Notes []string
	// Src is the text Pos refers to when it is not the program's own:
	// the header an error inside an #include'd file is in. Formatting
	// quotes its line instead of the program's.
	Src []byte
}

// Error formats the diagnostic as bpftrace's first line, without the
// source excerpt: "stdin:1:14-19: ERROR: Unknown function: conut".
func (e *Error) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Pos.IsValid() {
		fmt.Fprintf(&b, ":%s", e.location())
	}
	if e.Severity == SevWarning {
		b.WriteString(": WARNING: ")
	} else {
		b.WriteString(": ERROR: ")
	}
	b.WriteString(e.Msg)
	return b.String()
}

// location prints the span in bpftrace's form: "L:C-C" on one line,
// "L1-L2" across lines.
func (e *Error) location() string {
	end := e.End
	if !end.IsValid() || end.Before(e.Pos) {
		end = Pos{e.Pos.Line, e.Pos.Col + 1}
	}
	if end.Line != e.Pos.Line {
		return fmt.Sprintf("%d-%d", e.Pos.Line, end.Line)
	}
	return fmt.Sprintf("%d:%d-%d", e.Pos.Line, e.Pos.Col, end.Col)
}

// ErrorList is every diagnostic of one parse or check, errors and warnings
// mixed, in source order once sorted. Like go/scanner.ErrorList, its Error
// method names the first error and how many more there are.
type ErrorList []*Error

// Add appends a diagnostic.
func (l *ErrorList) Add(e *Error) { *l = append(*l, e) }

// Sort orders the list by position, errors before warnings at one position.
func (l ErrorList) Sort() {
	sort.SliceStable(l, func(i, j int) bool {
		a, b := l[i], l[j]
		if a.Pos != b.Pos {
			return a.Pos.Before(b.Pos)
		}
		return a.Severity < b.Severity
	})
}

// HasErrors reports whether the list holds anything other than warnings.
func (l ErrorList) HasErrors() bool {
	for _, e := range l {
		if e.Severity == SevError {
			return true
		}
	}
	return false
}

// Errors returns only the errors; Warnings only the warnings.
func (l ErrorList) Errors() ErrorList   { return l.filter(SevError) }
func (l ErrorList) Warnings() ErrorList { return l.filter(SevWarning) }

func (l ErrorList) filter(s Severity) ErrorList {
	var out ErrorList
	for _, e := range l {
		if e.Severity == s {
			out = append(out, e)
		}
	}
	return out
}

// Err returns the list as an error if it holds any errors, else nil.
func (l ErrorList) Err() error {
	if !l.HasErrors() {
		return nil
	}
	return l
}

func (l ErrorList) Error() string {
	errs := l.Errors()
	switch len(errs) {
	case 0:
		return "no errors"
	case 1:
		return errs[0].Error()
	}
	return fmt.Sprintf("%s (and %d more errors)", errs[0].Error(), len(errs)-1)
}
