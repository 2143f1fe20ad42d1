package render

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tracebook/tracebook/runtime/value"
)

// diagCases are compile errors and warnings as bpftrace 0.17 prints them
// on stderr; the Diagnostic is what lang would report for the program.
var diagCases = []struct {
	name, prog string
	diags      []value.Diagnostic
}{
	{"diag_syntax", `BEGIN { @x = 1 ;; }`, []value.Diagnostic{{File: "stdin", Line: 1, Col: 16, EndLine: 1, EndCol: 18,
		Msg: "syntax error, unexpected ;, expecting }", SourceLine: `BEGIN { @x = 1 ;; }`}}},
	{"diag_unknown_function", `BEGIN { foo(); }`, []value.Diagnostic{{File: "stdin", Line: 1, Col: 9, EndLine: 1, EndCol: 12,
		Msg: "Unknown function: foo", SourceLine: `BEGIN { foo(); }`}}},
	{"diag_printf_type", `BEGIN { printf("%d\n", "s"); }`, []value.Diagnostic{{File: "stdin", Line: 1, Col: 9, EndLine: 1, EndCol: 28,
		Msg: "printf: %d specifier expects a value of type integer (string supplied)\n", SourceLine: `BEGIN { printf("%d\n", "s"); }`}}},
	{"diag_multiline", "BEGIN {\n  printf(\"%d %d\\n\",\n    1); }", []value.Diagnostic{{File: "stdin", Line: 2, Col: 3, EndLine: 3, EndCol: 6,
		Msg: "printf: Not enough arguments for format string (1 supplied, 2 expected)", SourceLine: `  printf("%d %d\n",`}}},
	{"diag_tabs", "BEGIN {\n\t@x = \tfoo(1); }", []value.Diagnostic{{File: "stdin", Line: 2, Col: 8, EndLine: 2, EndCol: 11,
		Msg: "Unknown function: foo", SourceLine: "\t@x = \tfoo(1); }"}}},
	{"diag_warning_stats", `BEGIN { @s = stats(1); print(@s, 1); exit(); }`, []value.Diagnostic{{File: "stdin", Line: 1, Col: 24, EndLine: 1, EndCol: 36,
		Warning: true, Msg: StatsTopDivWarning, SourceLine: `BEGIN { @s = stats(1); print(@s, 1); exit(); }`}}},
	{"diag_second_line", "BEGIN { @x = 1; }\nEND {\n\tprintf(\"%s\\n\", 1); }", []value.Diagnostic{{File: "stdin", Line: 3, Col: 2, EndLine: 3, EndCol: 19,
		Msg: "printf: %s specifier expects a value of type string (integer supplied)", SourceLine: "\tprintf(\"%s\\n\", 1); }"}}},
}

func TestDiagGolden(t *testing.T) {
	for _, c := range diagCases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join("testdata", "golden", c.name+".txt")
			if *updateGolden {
				if _, err := os.Stat("/usr/bin/bpftrace"); err != nil {
					t.Skip("no bpftrace")
				}
				var stderr bytes.Buffer
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				cmd := exec.CommandContext(ctx, "/usr/bin/bpftrace", "-e", c.prog)
				cmd.Stderr = &stderr
				_ = cmd.Run() // these programs fail (or warn) on purpose
				var keep []string
				for _, l := range strings.SplitAfter(stderr.String(), "\n") {
					if !strings.Contains(l, "RLIMIT_MEMLOCK") && l != "" {
						keep = append(keep, l)
					}
				}
				if err := os.WriteFile(path, []byte(strings.Join(keep, "")), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(path)
			if err != nil {
				t.Fatal(err)
			}
			if got := DiagsText(c.diags); got != string(want) {
				t.Errorf("got\n%s\nwant\n%s", visible(got), visible(string(want)))
			}
		})
	}
}

func TestDiagNoPosition(t *testing.T) {
	d := value.Diagnostic{Msg: "Could not attach probe", Notes: []string{"HINT: try -v"}}
	if got, want := DiagText(d), "ERROR: Could not attach probe\nHINT: try -v\n"; got != want {
		t.Errorf("got %q want %q", got, want)
	}
}

func TestDiagANSIAndHTML(t *testing.T) {
	d := diagCases[0].diags[0]
	ansi := DiagANSI(d)
	plain := stripANSI(ansi)
	if plain != DiagText(d) {
		t.Errorf("ANSI variant does not reduce to the text:\n%q\n%q", plain, DiagText(d))
	}
	if !strings.Contains(ansi, "\x1b[1;31mERROR\x1b[0m") {
		t.Errorf("no red ERROR in %q", ansi)
	}
	tb := DiagTraceback([]value.Diagnostic{d})
	if len(tb) != 3 || stripANSI(tb[2]) != "               ~~" {
		t.Errorf("traceback lines %q", tb)
	}
	d.Msg = "a <b> & c"
	d.Detail = "0: (b7) r0 = 0 <verifier>"
	h := DiagHTML([]value.Diagnostic{d})
	for _, want := range []string{"a &lt;b&gt; &amp; c", "<details>", "&lt;verifier&gt;"} {
		if !strings.Contains(h, want) {
			t.Errorf("HTML lacks %q: %s", want, h)
		}
	}
}

func stripANSI(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == 0x1b {
			for i < len(s) && s[i] != 'm' {
				i++
			}
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}
