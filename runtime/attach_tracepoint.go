package runtime

import (
	"io"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"

	"github.com/tracebook/tracebook/lang"
)

// attachTracepoint opens the tracepoint's perf event (its id read from our
// own tracefs lookup, which mounts tracefs when needed) and attaches prog.
// It does not go through link.Tracepoint because cilium caches a failed
// tracefs lookup for the life of the process.
func attachTracepoint(prog *ebpf.Program, ap *lang.AttachPoint) (io.Closer, error) {
	id, err := TracepointID(ap.Target, ap.Func)
	if err != nil {
		return nil, err
	}
	attr := unix.PerfEventAttr{
		Type:        unix.PERF_TYPE_TRACEPOINT,
		Config:      id,
		Sample_type: unix.PERF_SAMPLE_RAW,
		Sample:      1,
		Wakeup:      1,
	}
	fd, err := openPerfEvent(&attr, -1, 0, "tracepoint "+ap.Target+":"+ap.Func)
	if err != nil {
		return nil, err
	}
	return attachPerfFD(prog, fd)
}

// attachRawTracepoint attaches a tp_btf program (Tracing, loaded with
// AttachTo set) or a plain raw_tracepoint program by name.
func attachRawTracepoint(prog *ebpf.Program, ap *lang.AttachPoint) (io.Closer, error) {
	if prog.Type() == ebpf.Tracing {
		return link.AttachTracing(link.TracingOptions{Program: prog, AttachType: ebpf.AttachTraceRawTp})
	}
	return link.AttachRawTracepoint(link.RawTracepointOptions{Name: ap.Func, Program: prog})
}
