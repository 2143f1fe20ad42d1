package lang

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// toolFiles returns bpftrace's tools installed in /usr/sbin. Without them
// the test skips, except in CI (CI=true), where that is a failure.
func toolFiles(tb testing.TB) []string {
	files, _ := filepath.Glob("/usr/sbin/*.bt")
	if len(files) == 0 {
		if os.Getenv("CI") == "true" {
			tb.Fatal("no /usr/sbin/*.bt: bpftrace's tools must be installed in CI")
		}
		tb.Skip("no /usr/sbin/*.bt (bpftrace's tools are not installed)")
	}
	return files
}

// TestParseTools parses every tool bpftrace ships, with and without BTF
// (their #ifdef BPFTRACE_HAVE_BTF branches differ), and checks that each
// gives a program with probes and no errors.
func TestParseTools(t *testing.T) {
	for _, file := range toolFiles(t) {
		src, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, btf := range []bool{true, false} {
			name := filepath.Base(file)
			prog, errs := Parse(name, src, &ParseOptions{HaveBTF: btf})
			if len(errs) > 0 || prog == nil {
				t.Errorf("%s (BTF %v): %v", name, btf, errs)
				continue
			}
			if len(prog.Probes) == 0 {
				t.Errorf("%s: no probes", name)
			}
			for _, pr := range prog.Probes {
				if len(pr.Attach) == 0 || pr.Body == nil {
					t.Errorf("%s: probe %d has no attach points or body", name, pr.Index)
				}
			}
			if s := SExpr(prog); strings.Contains(s, "(?*") {
				t.Errorf("%s: unprintable node in %s", name, s)
			}
			hasIfdef := strings.Contains(string(src), "#ifndef BPFTRACE_HAVE_BTF")
			if hasIfdef && btf == (len(prog.Includes) > 0 && !strings.HasPrefix(prog.Includes[0].Path, "sys/")) {
				t.Errorf("%s (BTF %v): includes %v do not follow the #ifndef BPFTRACE_HAVE_BTF branch", name, btf, prog.Includes)
			}
		}
	}
}

// BenchmarkParseTools parses every tool in /usr/sbin once per iteration.
func BenchmarkParseTools(b *testing.B) {
	var srcs [][]byte
	size := 0
	for _, file := range toolFiles(b) {
		src, err := os.ReadFile(file)
		if err != nil {
			b.Fatal(err)
		}
		srcs = append(srcs, src)
		size += len(src)
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	for b.Loop() {
		for _, src := range srcs {
			if _, errs := Parse("tool.bt", src, &ParseOptions{HaveBTF: true}); len(errs) > 0 {
				b.Fatal(errs)
			}
		}
	}
}
