package render

import (
	"bytes"
	"context"
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tracebook/tracebook/runtime/value"
)

// Golden tests compare render's output with what bpftrace 0.17 printed for
// the same program. Each case holds a BEGIN program and, built by hand in
// Go, the events and exit maps that program produces. The expected output
// is the file testdata/golden/<name>.txt (and <name>.json for -f json),
// recorded from the real binary by
//
//	go test ./render -run TestGolden -update-golden
//
// (or testdata/gen.sh), which needs bpftrace at /usr/bin/bpftrace and root.
var updateGolden = flag.Bool("update-golden", false, "rerun bpftrace 0.17 to rewrite testdata/golden")

type goldenCase struct {
	name string
	prog string
	json bool // also compare the -f json output
	// build returns what the program prints while it runs and the maps it
	// leaves at exit.
	build func() ([]value.Event, []*value.Map)
}

func maps(ms ...*mapB) []*value.Map {
	out := make([]*value.Map, len(ms))
	for i, m := range ms {
		out[i] = m.done()
	}
	return out
}

func onlyMaps(ms ...*mapB) func() ([]value.Event, []*value.Map) {
	return func() ([]value.Event, []*value.Map) { return nil, maps(ms...) }
}

func TestGolden(t *testing.T) {
	bpftrace := "/usr/bin/bpftrace"
	for _, c := range goldenCases() {
		t.Run(c.name, func(t *testing.T) {
			events, ms := c.build()
			var text, js strings.Builder
			text.WriteString(AttachText(1))
			js.WriteString(AttachJSON(1))
			for _, e := range events {
				if s, stream := EventText(e); stream == Stdout {
					text.WriteString(s)
				}
				if s, stream := EventJSON(e); stream == Stdout {
					js.WriteString(s)
				}
			}
			text.WriteString(ExitText(ms))
			js.WriteString(ExitJSON(ms))

			check := func(ext string, got string, args ...string) {
				path := filepath.Join("testdata", "golden", c.name+ext)
				if *updateGolden {
					out := runBpftrace(t, bpftrace, append(args, "-e", c.prog)...)
					if err := os.WriteFile(path, out, 0o644); err != nil {
						t.Fatal(err)
					}
				}
				want, err := os.ReadFile(path)
				if err != nil {
					t.Fatalf("%v (record it with -update-golden)", err)
				}
				if got != string(want) {
					t.Errorf("%s%s differs from bpftrace 0.17\nprogram: %s\n--- got\n%s\n--- want\n%s", c.name, ext, c.prog, visible(got), visible(string(want)))
				}
			}
			check(".txt", text.String())
			if c.json {
				check(".json", js.String(), "-f", "json")
			}
		})
	}
}

// runBpftrace runs the oracle and returns its stdout.
func runBpftrace(t *testing.T, bin string, args ...string) []byte {
	t.Helper()
	if _, err := os.Stat(bin); err != nil {
		t.Skipf("no bpftrace to record goldens from: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, bin, args...)
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	cmd.Env = append(os.Environ(), "BPFTRACE_STRLEN=64")
	if err := cmd.Run(); err != nil {
		t.Fatalf("bpftrace %q: %v", args, err)
	}
	return stdout.Bytes()
}

// visible marks line ends and trailing spaces so a diff can be read.
func visible(s string) string {
	return strings.ReplaceAll(s, "\n", "$\n")
}
