package runtime

import (
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"

	"github.com/tracebook/tracebook/lang"
)

// attachKprobe attaches a kprobe or kretprobe: one function (with an
// offset for kprobe:func+off), or for a wildcard attach point whose program
// was loaded for kprobe_multi, all its matches with one link. A kernel
// without kprobes fails here with a missing kprobe_events file; Attach turns
// that into the feature probe's sentence.
func attachKprobe(prog *ebpf.Program, ap *lang.AttachPoint) (io.Closer, error) {
	ret := ap.Provider == "kretprobe"
	if useKprobeMulti(ap) {
		syms := make([]string, 0, len(ap.Matches))
		for _, m := range ap.Matches {
			syms = append(syms, m.Func)
		}
		opts := link.KprobeMultiOptions{Symbols: syms}
		if ret {
			return link.KretprobeMulti(prog, opts)
		}
		return link.KprobeMulti(prog, opts)
	}
	if ap.Wildcard {
		return nil, errors.New("a wildcard kprobe is attached through its matches, one at a time, unless kprobe_multi is used")
	}
	if ret && ap.Offset != 0 {
		return nil, fmt.Errorf("kretprobe cannot take an offset")
	}
	sym := ap.Func
	if ap.Target != "" && ap.Target != "vmlinux" {
		// cilium resolves "module:function" through the tracefs syntax.
		sym = ap.Target + ":" + ap.Func
	}
	if ret {
		return link.Kretprobe(sym, prog, nil)
	}
	l, err := link.Kprobe(sym, prog, &link.KprobeOptions{Offset: ap.Offset})
	if err != nil && ap.Offset != 0 && errors.Is(err, os.ErrNotExist) {
		if why := kprobeOffsetError(ap); why != "" {
			return nil, &offsetError{why: why, err: err}
		}
	}
	return l, err
}

// kprobeOffsetError explains why the kernel refused kprobe:func+off for a
// function that exists. The kernel answers an offset inside an instruction
// with EILSEQ, which cilium turns into "not found" and then retries with
// the syscall prefix (__x64_vfs_read+0x1), so the error it returns names a
// symbol the user never wrote. It returns "" when the kernel has no
// kprobes or the function itself is unknown (then cilium's error, or the
// feature's sentence, says it well enough).
func kprobeOffsetError(ap *lang.AttachPoint) string {
	if CheckFeature(FeatureKprobe) != nil {
		return ""
	}
	ks, err := LoadKernelSymbols()
	if err != nil {
		return ""
	}
	start, ok := ks.Addr(ap.Func)
	if !ok || start < kernelSpaceStart {
		return ""
	}
	name, off, _, ok := ks.Lookup(start + ap.Offset)
	if ok && start+ap.Offset-off != start {
		return fmt.Sprintf("offset %#x is past the end of %s (it falls in %s)", ap.Offset, ap.Func, name)
	}
	return fmt.Sprintf("offset %#x is not at an instruction boundary of %s: the kernel refused the kprobe", ap.Offset, ap.Func)
}

// offsetError is kprobeOffsetError's explanation, keeping cilium's error
// in the chain (errors.Is(err, os.ErrNotExist)) but out of the message.
type offsetError struct {
	why string
	err error
}

func (e *offsetError) Error() string { return e.why }
func (e *offsetError) Unwrap() error { return e.err }

// attachKfunc attaches an fentry/fexit program; its target was fixed at
// load time (ProgramSpec.AttachTo).
func attachKfunc(prog *ebpf.Program, ap *lang.AttachPoint) (io.Closer, error) {
	at := ebpf.AttachTraceFEntry
	if ap.Provider == "kretfunc" {
		at = ebpf.AttachTraceFExit
	}
	return link.AttachTracing(link.TracingOptions{Program: prog, AttachType: at})
}

// attachIter attaches an iterator program. The returned *link.Iter's Open
// runs the iterator and returns what the program wrote.
func attachIter(prog *ebpf.Program, ap *lang.AttachPoint) (io.Closer, error) {
	return link.AttachIter(link.IterOptions{Program: prog})
}
