package codegen

import (
	"errors"
	"os"
	"strings"
	"syscall"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/features"

	"github.com/tracebook/tracebook/lang"
)

// FuzzCompile parses, checks and compiles arbitrary programs. Compile must
// never panic, and what it compiles must load through the verifier or fail
// for a reason the program itself gives (a loop the verifier cannot bound,
// a helper this kernel lacks). With -short, or without root, programs are
// only compiled. Seeds: the golden programs and the execution tests.
func FuzzCompile(f *testing.F) {
	files := goldenFiles(f)
	for _, file := range files {
		src, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(string(src))
	}
	for _, tt := range execTests {
		f.Add(tt.src)
	}
	canLoad := !testing.Short() && os.Geteuid() == 0
	f.Fuzz(func(t *testing.T, src string) {
		if len(src) > 4096 {
			return
		}
		fo := readOptions([]byte(src))
		prog, errs := lang.Parse("fuzz.bt", []byte(src), &lang.ParseOptions{Cell: fo.cell, Params: fo.params})
		if prog == nil || errs.HasErrors() {
			return
		}
		info, errs := lang.Check(prog, &lang.Config{Types: fixtureTypes{}, Unsafe: fo.unsafe,
			Params: fo.params, StrLen: fo.strlen, Cell: "fuzz.bt"})
		if errs.HasErrors() {
			return
		}
		opts := testOptions(fixtureTypes{}, fo)
		opts.RingBufSize = 1 << 16
		opts.MaxMapEntries = 64
		opts.StackMapEntries = 64
		obj, err := Compile(prog, info, opts)
		if err != nil && strings.Contains(err.Error(), "internal error") {
			t.Fatalf("%v\n%s", err, src)
		}
		if err != nil {
			var cerr *Error
			if !errors.As(err, &cerr) && !strings.HasPrefix(err.Error(), "codegen: ") {
				t.Errorf("compile error without codegen's form: %v", err)
			}
			return
		}
		if !canLoad {
			return
		}
		spec := obj.CollectionSpec()
		for name, p := range spec.Programs {
			if p.Type == ebpf.Tracing {
				// fentry/fexit cannot load here (EPERM before
				// verification); iterators need their target.
				delete(spec.Programs, name)
			}
		}
		coll, err := ebpf.NewCollection(spec)
		if err == nil {
			coll.Close()
			return
		}
		// This kernel's verifier fails with EFAULT ("the sequence of
		// jumps is too complex") on a while loop it cannot bound.
		loopFault := strings.Contains(src, "while") && errors.Is(err, syscall.EFAULT)
		// override() cannot load where the kernel lacks the helper
		// (CONFIG_BPF_KPROBE_OVERRIDE); kernels word that differently.
		noOverride := strings.Contains(err.Error(), "bpf_override_return") &&
			errors.Is(features.HaveProgramHelper(ebpf.Kprobe, asm.FnOverrideReturn), ebpf.ErrNotSupported)
		if !acceptableLoadError(err) && !loopFault && !noOverride {
			t.Errorf("compiled program does not load:\n%s\n%+v", src, err)
		}
	})
}

// acceptableLoadError reports whether a load failure is the program's
// doing rather than code generation's: a loop the verifier cannot prove
// ends or a program too complex for it. (A helper the kernel does not
// offer is FuzzCompile's own check.)
func acceptableLoadError(err error) bool {
	if errors.Is(err, syscall.E2BIG) {
		return true
	}
	// The verifier's reason may be anywhere in its log: the error's own
	// text keeps only the last lines ("old state: ..." after "infinite
	// loop detected").
	msg := err.Error()
	var ve *ebpf.VerifierError
	if errors.As(err, &ve) {
		msg += "\n" + strings.Join(ve.Log, "\n")
	}
	for _, s := range []string{
		"BPF program is too large",
		"infinite loop detected",
		"back-edge",
		"loop is not bounded",
		"the sequence of", // "the sequence of 8193 jumps is too complex"
	} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}
