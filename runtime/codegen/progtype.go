package codegen

import "github.com/cilium/ebpf"

// ProgramType returns the program type and attach type a probe of the
// given provider compiles to (lang.AttachPoint.Provider's canonical names;
// "" for a notebook cell's top-level statements). The runtime attaches
// programs according to it:
//
//	BEGIN, END, top-level      RawTracepoint, run with BPF_PROG_TEST_RUN
//	kprobe, kretprobe          Kprobe (link.Kprobe / link.Kretprobe)
//	uprobe, uretprobe, usdt    Kprobe (link.Executable.Uprobe / Uretprobe)
//	tracepoint                 TracePoint (link.Tracepoint)
//	rawtracepoint              RawTracepoint (link.AttachRawTracepoint)
//	profile, interval, software,
//	hardware, watchpoint,
//	asyncwatchpoint            PerfEvent (perf_event_open + link.AttachRawLink)
//	kfunc                      Tracing, AttachTraceFEntry, AttachTo = function
//	kretfunc                   Tracing, AttachTraceFExit, AttachTo = function
//	iter                       Tracing, AttachTraceIter, AttachTo = iterator
//
// It returns ebpf.UnspecifiedProgram for an unknown provider.
func ProgramType(provider string) (ebpf.ProgramType, ebpf.AttachType) {
	switch provider {
	case "", "BEGIN", "END":
		return ebpf.RawTracepoint, ebpf.AttachNone
	case "kprobe", "kretprobe", "uprobe", "uretprobe", "usdt":
		return ebpf.Kprobe, ebpf.AttachNone
	case "tracepoint":
		return ebpf.TracePoint, ebpf.AttachNone
	case "rawtracepoint":
		return ebpf.RawTracepoint, ebpf.AttachNone
	case "profile", "interval", "software", "hardware", "watchpoint", "asyncwatchpoint":
		return ebpf.PerfEvent, ebpf.AttachNone
	case "kfunc":
		return ebpf.Tracing, ebpf.AttachTraceFEntry
	case "kretfunc":
		return ebpf.Tracing, ebpf.AttachTraceFExit
	case "iter":
		return ebpf.Tracing, ebpf.AttachTraceIter
	}
	return ebpf.UnspecifiedProgram, ebpf.AttachNone
}
