package runtime_test

import (
	"errors"
	"sort"
	"strings"
	"testing"

	"github.com/tracebook/tracebook/lang"
	"github.com/tracebook/tracebook/runtime"
	"github.com/tracebook/tracebook/runtime/runtimetest"
)

func expandNames(t *testing.T, ap *lang.AttachPoint) []string {
	t.Helper()
	aps, err := sys(t).Expand(ap)
	if err != nil {
		t.Fatalf("Expand(%s): %v", ap.Name(), err)
	}
	var names []string
	for _, a := range aps {
		if a.Wildcard || a.Matches != nil {
			t.Errorf("match %s is not concrete", a.Name())
		}
		names = append(names, a.Name())
	}
	if !sort.StringsAreSorted(names) {
		t.Errorf("Expand(%s) is not sorted: %v", ap.Name(), names)
	}
	return names
}

func wild(provider, target, fn string) *lang.AttachPoint {
	return &lang.AttachPoint{Provider: provider, Target: target, Func: fn, Wildcard: true}
}

// bpftraceNames lists probes with the reference bpftrace.
func bpftraceNames(t *testing.T, pattern string) []string {
	t.Helper()
	out := strings.TrimSpace(bpftraceList(t, false, pattern))
	if out == "" {
		return nil
	}
	return strings.Split(out, "\n")
}

func TestExpandTracepoint(t *testing.T) {
	got := expandNames(t, wild("tracepoint", "syscalls", "sys_enter_*read*"))
	want := bpftraceNames(t, "tracepoint:syscalls:sys_enter_*read*")
	if strings.Join(got, "\n") != strings.Join(want, "\n") || len(got) != 9 {
		t.Errorf("got %v\nbpftrace %v", got, want)
	}
	got = expandNames(t, wild("tracepoint", "*", "sched_switch"))
	if len(got) != 1 || got[0] != "tracepoint:sched:sched_switch" {
		t.Errorf("tracepoint:*:sched_switch = %v", got)
	}
	_, err := sys(t).Expand(wild("tracepoint", "nonex", "*"))
	if !errors.Is(err, lang.ErrNotFound) || err.Error() != "tracepoints not found: nonex:*" {
		t.Errorf("nonex:* = %v", err)
	}
	_, err = sys(t).Expand(&lang.AttachPoint{Provider: "tracepoint", Target: "syscalls", Func: "nonexistent"})
	if !errors.Is(err, lang.ErrNotFound) || err.Error() != "tracepoint not found: syscalls:nonexistent" {
		t.Errorf("syscalls:nonexistent = %v", err)
	}
	_, err = sys(t).Expand(&lang.AttachPoint{Provider: "tracepoint", Target: "syscall", Func: "sys_enter_read"})
	if err == nil || !strings.Contains(err.Error(), "did you mean syscalls:sys_enter_read?") {
		t.Errorf("syscall:sys_enter_read = %v", err)
	}
}

func TestExpandKprobe(t *testing.T) {
	got := expandNames(t, wild("kprobe", "", "vfs_rea*"))
	if len(got) == 0 || got[0] != "kprobe:vfs_read" {
		t.Errorf("kprobe:vfs_rea* = %v", got)
	}
	for _, n := range got {
		if strings.Contains(n, "__pfx_") || strings.Contains(n, ".part.") {
			t.Errorf("unprobeable symbol %s", n)
		}
	}
	if got := expandNames(t, &lang.AttachPoint{Provider: "kretprobe", Func: "vfs_read"}); len(got) != 1 || got[0] != "kretprobe:vfs_read" {
		t.Errorf("kretprobe:vfs_read = %v", got)
	}
	if _, err := sys(t).Expand(&lang.AttachPoint{Provider: "kprobe", Func: "no_such_function_xyz"}); !errors.Is(err, lang.ErrNotFound) {
		t.Errorf("missing kprobe function: %v", err)
	}
}

func TestExpandKfunc(t *testing.T) {
	got := expandNames(t, wild("kfunc", "", "vfs_read*"))
	if len(got) < 2 || got[0] != "kfunc:vfs_read" {
		t.Errorf("kfunc:vfs_read* = %v", got)
	}
	got = expandNames(t, wild("kretfunc", "vmlinux", "vfs_read"))
	if len(got) != 1 || got[0] != "kretfunc:vmlinux:vfs_read" {
		t.Errorf("kretfunc:vmlinux:vfs_read = %v", got)
	}
	_, err := sys(t).Expand(&lang.AttachPoint{Provider: "kfunc", Func: "no_such_function_xyz"})
	if !errors.Is(err, lang.ErrNotFound) {
		t.Errorf("missing kfunc: %v", err)
	}
}

func TestExpandRawTracepoint(t *testing.T) {
	got := expandNames(t, wild("rawtracepoint", "", "sched_switc*"))
	if len(got) != 1 || got[0] != "rawtracepoint:sched_switch" {
		t.Errorf("rawtracepoint:sched_switc* = %v", got)
	}
	expandNames(t, &lang.AttachPoint{Provider: "rawtracepoint", Func: "sys_enter"})
	if _, err := sys(t).Expand(&lang.AttachPoint{Provider: "rawtracepoint", Func: "nope"}); !errors.Is(err, lang.ErrNotFound) {
		t.Errorf("missing rawtracepoint: %v", err)
	}
}

func TestExpandUprobe(t *testing.T) {
	want := bpftraceNames(t, "uprobe:/bin/bash:read*")
	got := expandNames(t, wild("uprobe", "/bin/bash", "read*"))
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("got %v\nbpftrace %v", got, want)
	}
	got = expandNames(t, &lang.AttachPoint{Provider: "uprobe", Target: "libc", Func: "malloc"})
	if len(got) != 1 || !strings.HasSuffix(got[0], "/libc.so.6:malloc") {
		t.Errorf("uprobe:libc:malloc = %v", got)
	}
	_, err := sys(t).Expand(&lang.AttachPoint{Provider: "uprobe", Target: "/bin/bash", Func: "no_such_function"})
	if !errors.Is(err, lang.ErrNotFound) || err.Error() != "Could not resolve symbol: /bin/bash:no_such_function" {
		t.Errorf("missing function: %v", err)
	}
	_, err = sys(t).Expand(&lang.AttachPoint{Provider: "uprobe", Target: "/nonexist", Func: "foo"})
	if !errors.Is(err, lang.ErrNotFound) || err.Error() != "uprobe target file '/nonexist' does not exist or is not executable" {
		t.Errorf("missing file: %v", err)
	}
	got = expandNames(t, &lang.AttachPoint{Provider: "uprobe", Target: "/bin/bash", Address: 0x1000})
	if len(got) != 1 || got[0] != "uprobe:/bin/bash:0x1000" {
		t.Errorf("address probe = %v", got)
	}
}

func TestExpandUprobePID(t *testing.T) {
	runtimetest.RequireRoot(t)
	bin := runtimetest.BuildC(t, "target", targetC, "-O2")
	cmd, stdin, _ := startTarget(t, bin, "1")
	defer stdin.Close()
	s, err := runtime.NewSystemTypes()
	if err != nil {
		t.Fatal(err)
	}
	s.PID = cmd.Process.Pid
	aps, err := s.Expand(&lang.AttachPoint{Provider: "uprobe", Func: "tb_target"})
	if err != nil {
		t.Fatal(err)
	}
	if len(aps) != 1 || aps[0].Target != bin {
		t.Errorf("uprobe:tb_target with -p = %+v, want target %s", aps[0], bin)
	}
	// -p resolves a library name through the process's own mappings.
	aps, err = s.Expand(&lang.AttachPoint{Provider: "uprobe", Target: "libc", Func: "malloc"})
	if err != nil || len(aps) != 1 || !strings.Contains(aps[0].Target, "libc.so") {
		t.Errorf("uprobe:libc:malloc with -p = %v, %v", aps, err)
	}
}

func TestExpandUSDT(t *testing.T) {
	bin := runtimetest.BuildC(t, "usdtplain", usdtPlainC, "-O2")
	got := expandNames(t, wild("usdt", bin, "*"))
	want := []string{"usdt:" + bin + ":tbplain:global", "usdt:" + bin + ":tbplain:twice"}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("usdt:%s:* = %v", bin, got)
	}
	ap := wild("usdt", bin, "tw*")
	ap.NS = "tbplain"
	if got := expandNames(t, ap); len(got) != 1 || got[0] != want[1] {
		t.Errorf("usdt:%s:tbplain:tw* = %v", bin, got)
	}
	if got := expandNames(t, &lang.AttachPoint{Provider: "usdt", Target: bin, Func: "global"}); len(got) != 1 || got[0] != want[0] {
		t.Errorf("usdt without namespace = %v", got)
	}
	if _, err := sys(t).Expand(&lang.AttachPoint{Provider: "usdt", Target: bin, Func: "nope"}); !errors.Is(err, lang.ErrNotFound) {
		t.Errorf("missing usdt: %v", err)
	}
	if bt := bpftraceNames(t, "usdt:"+bin+":*"); strings.Join(bt, "\n") != strings.Join(want, "\n") {
		t.Errorf("bpftrace lists %v", bt)
	}
}

func TestExpandPerfEvents(t *testing.T) {
	got := expandNames(t, wild("software", "", "*"))
	if len(got) != 11 || got[3] != "software:cpu-clock" {
		t.Errorf("software:* = %v", got)
	}
	if got := expandNames(t, &lang.AttachPoint{Provider: "software", Func: "faults", Freq: 10}); len(got) != 1 || got[0] != "software:faults:10" {
		t.Errorf("software:faults:10 = %v", got)
	}
	_, err := sys(t).Expand(&lang.AttachPoint{Provider: "software", Func: "foo"})
	if !errors.Is(err, lang.ErrNotFound) || err.Error() != "foo is not a software probe" {
		t.Errorf("software:foo = %v", err)
	}
	if got := expandNames(t, wild("hardware", "", "cache-*")); len(got) != 2 {
		t.Errorf("hardware:cache-* = %v", got)
	}
}

func TestExpandIter(t *testing.T) {
	got := expandNames(t, wild("iter", "", "task*"))
	if len(got) < 2 || got[0] != "iter:task" || got[1] != "iter:task_file" {
		t.Errorf("iter:task* = %v", got)
	}
	_, err := sys(t).Expand(&lang.AttachPoint{Provider: "iter", Func: "foo"})
	if !errors.Is(err, lang.ErrNotFound) || err.Error() != "iter foo not available for your kernel version." {
		t.Errorf("iter:foo = %v", err)
	}
}

func TestExpandPassThrough(t *testing.T) {
	for _, ap := range []*lang.AttachPoint{
		{Provider: "BEGIN"}, {Provider: "END"},
		{Provider: "profile", Unit: "hz", Freq: 99},
		{Provider: "interval", Unit: "s", Freq: 1},
		{Provider: "watchpoint", Address: 0x1000, Len: 8, Mode: "w"},
	} {
		got := expandNames(t, ap)
		if len(got) != 1 || got[0] != ap.Name() {
			t.Errorf("Expand(%s) = %v", ap.Name(), got)
		}
	}
}
