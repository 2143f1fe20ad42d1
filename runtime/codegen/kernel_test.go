package codegen_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/tracebook/tracebook/runtime"
	"github.com/tracebook/tracebook/runtime/codegen"
	"github.com/tracebook/tracebook/runtime/runtimetest"
)

// TestVerifier loads every golden program through the kernel's verifier,
// compiled against the running system's types (tracefs formats, BTF).
// Programs that cannot load on this kernel for a documented reason skip
// with it: fentry/fexit (kfunc/kretfunc) are refused with EPERM before
// verification on these machines. kprobe programs load (only attaching
// them needs kprobes), so they are verified too.
func TestVerifier(t *testing.T) {
	codegen.RequireRoot(t)
	types, err := runtime.NewSystemTypes()
	if err != nil {
		t.Fatal(err)
	}
	for _, file := range codegen.GoldenFiles(t) {
		name := strings.TrimSuffix(filepath.Base(file), ".bt")
		t.Run(name, func(t *testing.T) {
			src, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			obj, err := codegen.CompileSource(filepath.Base(file), src, types)
			if err != nil {
				if reason := unavailable(err); reason != "" {
					t.Skip(reason)
				}
				t.Fatal(err)
			}
			spec := obj.CollectionSpec()
			var trampolines []string
			for _, p := range obj.Programs {
				ps := spec.Programs[p.Name]
				if ps.Type == ebpf.Tracing && (ps.AttachType == ebpf.AttachTraceFEntry || ps.AttachType == ebpf.AttachTraceFExit) {
					trampolines = append(trampolines, p.Name)
				}
			}
			for _, name := range trampolines {
				ps := spec.Programs[name]
				delete(spec.Programs, name)
				t.Run(name, func(t *testing.T) {
					loadTrampoline(t, spec, ps)
				})
			}
			if callsHelper(spec, asm.FnOverrideReturn) {
				// override(): distributions build without it.
				runtimetest.Require(t, runtime.FeatureOverride)
			}
			coll, err := ebpf.NewCollection(spec)
			if err != nil {
				t.Fatalf("%+v", err)
			}
			coll.Close()

			// The runtime may load a rawtracepoint program as tp_btf.
			for _, p := range obj.Programs {
				if len(p.Attach) == 0 || p.Attach[0].Provider != "rawtracepoint" {
					continue
				}
				pt, at, to := runtime.ProgramTypeFor(p.Attach[0])
				if pt == p.Spec.Type {
					continue
				}
				retarget := obj.CollectionSpec()
				ps := retarget.Programs[p.Name]
				ps.Type, ps.AttachType, ps.AttachTo = pt, at, to
				coll, err := ebpf.NewCollection(retarget)
				if err != nil {
					t.Fatalf("as %s: %+v", pt, err)
				}
				coll.Close()
			}
		})
	}
}

// loadTrampoline loads an fentry/fexit program, which this kernel refuses
// with EPERM before verifying it; the skip says so, and any other outcome
// is reported.
func loadTrampoline(t *testing.T, spec *ebpf.CollectionSpec, ps *ebpf.ProgramSpec) {
	one := &ebpf.CollectionSpec{Maps: spec.Maps, Programs: map[string]*ebpf.ProgramSpec{ps.Name: ps}}
	coll, err := ebpf.NewCollection(one)
	if err == nil {
		coll.Close()
		return
	}
	if errors.Is(err, syscall.EPERM) {
		t.Skipf("fentry/fexit programs are refused with EPERM before verification on this kernel (trampolines are blocked): %v", err)
	}
	t.Fatalf("%+v", err)
}

// unavailable returns why a program cannot be compiled here when the
// reason is the machine, not the compiler: an attach target that this
// kernel or system does not have. It returns "" otherwise.
func unavailable(err error) string {
	msg := err.Error()
	for _, s := range []string{"kprobe", "kfunc", "No BTF found", "not found", "no such file", "does not exist"} {
		if strings.Contains(msg, s) {
			return "attach target unavailable on this machine: " + msg
		}
	}
	return ""
}

// callsHelper reports whether any program of spec calls helper fn.
func callsHelper(spec *ebpf.CollectionSpec, fn asm.BuiltinFunc) bool {
	for _, p := range spec.Programs {
		for _, ins := range p.Instructions {
			if ins.IsBuiltinCall() && ins.Constant == int64(fn) {
				return true
			}
		}
	}
	return false
}
