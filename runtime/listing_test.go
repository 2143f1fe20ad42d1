package runtime_test

import (
	"bytes"
	"os/exec"
	"strings"
	"testing"

	"github.com/tracebook/tracebook/runtime"
	"github.com/tracebook/tracebook/runtime/runtimetest"
)

// bpftraceList runs the reference bpftrace 0.17 with -l/-lv.
func bpftraceList(t *testing.T, verbose bool, pattern string) string {
	t.Helper()
	bt := runtimetest.RequireTool(t, "bpftrace")
	flag := "-l"
	if verbose {
		flag = "-lv"
	}
	out, err := exec.Command(bt, flag, pattern).Output()
	if err != nil {
		t.Fatalf("bpftrace %s %s: %v", flag, pattern, err)
	}
	return string(out)
}

func ourList(t *testing.T, verbose bool, pattern string) string {
	t.Helper()
	var b bytes.Buffer
	if err := runtime.ListProbes(&b, sys(t), pattern, verbose); err != nil {
		t.Fatalf("ListProbes(%q): %v", pattern, err)
	}
	return b.String()
}

func TestListingMatchesBpftrace(t *testing.T) {
	sys(t)
	for _, tc := range []struct {
		verbose bool
		pattern string
	}{
		{false, "tracepoint:sched:*"},
		{false, "t:syscalls:sys_enter_*read*"},
		{false, "tracepoint:*:sched_switch"},
		{true, "tracepoint:syscalls:sys_enter_openat"},
		{true, "tracepoint:sched:sched_switch"},
		{true, "tracepoint:block:block_rq_issue"},
		{true, "tracepoint:sched:sched_process_*"},
		{false, "uprobe:/bin/bash:read*"},
		{false, "uprobe:libc:mall*"},
		{false, "tracepoint:*"},
	} {
		want := bpftraceList(t, tc.verbose, tc.pattern)
		got := ourList(t, tc.verbose, tc.pattern)
		if got != want {
			t.Errorf("-l%s %q differs from bpftrace 0.17:\n%s", map[bool]string{true: "v"}[tc.verbose], tc.pattern, lineDiff(want, got))
		}
	}
}

// lineDiff lists the lines only one side has.
func lineDiff(want, got string) string {
	w := map[string]bool{}
	for _, l := range strings.Split(want, "\n") {
		w[l] = true
	}
	g := map[string]bool{}
	var b strings.Builder
	for _, l := range strings.Split(got, "\n") {
		g[l] = true
		if !w[l] {
			b.WriteString("+ " + l + "\n")
		}
	}
	for _, l := range strings.Split(want, "\n") {
		if !g[l] {
			b.WriteString("- " + l + "\n")
		}
	}
	if b.Len() == 0 {
		return "(same lines, different order)"
	}
	return b.String()
}

func TestListingOthers(t *testing.T) {
	sys(t)
	sw := ourList(t, false, "software:*")
	for _, want := range []string{"software:cpu-clock:\n", "software:cs:\n", "software:page-faults:\n", "software:faults:\n"} {
		if !strings.Contains(sw, want) {
			t.Errorf("software listing lacks %q:\n%s", want, sw)
		}
	}
	if got := ourList(t, false, "hardware:cache-*"); got != "hardware:cache-misses:\nhardware:cache-references:\n" {
		t.Errorf("hardware:cache-* = %q", got)
	}
	it := ourList(t, true, "iter:task*")
	if !strings.Contains(it, "iter:task\n    struct task_struct * task\n") {
		t.Errorf("iter -lv:\n%s", it)
	}
	if !strings.Contains(it, "iter:task_file\n    struct task_struct * task\n    u32 fd\n    struct file * file\n") {
		t.Errorf("iter task_file -lv:\n%s", it)
	}
	rt := ourList(t, true, "rawtracepoint:sched_switch")
	want := "rawtracepoint:sched_switch\n    bool preempt\n    struct task_struct * prev\n    struct task_struct * next\n    unsigned int prev_state\n"
	if !runtime.KernelAtLeast("5.10") { // no __probestub_*/__traceiter_* names before 5.10
		want = "rawtracepoint:sched_switch\n    bool arg0\n    struct task_struct * arg1\n    struct task_struct * arg2\n    unsigned int arg3\n"
	}
	if rt != want {
		t.Errorf("rawtracepoint -lv:\n%s\nwant\n%s", rt, want)
	}
	// bpftrace 0.17 has no raw tracepoints: they are listed only when
	// asked for by name.
	if got := ourList(t, false, "*sched_switch*"); !strings.Contains(got, "tracepoint:sched:sched_switch\n") || strings.Contains(got, "rawtracepoint:") {
		t.Errorf("*sched_switch*:\n%s", got)
	}
	if got := ourList(t, false, "sched:sched_switch"); got != "tracepoint:sched:sched_switch\n" {
		t.Errorf("sched:sched_switch = %q", got)
	}
	all := ourList(t, false, "")
	if !strings.Contains(all, "tracepoint:sched:sched_switch\n") || !strings.Contains(all, "iter:task\n") || !strings.Contains(all, "software:cpu-clock:\n") {
		t.Errorf("full listing is missing providers")
	}
	// Only the iterators a program may name, as in 0.17.
	if strings.Contains(all, "rawtracepoint:") || strings.Contains(all, "iter:bpf_map\n") {
		t.Errorf("full listing has raw tracepoints or iterators that cannot be attached")
	}
}

func TestListingUnavailableProvider(t *testing.T) {
	sys(t)
	if runtime.CheckFeature(runtime.FeatureKfunc) == nil {
		t.Skip("this kernel has kfuncs")
	}
	var b bytes.Buffer
	err := runtime.ListProbes(&b, sys(t), "kfunc:vfs_*", false)
	if err == nil || !strings.Contains(err.Error(), "fentry/fexit") {
		t.Errorf("listing kfuncs on a kernel that refuses them: %v", err)
	}
	if strings.Contains(ourList(t, false, ""), "kfunc:") {
		t.Errorf("the full listing shows kfuncs this kernel refuses")
	}
}

func TestListingKfuncVerbose(t *testing.T) {
	runtimetest.Require(t, runtime.FeatureKfunc)
	got := ourList(t, true, "kfunc:vmlinux:vfs_read")
	want := "kfunc:vmlinux:vfs_read\n    struct file * file\n    char * buf\n    size_t count\n    loff_t * pos\n    ssize_t retval\n"
	if got != want {
		t.Errorf("-lv kfunc:vmlinux:vfs_read:\n%s\nwant\n%s", got, want)
	}
}
