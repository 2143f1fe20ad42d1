package runtime

import (
	"os"
	"path/filepath"
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
