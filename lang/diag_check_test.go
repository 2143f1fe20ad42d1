package lang_test

import (
	"os"
	"strings"
	"testing"

	"github.com/tracebook/tracebook/lang"
	"github.com/tracebook/tracebook/lang/langtest"
)

// diagDifferences are the recorded bpftrace outputs tracebook deliberately
// does not reproduce, each with the reason.
var diagDifferences = map[string]string{
	"map-value-mismatch":   "bpftrace's message lacks the closing quote after the map's type",
	"second-line":          "bpftrace's message lacks the closing quote after the map's type",
	"tabs":                 "bpftrace's message lacks the closing quote after the map's type",
	"tabs-inside":          "bpftrace's message lacks the closing quote after the map's type",
	"last-line-no-newline": "bpftrace's message lacks the closing quote after the map's type",
	"unknown-function":     "tracebook adds a did-you-mean hint",
	"tracepoint-missing":   "tracebook adds a did-you-mean hint",
	"warning-and-error":    "bpftrace also warns that an 8-byte integer variable is too small for the string (a quirk of its check order)",
	"undefined-var":        "bpftrace's scanner makes the variable's span start at the call (a whitespace-only location step)",
	"undefined-map":        "bpftrace's scanner makes the map's span start at the call (a whitespace-only location step)",
	"retval-hint":          "bpftrace's scanner makes the builtin's span start at the call (a whitespace-only location step)",
	"unknown-ident":        "bpftrace's scanner makes the identifier's span start at the call (a whitespace-only location step)",
	"lhist-two":            "",
	"multi-line-span":      "",
}

// TestDiagnosticsLikeBpftrace parses and checks the programs whose
// diagnostics were recorded from bpftrace 0.17 (testdata/diag) and
// compares the whole stderr text.
func TestDiagnosticsLikeBpftrace(t *testing.T) {
	data, err := os.ReadFile("testdata/diag/bpftrace.txt")
	if err != nil {
		t.Fatal(err)
	}
	types := langtest.NewFixture()
	same := 0
	for _, block := range strings.Split(string(data), "=== ")[1:] {
		name, rest, _ := strings.Cut(block, "\n")
		rest = strings.TrimPrefix(rest, "--- program\n")
		program, stderr, _ := strings.Cut(rest, "--- stderr\n")
		program = strings.TrimSuffix(program, "\n")
		prog, errs := lang.Parse("stdin", []byte(program), nil)
		if prog != nil && !errs.HasErrors() {
			_, cerrs := lang.Check(prog, &lang.Config{Types: types})
			errs = append(errs, cerrs...)
			errs.Sort()
		}
		var b strings.Builder
		lang.FormatDiagnostics(&b, errs, []byte(program))
		got := b.String()
		if why, ok := diagDifferences[name]; ok && why != "" {
			if got == stderr {
				t.Errorf("%s: now matches bpftrace; drop it from diagDifferences", name)
			}
			t.Logf("%s (%s):\n got:\n%s\nbpftrace:\n%s", name, why, got, stderr)
			continue
		}
		if got != stderr {
			t.Errorf("%s:\n got:\n%s\nwant (bpftrace 0.17):\n%s", name, got, stderr)
			continue
		}
		same++
	}
	t.Logf("%d programs print exactly what bpftrace prints", same)
}
