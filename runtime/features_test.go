package runtime_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/tracebook/tracebook/runtime"
	"github.com/tracebook/tracebook/runtime/runtimetest"
)

// documentedMachine reports whether the tests run on one of the machines
// ../shared/reference/ebpf-on-these-machines.md describes (a 6.18 "-fc-"
// kernel build without kprobes and with trampolines refused).
func documentedMachine() bool {
	var u unix.Utsname
	if unix.Uname(&u) != nil {
		return false
	}
	rel := unix.ByteSliceToString(u.Release[:])
	return strings.HasPrefix(rel, "6.18.") && strings.Contains(rel, "-fc-")
}

// TestFeaturesOnThisMachine checks every probe's answer against what
// ebpf-on-these-machines.md measured.
func TestFeaturesOnThisMachine(t *testing.T) {
	runtimetest.RequireRoot(t)
	if !documentedMachine() {
		t.Skip("not one of the documented machines (6.18.*-fc-*)")
	}
	available := []string{
		runtime.FeatureBTF, runtime.FeatureTracepoint, runtime.FeatureRawTP, runtime.FeatureTPBTF,
		runtime.FeatureUprobe, runtime.FeatureUprobeRefCtr, runtime.FeaturePerfEvent,
		runtime.FeatureBreakpoint, runtime.FeatureIterTask, runtime.FeatureRingbuf,
		runtime.FeatureBPFLoop, runtime.FeatureGetFuncIP, runtime.FeatureSendSignal, runtime.FeatureTaskBTF,
	}
	for _, f := range available {
		if err := runtime.CheckFeature(f); err != nil {
			t.Errorf("%s: %v, documented as available", f, err)
		}
	}
	absent := map[string]string{
		runtime.FeatureKprobe:      "this kernel has no kprobes (CONFIG_KPROBES is not set: no kprobe PMU and no kprobe_events)",
		runtime.FeatureKprobeMulti: "this kernel has no kprobe_multi links: this kernel has no kprobes (CONFIG_KPROBES is not set: no kprobe PMU and no kprobe_events)",
		runtime.FeatureKfunc:       "this kernel refuses fentry/fexit programs (loading one failed with EPERM: operation not permitted)",
		runtime.FeatureHardware:    "this machine has no hardware perf events (no CPU PMU: opening cpu-cycles failed with ENOENT: no such file or directory)",
	}
	for f, want := range absent {
		err := runtime.CheckFeature(f)
		if !errors.Is(err, runtime.ErrNotSupported) {
			t.Errorf("%s: %v, documented as not supported", f, err)
			continue
		}
		if err.Error() != want {
			t.Errorf("%s:\n got %q\nwant %q", f, err, want)
		}
	}
	if !errors.Is(runtime.CheckFeature(runtime.FeatureKfunc), unix.EPERM) {
		t.Errorf("the kfunc error does not keep EPERM in its chain")
	}
}

// TestFeatureAnswers checks what holds on every kernel: an answer is nil or
// a *FeatureError with a sentence; answers are memoized; no answer repeats
// cilium's MEMLOCK hint.
func TestFeatureAnswers(t *testing.T) {
	runtimetest.RequireRoot(t)
	for _, f := range runtime.FeatureNames() {
		err := runtime.CheckFeature(f)
		if err == nil {
			continue
		}
		var fe *runtime.FeatureError
		if !errors.As(err, &fe) || fe.Feature != f || fe.Reason == "" {
			t.Errorf("%s: %#v is not a complete FeatureError", f, err)
		}
		if strings.Contains(err.Error(), "MEMLOCK") {
			t.Errorf("%s: %v", f, err)
		}
		if again := runtime.CheckFeature(f); again != err {
			t.Errorf("%s is not memoized", f)
		}
		t.Logf("%s: %v", f, err)
	}
	if err := runtime.CheckFeature("no-such-feature"); err == nil {
		t.Errorf("an unknown feature has no error")
	}
}

func TestProbeTypes(t *testing.T) {
	runtimetest.RequireRoot(t)
	pts := runtime.ProbeTypes()
	if len(pts) != 18 {
		t.Errorf("%d probe types", len(pts))
	}
	var lines []string
	for _, pt := range pts {
		if pt.Err == nil {
			lines = append(lines, pt.Provider+": yes")
		} else {
			lines = append(lines, fmt.Sprintf("%s: no (%v)", pt.Provider, pt.Err))
		}
		if pt.Provider == "kprobe" && (pt.Err == nil) != (runtime.CheckFeature(runtime.FeatureKprobe) == nil) {
			t.Errorf("kprobe's probe type disagrees with the kprobe feature")
		}
	}
	t.Logf("probe types on this kernel:\n%s", strings.Join(lines, "\n"))
	if documentedMachine() {
		for _, pt := range pts {
			want := !map[string]bool{"kprobe": true, "kretprobe": true, "kfunc": true, "kretfunc": true, "hardware": true}[pt.Provider]
			if (pt.Err == nil) != want {
				t.Errorf("%s: available=%v, documented %v", pt.Provider, pt.Err == nil, want)
			}
		}
	}
}

func TestParseKernelVersion(t *testing.T) {
	for in, want := range map[string][3]int{
		"6.18.44-fc-v669":      {6, 18, 44},
		"6.1.0-56-cloud-amd64": {6, 1, 0},
		"5.15":                 {5, 15, 0},
		"6.12.117+deb12-cloud": {6, 12, 117},
	} {
		got, err := runtime.ParseKernelVersion(in)
		if err != nil || got != want {
			t.Errorf("ParseKernelVersion(%q) = %v, %v", in, got, err)
		}
	}
	if _, err := runtime.ParseKernelVersion("bogus"); err == nil {
		t.Errorf("bogus version parsed")
	}
}

func TestCleanError(t *testing.T) {
	base := fmt.Errorf("load program: %w (MEMLOCK may be too low, consider rlimit.RemoveMemlock)", unix.EPERM)
	err := runtime.CleanError(base)
	if err.Error() != "load program: operation not permitted" || !errors.Is(err, unix.EPERM) {
		t.Errorf("CleanError = %q", err)
	}
	wrapped := &runtime.AttachError{Probe: "kfunc:vfs_read", Err: base}
	if strings.Contains(wrapped.Error(), "MEMLOCK") {
		t.Errorf("AttachError keeps the hint: %v", wrapped)
	}
	if runtime.CleanError(nil) != nil {
		t.Errorf("CleanError(nil) != nil")
	}
}
