package runtime_test

import (
	"context"
	"debug/elf"
	"errors"
	"fmt"
	"os"
	goruntime "runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/tracebook/tracebook/runtime"
	"github.com/tracebook/tracebook/runtime/runtimetest"
	"github.com/tracebook/tracebook/runtime/value"
)

// Kernel-tier tests of the session: programs compiled against earlier
// programs' maps, every probe type this kernel attaches driven by a
// workload the test starts, the run's endings (exit(), interrupt,
// duration, the -c command), map actions, lost events, full maps,
// background runs, and Close leaving nothing behind.

// newSession returns a session closed at the end of the test.
func newSession(t *testing.T, opts *runtime.SessionOptions) *runtime.Session {
	t.Helper()
	runtimetest.RequireRoot(t)
	s, err := runtime.NewSession(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Errorf("Close: %v", err)
		}
	})
	return s
}

// sink collects a run's events.
type sink struct {
	mu     sync.Mutex
	events []value.Event
}

func (k *sink) add(batch []value.Event) {
	k.mu.Lock()
	k.events = append(k.events, batch...)
	k.mu.Unlock()
}

// printfs returns the printf events' texts, formatted simply (every
// test format here is "%d"/"%s" or literal).
func (k *sink) printfs() []string {
	k.mu.Lock()
	defer k.mu.Unlock()
	var out []string
	for _, e := range k.events {
		if p, ok := e.(value.Printf); ok {
			out = append(out, simplePrintf(p))
		}
	}
	return out
}

func simplePrintf(p value.Printf) string {
	var b strings.Builder
	i := 0
	for _, seg := range p.Format.Segments {
		b.WriteString(seg.Literal)
		if seg.Spec == nil || i >= len(p.Args) {
			continue
		}
		switch a := p.Args[i].(type) {
		case value.Int:
			if a.Signed {
				fmt.Fprint(&b, a.Int64())
			} else {
				fmt.Fprint(&b, a.Bits)
			}
		case value.Str:
			b.WriteString(a.S)
		case value.Text:
			b.WriteString(a.S)
		default:
			fmt.Fprint(&b, a)
		}
		i++
	}
	return b.String()
}

func (k *sink) find(pred func(value.Event) bool) value.Event {
	k.mu.Lock()
	defer k.mu.Unlock()
	for _, e := range k.events {
		if pred(e) {
			return e
		}
	}
	return nil
}

// compile compiles src or fails the test.
func compile(t *testing.T, s *runtime.Session, name, src string) *runtime.Program {
	t.Helper()
	p, errs := s.Compile(runtime.Source{Name: name, Text: []byte(src)})
	if p == nil {
		t.Fatalf("compile %s:\n%v", name, errs)
	}
	return p
}

// runToEnd starts p and waits for its end (ctx bounds it).
func runToEnd(t *testing.T, s *runtime.Session, p *runtime.Program, opts *runtime.RunOptions) *runtime.RunResult {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	r, err := s.Start(ctx, p, opts)
	if err != nil {
		t.Fatalf("start %s: %v", p.Name, err)
	}
	res, err := r.Wait()
	if err != nil {
		t.Fatalf("run %s: %v", p.Name, err)
	}
	return res
}

// mapOf returns the map called name of a result.
func mapOf(t *testing.T, maps []*value.Map, name string) *value.Map {
	t.Helper()
	for _, m := range maps {
		if m.Name == name {
			return m
		}
	}
	t.Fatalf("no map %s among %d", name, len(maps))
	return nil
}

// scalar returns the number a scalar map or a one-entry map holds.
func scalar(t *testing.T, m *value.Map) int64 {
	t.Helper()
	if len(m.Entries) != 1 {
		t.Fatalf("%s has %d entries, want 1", m.Name, len(m.Entries))
	}
	return number(m.Entries[0].Value)
}

func number(v value.Value) int64 {
	switch v := v.(type) {
	case value.Count:
		return int64(v.N)
	case value.Sum:
		return v.V
	case value.Int:
		return v.Int64()
	case value.Max:
		return v.V
	case value.Min:
		return v.V
	}
	return -1
}

// keyed maps a keyed map's first key part (as text) to its number.
func keyed(m *value.Map) map[string]int64 {
	out := map[string]int64{}
	for _, e := range m.Entries {
		k := ""
		if len(e.Key) > 0 {
			switch p := e.Key[0].(type) {
			case value.Int:
				k = strconv.FormatInt(p.Int64(), 10)
			case value.Str:
				k = p.S
			case value.Text:
				k = p.S
			}
		}
		out[k] = number(e.Value)
	}
	return out
}

func pidParam() []string { return []string{strconv.Itoa(os.Getpid())} }

func TestSessionMapsPersistAcrossPrograms(t *testing.T) {
	s := newSession(t, nil)
	p1 := compile(t, s, "cell[1]", `BEGIN { @x[1] = 5; @total = sum(5); exit(); }`)
	runToEnd(t, s, p1, nil)
	p2 := compile(t, s, "cell[2]", `BEGIN { @x[2] = @x[1] + 1; @total = sum(@x[1]); exit(); }`)
	res := runToEnd(t, s, p2, nil)
	if got := keyed(mapOf(t, res.Maps, "@x")); got["1"] != 5 || got["2"] != 6 || len(got) != 2 {
		t.Errorf("@x after the second program = %v, want 1:5 2:6", got)
	}
	if got := scalar(t, mapOf(t, res.Maps, "@total")); got != 10 {
		t.Errorf("@total = %d, want 10 (5 from each program)", got)
	}
	if names := s.MapNames(); strings.Join(names, " ") != "@total @x" {
		t.Errorf("session maps = %v", names)
	}
}

func TestSessionTypeConflictNamesOrigin(t *testing.T) {
	s := newSession(t, nil)
	runToEnd(t, s, compile(t, s, "cell[1]", `BEGIN { @lat[1] = count(); exit(); }`), nil)
	p, errs := s.Compile(runtime.Source{Name: "cell[2]", Text: []byte(`BEGIN { @lat["x"] = count(); exit(); }`)})
	if p != nil || !errs.HasErrors() {
		t.Fatalf("a conflicting key type compiled: %v", errs)
	}
	if msg := errs.Error(); !strings.Contains(msg, "cell[1]") {
		t.Errorf("error does not name the cell that fixed the type: %s", msg)
	}
}

func TestSessionFailedProgramFixesNoTypes(t *testing.T) {
	s := newSession(t, nil)
	// Attaching fails (no such tracepoint is caught at check; an
	// unresolvable uprobe offset is not), so the map it created must go.
	p := compile(t, s, "cell[1]", `BEGIN { @m[1] = "a"; } uprobe:/bin/sh:0x1 { }`)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	if r, err := s.Start(ctx, p, nil); err == nil {
		r.Stop()
		r.Wait()
		t.Skip("the uprobe attached after all")
	}
	if names := s.MapNames(); len(names) != 0 {
		t.Errorf("maps of a failed program stayed: %v", names)
	}
	if _, errs := s.Compile(runtime.Source{Name: "cell[2]", Text: []byte(`BEGIN { @m[1] = 2; exit(); }`)}); errs.HasErrors() {
		t.Errorf("a failed program fixed a map type: %v", errs)
	}
}

func TestSessionEventIDsDisjoint(t *testing.T) {
	s := newSession(t, nil)
	pa := compile(t, s, "a", `interval:ms:10 { printf("a\n"); }`)
	pb := compile(t, s, "b", `interval:ms:10 { printf("b\n"); }`)
	var ka, kb sink
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ra, err := s.Start(ctx, pa, &runtime.RunOptions{Sink: ka.add, Background: true})
	if err != nil {
		t.Fatal(err)
	}
	rb, err := s.Start(ctx, pb, &runtime.RunOptions{Sink: kb.add})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(150 * time.Millisecond)
	if runs := s.Runs(); len(runs) != 2 || !runs[0].Background || runs[0].Probes[0] != "interval:ms:10" {
		t.Errorf("Runs() = %+v", runs)
	}
	cancel()
	ra.Wait()
	rb.Wait()
	for name, k := range map[string]*sink{"a": &ka, "b": &kb} {
		got := k.printfs()
		if len(got) == 0 {
			t.Errorf("run %s got no events", name)
		}
		for _, line := range got {
			if line != name+"\n" {
				t.Fatalf("run %s got %q: another program's event", name, line)
			}
		}
	}
}

func TestSessionTracepoint(t *testing.T) {
	s := newSession(t, &runtime.SessionOptions{Params: pidParam()})
	p := compile(t, s, "tp", `tracepoint:syscalls:sys_enter_getppid /pid == $1/ { @n = count(); }
tracepoint:syscalls:sys_*_getppid /pid == $1/ { @by[probe] = count(); }`)
	if n := p.ProbeCount(); n != 3 {
		t.Errorf("ProbeCount = %d, want 3 (one + a wildcard of two)", n)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r, err := s.Start(ctx, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 100; i++ {
		syscall.Getppid()
	}
	cancel()
	res, err := r.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if res.Reason != runtime.StopInterrupt {
		t.Errorf("reason %v, want interrupt", res.Reason)
	}
	if n := scalar(t, mapOf(t, res.Maps, "@n")); n != 100 {
		t.Errorf("@n = %d, want 100", n)
	}
	by := keyed(mapOf(t, res.Maps, "@by"))
	if by["tracepoint:syscalls:sys_enter_getppid"] != 100 || by["tracepoint:syscalls:sys_exit_getppid"] != 100 {
		t.Errorf("@by = %v", by)
	}
}

func TestSessionRawTracepoint(t *testing.T) {
	runtimetest.Require(t, runtime.FeatureRawTP)
	s := newSession(t, &runtime.SessionOptions{Params: pidParam()})
	p := compile(t, s, "rt", `rawtracepoint:sys_enter /pid == $1 && args->id == 110/ { @n = count(); }`)
	ctx, cancel := context.WithCancel(context.Background())
	r, err := s.Start(ctx, p, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 50; i++ {
		syscall.Getppid()
	}
	cancel()
	res, err := r.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if n := scalar(t, mapOf(t, res.Maps, "@n")); n != 50 {
		t.Errorf("@n = %d, want 50 getppid calls (syscall 110)", n)
	}
}

func TestSessionIntervalExit(t *testing.T) {
	s := newSession(t, nil)
	var k sink
	p := compile(t, s, "i", `interval:ms:10 { @n = count(); @i++; if (@i == 3) { printf("bye\n"); exit(); } }
END { printf("end\n"); }`)
	res := runToEnd(t, s, p, &runtime.RunOptions{Sink: k.add})
	if res.Reason != runtime.StopExit {
		t.Errorf("reason %v, want exit", res.Reason)
	}
	// exit() is asynchronous, as in bpftrace: the probe may fire again
	// before it is detached, but what it prints after exit() is dropped.
	if n := scalar(t, mapOf(t, res.Maps, "@n")); n < 3 {
		t.Errorf("@n = %d, want at least 3", n)
	}
	if got := strings.Join(k.printfs(), ""); got != "bye\nend\n" {
		t.Errorf("output %q", got)
	}
}

func TestSessionExitCode(t *testing.T) {
	s := newSession(t, nil)
	res := runToEnd(t, s, compile(t, s, "x", `BEGIN { exit(3); }`), nil)
	if res.ExitCode != 3 || res.Reason != runtime.StopExit {
		t.Errorf("exit code %d, reason %v", res.ExitCode, res.Reason)
	}
}

func TestSessionProfileAndSoftware(t *testing.T) {
	runtimetest.Require(t, runtime.FeaturePerfEvent)
	s := newSession(t, nil)
	p := compile(t, s, "perf", `profile:hz:199 { @prof = count(); } software:cpu-clock:1000000 { @sw = count(); }`)
	done := make(chan struct{})
	go func() { // keep a CPU busy so cpu-clock samples
		for {
			select {
			case <-done:
				return
			default:
			}
		}
	}()
	res := runToEnd(t, s, p, &runtime.RunOptions{Duration: 300 * time.Millisecond})
	close(done)
	if res.Reason != runtime.StopDuration {
		t.Errorf("reason %v, want duration", res.Reason)
	}
	for _, name := range []string{"@prof", "@sw"} {
		if n := scalar(t, mapOf(t, res.Maps, name)); n <= 0 {
			t.Errorf("%s = %d, want samples", name, n)
		}
	}
}

// childRun runs p with the command as -c, releasing the test program's
// wait for stdin once the probes are attached.
func childRun(t *testing.T, s *runtime.Session, p *runtime.Program, command string) *runtime.RunResult {
	t.Helper()
	stdinR, stdinW, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdinR.Close()
	defer stdinW.Close()
	child, err := runtime.StartChild(command, stdinR, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer child.Kill()
	res := runToEnd(t, s, p, &runtime.RunOptions{Child: child, OnAttached: func() {
		stdinW.Write([]byte("go\n"))
	}})
	if res.Reason != runtime.StopChildExited {
		t.Errorf("reason %v, want child exited", res.Reason)
	}
	return res
}

func TestSessionUprobes(t *testing.T) {
	runtimetest.Require(t, runtime.FeatureUprobe)
	for _, pie := range []bool{false, true} {
		t.Run(map[bool]string{false: "exec", true: "pie"}[pie], func(t *testing.T) {
			args := []string{"-O2", "-no-pie"}
			if pie {
				args = []string{"-O2", "-pie", "-fPIE"}
			}
			bin := runtimetest.BuildC(t, "target", targetC, args...)
			s := newSession(t, &runtime.SessionOptions{HaveCmd: true})
			p := compile(t, s, "u", fmt.Sprintf(`uprobe:%[1]s:tb_target /pid == cpid/ { @calls = count(); @args = sum(arg0); }
uretprobe:%[1]s:tb_target /pid == cpid/ { @ret = max(retval); }
uprobe:libc:fgets /pid == cpid/ { @fgets = count(); }`, bin))
			res := childRun(t, s, p, bin+" 20")
			if n := scalar(t, mapOf(t, res.Maps, "@calls")); n != 20 {
				t.Errorf("@calls = %d, want 20", n)
			}
			if n := scalar(t, mapOf(t, res.Maps, "@args")); n != 190 {
				t.Errorf("@args = %d, want 0+1+...+19 = 190", n)
			}
			if n := scalar(t, mapOf(t, res.Maps, "@ret")); n != 19+7+1 {
				t.Errorf("@ret = %d, want %d", n, 19+7+1)
			}
			if n := scalar(t, mapOf(t, res.Maps, "@fgets")); n != 1 {
				t.Errorf("@fgets = %d, want 1 (libc, resolved by name)", n)
			}
		})
	}
}

func TestSessionUSDTSemaphore(t *testing.T) {
	runtimetest.Require(t, runtime.FeatureUprobeRefCtr)
	if _, err := os.Stat("/usr/include/x86_64-linux-gnu/sys/sdt.h"); err != nil {
		if _, err := os.Stat("/usr/include/sys/sdt.h"); err != nil {
			if runtimetest.InCI() {
				t.Fatal("sys/sdt.h missing (systemtap-sdt-dev)")
			}
			t.Skip("sys/sdt.h missing (systemtap-sdt-dev)")
		}
	}
	bin := runtimetest.BuildC(t, "usdt", usdtC, "-O1")
	s := newSession(t, &runtime.SessionOptions{HaveCmd: true})
	p := compile(t, s, "usdt", fmt.Sprintf(`usdt:%s:tbtest:ping /pid == cpid/ { @n = count(); @last = max(arg0); }`, bin))
	res := childRun(t, s, p, bin+" 30")
	if n := scalar(t, mapOf(t, res.Maps, "@n")); n != 30 {
		t.Errorf("@n = %d, want 30 (the semaphore must be raised)", n)
	}
	if n := scalar(t, mapOf(t, res.Maps, "@last")); n != 29 {
		t.Errorf("@last = %d, want 29", n)
	}
}

func TestSessionWatchpoint(t *testing.T) {
	runtimetest.Require(t, runtime.FeatureBreakpoint)
	bin := runtimetest.BuildC(t, "target", targetC, "-O2", "-no-pie")
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	syms, _ := f.Symbols()
	f.Close()
	var addr uint64
	for _, sym := range syms {
		if sym.Name == "tb_watched" {
			addr = sym.Value
		}
	}
	if addr == 0 {
		t.Fatal("no tb_watched symbol")
	}
	s := newSession(t, &runtime.SessionOptions{HaveCmd: true})
	// The kernel also writes the page (clearing .bss at exec); count the
	// program's own writes.
	p := compile(t, s, "w", fmt.Sprintf(`watchpoint:%#x:8:w /reg("ip") < 0x800000000000/ { @writes = count(); }`, addr))
	res := childRun(t, s, p, bin+" 25")
	if n := scalar(t, mapOf(t, res.Maps, "@writes")); n != 25 {
		t.Errorf("@writes = %d, want 25", n)
	}
}

func TestSessionMapActions(t *testing.T) {
	s := newSession(t, nil)
	var k sink
	p := compile(t, s, "actions", `BEGIN {
	@a[1] = 1; @a[2] = 2; print(@a);
	@gone[1] = 1; clear(@gone);
	@z[7] = count(); zero(@z);
	@d[1] = 1; @d[2] = 2; delete(@d[1]);
	exit();
}`)
	res := runToEnd(t, s, p, &runtime.RunOptions{Sink: k.add})
	pm, _ := k.find(func(e value.Event) bool { _, ok := e.(value.PrintMap); return ok }).(value.PrintMap)
	if pm.Map == nil || len(pm.Map.Entries) != 2 {
		t.Errorf("print(@a) event = %+v", pm)
	}
	if m := mapOf(t, res.Maps, "@gone"); len(m.Entries) != 0 {
		t.Errorf("@gone has %d entries after clear", len(m.Entries))
	}
	if got := keyed(mapOf(t, res.Maps, "@z")); len(got) != 1 || got["7"] != 0 {
		t.Errorf("@z after zero = %v, want 7:0", got)
	}
	if got := keyed(mapOf(t, res.Maps, "@d")); len(got) != 1 || got["2"] != 2 {
		t.Errorf("@d after delete = %v", got)
	}
	// The same actions from user space.
	if err := s.DeleteKey("@d", []value.Value{value.Int{Bits: 2, Signed: true, Size: 8}}); err != nil {
		t.Fatal(err)
	}
	if m, _ := s.ReadMap("@d", 0); len(m.Entries) != 0 {
		t.Errorf("@d after DeleteKey has %d entries", len(m.Entries))
	}
	if err := s.ZeroMap("@a"); err != nil {
		t.Fatal(err)
	}
	if m, _ := s.ReadMap("@a", 0); len(m.Entries) != 2 || number(m.Entries[0].Value) != 0 {
		t.Errorf("@a after ZeroMap = %+v", m)
	}
	if err := s.ClearMap("@a"); err != nil {
		t.Fatal(err)
	}
	if m, _ := s.ReadMap("@a", 0); len(m.Entries) != 0 {
		t.Errorf("@a after ClearMap has %d entries", len(m.Entries))
	}
	sums, err := s.Maps()
	if err != nil {
		t.Fatal(err)
	}
	if len(sums) != 4 || sums[0].Name != "@a" || sums[1].Name != "@d" || sums[1].Entries != 0 || sums[1].Origin != "actions" {
		t.Errorf("Maps() = %+v", sums)
	}
}

func TestSessionCellResult(t *testing.T) {
	s := newSession(t, nil)
	p, errs := s.Compile(runtime.Source{Name: "cell[1]", Text: []byte("@x[1] = 5; @x[2] = 6; @x"), Cell: true})
	if p == nil {
		t.Fatal(errs)
	}
	res := runToEnd(t, s, p, nil)
	if res.Reason != runtime.StopDone {
		t.Errorf("reason %v, want done", res.Reason)
	}
	if res.Result == nil || res.Result.Name != "@x" || len(res.Result.Entries) != 2 {
		t.Errorf("result = %+v", res.Result)
	}
}

func TestSessionInterruptRunsEnd(t *testing.T) {
	s := newSession(t, nil)
	var k sink
	p := compile(t, s, "int", `BEGIN { @a = 1; } interval:ms:5 { @ticks = count(); } END { printf("end %d\n", @a); @b = 2; }`)
	ctx, cancel := context.WithCancel(context.Background())
	r, err := s.Start(ctx, p, &runtime.RunOptions{Sink: k.add})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(50 * time.Millisecond)
	cancel()
	res, err := r.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if res.Reason != runtime.StopInterrupt {
		t.Errorf("reason %v", res.Reason)
	}
	if got := strings.Join(k.printfs(), ""); got != "end 1\n" {
		t.Errorf("END output %q", got)
	}
	if n := scalar(t, mapOf(t, res.Maps, "@b")); n != 2 {
		t.Errorf("@b = %d: END's writes are not in the final maps", n)
	}
}

func TestSessionBackgroundDetach(t *testing.T) {
	s := newSession(t, nil)
	p := compile(t, s, "cell[1]", `interval:ms:5 { @ticks = count(); }`)
	r, err := s.Start(context.Background(), p, &runtime.RunOptions{Background: true})
	if err != nil {
		t.Fatal(err)
	}
	time.Sleep(60 * time.Millisecond)
	runs := s.Runs()
	if len(runs) != 1 || runs[0].ID != r.ID() || !runs[0].Background || runs[0].Started.IsZero() {
		t.Fatalf("Runs() = %+v", runs)
	}
	// A later program reads what the background one fills.
	m, err := s.ReadMap("@ticks", 0)
	if err != nil || scalar(t, m) <= 0 {
		t.Errorf("@ticks while running = %+v, %v", m, err)
	}
	res, err := s.Detach(r.ID())
	if err != nil {
		t.Fatal(err)
	}
	if res.Reason != runtime.StopDetached {
		t.Errorf("reason %v", res.Reason)
	}
	if len(s.Runs()) != 0 {
		t.Errorf("runs left after Detach: %+v", s.Runs())
	}
	before, _ := s.ReadMap("@ticks", 0)
	time.Sleep(30 * time.Millisecond)
	after, _ := s.ReadMap("@ticks", 0)
	if scalar(t, before) != scalar(t, after) {
		t.Errorf("@ticks still grows after Detach: %d then %d", scalar(t, before), scalar(t, after))
	}
}

func TestSessionLostEvents(t *testing.T) {
	s := newSession(t, &runtime.SessionOptions{RingBufSize: 4096, Params: pidParam()})
	var k sink
	p := compile(t, s, "flood", `tracepoint:syscalls:sys_enter_getppid /pid == $1/ { printf("%s %s %s %s %s\n", comm, comm, comm, comm, comm); }`)
	r, err := s.Start(context.Background(), p, &runtime.RunOptions{Sink: k.add})
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 200000; i++ {
		syscall.Getppid()
	}
	// Stop, not an interrupt, which would drop what is left in the ring.
	r.Stop()
	res, err := r.Wait()
	if err != nil {
		t.Fatal(err)
	}
	if res.Drops == 0 {
		t.Fatalf("no drops with a 4 KiB ring and 200000 events (%d delivered)", res.Events)
	}
	var lost uint64
	k.mu.Lock()
	for _, e := range k.events {
		if l, ok := e.(value.LostEvents); ok {
			lost += l.N
		}
	}
	k.mu.Unlock()
	if lost != res.Drops {
		t.Errorf("LostEvents reported %d, the run counted %d drops", lost, res.Drops)
	}
	if res.Events+res.Drops != 200000 {
		t.Errorf("delivered %d + lost %d != 200000", res.Events, res.Drops)
	}
}

func TestSessionFullMapWarns(t *testing.T) {
	s := newSession(t, &runtime.SessionOptions{MaxMapEntries: 4})
	var k sink
	p := compile(t, s, "full", `BEGIN { @m[1] = 1; @m[2] = 1; @m[3] = 1; @m[4] = 1; @m[5] = 1; @m[6] = 1; exit(); }`)
	res := runToEnd(t, s, p, &runtime.RunOptions{Sink: k.add})
	if n := len(mapOf(t, res.Maps, "@m").Entries); n != 4 {
		t.Errorf("@m has %d entries, want 4", n)
	}
	w, _ := k.find(func(e value.Event) bool { _, ok := e.(value.Warning); return ok }).(value.Warning)
	if !strings.Contains(w.Msg, "Map full") || !strings.Contains(w.Msg, "@m (2 times)") {
		t.Errorf("warning = %q", w.Msg)
	}
}

// TestSessionVerifierErrorPlaced checks that a program the verifier
// rejects fails Start with a *LoadError placed in the source: a loop that
// never ends (the verifier sees the same state come round and stops at
// once, 15 ms on 6.1 under emulation), and a loop of a hundred million
// iterations (it gives up after a million instructions).
func TestSessionVerifierErrorPlaced(t *testing.T) {
	for _, tt := range []struct {
		name, src, log string
		costly         bool
	}{
		// A condition that cannot change: 6.1's verifier does not see
		// through `while ($i < 10) { }` and walks a million instructions.
		{"infinite", "BEGIN {\n\t$i = 0;\n\twhile (1) { $i = 1; }\n\texit();\n}", "infinite loop detected", false},
		// About 6 s of verification on the host; 100 to 260 s under
		// emulation, and the instruction limit has been the same on
		// every kernel since 5.2.
		{"too-large", "BEGIN {\n\t$i = 0;\n\twhile ($i < 100000000) { $i++; }\n\texit();\n}", "BPF program is too large", true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if tt.costly {
				runtimetest.HostOnly(t, "a million-instruction verifier run")
			}
			s := newSession(t, nil)
			p := compile(t, s, "stdin", tt.src)
			_, err := s.Start(context.Background(), p, nil)
			var le *runtime.LoadError
			if !errors.As(err, &le) {
				t.Fatalf("Start = %v, want a *LoadError", err)
			}
			if le.Log == "" || le.Diag == nil || !le.Diag.Pos.IsValid() {
				t.Fatalf("load error without log or position: %+v", le)
			}
			if !strings.Contains(le.Log, tt.log) {
				lines := strings.Split(le.Log, "\n")
				t.Errorf("verifier log does not say %q; it ends:\n%s", tt.log, strings.Join(lines[max(0, len(lines)-10):], "\n"))
			}
			if le.Diag.Pos.Line < 2 || le.Diag.Pos.Line > 3 {
				t.Errorf("placed at line %d, want the loop (line 3) or its counter", le.Diag.Pos.Line)
			}
			if strings.Contains(le.Error(), "MEMLOCK") {
				t.Errorf("cilium's MEMLOCK hint leaked: %v", le)
			}
			ds := runtime.ErrorDiagnostics(err, []byte(tt.src))
			if len(ds) != 1 || ds[0].SourceLine == "" || ds[0].Detail == "" {
				t.Errorf("diagnostics = %+v", ds)
			}
		})
	}
}

func TestSessionCloseLeavesNoFDs(t *testing.T) {
	runtimetest.RequireRoot(t)
	before := runtimetest.OpenFDs()
	s, err := runtime.NewSession(&runtime.SessionOptions{Params: pidParam()})
	if err != nil {
		t.Fatal(err)
	}
	p, errs := s.Compile(runtime.Source{Name: "x", Text: []byte(`tracepoint:syscalls:sys_enter_getppid /pid == $1/ { @n = count(); }
profile:hz:99 { @p = count(); } interval:ms:10 { printf("tick\n"); }`)})
	if p == nil {
		t.Fatal(errs)
	}
	r, err := s.Start(context.Background(), p, &runtime.RunOptions{Background: true})
	if err != nil {
		t.Fatal(err)
	}
	syscall.Getppid()
	_ = r
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	runtimetest.CheckNoLeaks(t, before)
}

func TestSessionResetDropsMaps(t *testing.T) {
	s := newSession(t, nil)
	runToEnd(t, s, compile(t, s, "a", `BEGIN { @x = 1; exit(); }`), nil)
	if err := s.Reset(); err != nil {
		t.Fatal(err)
	}
	if n := s.MapNames(); len(n) != 0 {
		t.Errorf("maps after Reset: %v", n)
	}
	// The name is free for another type now.
	runToEnd(t, s, compile(t, s, "b", `BEGIN { @x = "str"; exit(); }`), nil)
}

// TestSessionScalarAggregationsEveryCPU checks the scalar aggregations kept
// in per-CPU arrays (codegen.MapLayout.InArray): every CPU's value is
// reduced, an entry exists only once written, and delete, len, zero and
// clear treat all CPUs' values, from the program and from user space.
func TestSessionScalarAggregationsEveryCPU(t *testing.T) {
	s := newSession(t, &runtime.SessionOptions{Params: pidParam()})
	ncpu, err := ebpf.PossibleCPU()
	if err != nil {
		t.Fatal(err)
	}
	online := goruntime.NumCPU()
	// A thread on each CPU calls getppid until the run ends (a profile
	// probe would miss an idle CPU: its timer stops there).
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for cpu := 0; cpu < online; cpu++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			goruntime.LockOSThread()
			defer goruntime.UnlockOSThread()
			var set unix.CPUSet
			set.Set(cpu)
			if err := unix.SchedSetaffinity(0, &set); err != nil {
				t.Errorf("pinning to CPU %d: %v", cpu, err)
				return
			}
			for {
				select {
				case <-stop:
					return
				default:
					syscall.Getppid()
				}
			}
		}()
	}
	p, errs := s.Compile(runtime.Source{Name: "fill", Text: []byte(`tracepoint:syscalls:sys_enter_getppid /pid == $1/ {
	@h = hist(cpu); @s = sum(1); @c = count(); @never = max(1); }
interval:ms:300 { exit(); }
END { clear(@never); }`)})
	if p == nil {
		close(stop)
		t.Fatal(errs)
	}
	res := runToEnd(t, s, p, nil)
	close(stop)
	wg.Wait()
	h, ok := mapOf(t, res.Maps, "@h").Entries[0].Value.(value.Hist)
	if !ok {
		t.Fatalf("@h = %+v", mapOf(t, res.Maps, "@h"))
	}
	cpus := 0
	for _, n := range h.Buckets {
		if n > 0 {
			cpus++
		}
	}
	// hist(cpu) puts CPU 0 in one bucket and CPU 1 in another.
	if want := min(online, 2); cpus < want {
		t.Errorf("@h has %d non-empty buckets, want %d (CPUs %d of %d possible): %v", cpus, want, online, ncpu, h.Buckets)
	}
	s1, c1 := scalar(t, mapOf(t, res.Maps, "@s")), scalar(t, mapOf(t, res.Maps, "@c"))
	if s1 <= 0 || s1 != c1 {
		t.Errorf("@s = %d, @c = %d: want the same positive number", s1, c1)
	}
	if m := mapOf(t, res.Maps, "@never"); len(m.Entries) != 0 {
		t.Errorf("@never after clear = %+v", m)
	}

	var k sink
	p = compile(t, s, "del", `BEGIN { printf("%d %d ", len(@s), len(@never)); delete(@s); printf("%d\n", len(@s)); @z = min(5); exit(); }`)
	res = runToEnd(t, s, p, &runtime.RunOptions{Sink: k.add})
	if got := strings.Join(k.printfs(), ""); got != "1 0 0\n" {
		t.Errorf("len before and after delete: %q, want \"1 0 0\\n\"", got)
	}
	if m := mapOf(t, res.Maps, "@s"); len(m.Entries) != 0 {
		t.Errorf("@s after delete(@s) = %+v", m)
	}
	if n := scalar(t, mapOf(t, res.Maps, "@z")); n != 5 {
		t.Errorf("@z = %d, want 5", n)
	}

	// From user space: zero keeps the entry, clear and delete remove it;
	// a scalar count() always reads, as 0 when cleared.
	if err := s.ZeroMap("@h"); err != nil {
		t.Fatal(err)
	}
	if m, _ := s.ReadMap("@h", 0); len(m.Entries) != 1 || sumBuckets(m.Entries[0].Value.(value.Hist).Buckets) != 0 {
		t.Errorf("@h after ZeroMap = %+v", m)
	}
	if err := s.ClearMap("@h"); err != nil {
		t.Fatal(err)
	}
	if m, _ := s.ReadMap("@h", 0); len(m.Entries) != 0 {
		t.Errorf("@h after ClearMap = %+v", m)
	}
	if err := s.DeleteKey("@z", nil); err != nil {
		t.Fatal(err)
	}
	if m, _ := s.ReadMap("@z", 0); len(m.Entries) != 0 {
		t.Errorf("@z after DeleteKey = %+v", m)
	}
	if err := s.ClearMap("@c"); err != nil {
		t.Fatal(err)
	}
	if m, _ := s.ReadMap("@c", 0); len(m.Entries) != 1 || number(m.Entries[0].Value) != 0 {
		t.Errorf("@c after ClearMap = %+v, want one entry of 0", m)
	}
}

func sumBuckets(b []uint64) (n uint64) {
	for _, c := range b {
		n += c
	}
	return n
}
