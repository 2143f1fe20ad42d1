package runtime

import (
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/cilium/ebpf"

	"github.com/tracebook/tracebook/lang"
)

// Attaching: which program each provider needs, and how to attach a loaded
// program to a concrete attach point. One file per provider family
// (attach_tracepoint.go, attach_uprobe.go, ...); this file dispatches.

// ProgramTypeFor returns the program type, attach type and BTF attach
// target (ProgramSpec.AttachTo) the loader must give the program of ap, so
// that codegen's instructions, the load and the attach agree:
//
//	BEGIN, END                 RawTracepoint (run once with BPF_PROG_TEST_RUN, never attached)
//	tracepoint                 TracePoint
//	rawtracepoint              Tracing/AttachTraceRawTp to Func (tp_btf) when the kernel
//	                           has tp_btf, else RawTracepoint; both see a u64 args[] ctx
//	kprobe, kretprobe          Kprobe; AttachTraceKprobeMulti when ap is a wildcard whose
//	                           matches Attach will attach with one kprobe_multi link
//	kfunc, kretfunc            Tracing/AttachTraceFEntry or AttachTraceFExit to Func
//	uprobe, uretprobe, usdt    Kprobe (uprobes are kprobe programs over struct pt_regs)
//	profile, interval,
//	software, hardware,
//	watchpoint                 PerfEvent (ctx is struct bpf_perf_event_data: pt_regs first)
//	iter                       Tracing/AttachTraceIter to Func
//
// The choice for rawtracepoint and kprobe depends on the running kernel
// (memoized feature probes), so it is the same for every call in a
// process.
func ProgramTypeFor(ap *lang.AttachPoint) (ebpf.ProgramType, ebpf.AttachType, string) {
	switch ap.Provider {
	case "BEGIN", "END":
		return ebpf.RawTracepoint, ebpf.AttachNone, ""
	case "tracepoint":
		return ebpf.TracePoint, ebpf.AttachNone, ""
	case "rawtracepoint":
		if CheckFeature(FeatureTPBTF) == nil {
			return ebpf.Tracing, ebpf.AttachTraceRawTp, ap.Func
		}
		return ebpf.RawTracepoint, ebpf.AttachNone, ""
	case "kprobe", "kretprobe":
		if useKprobeMulti(ap) {
			return ebpf.Kprobe, ebpf.AttachTraceKprobeMulti, ""
		}
		return ebpf.Kprobe, ebpf.AttachNone, ""
	case "kfunc":
		return ebpf.Tracing, ebpf.AttachTraceFEntry, ap.Func
	case "kretfunc":
		return ebpf.Tracing, ebpf.AttachTraceFExit, ap.Func
	case "uprobe", "uretprobe", "usdt":
		return ebpf.Kprobe, ebpf.AttachNone, ""
	case "profile", "interval", "software", "hardware", "watchpoint", "asyncwatchpoint":
		return ebpf.PerfEvent, ebpf.AttachNone, ""
	case "iter":
		return ebpf.Tracing, ebpf.AttachTraceIter, ap.Func
	}
	return ebpf.UnspecifiedProgram, ebpf.AttachNone, ""
}

// useKprobeMulti reports whether a kprobe attach point is attached with one
// kprobe_multi link: a wildcard with several matches, no offset, on a
// kernel that has kprobe_multi.
func useKprobeMulti(ap *lang.AttachPoint) bool {
	return ap.Wildcard && len(ap.Matches) > 1 && ap.Offset == 0 && CheckFeature(FeatureKprobeMulti) == nil
}

// AttachOptions are the run's options that change how probes attach.
type AttachOptions struct {
	// PID is the -p (or -c child) process: uprobes and usdt fire only in
	// it, and profile/software/hardware/watchpoint events count only it.
	PID int
	// USDTLocations selects the sites of a usdt probe to attach (indexes
	// into USDTProbe.Locations) when codegen made one program per group of
	// sites with the same argument layout; nil attaches every site.
	USDTLocations []int
	// CPUs restricts the per-CPU perf events of profile and software /
	// hardware probes; nil means every online CPU.
	CPUs []int
}

// AttachError is a failed attach, named as bpftrace names it.
type AttachError struct {
	Probe string // "kprobe:vfs_read"
	Err   error
}

func (e *AttachError) Error() string {
	return fmt.Sprintf("attaching %s: %v", e.Probe, CleanError(e.Err))
}
func (e *AttachError) Unwrap() error { return e.Err }

// Attach attaches a loaded program to ap and returns what detaches it. ap
// is concrete (one of a checked attach point's Matches), except for kprobes
// that ProgramTypeFor gave AttachTraceKprobeMulti: then ap is the wildcard
// attach point and all its Matches get one link. For iter the closer is a
// *link.Iter, whose Open runs the iterator.
//
// When the kernel lacks what the provider needs, the error is the feature
// probe's sentence ("this kernel has no kprobes (...)"), never a raw errno
// or cilium's MEMLOCK hint.
func Attach(prog *ebpf.Program, ap *lang.AttachPoint, opts *AttachOptions) (io.Closer, error) {
	if opts == nil {
		opts = &AttachOptions{}
	}
	c, err := attach(prog, ap, opts)
	if err != nil {
		if ferr := ProviderError(ap.Provider); ferr != nil {
			err = ferr
		}
		return nil, &AttachError{Probe: ap.Name(), Err: CleanError(err)}
	}
	return c, nil
}

// CheckAttachable reports, before anything is loaded, whether this kernel
// can attach ap's provider: nil, or an *AttachError carrying the feature
// probe's sentence ("attaching kprobe:vfs_read: this kernel has no kprobes
// (...)"). The session checks every probe of a program first, so a program
// that needs what the kernel lacks stops before anything is attached.
func CheckAttachable(ap *lang.AttachPoint) error {
	if ap.Provider == "usdt" {
		// Semaphores need ref_ctr_offset; plain sites only uprobes.
		if err := ProviderError("uprobe"); err != nil {
			return &AttachError{Probe: ap.Name(), Err: err}
		}
		return nil
	}
	if err := ProviderError(ap.Provider); err != nil {
		return &AttachError{Probe: ap.Name(), Err: err}
	}
	return nil
}

// ExplainLoadError turns the failure to load ap's program into what the
// user sees: the provider's feature sentence when this kernel lacks the
// provider (loading an fentry program is where a kernel that refuses
// trampolines says no), otherwise err without cilium's MEMLOCK hint. A
// verifier error keeps its type (errors.As *ebpf.VerifierError).
func ExplainLoadError(ap *lang.AttachPoint, err error) error {
	if err == nil {
		return nil
	}
	if ferr := ProviderError(ap.Provider); ferr != nil {
		return &AttachError{Probe: ap.Name(), Err: ferr}
	}
	return CleanError(err)
}

func attach(prog *ebpf.Program, ap *lang.AttachPoint, opts *AttachOptions) (io.Closer, error) {
	if prog == nil {
		return nil, errors.New("no program")
	}
	switch ap.Provider {
	case "tracepoint":
		return attachTracepoint(prog, ap)
	case "rawtracepoint":
		return attachRawTracepoint(prog, ap)
	case "kprobe", "kretprobe":
		return attachKprobe(prog, ap)
	case "kfunc", "kretfunc":
		return attachKfunc(prog, ap)
	case "uprobe", "uretprobe":
		return attachUprobe(prog, ap, opts)
	case "usdt":
		return attachUSDT(prog, ap, opts)
	case "profile", "interval", "software", "hardware":
		return attachPerfProbe(prog, ap, opts)
	case "watchpoint", "asyncwatchpoint":
		return attachWatchpoint(prog, ap, opts)
	case "iter":
		return attachIter(prog, ap)
	case "BEGIN", "END":
		return nil, fmt.Errorf("%s probes are run, not attached", ap.Provider)
	}
	return nil, fmt.Errorf("unknown probe type %q", ap.Provider)
}

// multiCloser closes several links at once (concurrently: detaching is
// slow).
type multiCloser []io.Closer

func (m multiCloser) Close() error { return CloseAll(m) }

// detach detaches every link that can be detached apart from its release
// (perfLink.detach) and closes the others.
func (m multiCloser) detach() error {
	errs := make([]error, len(m))
	for i, c := range m {
		if d, ok := c.(detacher); ok {
			errs[i] = d.detach()
		} else if c != nil {
			errs[i] = c.Close()
			m[i] = nil
		}
	}
	return errors.Join(errs...)
}

// CloseAll closes every closer concurrently and returns their errors
// joined. Detaching is slow (a tracepoint link about 63 ms, a uprobe about
// 110 ms, each waiting for an RCU grace period), and the waits overlap.
func CloseAll(cs []io.Closer) error {
	if len(cs) == 1 {
		return cs[0].Close()
	}
	errs := make([]error, len(cs))
	var wg sync.WaitGroup
	for i, c := range cs {
		if c == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = c.Close()
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
