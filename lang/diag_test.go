package lang

import (
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// diagCase is one program with the stderr bpftrace 0.17 printed for it.
type diagCase struct {
	name, program, stderr string
}

// readDiagCases reads testdata/diag/bpftrace.txt: cases start with
// "=== name", then "--- program" and "--- stderr" sections.
func readDiagCases(t *testing.T) []diagCase {
	data, err := os.ReadFile("testdata/diag/bpftrace.txt")
	if err != nil {
		t.Fatal(err)
	}
	var cases []diagCase
	var cur *diagCase
	section := ""
	var buf []string
	flush := func() {
		if cur == nil {
			return
		}
		text := strings.Join(buf, "\n")
		switch section {
		case "program":
			cur.program = text
		case "stderr":
			cur.stderr = text + "\n"
		}
		buf = nil
	}
	for _, line := range strings.Split(strings.TrimSuffix(string(data), "\n"), "\n") {
		switch {
		case strings.HasPrefix(line, "=== "):
			flush()
			cases = append(cases, diagCase{name: line[4:]})
			cur = &cases[len(cases)-1]
			section = ""
		case line == "--- program" || line == "--- stderr":
			flush()
			section = line[4:]
		default:
			buf = append(buf, line)
		}
	}
	flush()
	return cases
}

var diagHeadRE = regexp.MustCompile(`^(\S+?):(\d+)(?::(\d+)-(\d+)|-(\d+)): (ERROR|WARNING): (.*)$`)

// TestFormatDiagnostics rebuilds each diagnostic from bpftrace's first
// line (file, span, severity, message) and checks that FormatDiagnostics
// prints exactly what bpftrace printed: excerpt, tabs, underline,
// multi-line spans.
func TestFormatDiagnostics(t *testing.T) {
	for _, tc := range readDiagCases(t) {
		var errs ErrorList
		for _, line := range strings.Split(tc.stderr, "\n") {
			m := diagHeadRE.FindStringSubmatch(line)
			if m == nil {
				continue
			}
			e := &Error{File: m[1], Msg: m[7]}
			l, _ := strconv.Atoi(m[2])
			if m[3] != "" {
				c1, _ := strconv.Atoi(m[3])
				c2, _ := strconv.Atoi(m[4])
				e.Pos, e.End = Pos{l, c1}, Pos{l, c2}
			} else {
				l2, _ := strconv.Atoi(m[5])
				e.Pos, e.End = Pos{l, 1}, Pos{l2, 1}
			}
			if m[6] == "WARNING" {
				e.Severity = SevWarning
			}
			errs = append(errs, e)
		}
		if len(errs) == 0 {
			t.Errorf("%s: no diagnostics in the recorded output", tc.name)
			continue
		}
		var b strings.Builder
		FormatDiagnostics(&b, errs, []byte(tc.program))
		if got := b.String(); got != tc.stderr {
			t.Errorf("%s:\n got:\n%s\nwant:\n%s", tc.name, got, tc.stderr)
		}
	}
}

func TestFormatDiagnosticsNotes(t *testing.T) {
	errs := ErrorList{
		{File: "stdin", Pos: Pos{1, 9}, End: Pos{1, 14}, Msg: "Unknown function: conut", Notes: []string{"HINT: did you mean count?"}},
		{Msg: "no position"},
		{File: "cell[2]", Pos: Pos{3, 1}, End: Pos{3, 2}, Msg: "past the end", Severity: SevWarning},
	}
	var b strings.Builder
	FormatDiagnostics(&b, errs, []byte("BEGIN { conut(); }\n"))
	want := "stdin:1:9-14: ERROR: Unknown function: conut\n" +
		"BEGIN { conut(); }\n" +
		"        ~~~~~\n" +
		"HINT: did you mean count?\n" +
		"ERROR: no position\n" +
		"cell[2]:3:1-2: WARNING: past the end\n"
	if got := b.String(); got != want {
		t.Errorf("got:\n%s\nwant:\n%s", got, want)
	}
}
