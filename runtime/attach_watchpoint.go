package runtime

import (
	"fmt"
	"io"
	"strings"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/tracebook/tracebook/lang"
)

// WatchpointType converts a watchpoint mode ("r", "w", "rw", "x", in any
// order) to perf's bp_type bits.
func WatchpointType(mode string) (uint32, error) {
	var t uint32
	for _, c := range mode {
		switch c {
		case 'r':
			t |= hwBreakpointR
		case 'w':
			t |= hwBreakpointW
		case 'x':
			t |= hwBreakpointX
		default:
			return 0, fmt.Errorf("invalid watchpoint mode %q", mode)
		}
	}
	if t == 0 || (t&hwBreakpointX != 0 && t != hwBreakpointX) {
		// x86 breakpoints are either execute or data, never both.
		return 0, fmt.Errorf("invalid watchpoint mode %q", mode)
	}
	return t, nil
}

// AttachWatchpoint attaches prog to a hardware breakpoint on addr (len 1,
// 2, 4 or 8 bytes, mode as WatchpointType takes it). With pid > 0 it
// watches that process, else every process on every online CPU. The
// session calls it directly for watchpoint:func+argN, once the address is
// known at run time.
func AttachWatchpoint(prog *ebpf.Program, addr, length uint64, mode string, pid int) (io.Closer, error) {
	bp, err := WatchpointType(mode)
	if err != nil {
		return nil, err
	}
	switch length {
	case 1, 2, 4, 8:
	default:
		return nil, fmt.Errorf("invalid watchpoint length %d (1, 2, 4 or 8)", length)
	}
	if bp == hwBreakpointX {
		// Execute breakpoints have the size of a long on x86.
		length = 8
	}
	attr := unix.PerfEventAttr{
		Type:    unix.PERF_TYPE_BREAKPOINT,
		Bp_type: bp,
		Ext1:    addr,
		Ext2:    length,
		Sample:  1,
	}
	name := fmt.Sprintf("watchpoint:0x%x:%d:%s", addr, length, strings.ToLower(mode))
	targets := []perfTarget{{pid, -1}}
	if pid <= 0 {
		cpus, err := OnlineCPUs()
		if err != nil {
			return nil, err
		}
		targets = nil
		for _, c := range cpus {
			targets = append(targets, perfTarget{-1, c})
		}
	}
	return attachPerfEvents(prog, attr, targets, name)
}

func attachWatchpoint(prog *ebpf.Program, ap *lang.AttachPoint, opts *AttachOptions) (io.Closer, error) {
	if ap.Func != "" {
		return nil, fmt.Errorf("%s: a watchpoint on a function argument is armed at run time (AttachWatchpoint), not attached up front", ap.Name())
	}
	return AttachWatchpoint(prog, ap.Address, ap.Len, ap.Mode, opts.PID)
}
