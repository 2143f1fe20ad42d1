package runtime

import (
	"errors"
	"strings"

	"github.com/tracebook/tracebook/lang"
	"github.com/tracebook/tracebook/runtime/value"
)

// Diagnostics converts lang's errors and warnings into the plain
// diagnostics render and the notebook show, each with the text of its
// source line for the caret excerpt.
func Diagnostics(errs lang.ErrorList, src []byte) []value.Diagnostic {
	lines := strings.Split(string(src), "\n")
	out := make([]value.Diagnostic, 0, len(errs))
	for _, e := range errs {
		if e.Src != nil {
			// An error inside an #include'd header quotes the header.
			out = append(out, diagnostic(e, strings.Split(string(e.Src), "\n")))
			continue
		}
		out = append(out, diagnostic(e, lines))
	}
	return out
}

func diagnostic(e *lang.Error, lines []string) value.Diagnostic {
	d := value.Diagnostic{
		File:    e.File,
		Line:    e.Pos.Line,
		Col:     e.Pos.Col,
		EndLine: e.End.Line,
		EndCol:  e.End.Col,
		Warning: e.Severity == lang.SevWarning,
		Msg:     e.Msg,
		Notes:   append([]string(nil), e.Notes...),
	}
	if e.Pos.IsValid() && e.Pos.Line <= len(lines) {
		d.SourceLine = strings.TrimSuffix(lines[e.Pos.Line-1], "\r")
	}
	return d
}

// ErrorDiagnostics turns an error from Start into diagnostics: a
// *LoadError placed at the statement the verifier rejected (its log as
// Detail, shown on request), an *AttachError in bpftrace's words, anything
// else as a message without a position.
func ErrorDiagnostics(err error, src []byte) []value.Diagnostic {
	if err == nil {
		return nil
	}
	lines := strings.Split(string(src), "\n")
	var le *LoadError
	if errors.As(err, &le) && le.Diag != nil {
		d := diagnostic(le.Diag, lines)
		d.Detail = le.Log
		return []value.Diagnostic{d}
	}
	var ae *AttachError
	if errors.As(err, &ae) {
		return []value.Diagnostic{{Msg: "Error attaching probe: '" + ae.Probe + "'", Notes: []string{CleanError(ae.Err).Error()}}}
	}
	return []value.Diagnostic{{Msg: CleanError(err).Error()}}
}
