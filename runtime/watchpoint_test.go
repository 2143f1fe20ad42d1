package runtime_test

import (
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/tracebook/tracebook/runtime"
	"github.com/tracebook/tracebook/runtime/runtimetest"
	"github.com/tracebook/tracebook/runtime/value"
)

// watchC calls bump(n, p) argv[2] times, 20 ms apart, on one heap int
// ("same") or on a new one each time ("new"). bump writes *p once.
const watchC = `
#include <stdlib.h>
#include <string.h>
#include <time.h>

__attribute__((noinline)) void bump(int n, int *p) { *p += n; }

int main(int argc, char **argv) {
	int fresh = argc > 1 && strcmp(argv[1], "new") == 0;
	long n = argc > 2 ? atol(argv[2]) : 1;
	struct timespec ts = {0, 20000000};
	int *p = calloc(1, sizeof *p);
	for (long i = 0; i < n; i++) {
		if (fresh)
			p = calloc(1, sizeof *p);
		bump(1, p);
		nanosleep(&ts, NULL);
	}
	return 0;
}
`

// watchRun runs src with the command bin+" "+args, bin being the
// session's watchpoint target, and returns the result and the events.
func watchRun(t *testing.T, bin, src, args string) (*runtime.RunResult, *sink) {
	t.Helper()
	s := newSession(t, &runtime.SessionOptions{HaveCmd: true, Command: bin})
	p := compile(t, s, "w", src)
	stdinR, stdinW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdinR.Close()
	defer stdinW.Close()
	child, err := runtime.StartChild(bin+" "+args, stdinR, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer child.Kill()
	var k sink
	res := runToEnd(t, s, p, &runtime.RunOptions{Child: child, Sink: k.add})
	return res, &k
}

// TestWatchpointFuncArg: watchpoint:func+argN arms a breakpoint on the
// address func is given, stopping the process until it is armed, so that
// every write is seen; a second call with the same address arms nothing.
func TestWatchpointFuncArg(t *testing.T) {
	runtimetest.Require(t, runtime.FeatureBreakpoint)
	runtimetest.Require(t, runtime.FeatureUprobe)
	bin := runtimetest.BuildC(t, "watch", watchC, "-O0", "-no-pie")
	res, _ := watchRun(t, bin, `watchpoint:bump+arg1:4:w { @[probe] = count(); }`, "same 6")
	got := keyed(mapOf(t, res.Maps, "@"))
	want := fmt.Sprintf("watchpoint:%s:bump:1:4:w", bin)
	if len(got) != 1 || got[want] != 6 {
		t.Errorf("@ = %v, want %s: 6", got, want)
	}
}

// TestWatchpointOutOfRegisters: each new address adds a breakpoint (the
// earlier ones stay, as in bpftrace 0.17), until the CPU's debug registers
// run out, which is a message and not the end of the run.
func TestWatchpointOutOfRegisters(t *testing.T) {
	runtimetest.Require(t, runtime.FeatureBreakpoint)
	runtimetest.Require(t, runtime.FeatureUprobe)
	bin := runtimetest.BuildC(t, "watch", watchC, "-O0", "-no-pie")
	const calls = 8
	res, k := watchRun(t, bin, `watchpoint:bump+arg1:4:w { @hits = count(); }`, fmt.Sprint("new ", calls))
	hits := scalar(t, mapOf(t, res.Maps, "@hits"))
	full := 0
	k.mu.Lock()
	for _, e := range k.events {
		if m, ok := e.(value.Message); ok && strings.Contains(m.Text, "out of watchpoint registers") && m.Type == "lost_events" {
			full++
		}
	}
	k.mu.Unlock()
	if hits == 0 || full == 0 || hits+int64(full) != calls {
		t.Errorf("%d hits and %d out-of-registers messages, want both and %d in all", hits, full, calls)
	}
}

// TestWatchpointUnwatch: unwatch(addr) removes the breakpoint; the same
// address passed again is not armed again.
func TestWatchpointUnwatch(t *testing.T) {
	runtimetest.Require(t, runtime.FeatureBreakpoint)
	runtimetest.Require(t, runtime.FeatureUprobe)
	bin := runtimetest.BuildC(t, "watch", watchC, "-O0", "-no-pie")
	res, _ := watchRun(t, bin, fmt.Sprintf(`uprobe:%s:bump /pid == cpid/ { @addr = arg1; }
watchpoint:bump+arg1:4:w { @hits = count(); unwatch(@addr); }`, bin), "same 5")
	if n := scalar(t, mapOf(t, res.Maps, "@hits")); n != 1 {
		t.Errorf("@hits = %d, want 1", n)
	}
}

// TestAsyncWatchpoint: asyncwatchpoint does not stop the process, so the
// first write may come before the breakpoint; later ones are seen.
func TestAsyncWatchpoint(t *testing.T) {
	runtimetest.Require(t, runtime.FeatureBreakpoint)
	runtimetest.Require(t, runtime.FeatureUprobe)
	bin := runtimetest.BuildC(t, "watch", watchC, "-O0", "-no-pie")
	res, _ := watchRun(t, bin, `asyncwatchpoint:bump+arg1:4:w { @hits = count(); }`, "same 5")
	if n := scalar(t, mapOf(t, res.Maps, "@hits")); n < 3 || n > 5 {
		t.Errorf("@hits = %d, want 4 or 5 (the first write may come before the breakpoint)", n)
	}
}
