package runtimetest

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// The kernel matrix (scripts/test-kernels.sh) runs the kernel-tier test
// binaries inside Debian's kernels under qemu, with TRACEBOOK_KTEST=1 in
// the environment. The guest has busybox, bash and a shared libc, and
// neither gcc, go nor bpftrace: tests that need those skip there with that
// reason, even when the host that started the matrix has CI=true. A feature
// probe that is inconclusive fails there, as in CI.

// InGuest reports whether the tests run inside the kernel matrix's qemu
// guest.
func InGuest() bool { return os.Getenv("TRACEBOOK_KTEST") == "1" }

// GuestSlowdown is how much longer code takes in the kernel matrix's guest
// than on the host: qemu's TCG emulates every instruction (measured 11 to
// 29 times slower on CPU-bound Go code; more when the host is loaded).
const GuestSlowdown = 20

// Timeout scales a test's time limit (a reply deadline, a wait for
// events) to where it runs: GuestSlowdown times d inside the kernel
// matrix's guest, d elsewhere. Use it for limits that only guard against
// a hang, never for the durations a test measures.
func Timeout(d time.Duration) time.Duration {
	if InGuest() {
		return d * GuestSlowdown
	}
	return d
}

// HostOnly skips a test inside the kernel matrix's guest when its cost
// under emulation is out of proportion to what another kernel adds (a
// performance bound, a verifier run of a million instructions), saying
// why. The host's kernel tier still runs it, so nothing goes untested;
// use it only for tests whose outcome does not depend on the kernel
// version.
func HostOnly(tb testing.TB, why string) {
	tb.Helper()
	if InGuest() {
		tb.Skip("host only (the kernel matrix runs it on the host's kernel tier): " + why)
	}
}

// RequireGuest skips a test that only means something inside the kernel
// matrix's guest: an assertion about the kernels there.
func RequireGuest(tb testing.TB) {
	tb.Helper()
	if !InGuest() {
		tb.Skip("runs only inside the kernel matrix's qemu guest (TRACEBOOK_KTEST=1, set by make test-kernels)")
	}
}

// KernelRelease is the running kernel's release ("6.1.0-56-cloud-amd64").
func KernelRelease() string {
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		return ""
	}
	return unix.ByteSliceToString(u.Release[:])
}

// KernelConfig returns the build configuration of the running kernel as
// CONFIG_ name → value ("y", "m", a number or a quoted string); an option
// that is not set is absent. It reads, in order, the copy of the kernel
// package's config the matrix puts in the guest (/ktest/config-<release>),
// /boot/config-<release> and /proc/config.gz. It returns nil when none
// exists.
func KernelConfig() map[string]string {
	rel := KernelRelease()
	for _, p := range []string{"/ktest/config-" + rel, "/boot/config-" + rel, "/proc/config.gz"} {
		data, err := os.ReadFile(p)
		if err != nil {
			continue
		}
		if strings.HasSuffix(p, ".gz") {
			zr, err := gzip.NewReader(bytes.NewReader(data))
			if err != nil {
				continue
			}
			if data, err = io.ReadAll(zr); err != nil {
				continue
			}
		}
		return parseKernelConfig(data)
	}
	return nil
}

func parseKernelConfig(data []byte) map[string]string {
	out := map[string]string{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "CONFIG_") {
			continue
		}
		if k, v, ok := strings.Cut(line, "="); ok {
			out[k] = v
		}
	}
	return out
}
