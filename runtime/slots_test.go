package runtime_test

import (
	"context"
	"fmt"
	"regexp"
	goruntime "runtime"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/tracebook/tracebook/runtime"
	"github.com/tracebook/tracebook/runtime/value"
)

// slotLoad runs, on a thread pinned to each online CPU, rounds of getppid
// calls under alternating thread names (names[i % len(names)] for round
// i, perRound calls each), so that a count keyed by comm changes key on
// every CPU again and again. It returns how many calls each name made.
func slotLoad(t *testing.T, names []string, rounds, perRound int) map[string]int64 {
	t.Helper()
	var mu sync.Mutex
	calls := make(map[string]int64)
	var wg sync.WaitGroup
	for cpu := 0; cpu < goruntime.NumCPU(); cpu++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			goruntime.LockOSThread()
			// The thread's name changes: it must not serve anyone else.
			var set unix.CPUSet
			set.Set(cpu)
			if err := unix.SchedSetaffinity(0, &set); err != nil {
				t.Errorf("pinning to CPU %d: %v", cpu, err)
				return
			}
			mine := make(map[string]int64)
			for i := 0; i < rounds; i++ {
				name := names[i%len(names)]
				b, err := unix.BytePtrFromString(name)
				if err == nil {
					err = unix.Prctl(unix.PR_SET_NAME, uintptr(unsafe.Pointer(b)), 0, 0, 0)
				}
				if err != nil {
					t.Errorf("naming the thread %s: %v", name, err)
					return
				}
				for j := 0; j < perRound; j++ {
					syscall.Getppid()
				}
				mine[name] += int64(perRound)
			}
			mu.Lock()
			for n, c := range mine {
				calls[n] += c
			}
			mu.Unlock()
		}()
	}
	wg.Wait()
	return calls
}

// TestSessionSlotsExact checks the write-combining slots of keyed count()
// and sum() maps (codegen/slot.go): with keys changing on every CPU, what
// user space reads while the probes run never exceeds what was counted
// and only grows, and the final maps hold every event exactly.
func TestSessionSlotsExact(t *testing.T) {
	s := newSession(t, &runtime.SessionOptions{Params: pidParam()})
	p := compile(t, s, "slots", `tracepoint:syscalls:sys_enter_getppid /pid == $1/ { @[comm] = count(); @s[comm] = sum(3); }`)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r, err := s.Start(ctx, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	// Read while the load runs: every read flushes the slots.
	stop := make(chan struct{})
	readErr := make(chan error, 1)
	go func() {
		last := int64(0)
		for {
			select {
			case <-stop:
				readErr <- nil
				return
			default:
			}
			m, err := s.ReadMap("@", 0)
			if err != nil {
				readErr <- err
				return
			}
			total := int64(0)
			for _, e := range m.Entries {
				total += number(e.Value)
			}
			if total < last {
				readErr <- fmt.Errorf("a live read went from %d to %d events", last, total)
				return
			}
			last = total
			time.Sleep(2 * time.Millisecond)
		}
	}()
	calls := slotLoad(t, []string{"tbslotA", "tbslotB", "tbslotC"}, 300, 50)
	close(stop)
	if err := <-readErr; err != nil {
		t.Error(err)
	}
	cancel()
	res, err := r.Wait()
	if err != nil {
		t.Fatal(err)
	}
	counts, sums := keyed(mapOf(t, res.Maps, "@")), keyed(mapOf(t, res.Maps, "@s"))
	for name, n := range calls {
		if counts[name] != n || sums[name] != 3*n {
			t.Errorf("%s: count %d, sum %d; want %d and %d", name, counts[name], sums[name], n, 3*n)
		}
	}
	if len(counts) != len(calls) {
		t.Errorf("keys %v, want those of %v", counts, calls)
	}
}

// TestSessionSlotsDisabledByGlobalUse checks that a program that needs a
// slot map whole in BPF (has_key, delete, reading it) sees every event:
// the slots are flushed and disabled before it runs, also while another
// program keeps counting into the map.
func TestSessionSlotsDisabledByGlobalUse(t *testing.T) {
	s := newSession(t, &runtime.SessionOptions{Params: pidParam()})
	p := compile(t, s, "count", `tracepoint:syscalls:sys_enter_getppid /pid == $1/ { @[comm] = count(); }`)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r, err := s.Start(ctx, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	calls := slotLoad(t, []string{"tbslotA", "tbslotB"}, 100, 20)
	// The slots hold the last name of each CPU; has_key must see it.
	var k sink
	q := compile(t, s, "global", `BEGIN { printf("%d %d\n", has_key(@, "tbslotA"), has_key(@, "tbslotB")); delete(@, "tbslotA"); exit(); }`)
	runToEnd(t, s, q, &runtime.RunOptions{Sink: k.add})
	if got := k.printfs(); len(got) != 1 || got[0] != "1 1\n" {
		t.Errorf("has_key: %q, want [\"1 1\\n\"]", got)
	}
	// Counting goes on, straight into the hash.
	more := slotLoad(t, []string{"tbslotB"}, 10, 20)
	cancel()
	res, err := r.Wait()
	if err != nil {
		t.Fatal(err)
	}
	got := keyed(mapOf(t, res.Maps, "@"))
	if _, ok := got["tbslotA"]; ok || got["tbslotB"] != calls["tbslotB"]+more["tbslotB"] {
		t.Errorf("@ = %v, want no tbslotA and tbslotB %d", got, calls["tbslotB"]+more["tbslotB"])
	}
}

// TestSessionSlotsFullMap checks that events a slot held for a key the
// full map could not take are reported as failed updates, as the direct
// path reports each: what the map holds and what the warning counts add
// up to every event.
func TestSessionSlotsFullMap(t *testing.T) {
	s := newSession(t, &runtime.SessionOptions{Params: pidParam(), MaxMapEntries: 2})
	var k sink
	p := compile(t, s, "full", `tracepoint:syscalls:sys_enter_getppid /pid == $1/ { @[comm] = count(); }`)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r, err := s.Start(ctx, p, &runtime.RunOptions{Sink: k.add})
	if err != nil {
		t.Fatal(err)
	}
	calls := slotLoad(t, []string{"tbslotA", "tbslotB", "tbslotC", "tbslotD"}, 40, 25)
	cancel()
	res, err := r.Wait()
	if err != nil {
		t.Fatal(err)
	}
	var total, held int64
	for _, n := range calls {
		total += n
	}
	for _, n := range keyed(mapOf(t, res.Maps, "@")) {
		held += n
	}
	w, _ := k.find(func(e value.Event) bool { _, ok := e.(value.Warning); return ok }).(value.Warning)
	m := regexp.MustCompile(`Map full; can't update element of @ \((\d+) times\)`).FindStringSubmatch(w.Msg)
	if m == nil {
		t.Fatalf("warning = %q", w.Msg)
	}
	failed, _ := strconv.ParseInt(m[1], 10, 64)
	if held+failed != total {
		t.Errorf("the map holds %d events and %d failed: want %d in all", held, failed, total)
	}
}
