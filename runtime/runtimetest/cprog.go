package runtimetest

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// BuildC compiles a C program with gcc into the test's temporary directory
// and returns the executable's path. Extra arguments go to gcc (-no-pie,
// -O0, -shared ...). It skips (fails in CI) when gcc is missing.
func BuildC(tb testing.TB, name, src string, gccArgs ...string) string {
	tb.Helper()
	gcc := RequireTool(tb, "gcc")
	dir := tb.TempDir()
	cfile := filepath.Join(dir, name+".c")
	if err := os.WriteFile(cfile, []byte(src), 0o644); err != nil {
		tb.Fatal(err)
	}
	out := filepath.Join(dir, name)
	args := append([]string{"-o", out, cfile}, gccArgs...)
	cmd := exec.Command(gcc, args...)
	if msg, err := cmd.CombinedOutput(); err != nil {
		tb.Fatalf("gcc %v: %v\n%s", args, err, msg)
	}
	return out
}
