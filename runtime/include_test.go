package runtime

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/tracebook/tracebook/lang"
)

func TestMissingIncludes(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "mine.h"), []byte("struct x { int a; };\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	src := "#include <lol/no.h>\n#include <net/sock.h>\n#include <stddef.h>\n#include <mine.h>\n#include \"mine.h\"\n#include \"nope.h\"\nBEGIN { }\n"
	prog, errs := lang.Parse(filepath.Join(dir, "tool.bt"), []byte(src), nil)
	if errs.HasErrors() {
		t.Fatal(errs)
	}
	// <mine.h> is found through -I, "mine.h" next to the program.
	got := missingIncludes(prog, filepath.Join(dir, "tool.bt"), []string{dir})
	if len(got) != 2 || got[0].Msg != "'lol/no.h' file not found" || got[0].Pos.Line != 1 || got[1].Msg != "'nope.h' file not found" || got[1].Pos.Line != 6 {
		t.Errorf("missing includes = %v", got)
	}
	// Without -I, <mine.h> is missing too.
	if got := missingIncludes(prog, filepath.Join(dir, "tool.bt"), nil); len(got) != 3 {
		t.Errorf("without -I: %v", got)
	}
}

// TestIncludeReader reads a user's headers and leaves kernel, compiler
// and system headers unread, even when -I names a system directory.
func TestIncludeReader(t *testing.T) {
	dir := t.TempDir()
	for name, text := range map[string]string{"mine.h": "#define A 1\n", "sub/in.h": "#define B 2\n", "linux/x.h": "", "stddef.h": ""} {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if err := syscall.Mkfifo(filepath.Join(dir, "fifo.h"), 0o644); err != nil {
		t.Fatal(err)
	}
	read := IncludeReader([]string{dir, "/usr/include"})
	for _, tt := range []struct {
		path   string
		system bool
		from   string
		want   string // the name it is read as, "" when not read
	}{
		{"mine.h", true, "stdin", filepath.Join(dir, "mine.h")},
		{"in.h", false, filepath.Join(dir, "sub", "other.h"), filepath.Join(dir, "sub", "in.h")},
		{"in.h", true, filepath.Join(dir, "sub", "other.h"), ""}, // <...> skips the includer's directory
		{filepath.Join(dir, "mine.h"), false, "stdin", filepath.Join(dir, "mine.h")},
		{"linux/x.h", true, "stdin", ""},
		{"stddef.h", true, "stdin", ""},
		{"stdio.h", true, "stdin", ""},
		{"nope.h", false, "cell[1]", ""},
		// Reading these would never end: only regular files are read.
		{"/dev/zero", false, "stdin", ""},
		{"fifo.h", true, "stdin", ""},
	} {
		name, src, ok := read(tt.path, tt.system, tt.from)
		if name != tt.want || ok != (tt.want != "") || ok && len(src) == 0 {
			t.Errorf("%q (system %v) from %q: read as %q, %v; want %q", tt.path, tt.system, tt.from, name, ok, tt.want)
		}
	}
}
