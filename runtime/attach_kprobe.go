package runtime

import (
	"errors"
	"fmt"
	"io"

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
	return link.Kprobe(sym, prog, &link.KprobeOptions{Offset: ap.Offset})
}

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
