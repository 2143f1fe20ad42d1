package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/tracebook/tracebook/runtime/runtimetest"
)

// TestRunCLIIncludes runs programs that use a user's own headers, as
// bpftrace 0.17 reads them through clang: -I with #include <...>,
// --include, "..." next to the program file and in the working directory
// for -e, nested headers, and an error inside a header, which names it.
func TestRunCLIIncludes(t *testing.T) {
	runtimetest.RequireRoot(t)
	inc, wd, progDir := t.TempDir(), t.TempDir(), t.TempDir()
	write := func(dir, name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write(inc, "my.h", "#ifndef MY_H\n#define MY_H\n#include \"sub.h\"\nstruct foo { int a; long b; };\n#define MYC 7\n#endif\n")
	write(inc, "sub.h", "typedef unsigned short sub_t;\nstruct sub { sub_t x[3]; };\n")
	write(inc, "bad.h", "struct t {\n\tint a;\n\tnosuch_t b;\n};\n")
	write(wd, "here.h", "#define HERE 11\n")
	write(progDir, "near.h", "#define NEAR 12\n")
	prog := write(progDir, "prog.bt", "#include \"near.h\"\nBEGIN { printf(\"%d\\n\", NEAR); exit(); }\n")
	t.Chdir(wd)

	const sizes = `BEGIN { printf("%d %d %d\n", sizeof(struct foo), MYC, sizeof(struct sub)); exit(); }`
	tests := []struct {
		name           string
		args           []string
		rc             int
		stdout, stderr string
	}{
		{"angle", []string{"-I", inc, "-e", "#include <my.h>\n#include <my.h>\n" + sizes}, 0,
			"Attaching 1 probe...\n16 7 6\n\n\n", ""},
		{"include-option", []string{"--include", "my.h", "-I", inc, "-e", sizes}, 0,
			"Attaching 1 probe...\n16 7 6\n\n\n", ""},
		{"working-dir", []string{"-e", "#include \"here.h\"\nBEGIN { printf(\"%d\\n\", HERE); exit(); }"}, 0,
			"Attaching 1 probe...\n11\n\n\n", ""},
		{"program-dir", []string{prog}, 0, "Attaching 1 probe...\n12\n\n\n", ""},
		{"error-in-header", []string{"-I", inc, "-e", "#include <bad.h>\nBEGIN { exit(); }"}, 1, "",
			inc + "/bad.h:3:2-12: ERROR: Unknown type: 'nosuch_t'\n    nosuch_t b;\n    ~~~~~~~~~~\n"},
		{"check", []string{"--check", "-I", inc, "-e", "#include <my.h>\n" + sizes}, 0, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			rc := runCLIWith(tt.args, strings.NewReader(""), &stdout, &stderr)
			if rc != tt.rc {
				t.Errorf("exit %d, want %d (stderr %q)", rc, tt.rc, stderr.String())
			}
			if stdout.String() != tt.stdout {
				t.Errorf("stdout %q\nwant   %q (stderr %q)", stdout.String(), tt.stdout, stderr.String())
			}
			if stderr.String() != tt.stderr {
				t.Errorf("stderr %q\nwant   %q", stderr.String(), tt.stderr)
			}
		})
	}
}
