package kernel_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestNotebookIncludeFromWorkingDir: a cell's #include "x.h" is looked
// for in the kernel's working directory, as a -e program's is in the
// command's, and an error inside the header names the header.
func TestNotebookIncludeFromWorkingDir(t *testing.T) {
	dir := t.TempDir()
	for name, text := range map[string]string{
		"x.h":   "struct foo { int a; long b; };\n#define MYC 7\n",
		"bad.h": "struct t { nosuch_t b; };\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Chdir(dir)
	n := startNotebook(t)
	c := n.ok("#include \"x.h\"\nBEGIN { printf(\"%d %d\\n\", sizeof(struct foo), MYC); exit(); }")
	if out := c.stream(t, "stdout"); !strings.Contains(out, "16 7\n") {
		t.Errorf("stdout %q, want 16 7", out)
	}
	c = n.fails("#include \"bad.h\"\nBEGIN { exit(); }", "CompileError")
	if tb := strings.Join(c.data2(t), "\n"); !strings.Contains(tb, "bad.h:1:12-22") || !strings.Contains(tb, "struct t { nosuch_t b; };") {
		t.Errorf("traceback does not place the error in the header:\n%s", tb)
	}
}
