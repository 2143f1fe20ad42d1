package main

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/tracebook/tracebook/runtime"
	"github.com/tracebook/tracebook/runtime/runtimetest"
)

// The kernel-function providers end to end: the tracebook binary runs
// bpftrace programs with kprobe, kretprobe, kfunc and kretfunc probes while
// the test drives a known workload, and the printed maps must have the
// expected shape and, where the workload fixes them, the expected numbers.
// The development machines have no kprobes and refuse trampolines, so
// these skip there with the feature probe's reason; they run in the kernel
// matrix (make test-kernels), whose guest has the binary at
// $TRACEBOOK_BIN.

// The workload: a file of workSize bytes read with workCount-byte reads
// from the test process, so vfs_read is called workCalls times with
// count == workCount and returns 777, 223 and 0.
const (
	workCount = 777
	workSize  = 1000
	workCalls = 3
)

func readWorkload(t *testing.T) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "work")
	if err := os.WriteFile(path, bytes.Repeat([]byte("w"), workSize), 0o644); err != nil {
		t.Fatal(err)
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	buf := make([]byte, workCount)
	for {
		n, err := f.Read(buf)
		if n == 0 || err != nil {
			return
		}
	}
}

var (
	tracebookOnce sync.Once
	tracebookPath string
	tracebookErr  error
)

// tracebookBinary returns the tracebook command to run: $TRACEBOOK_BIN
// (the kernel matrix's guest has no Go toolchain), or one built from this
// tree.
func tracebookBinary(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("TRACEBOOK_BIN"); p != "" {
		return p
	}
	gotool := runtimetest.RequireTool(t, "go")
	tracebookOnce.Do(func() {
		dir, err := os.MkdirTemp("", "tracebook-bin")
		if err != nil {
			tracebookErr = err
			return
		}
		tracebookPath = filepath.Join(dir, "tracebook")
		cmd := exec.Command(gotool, "build", "-o", tracebookPath, ".")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			tracebookErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if tracebookErr != nil {
		t.Fatal(tracebookErr)
	}
	return tracebookPath
}

// traceRun is one run of `tracebook -e prog` around a workload.
type traceRun struct {
	stdout, stderr string
	attached       bool  // the probes were attached and work ran
	err            error // how tracebook ended
}

// trace runs `tracebook -e prog`, waits until its probes are attached, runs
// work, interrupts it (Ctrl-C) and returns what it printed. A run that
// hangs fails the test.
func trace(t *testing.T, prog string, work func()) traceRun {
	t.Helper()
	cmd := exec.Command(tracebookBinary(t), "-e", prog)
	cmd.Env = append(os.Environ(), "__BPFTRACE_NOTIFY_PROBES_ATTACHED=1")
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var errText strings.Builder
	attached := make(chan bool, 1)
	errDone := make(chan struct{})
	go func() {
		defer close(errDone)
		sc := bufio.NewScanner(stderr)
		seen := false
		for sc.Scan() {
			if sc.Text() == "__BPFTRACE_NOTIFY_PROBES_ATTACHED" && !seen {
				seen = true
				attached <- true
				continue
			}
			errText.WriteString(sc.Text() + "\n")
		}
		if !seen {
			attached <- false
		}
	}()
	var r traceRun
	// Attaching under qemu's TCG is slow: give it time.
	select {
	case r.attached = <-attached:
	case <-time.After(120 * time.Second):
		cmd.Process.Kill()
		<-errDone
		cmd.Wait()
		t.Fatalf("tracebook -e '%s' did not attach within 120 s:\n%s%s", prog, stdout.String(), errText.String())
	}
	if r.attached {
		work()
		cmd.Process.Signal(syscall.SIGINT)
	}
	waited := make(chan error, 1)
	go func() { <-errDone; waited <- cmd.Wait() }()
	select {
	case r.err = <-waited:
	case <-time.After(60 * time.Second):
		cmd.Process.Kill()
		<-waited
		t.Fatalf("tracebook -e '%s' did not stop within 60 s of SIGINT:\n%s%s", prog, stdout.String(), errText.String())
	}
	r.stdout, r.stderr = stdout.String(), errText.String()
	return r
}

// traceWhile is trace for a program that must run: it fails the test
// when tracebook does not attach or does not end cleanly, and returns
// its standard output.
func traceWhile(t *testing.T, prog string, work func()) string {
	t.Helper()
	r := trace(t, prog, work)
	if !r.attached || r.err != nil {
		t.Fatalf("tracebook -e '%s' (attached: %v, %v):\n%s%s", prog, r.attached, r.err, r.stdout, r.stderr)
	}
	if r.stderr != "" {
		t.Logf("stderr:\n%s", r.stderr)
	}
	t.Logf("tracebook -e '%s':\n%s", prog, r.stdout)
	return r.stdout
}

// wantLine checks that out has a line matching re.
func wantLine(t *testing.T, out, re string) {
	t.Helper()
	if !regexp.MustCompile(`(?m)` + re).MatchString(out) {
		t.Errorf("no line matches %s", re)
	}
}

// histRe matches a printed histogram of map name with key (a regexp) and
// at least one bucket. bpftrace ends the name line with a space.
func histRe(name, key string) string {
	k := ""
	if key != "" {
		k = `\[` + key + `\]`
	}
	return `^` + regexp.QuoteMeta(name) + k + `: ?\n(\[[^\n]*\|@* *\|\n)+`
}

// comm is this test binary's name as the kernel keeps it (15 bytes).
func comm() string {
	c := filepath.Base(os.Args[0])
	if len(c) > 15 {
		c = c[:15]
	}
	return c
}

// TestCLIKprobeLatencyHist is the classic idiom from bpftrace's README.
func TestCLIKprobeLatencyHist(t *testing.T) {
	runtimetest.Require(t, runtime.FeatureKprobe)
	out := traceWhile(t, `kprobe:vfs_read { @start[tid] = nsecs; }
kretprobe:vfs_read /@start[tid]/ { @us[comm] = hist((nsecs - @start[tid]) / 1000); delete(@start[tid]); }`,
		func() { readWorkload(t) })
	if !regexp.MustCompile(`(?m)` + histRe("@us", regexp.QuoteMeta(comm()))).MatchString(out) {
		t.Errorf("no @us[%s] histogram", comm())
	}
}

// TestCLIKfuncLatencyHist is the same idiom with fentry/fexit, args->count
// and retval, with the numbers the workload fixes.
func TestCLIKfuncLatencyHist(t *testing.T) {
	runtimetest.Require(t, runtime.FeatureKfunc)
	out := traceWhile(t, fmt.Sprintf(`kfunc:vfs_read /pid == %d && args->count == %d/ {
	@start[tid] = nsecs; @calls = count(); @count = sum(args->count);
}
kretfunc:vfs_read /@start[tid]/ {
	@us = hist((nsecs - @start[tid]) / 1000); @bytes = sum(retval); @ret = hist(retval);
	delete(@start[tid]);
}`, os.Getpid(), workCount),
		func() { readWorkload(t) })
	wantLine(t, out, fmt.Sprintf(`^@calls: %d$`, workCalls))
	wantLine(t, out, fmt.Sprintf(`^@count: %d$`, workCalls*workCount))
	wantLine(t, out, fmt.Sprintf(`^@bytes: %d$`, workSize))
	wantLine(t, out, histRe("@us", ""))
	// retval 0 is bucket [0]; 223 and 777 are [128, 256) and [512, 1K).
	wantLine(t, out, histRe("@ret", ""))
	wantLine(t, out, `^\[0\]\s+1 \|@+\|$`)
	wantLine(t, out, `^\[128, 256\)\s+1 \|@+\|$`)
	wantLine(t, out, `^\[512, 1K\)\s+1 \|@+\|$`)
}

// TestCLIKprobeArgsRetval reads the count argument (arg2) and the return
// value (retval) through pt_regs, with exact numbers.
func TestCLIKprobeArgsRetval(t *testing.T) {
	runtimetest.Require(t, runtime.FeatureKprobe)
	out := traceWhile(t, fmt.Sprintf(`kprobe:vfs_read /pid == %d && arg2 == %d/ { @calls = count(); @count = sum(arg2); @in[tid] = 1; }
kretprobe:vfs_read /@in[tid]/ { @bytes = sum(retval); delete(@in[tid]); }`, os.Getpid(), workCount),
		func() { readWorkload(t) })
	wantLine(t, out, fmt.Sprintf(`^@calls: %d$`, workCalls))
	wantLine(t, out, fmt.Sprintf(`^@count: %d$`, workCalls*workCount))
	wantLine(t, out, fmt.Sprintf(`^@bytes: %d$`, workSize))
}

// TestCLIFuncKsymKstack prints func, ksym and kstack from kprobes and
// kfuncs.
func TestCLIFuncKsymKstack(t *testing.T) {
	t.Run("kprobe", func(t *testing.T) {
		runtimetest.Require(t, runtime.FeatureKprobe)
		out := traceWhile(t, fmt.Sprintf(`kprobe:vfs_read /pid == %d && arg2 == %d/ {
	@f[func] = count(); @k[ksym(reg("ip"))] = count(); @s[kstack] = count(); @in[tid] = 1;
}
kretprobe:vfs_read /@in[tid]/ { @rf[func] = count(); delete(@in[tid]); }`, os.Getpid(), workCount),
			func() { readWorkload(t) })
		wantLine(t, out, fmt.Sprintf(`^@f\[vfs_read\]: %d$`, workCalls))
		wantLine(t, out, fmt.Sprintf(`^@k\[vfs_read\]: %d$`, workCalls))
		wantLine(t, out, fmt.Sprintf(`^@rf\[vfs_read\]: %d$`, workCalls))
		wantLine(t, out, `^@s\[\n\s+vfs_read\+\d+\n\s+ksys_read\+\d+\n(\s+\S+\+\d+\n)*\]: \d+$`)
	})
	t.Run("kfunc", func(t *testing.T) {
		runtimetest.Require(t, runtime.FeatureKfunc)
		out := traceWhile(t, fmt.Sprintf(`kfunc:vfs_read /pid == %d && args->count == %d/ { @f[func] = count(); @s[kstack] = count(); }
kretfunc:vfs_read /pid == %d && args->count == %d/ { @rf[func] = count(); }`,
			os.Getpid(), workCount, os.Getpid(), workCount),
			func() { readWorkload(t) })
		wantLine(t, out, fmt.Sprintf(`^@f\[vfs_read\]: %d$`, workCalls))
		wantLine(t, out, fmt.Sprintf(`^@rf\[vfs_read\]: %d$`, workCalls))
		// The stack starts in the BPF program and its trampoline; the
		// traced function's caller must be there.
		wantLine(t, out, `^@s\[\n(\s+\S+\n)*\s+ksys_read\+\d+\n(\s+\S+\n)*\]: \d+$`)
	})
}

// TestCLIKprobeOffset attaches kprobe:vfs_read+off at the first
// instruction boundary (4 after endbr64 on IBT kernels, 5 after the ftrace
// call site otherwise).
func TestCLIKprobeOffset(t *testing.T) {
	runtimetest.Require(t, runtime.FeatureKprobe)
	for _, off := range []int{4, 5} {
		prog := fmt.Sprintf(`kprobe:vfs_read+%d /pid == %d && arg2 == %d/ { @hits = count(); }`, off, os.Getpid(), workCount)
		cmd := exec.Command(tracebookBinary(t), "--check", "-e", prog)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("--check %s: %v\n%s", prog, err, out)
		}
		r := trace(t, prog, func() { readWorkload(t) })
		if !r.attached {
			t.Logf("kprobe:vfs_read+%d does not attach here:\n%s", off, r.stderr)
			continue
		}
		if r.err != nil {
			t.Fatalf("tracebook -e '%s': %v\n%s%s", prog, r.err, r.stdout, r.stderr)
		}
		t.Logf("tracebook -e '%s':\n%s", prog, r.stdout)
		wantLine(t, r.stdout, fmt.Sprintf(`^@hits: %d$`, workCalls))
		return
	}
	t.Fatal("neither kprobe:vfs_read+4 nor +5 attached")
}

// TestCLIKprobeWildcard counts the vfs_* functions the workload calls:
// one kprobe_multi link where the kernel has it, one kprobe per function
// where it does not.
func TestCLIKprobeWildcard(t *testing.T) {
	runtimetest.Require(t, runtime.FeatureKprobe)
	out := traceWhile(t, fmt.Sprintf(`kprobe:vfs_* /pid == %d/ { @[func] = count(); }`, os.Getpid()),
		func() { readWorkload(t) })
	m := regexp.MustCompile(`(?m)^@\[vfs_read\]: (\d+)$`).FindStringSubmatch(out)
	if m == nil {
		t.Fatal("no @[vfs_read] count")
	}
	var n int
	fmt.Sscan(m[1], &n)
	if n < workCalls {
		t.Errorf("@[vfs_read]: %d, want at least %d", n, workCalls)
	}
	wantLine(t, out, `^@\[vfs_(open|write|getattr|statx|fstat)[a-z_]*\]: \d+$`)
}
