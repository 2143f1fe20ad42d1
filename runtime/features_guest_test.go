package runtime_test

import (
	"errors"
	"fmt"
	goruntime "runtime"
	"strings"
	"testing"

	"github.com/tracebook/tracebook/runtime"
	"github.com/tracebook/tracebook/runtime/runtimetest"
)

// On the development machines the kprobe, kprobe_multi and kfunc tests skip
// (no kprobes; trampolines refused), as documented in
// runtimetest.KnownAbsent. TestGuestFeatures is the other half of that
// bargain: inside the kernel matrix's guests, whose kernels have those
// features, the same probes must report them and the same gates must let
// the tests run. Otherwise a probe that wrongly said "not supported" would
// skip every kprobe test everywhere and hide the regression.
//
// What each kernel must have is read from its build configuration (the
// package's /boot/config-*, copied into the guest), not from the running
// kernel, so the test cannot agree with a broken probe.

// guestFeature is a feature with the configuration options it needs.
type guestFeature struct {
	name    string
	options []string // all must be "y"
	// required features must be there on every kernel line of the
	// matrix: testing them is what the matrix is for.
	required bool
}

var guestFeatures = []guestFeature{
	{runtime.FeatureBTF, []string{"CONFIG_DEBUG_INFO_BTF"}, true},
	{runtime.FeatureTracepoint, []string{"CONFIG_BPF_EVENTS"}, true},
	{runtime.FeatureRawTP, []string{"CONFIG_BPF_EVENTS"}, true},
	{runtime.FeatureTPBTF, []string{"CONFIG_BPF_EVENTS", "CONFIG_DEBUG_INFO_BTF"}, false},
	{runtime.FeatureKprobe, []string{"CONFIG_KPROBES", "CONFIG_KPROBE_EVENTS"}, true},
	// kprobe_multi links are built on fprobe: Debian 12's 6.1 kernel has
	// kprobes but not CONFIG_FPROBE, its 6.12 kernel has both.
	{runtime.FeatureKprobeMulti, []string{"CONFIG_KPROBES", "CONFIG_FPROBE"}, false},
	// fentry/fexit need BPF trampolines, which attach through ftrace's
	// direct calls.
	{runtime.FeatureKfunc, []string{"CONFIG_DEBUG_INFO_BTF", "CONFIG_BPF_JIT", "CONFIG_DYNAMIC_FTRACE_WITH_DIRECT_CALLS"}, true},
	{runtime.FeatureUprobe, []string{"CONFIG_UPROBE_EVENTS"}, false},
	{runtime.FeatureRingbuf, []string{"CONFIG_BPF_SYSCALL"}, false},
	{runtime.FeatureGetFuncIP, []string{"CONFIG_KPROBES"}, false},
	{runtime.FeatureIterTask, []string{"CONFIG_DEBUG_INFO_BTF"}, false},
	// comm is read through the task's BTF pointer where this is there.
	{runtime.FeatureTaskBTF, []string{"CONFIG_BPF_EVENTS", "CONFIG_DEBUG_INFO_BTF"}, false},
	// override(): Debian builds without it, which the probe must say in
	// both kernels' own wording of the refusal.
	{runtime.FeatureOverride, []string{"CONFIG_BPF_KPROBE_OVERRIDE"}, false},
}

func TestGuestFeatures(t *testing.T) {
	runtimetest.RequireGuest(t)
	runtimetest.RequireRoot(t)
	rel := runtimetest.KernelRelease()
	cfg := runtimetest.KernelConfig()
	if cfg == nil {
		t.Fatalf("no build configuration for %s (scripts/test-kernels.sh copies it to /ktest/config-%s)", rel, rel)
	}
	for _, f := range guestFeatures {
		var missing []string
		for _, o := range f.options {
			if cfg[o] != "y" {
				missing = append(missing, o)
			}
		}
		want := len(missing) == 0
		if f.required && !want {
			t.Errorf("%s: %s is built without %s, so the matrix cannot test %s on it",
				f.name, rel, strings.Join(missing, ", "), f.name)
			continue
		}
		err := runtime.CheckFeature(f.name)
		gate := requireOutcome(f.name)
		switch {
		case want && err != nil:
			t.Errorf("%s: the probe says %q, but %s is built with %s", f.name, err, rel, strings.Join(f.options, ", "))
		case want && gate != "run":
			t.Errorf("%s: runtimetest.Require would %s, but %s is built with %s", f.name, gate, rel, strings.Join(f.options, ", "))
		case !want && !errors.Is(err, runtime.ErrNotSupported):
			t.Errorf("%s: the probe says %v, but %s is built without %s", f.name, err, rel, strings.Join(missing, ", "))
		case !want && !strings.HasPrefix(gate, "skip: "):
			// The absence is in the config: tests must skip, not fail.
			t.Errorf("%s: runtimetest.Require would %s; %s is built without %s, a documented absence",
				f.name, gate, rel, strings.Join(missing, ", "))
		case want:
			t.Logf("%s: available, as %s says", f.name, strings.Join(f.options, ", "))
		default:
			t.Logf("%s: not available (%v), as %s not set says; tests %s", f.name, err, strings.Join(missing, ", "), gate)
		}
	}
	// The providers the matrix exists for.
	for _, p := range []string{"kprobe", "kretprobe", "kfunc", "kretfunc"} {
		if err := runtime.ProviderError(p); err != nil {
			t.Errorf("provider %s: %v", p, err)
		}
	}
}

// requireOutcome runs runtimetest.Require for feature against a recording
// testing.TB and says what it would do to a test: "run", "skip: why" or
// "fail: why".
func requireOutcome(feature string) string {
	g := &gateTB{outcome: "run"}
	done := make(chan struct{})
	go func() {
		defer close(done)
		runtimetest.Require(g, feature)
	}()
	<-done
	return g.outcome
}

// gateTB records the first Skip or Fatal and ends its goroutine there, as
// testing.T does. Require uses no other method (the embedded nil TB would
// panic).
type gateTB struct {
	testing.TB
	outcome string
}

func (g *gateTB) Helper() {}
func (g *gateTB) stop(kind string, args ...any) {
	g.outcome = kind + ": " + strings.TrimSuffix(fmt.Sprintln(args...), "\n")
	goruntime.Goexit()
}
func (g *gateTB) Skip(args ...any)             { g.stop("skip", args...) }
func (g *gateTB) Skipf(f string, args ...any)  { g.stop("skip", fmt.Sprintf(f, args...)) }
func (g *gateTB) Fatal(args ...any)            { g.stop("fail", args...) }
func (g *gateTB) Fatalf(f string, args ...any) { g.stop("fail", fmt.Sprintf(f, args...)) }
func (g *gateTB) SkipNow()                     { g.stop("skip") }
func (g *gateTB) FailNow()                     { g.stop("fail") }
func (g *gateTB) Errorf(f string, args ...any) { g.stop("fail", fmt.Sprintf(f, args...)) }
func (g *gateTB) Error(args ...any)            { g.stop("fail", args...) }
