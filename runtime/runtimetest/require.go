package runtimetest

import (
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/tracebook/tracebook/runtime"
)

// InCI reports whether the tests run in CI (CI=true), where a test that
// cannot run is a failure, not a skip.
func InCI() bool { return os.Getenv("CI") == "true" }

// RequireRoot marks a kernel-tier test: it skips under -short (the pure
// tier) and without root, failing instead in CI.
func RequireRoot(tb testing.TB) {
	tb.Helper()
	if testing.Short() {
		tb.Skip("kernel tier: skipped with -short")
	}
	if os.Geteuid() != 0 {
		if InCI() {
			tb.Fatal("kernel tier needs root (CI=true, so this is a failure)")
		}
		tb.Skip("kernel tier needs root")
	}
}

// RequireTool returns the path of a command the test needs (gcc, bpftrace,
// bpftool), skipping when it is missing and failing in CI. In the kernel
// matrix's guest, which has no such tools, it skips (see InGuest).
func RequireTool(tb testing.TB, name string) string {
	tb.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if InGuest() {
			tb.Skipf("%s is not installed (the kernel matrix's guest has only busybox, bash and libc)", name)
		}
		if InCI() {
			tb.Fatalf("%s is not installed (CI=true, so this is a failure)", name)
		}
		tb.Skipf("%s is not installed", name)
	}
	return p
}

// KnownAbsent lists the features the machines we develop and test on are
// known to lack even though their kernels are new enough, each with the
// start of the reason its probe gives there. Require lets a test skip for
// such a feature only when the probe's reason starts with exactly this
// text, so a different failure on the same machine still fails.
//
//   - kprobe: the kernel is built without CONFIG_KPROBES.
//   - kprobe_multi: follows from the missing kprobes here; in the qemu
//     kernel matrix, Debian 12's 6.1 cloud kernel is built without
//     CONFIG_FPROBE (see ../shared/reference/kernel-matrix.md).
//   - kfunc: the kernel refuses every BPF trampoline program at load time
//     with EPERM and an empty verifier log (a policy of this build).
//   - hardware: the VM exposes no CPU PMU (opening cpu-cycles gives
//     ENOENT). Its availability never depends on the kernel version, so it
//     is listed for documentation only.
var KnownAbsent = []struct{ Feature, Reason string }{
	{runtime.FeatureKprobe, "this kernel has no kprobes (CONFIG_KPROBES is not set"},
	{runtime.FeatureKprobeMulti, "this kernel has no kprobe_multi links: this kernel has no kprobes (CONFIG_KPROBES is not set"},
	{runtime.FeatureKprobeMulti, "this kernel has no kprobe_multi links (CONFIG_FPROBE is not set)"},
	{runtime.FeatureKfunc, "this kernel refuses fentry/fexit programs (loading one failed with EPERM"},
	{runtime.FeatureHardware, "this machine has no hardware perf events (no CPU PMU"},
}

func knownAbsent(feature string, err error) bool {
	for _, k := range KnownAbsent {
		if k.Feature == feature && strings.HasPrefix(err.Error(), k.Reason) {
			return true
		}
	}
	return false
}

// Require skips the test when the running kernel lacks feature (one of
// runtime.FeatureNames), with the probe's reason as the skip message. It
// fails the test instead when the kernel is at least the feature's minimum
// version and the absence is not a documented KnownAbsent one, and when the
// probe is inconclusive in CI. It implies RequireRoot.
func Require(tb testing.TB, feature string) {
	tb.Helper()
	RequireRoot(tb)
	err := runtime.CheckFeature(feature)
	if err == nil {
		return
	}
	if errors.Is(err, runtime.ErrNotSupported) {
		min := runtime.FeatureMinimumVersion(feature)
		if runtime.KernelAtLeast(min) && !knownAbsent(feature, err) {
			v, _ := runtime.KernelVersion()
			tb.Fatalf("%s is not supported even though this kernel (%d.%d.%d) is at least %s: %v",
				feature, v[0], v[1], v[2], min, err)
		}
		tb.Skip(err.Error())
	}
	if InCI() || InGuest() {
		tb.Fatalf("feature probe %s was inconclusive: %v", feature, err)
	}
	tb.Skipf("feature probe %s was inconclusive: %v", feature, err)
}
