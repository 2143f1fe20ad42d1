package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tracebook/tracebook/runtime/runtimetest"
)

// TestRunCLI runs programs through the command end to end (kernel tier):
// bpftrace 0.17's framing, exit statuses and streams. The differential
// tier compares far more programs with bpftrace itself; these pin the
// engine's own paths.
func TestRunCLI(t *testing.T) {
	runtimetest.RequireRoot(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "out.txt")
	tests := []struct {
		name           string
		args           []string
		rc             int
		stdout, stderr string
	}{
		{"begin-exit", []string{"-e", `BEGIN { printf("hi %d\n", 7); @b = 2; @a[1, "x"] = 1; exit(); }`}, 0,
			"Attaching 1 probe...\nhi 7\n\n\n@a[1, x]: 1\n@b: 2\n", ""},
		{"quiet", []string{"-q", "-e", `BEGIN { @x = count(); exit(); }`}, 0, "\n\n@x: 1\n", ""},
		{"json", []string{"-f", "json", "-e", `BEGIN { printf("a\n"); @c[2] = count(); exit(); }`}, 0,
			"{\"type\": \"attached_probes\", \"data\": {\"probes\": 1}}\n{\"type\": \"printf\", \"data\": \"a\\n\"}\n\n\n" +
				"{\"type\": \"map\", \"data\": {\"@c\": {\"2\": 1}}}\n", ""},
		{"exit-code", []string{"-e", `BEGIN { exit(4); }`}, 4, "Attaching 1 probe...\n\n\n", ""},
		{"end-after-exit", []string{"-e", `BEGIN { exit(); } END { printf("end\n"); }`}, 0,
			"Attaching 2 probes...\nend\n\n\n", ""},
		{"params", []string{"-e", `BEGIN { printf("%s %d %d\n", str($1), $2, $#); exit(); }`, "word", "3"}, 0,
			"Attaching 1 probe...\nword 3 2\n\n\n", ""},
		{"compile-error", []string{"-e", `BEGIN { nosuch(); }`}, 1, "",
			"stdin:1:9-15: ERROR: Unknown function: nosuch\nBEGIN { nosuch(); }\n        ~~~~~~\n"},
		{"missing-file", []string{"/nonexistent/prog.bt"}, 255, "",
			"ERROR: failed to open file '/nonexistent/prog.bt': No such file or directory\n"},
		{"missing-command", []string{"-c", "/nonexistent/cmd", "-e", `BEGIN { exit(); }`}, 255, "",
			"ERROR: Failed to fork child: path '/nonexistent/cmd' does not exist or is not executable\n"},
		// libc, not this test binary: go test links its binaries without
		// a symbol table (-s), and a binary with no symbols at all is an
		// error at check time rather than an attach point that matches
		// nothing.
		{"no-probes", []string{"-e", `uprobe:libc:no_such_function_here { }`}, 1, "No probes to attach\n", "-"},
		{"output-file", []string{"-o", out, "-e", `BEGIN { printf("to file\n"); @m = 1; exit(); }`}, 0, "\n\n", ""},
		{"cat-missing", []string{"-e", `BEGIN { cat("/nonexistent/f"); exit(); }`}, 0, "Attaching 1 probe...\n\n\n",
			"ERROR: failed to open file '/nonexistent/f': No such file or directory\n"},
		{"child", []string{"-c", "/bin/true", "-e", `BEGIN { printf("%d\n", cpid > 0); } END { printf("done\n"); }`}, 0,
			"Attaching 2 probes...\n1\ndone\n\n\n", ""},
		{"dry-run", []string{"-d", "-e", `BEGIN { exit(); }`}, 0, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			rc := runCLIWith(tt.args, strings.NewReader(""), &stdout, &stderr)
			if rc != tt.rc {
				t.Errorf("exit %d, want %d (stderr %q)", rc, tt.rc, stderr.String())
			}
			if tt.name == "dry-run" {
				if !strings.Contains(stdout.String(), "program p0 BEGIN") {
					t.Errorf("-d printed %q", stdout.String())
				}
				return
			}
			if stdout.String() != tt.stdout {
				t.Errorf("stdout %q\nwant   %q (stderr %q)", stdout.String(), tt.stdout, stderr.String())
			}
			if tt.stderr != "-" && stderr.String() != tt.stderr {
				t.Errorf("stderr %q\nwant   %q", stderr.String(), tt.stderr)
			}
		})
	}
	text, err := os.ReadFile(out)
	if err != nil || string(text) != "Attaching 1 probe...\nto file\n@m: 1\n" {
		t.Errorf("-o file holds %q (%v)", text, err)
	}
}
