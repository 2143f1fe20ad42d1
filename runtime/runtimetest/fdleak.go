package runtimetest

import (
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Main runs the package's tests and exits with status 99 (after printing
// them) when file descriptors opened during the run are still open: a test
// that forgets to close a map, program, link, perf event or reader leaks a
// kernel object for the life of a notebook session. Use it as
//
//	func TestMain(m *testing.M) { runtimetest.Main(m) }
//
// The Go runtime's own descriptors (the netpoller's epoll and eventfd) are
// created before the first snapshot, so they never count. Closing links is
// asynchronous in places (runtime.CloseAll), so a leak must persist for a
// few seconds before it is reported.
func Main(m *testing.M) {
	warmRuntimeFDs()
	before := OpenFDs()
	code := m.Run()
	var leaked []string
	for deadline := time.Now().Add(3 * time.Second); ; {
		leaked = leakedFDs(before, OpenFDs())
		if len(leaked) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(leaked) > 0 {
		fmt.Fprintf(os.Stderr, "leaked file descriptors (%d):\n", len(leaked))
		for _, l := range leaked {
			fmt.Fprintf(os.Stderr, "\t%s\n", l)
		}
		if code == 0 {
			code = 99
		}
	}
	os.Exit(code)
}

// warmRuntimeFDs makes the Go runtime open the descriptors it keeps for
// the life of the process (the netpoller) before Main's first snapshot.
func warmRuntimeFDs() {
	r, w, err := os.Pipe()
	if err != nil {
		return
	}
	_ = r.SetReadDeadline(time.Now().Add(time.Millisecond))
	r.Close()
	w.Close()
}

// OpenFDs returns this process's open descriptors with their targets
// ("anon_inode:bpf-map", "/sys/kernel/tracing/events/..."). The descriptor
// used to read /proc/self/fd is left out.
func OpenFDs() map[int]string {
	out := map[int]string{}
	d, err := os.Open("/proc/self/fd")
	if err != nil {
		return out
	}
	names, _ := d.Readdirnames(-1)
	self := int(d.Fd())
	for _, n := range names {
		fd, err := strconv.Atoi(n)
		if err != nil || fd == self {
			continue
		}
		target, err := os.Readlink("/proc/self/fd/" + n)
		if err != nil {
			continue
		}
		out[fd] = target
	}
	d.Close()
	return out
}

func leakedFDs(before, after map[int]string) []string {
	var out []string
	var fds []int
	for fd := range after {
		fds = append(fds, fd)
	}
	sort.Ints(fds)
	for _, fd := range fds {
		t := after[fd]
		if b, ok := before[fd]; ok && b == t {
			continue
		}
		out = append(out, fmt.Sprintf("fd %d -> %s", fd, t))
	}
	return out
}

// CheckNoLeaks fails tb if descriptors opened since snapshot are still
// open: a per-test variant of Main for tests that want to pin a leak on
// themselves.
func CheckNoLeaks(tb testing.TB, snapshot map[int]string) {
	tb.Helper()
	var leaked []string
	for deadline := time.Now().Add(3 * time.Second); ; {
		leaked = leakedFDs(snapshot, OpenFDs())
		if len(leaked) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(50 * time.Millisecond)
	}
	if len(leaked) > 0 {
		tb.Errorf("leaked file descriptors:\n\t%s", strings.Join(leaked, "\n\t"))
	}
}
