package runtime

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"unsafe"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"
)

// perfLink is a perf event with a BPF program attached, through a BPF link
// (5.15+) or, on older kernels, PERF_EVENT_IOC_SET_BPF. Closing it detaches
// the program and closes the event.
type perfLink struct {
	fd   int
	link link.Link // nil with the ioctl method
}

func (p *perfLink) Close() error {
	var err error
	if p.link != nil {
		err = p.link.Close()
	}
	if p.fd >= 0 {
		if cerr := unix.Close(p.fd); err == nil {
			err = cerr
		}
		p.fd = -1
	}
	return err
}

// detach stops the program: the BPF link is closed, the perf event stays
// open. Releasing a tracepoint's perf event waits for RCU grace periods
// under a kernel-wide mutex (tens of ms each, one after another), while
// the link's close is quick; a run detaches its probes at once and leaves
// the events' release for later (Session.release). With the ioctl method
// there is no link, and detaching is closing.
func (p *perfLink) detach() error {
	if p.link == nil {
		return p.Close()
	}
	err := p.link.Close()
	p.link = nil
	return err
}

// openPerfEvent wraps perf_event_open with errors that name the event.
func openPerfEvent(attr *unix.PerfEventAttr, pid, cpu int, what string) (int, error) {
	attr.Size = uint32(unsafe.Sizeof(*attr))
	fd, err := unix.PerfEventOpen(attr, pid, cpu, -1, unix.PERF_FLAG_FD_CLOEXEC)
	if err != nil {
		return -1, &perfOpenError{msg: fmt.Sprintf("perf_event_open %s (pid %d, cpu %d): %s", what, pid, cpu, errnoText(err)), err: err}
	}
	return fd, nil
}

// perfOpenError is a failed perf_event_open: its message names the event,
// and errors.Is sees the errno (ENOSPC: no debug register left for a
// watchpoint).
type perfOpenError struct {
	msg string
	err error
}

func (e *perfOpenError) Error() string { return e.msg }
func (e *perfOpenError) Unwrap() error { return e.err }

// attachPerfFD attaches prog to an open perf event and enables it. On
// failure the event is closed.
func attachPerfFD(prog *ebpf.Program, fd int) (*perfLink, error) {
	l, err := link.AttachRawLink(link.RawLinkOptions{Target: fd, Program: prog, Attach: ebpf.AttachPerfEvent})
	if err == nil {
		_ = unix.IoctlSetInt(fd, unix.PERF_EVENT_IOC_ENABLE, 0)
		return &perfLink{fd: fd, link: l}, nil
	}
	// Before 5.15 there are no perf event links: attach with the ioctl.
	if errors.Is(err, ebpf.ErrNotSupported) || errors.Is(err, unix.EINVAL) {
		if ierr := unix.IoctlSetInt(fd, unix.PERF_EVENT_IOC_SET_BPF, prog.FD()); ierr == nil {
			if ierr := unix.IoctlSetInt(fd, unix.PERF_EVENT_IOC_ENABLE, 0); ierr == nil {
				return &perfLink{fd: fd}, nil
			}
		}
	}
	unix.Close(fd)
	return nil, fmt.Errorf("attaching to perf event: %w", err)
}

// perfTarget is what one perf event watches: a process on any CPU
// (cpu -1) or every process on one CPU (pid -1).
type perfTarget struct{ pid, cpu int }

// attachPerfEvents opens an event from attr for each target and attaches
// prog to every one. Profile, software and hardware probes and watchpoints
// all need one event per CPU (or one for a PID) behind the same program. A
// probe attaches everywhere or nowhere: when an open or an attach fails, the
// events already made are closed. A lone event is returned as itself.
func attachPerfEvents(prog *ebpf.Program, attr unix.PerfEventAttr, targets []perfTarget, what string) (io.Closer, error) {
	var links multiCloser
	for _, t := range targets {
		a := attr
		fd, err := openPerfEvent(&a, t.pid, t.cpu, what)
		if err != nil {
			links.Close()
			return nil, err
		}
		pl, err := attachPerfFD(prog, fd)
		if err != nil {
			links.Close()
			return nil, err
		}
		links = append(links, pl)
	}
	if len(links) == 1 {
		return links[0], nil
	}
	return links, nil
}

// OnlineCPUs returns the online CPUs (/sys/devices/system/cpu/online).
func OnlineCPUs() ([]int, error) {
	data, err := os.ReadFile("/sys/devices/system/cpu/online")
	if err != nil {
		return nil, err
	}
	return parseCPUList(strings.TrimSpace(string(data)))
}

// parseCPUList parses "0-3,5,7-8".
func parseCPUList(s string) ([]int, error) {
	var out []int
	for _, part := range strings.Split(s, ",") {
		if part == "" {
			continue
		}
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return nil, fmt.Errorf("bad CPU list %q", s)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil {
				return nil, fmt.Errorf("bad CPU list %q", s)
			}
		}
		for c := a; c <= b; c++ {
			out = append(out, c)
		}
	}
	return out, nil
}
