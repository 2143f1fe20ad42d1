package runtime_test

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/tracebook/tracebook/lang"
	"github.com/tracebook/tracebook/runtime"
	"github.com/tracebook/tracebook/runtime/runtimetest"
)

// counterFor loads a counter program of the type ProgramTypeFor says ap
// needs.
func counterFor(t *testing.T, ap *lang.AttachPoint) *runtimetest.Counter {
	t.Helper()
	typ, at, to := runtime.ProgramTypeFor(ap)
	return runtimetest.NewCounter(t, typ, at, to)
}

// attach attaches c to ap and detaches at the end of the test.
func attach(t *testing.T, c *runtimetest.Counter, ap *lang.AttachPoint, opts *runtime.AttachOptions) io.Closer {
	t.Helper()
	l, err := runtime.Attach(c.Prog, ap, opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

func TestAttachTracepoint(t *testing.T) {
	runtimetest.Require(t, runtime.FeatureTracepoint)
	ap := &lang.AttachPoint{Provider: "tracepoint", Target: "syscalls", Func: "sys_enter_getppid"}
	c := counterFor(t, ap)
	l := attach(t, c, ap, nil)
	for range 1000 {
		syscall.Getppid()
	}
	if v := c.Value(t); v < 1000 {
		t.Errorf("counter %d after 1000 getppid calls", v)
	}
	start := time.Now()
	if err := l.Close(); err != nil {
		t.Fatal(err)
	}
	t.Logf("tracepoint detach took %v", time.Since(start))
	before := c.Value(t)
	for range 100 {
		syscall.Getppid()
	}
	if after := c.Value(t); after != before {
		// Other processes may call getppid, but rarely this often.
		t.Logf("counter moved from %d to %d after detach (other processes?)", before, after)
	}
}

func TestAttachRawTracepoint(t *testing.T) {
	runtimetest.Require(t, runtime.FeatureRawTP)
	ap := &lang.AttachPoint{Provider: "rawtracepoint", Func: "sys_enter"}
	c := counterFor(t, ap)
	attach(t, c, ap, nil)
	for range 1000 {
		syscall.Getppid()
	}
	if v := c.Value(t); v < 1000 {
		t.Errorf("counter %d after 1000 syscalls", v)
	}
}

func TestAttachRawTracepointPlain(t *testing.T) {
	runtimetest.Require(t, runtime.FeatureRawTP)
	ap := &lang.AttachPoint{Provider: "rawtracepoint", Func: "sys_enter"}
	c := runtimetest.NewCounter(t, ebpf.RawTracepoint, ebpf.AttachNone, "")
	attach(t, c, ap, nil)
	for range 1000 {
		syscall.Getppid()
	}
	if v := c.Value(t); v < 1000 {
		t.Errorf("counter %d after 1000 syscalls", v)
	}
}

func TestAttachTPBTF(t *testing.T) {
	runtimetest.Require(t, runtime.FeatureTPBTF)
	ap := &lang.AttachPoint{Provider: "rawtracepoint", Func: "sched_switch"}
	typ, at, to := runtime.ProgramTypeFor(ap)
	if typ != ebpf.Tracing || at != ebpf.AttachTraceRawTp || to != "sched_switch" {
		t.Fatalf("ProgramTypeFor(rawtracepoint:sched_switch) = %v %v %q, want tp_btf", typ, at, to)
	}
	c := counterFor(t, ap)
	attach(t, c, ap, nil)
	// nanosleep blocks this thread in the kernel, a switch each time.
	// time.Sleep need not: the Go scheduler may find the timer expired
	// (under emulation a millisecond passes quickly) and not block (15
	// switches for 20 sleeps on 6.1 in the kernel matrix).
	for range 20 {
		syscall.Nanosleep(&syscall.Timespec{Nsec: int64(time.Millisecond)}, nil)
	}
	if v := c.Value(t); v < 20 {
		t.Errorf("counter %d after 20 sleeps", v)
	}
}

// startTarget builds and starts a C test program that waits for a line on
// stdin; it returns the process, its stdin, and its first output line.
func startTarget(t testing.TB, path string, args ...string) (*exec.Cmd, io.WriteCloser, *bufio.Reader) {
	t.Helper()
	cmd := exec.Command(path, args...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		cmd.Process.Kill()
		cmd.Wait()
	})
	return cmd, stdin, bufio.NewReader(stdout)
}

// readLine reads one line of a target's output, failing after 30 s rather
// than hanging the test binary.
func readLine(t testing.TB, r *bufio.Reader) string {
	t.Helper()
	type result struct {
		line string
		err  error
	}
	ch := make(chan result, 1)
	go func() {
		line, err := r.ReadString('\n')
		ch <- result{line, err}
	}()
	select {
	case res := <-ch:
		if res.err != nil {
			t.Fatalf("reading the target's output: %v", res.err)
		}
		return strings.TrimSpace(res.line)
	case <-time.After(30 * time.Second):
		t.Fatalf("the target printed nothing for 30 s")
	}
	return ""
}

func TestAttachUprobe(t *testing.T) {
	runtimetest.Require(t, runtime.FeatureUprobe)
	bin := runtimetest.BuildC(t, "target", targetC, "-O2", "-pie", "-fPIE")
	for _, provider := range []string{"uprobe", "uretprobe"} {
		t.Run(provider, func(t *testing.T) {
			cmd, stdin, out := startTarget(t, bin, "1000")
			readLine(t, out) // addresses
			ap := &lang.AttachPoint{Provider: provider, Target: bin, Func: "tb_target"}
			c := counterFor(t, ap)
			attach(t, c, ap, &runtime.AttachOptions{PID: cmd.Process.Pid})
			fmt.Fprintln(stdin, "go")
			if got := readLine(t, out); got != strconv.Itoa(999*1000/2+8*1000) {
				t.Fatalf("target printed %s", got)
			}
			if v := c.Value(t); v != 1000 {
				t.Errorf("%s counter %d, want 1000", provider, v)
			}
		})
	}
}

func TestAttachUprobeAddress(t *testing.T) {
	runtimetest.Require(t, runtime.FeatureUprobe)
	bin := runtimetest.BuildC(t, "target", targetC, "-O2", "-pie", "-fPIE")
	ef, err := runtime.ReadELF(bin)
	if err != nil {
		t.Fatal(err)
	}
	sym, ok := ef.Symbol("tb_target")
	if !ok {
		t.Fatal("no tb_target")
	}
	cmd, stdin, out := startTarget(t, bin, "500")
	readLine(t, out)
	ap := &lang.AttachPoint{Provider: "uprobe", Target: bin, Address: sym.Addr}
	c := counterFor(t, ap)
	attach(t, c, ap, &runtime.AttachOptions{PID: cmd.Process.Pid})
	fmt.Fprintln(stdin, "go")
	readLine(t, out)
	if v := c.Value(t); v != 500 {
		t.Errorf("counter %d, want 500", v)
	}
}

func TestAttachUprobeLibc(t *testing.T) {
	runtimetest.Require(t, runtime.FeatureUprobe)
	ap := &lang.AttachPoint{Provider: "uprobe", Target: requireLibc(t), Func: "getpid"}
	c := counterFor(t, ap)
	bin := runtimetest.BuildC(t, "getpid", `
#include <unistd.h>
#include <stdio.h>
int main(void) { char l[4]; if (!fgets(l, sizeof l, stdin)) return 1; for (int i = 0; i < 100; i++) getpid(); puts("done"); return 0; }`)
	cmd, stdin, out := startTarget(t, bin)
	attach(t, c, ap, &runtime.AttachOptions{PID: cmd.Process.Pid})
	fmt.Fprintln(stdin, "go")
	readLine(t, out)
	if v := c.Value(t); v != 100 {
		t.Errorf("counter %d, want 100", v)
	}
}

func TestAttachUSDTSemaphore(t *testing.T) {
	runtimetest.Require(t, runtime.FeatureUprobeRefCtr)
	bin := runtimetest.BuildC(t, "usdt", usdtC, "-O1")
	s := sys(t)
	aps, err := s.Expand(&lang.AttachPoint{Provider: "usdt", Target: bin, Func: "ping", Wildcard: false})
	if err != nil {
		t.Fatal(err)
	}
	if len(aps) != 1 || aps[0].NS != "tbtest" {
		t.Fatalf("Expand(usdt:%s:ping) = %v", bin, aps)
	}
	p, err := runtime.USDTProbeFor(aps[0])
	if err != nil {
		t.Fatal(err)
	}
	if p.Locations[0].Semaphore == 0 || p.Locations[0].SemaphoreOffset == 0 {
		t.Fatalf("probe has no semaphore: %+v", p.Locations[0])
	}

	// Without the probe attached the semaphore stays down.
	cmd, stdin, out := startTarget(t, bin, "200")
	fmt.Fprintln(stdin, "go")
	if got := readLine(t, out); got != "0" {
		t.Fatalf("fired %s times with nothing attached", got)
	}
	cmd.Wait()

	c := counterFor(t, aps[0])
	attach(t, c, aps[0], nil)
	_, stdin, out = startTarget(t, bin, "200")
	fmt.Fprintln(stdin, "go")
	if got := readLine(t, out); got != "200" {
		t.Fatalf("fired %s times with the probe attached, want 200 (semaphore not raised?)", got)
	}
	if v := c.Value(t); v != 200 {
		t.Errorf("counter %d, want 200", v)
	}
}

func TestAttachProfile(t *testing.T) {
	runtimetest.Require(t, runtime.FeaturePerfEvent)
	ap := &lang.AttachPoint{Provider: "profile", Unit: "hz", Freq: 199}
	c := counterFor(t, ap)
	attach(t, c, ap, nil)
	// 0.3 s of CPU at 199 Hz is about 60 samples; under emulation (the
	// kernel matrix's TCG guests) the guest's clock gives a fraction of
	// that, so burn in slices until 20 arrive or the scaled limit passes.
	start := time.Now()
	deadline := start.Add(runtimetest.Timeout(300 * time.Millisecond))
	var v uint64
	for {
		burn(100 * time.Millisecond)
		if v = c.Value(t); v >= 20 || time.Now().After(deadline) {
			break
		}
	}
	t.Logf("%d samples in %v", v, time.Since(start).Round(time.Millisecond))
	if v < 20 {
		t.Errorf("counter %d after %v at 199 Hz", v, time.Since(start).Round(time.Millisecond))
	}
}

func TestAttachInterval(t *testing.T) {
	runtimetest.Require(t, runtime.FeaturePerfEvent)
	ap := &lang.AttachPoint{Provider: "interval", Unit: "ms", Freq: 10}
	c := counterFor(t, ap)
	start := time.Now()
	attach(t, c, ap, nil)
	time.Sleep(300 * time.Millisecond)
	v := c.Value(t)
	// One tick per 10 ms of wall time at most, on one CPU. Fewer are
	// normal where timers are coarse (a TCG guest managed a tenth), but it
	// must keep firing.
	elapsed := time.Since(start)
	want := float64(elapsed) / float64(10*time.Millisecond)
	t.Logf("interval:ms:10 fired %d times in %v", v, elapsed)
	if v < 3 || float64(v) > want*1.5 {
		t.Errorf("interval:ms:10 fired %d times in %v, want about %.0f", v, elapsed, want)
	}
}

func TestAttachSoftwarePageFaults(t *testing.T) {
	runtimetest.Require(t, runtime.FeaturePerfEvent)
	ap := &lang.AttachPoint{Provider: "software", Func: "page-faults", Freq: 1}
	c := counterFor(t, ap)
	// System-wide: a perf event for one pid follows only that thread, and
	// the Go runtime may touch the pages from another.
	attach(t, c, ap, nil)
	// Touch fresh pages: each first touch is a fault.
	mem, err := syscall.Mmap(-1, 0, 1<<20, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_PRIVATE|syscall.MAP_ANON)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(mem); i += 4096 {
		mem[i] = 1
	}
	syscall.Munmap(mem)
	if v := c.Value(t); v < 200 {
		t.Errorf("counter %d after touching 256 pages", v)
	}
}

func TestAttachWatchpoint(t *testing.T) {
	runtimetest.Require(t, runtime.FeatureBreakpoint)
	bin := runtimetest.BuildC(t, "target", targetC, "-O2")
	cmd, stdin, out := startTarget(t, bin, "100")
	fields := strings.Fields(readLine(t, out))
	addr, err := strconv.ParseUint(strings.TrimPrefix(fields[1], "0x"), 16, 64)
	if err != nil {
		t.Fatal(err)
	}
	ap := &lang.AttachPoint{Provider: "watchpoint", Address: addr, Len: 8, Mode: "w"}
	c := counterFor(t, ap)
	attach(t, c, ap, &runtime.AttachOptions{PID: cmd.Process.Pid})
	fmt.Fprintln(stdin, "go")
	readLine(t, out)
	if v := c.Value(t); v != 100 {
		t.Errorf("watchpoint counter %d, want 100 writes", v)
	}
}

func TestAttachIterTask(t *testing.T) {
	runtimetest.Require(t, runtime.FeatureIterTask)
	ap := &lang.AttachPoint{Provider: "iter", Func: "task"}
	c := counterFor(t, ap)
	l := attach(t, c, ap, nil)
	it, ok := l.(interface{ Open() (io.ReadCloser, error) })
	if !ok {
		t.Fatalf("iter link %T has no Open", l)
	}
	rd, err := it.Open()
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, rd)
	rd.Close()
	procs, _ := os.ReadDir("/proc")
	if v := c.Value(t); v < 10 {
		t.Errorf("iter:task ran %d times (about %d entries in /proc)", v, len(procs))
	}
}

// The kernel-function and hardware probes cannot run on the development
// machines (kprobes not built in, trampolines refused, no PMU); they skip
// there with the probe's reason and run in the qemu kernel matrix.

func TestAttachKprobe(t *testing.T) {
	runtimetest.Require(t, runtime.FeatureKprobe)
	for _, provider := range []string{"kprobe", "kretprobe"} {
		t.Run(provider, func(t *testing.T) {
			ap := &lang.AttachPoint{Provider: provider, Func: "do_sys_openat2"}
			c := counterFor(t, ap)
			attach(t, c, ap, nil)
			for range 10 {
				f, err := os.Open("/proc/self/stat")
				if err == nil {
					f.Close()
				}
			}
			if v := c.Value(t); v < 10 {
				t.Errorf("%s counter %d after 10 opens", provider, v)
			}
		})
	}
}

func TestAttachKprobeMulti(t *testing.T) {
	runtimetest.Require(t, runtime.FeatureKprobeMulti)
	s := sys(t)
	ap := &lang.AttachPoint{Provider: "kprobe", Func: "vfs_rea*", Wildcard: true}
	m, err := s.Expand(ap)
	if err != nil {
		t.Fatal(err)
	}
	ap.Matches = m
	typ, at, _ := runtime.ProgramTypeFor(ap)
	if len(m) > 1 && (typ != ebpf.Kprobe || at != ebpf.AttachTraceKprobeMulti) {
		t.Fatalf("ProgramTypeFor(%d matches) = %v %v", len(m), typ, at)
	}
	c := counterFor(t, ap)
	attach(t, c, ap, nil)
	for range 10 {
		os.ReadFile("/proc/self/stat")
	}
	if v := c.Value(t); v < 10 {
		t.Errorf("counter %d after 10 reads", v)
	}
}

func TestAttachKfunc(t *testing.T) {
	runtimetest.Require(t, runtime.FeatureKfunc)
	for _, provider := range []string{"kfunc", "kretfunc"} {
		t.Run(provider, func(t *testing.T) {
			ap := &lang.AttachPoint{Provider: provider, Func: "vfs_read"}
			c := counterFor(t, ap)
			attach(t, c, ap, nil)
			for range 10 {
				os.ReadFile("/proc/self/stat")
			}
			if v := c.Value(t); v < 10 {
				t.Errorf("%s counter %d after 10 reads", provider, v)
			}
		})
	}
}

func TestAttachHardware(t *testing.T) {
	runtimetest.Require(t, runtime.FeatureHardware)
	ap := &lang.AttachPoint{Provider: "hardware", Func: "cpu-cycles", Freq: 100000}
	c := counterFor(t, ap)
	attach(t, c, ap, nil)
	burn(100 * time.Millisecond)
	if v := c.Value(t); v == 0 {
		t.Errorf("hardware:cpu-cycles never fired")
	}
}

// TestAttachErrorsOnThisKernel checks that a probe the kernel cannot attach
// fails with the feature probe's sentence and never with cilium's MEMLOCK
// hint.
func TestAttachErrorsOnThisKernel(t *testing.T) {
	runtimetest.RequireRoot(t)
	if runtime.CheckFeature(runtime.FeatureKprobe) == nil {
		t.Skip("this kernel has kprobes")
	}
	ap := &lang.AttachPoint{Provider: "kprobe", Func: "vfs_read"}
	c := counterFor(t, ap)
	_, err := runtime.Attach(c.Prog, ap, nil)
	if err == nil {
		t.Fatal("kprobe attached on a kernel without kprobes")
	}
	want := "attaching kprobe:vfs_read: this kernel has no kprobes (CONFIG_KPROBES is not set: no kprobe PMU and no kprobe_events)"
	if err.Error() != want {
		t.Errorf("error %q\nwant  %q", err, want)
	}
	if strings.Contains(err.Error(), "MEMLOCK") {
		t.Errorf("MEMLOCK hint leaked: %v", err)
	}
}

// TestLoadErrorOnThisKernel loads an fentry program where the kernel
// refuses trampolines: the error the user sees is the feature's sentence.
func TestLoadErrorOnThisKernel(t *testing.T) {
	runtimetest.RequireRoot(t)
	if runtime.CheckFeature(runtime.FeatureKfunc) == nil {
		t.Skip("this kernel allows fentry")
	}
	ap := &lang.AttachPoint{Provider: "kfunc", Func: "vfs_read"}
	if err := runtime.CheckAttachable(ap); err == nil {
		t.Errorf("CheckAttachable(kfunc) = nil on a kernel that refuses fentry")
	}
	typ, at, to := runtime.ProgramTypeFor(ap)
	_, err := ebpf.NewProgram(&ebpf.ProgramSpec{Type: typ, AttachType: at, AttachTo: to, License: "GPL",
		Instructions: asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()}})
	if err == nil {
		t.Fatal("fentry loaded")
	}
	got := runtime.ExplainLoadError(ap, err).Error()
	want := "attaching kfunc:vfs_read: this kernel refuses fentry/fexit programs (loading one failed with EPERM: operation not permitted)"
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	if err := runtime.CheckAttachable(&lang.AttachPoint{Provider: "tracepoint", Target: "sched", Func: "sched_switch"}); err != nil {
		t.Errorf("CheckAttachable(tracepoint) = %v", err)
	}
}

func burn(d time.Duration) {
	end := time.Now().Add(d)
	x := 0
	for time.Now().Before(end) {
		for i := range 10000 {
			x += i
		}
	}
	_ = x
}

func TestCloseAllConcurrently(t *testing.T) {
	runtimetest.Require(t, runtime.FeatureTracepoint)
	var links []io.Closer
	names := []string{"sys_enter_getppid", "sys_enter_getpid", "sys_enter_gettid", "sys_enter_getuid"}
	for _, n := range names {
		ap := &lang.AttachPoint{Provider: "tracepoint", Target: "syscalls", Func: n}
		c := counterFor(t, ap)
		l, err := runtime.Attach(c.Prog, ap, nil)
		if err != nil {
			t.Fatal(err)
		}
		links = append(links, l)
	}
	start := time.Now()
	if err := runtime.CloseAll(links); err != nil {
		t.Fatal(err)
	}
	t.Logf("closing %d tracepoint links concurrently took %v", len(links), time.Since(start))
}
