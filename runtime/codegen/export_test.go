package codegen

import (
	"testing"

	"github.com/cilium/ebpf"

	"github.com/tracebook/tracebook/lang"
)

// Test helpers for the external test package (kernel_test.go), which may
// import the runtime.

// CompileSource compiles a testdata-style source (options in its
// leading "// options:" comment) against types, the running system's:
// comm is read at the running kernel's offset, as runSource reads it.
func CompileSource(name string, src []byte, types lang.TypeSource) (*Object, error) {
	return compileSource(name, src, types, withRunningComm(readOptions(src)))
}

var (
	GoldenFiles = goldenFiles
	RequireRoot = requireRoot
)

// Loaded is an Object loaded into the kernel.
type Loaded struct{ l *loaded }

// Load loads obj (and sets its globals).
func Load(tb testing.TB, obj *Object) *Loaded { return &Loaded{load(tb, obj)} }

// Program returns a loaded program by name.
func (l *Loaded) Program(name string) *ebpf.Program { return l.l.coll.Programs[name] }

// DumpMaps prints the bpftrace maps, one entry per line.
func (l *Loaded) DumpMaps(tb testing.TB) string { return l.l.dumpMaps(tb) }

// DumpEvents prints the ring buffer records waiting.
func (l *Loaded) DumpEvents(tb testing.TB) string { return l.l.dumpEvents(tb) }
