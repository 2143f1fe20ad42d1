package main

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/tracebook/tracebook/lang"
	"github.com/tracebook/tracebook/runtime/runtimetest"
)

// TestCheckCLI runs --check end to end on programs that need no kernel
// types: exit status, and diagnostics on stderr in bpftrace's format.
func TestCheckCLI(t *testing.T) {
	tests := []struct {
		args   []string
		stdin  string
		rc     int
		stderr string
	}{
		{[]string{"--check", "-e", "BEGIN { printf(\"hi\\n\"); exit(); }"}, "", 0, ""},
		{[]string{"--check", "-e", "BEGIN { conut(); }"}, "", 1,
			"stdin:1:9-14: ERROR: Unknown function: conut\nBEGIN { conut(); }\n        ~~~~~\nHINT: did you mean count?\n"},
		{[]string{"--check", "-"}, "BEGIN { @x = count(); @x = sum(1); }\n", 1,
			"stdin:1:23-25: ERROR: Type mismatch for @x: trying to assign value of type 'sum' when map already contains a value of type 'count'\n" +
				"BEGIN { @x = count(); @x = sum(1); }\n                      ~~\n"},
		// Warnings do not fail the check; --no-warnings hides them.
		{[]string{"--check", "-e", "BEGIN { $x = -1; $y = $x / 2; }"}, "", 0,
			"stdin:1:26-27: WARNING: signed operands for '/' can lead to undefined behavior (cast to unsigned to silence warning)\n" +
				"BEGIN { $x = -1; $y = $x / 2; }\n                         ~\n"},
		{[]string{"--check", "--no-warnings", "-e", "BEGIN { $x = -1; $y = $x / 2; }"}, "", 0, ""},
		// Positional parameters follow the program.
		{[]string{"--check", "-e", "BEGIN { printf(\"%s %d\\n\", $1, $2); }", "hello", "42"}, "", 0, ""},
		{[]string{"--check", "-e", "BEGIN { printf(\"%d\\n\", $1); }", "hello"}, "", 1,
			"stdin:1:9-27: ERROR: printf: %d specifier expects a value of type integer (string supplied)\n" +
				"BEGIN { printf(\"%d\\n\", $1); }\n        ~~~~~~~~~~~~~~~~~~\n"},
		{[]string{"--check", "--unsafe", "-e", "kprobe:vfs_read { system(\"true\"); }"}, "", 0, ""},
		{[]string{"--check", "-e", "BEGIN { syntax error"}, "", 1, ""},
		{[]string{"--check", "/nonexistent/x.bt"}, "", 1, "ERROR: failed to open file '/nonexistent/x.bt': no such file or directory\n"},
	}
	for _, tt := range tests {
		var stdout, stderr bytes.Buffer
		rc := runCLIWith(tt.args, strings.NewReader(tt.stdin), &stdout, &stderr)
		if rc != tt.rc {
			t.Errorf("%q: exit %d, want %d (stderr %q)", tt.args, rc, tt.rc, stderr.String())
		}
		if tt.stderr != "" && stderr.String() != tt.stderr {
			t.Errorf("%q: stderr\n%s\nwant\n%s", tt.args, stderr.String(), tt.stderr)
		}
		if tt.rc != 0 && stderr.Len() == 0 {
			t.Errorf("%q: failed without a message", tt.args)
		}
	}
}

// toolErrors lists the tools shipped with bpftrace 0.17 that cannot check
// on this kernel, with their one error. runqlen.bt reads
// cfs_rq->nr_running, which Linux 6.x renamed (nr_queued): the test checks
// that claim against the kernel's BTF before expecting the error.
var toolErrors = map[string]*regexp.Regexp{
	"runqlen.bt": regexp.MustCompile(`^Struct/union of type 'struct cfs_rq' does not contain a field named 'nr_running'$`),
}

// TestCheckTools checks every bpftrace tool in /usr/sbin with the running
// system's types (tier 2: tracefs formats need root). Tools whose kprobes
// cannot attach here still check: checking attaches nothing.
func TestCheckTools(t *testing.T) {
	runtimetest.RequireRoot(t)
	tools, _ := filepath.Glob("/usr/sbin/*.bt")
	if len(tools) == 0 {
		if runtimetest.InCI() {
			t.Fatal("bpftrace's tools are not in /usr/sbin (CI=true, so this is a failure)")
		}
		t.Skip("bpftrace's tools are not in /usr/sbin (apt install bpftrace)")
	}
	types := systemTypes(0)
	if types == nil || !types.HaveBTF() {
		t.Fatal("kernel BTF is not available")
	}
	want := map[string]*regexp.Regexp{}
	for name, re := range toolErrors {
		want[name] = re
	}
	if rq, err := types.LookupType("struct cfs_rq"); err == nil && rq.Field("nr_running") != nil {
		delete(want, "runqlen.bt") // an older kernel: runqlen checks cleanly
	}
	for _, path := range tools {
		name := filepath.Base(path)
		src, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		errs := checkSource(path, src, &cliFlags{File: path}, types, 0).Errors()
		var b strings.Builder
		lang.FormatDiagnostics(&b, errs, src)
		if re := want[name]; re != nil {
			if len(errs) != 1 || !re.MatchString(errs[0].Msg) {
				t.Errorf("%s: want the one error %q, got:\n%s", name, re, b.String())
			}
			continue
		}
		if len(errs) > 0 {
			t.Errorf("%s does not check:\n%s", name, b.String())
		}
	}
}

// BenchmarkCheckTools parses and checks every tool with the system's
// types (warmed by a first pass, as in a notebook session). It reports
// the median time per tool as ns/tool.
func BenchmarkCheckTools(b *testing.B) {
	tools, _ := filepath.Glob("/usr/sbin/*.bt")
	if len(tools) == 0 {
		b.Skip("bpftrace's tools are not in /usr/sbin")
	}
	types := systemTypes(0)
	srcs := make([][]byte, len(tools))
	for i, p := range tools {
		srcs[i], _ = os.ReadFile(p)
		checkSource(p, srcs[i], &cliFlags{File: p}, types, 0) // warm the caches
	}
	per := make([]time.Duration, len(tools))
	b.ResetTimer()
	for n := 0; n < b.N; n++ {
		for i, p := range tools {
			start := time.Now()
			checkSource(p, srcs[i], &cliFlags{File: p}, types, 0)
			per[i] += time.Since(start)
		}
	}
	sort.Slice(per, func(i, j int) bool { return per[i] < per[j] })
	b.ReportMetric(float64(per[len(per)/2].Nanoseconds())/float64(b.N), "ns/tool(median)")
	b.ReportMetric(float64(per[len(per)-1].Nanoseconds())/float64(b.N), "ns/tool(max)")
}
