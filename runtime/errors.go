package runtime

import (
	"errors"
	"strings"
)

// memlockHint is what cilium/ebpf appends to every EPERM from a map create
// or program load whose verifier log is empty. On kernels that account BPF
// memory to the memory cgroup (5.11+) the rlimit plays no part, and EPERM
// means a policy refused the request (lockdown, a missing capability, a
// kernel that blocks trampolines). Users must never be told to raise
// MEMLOCK for that.
const memlockHint = " (MEMLOCK may be too low, consider rlimit.RemoveMemlock)"

// cleanError wraps an error from cilium/ebpf and drops its MEMLOCK hint
// from the text, keeping the chain for errors.Is/As.
type cleanError struct{ err error }

func (e *cleanError) Error() string { return strings.ReplaceAll(e.err.Error(), memlockHint, "") }
func (e *cleanError) Unwrap() error { return e.err }

// CleanError returns err with cilium's misleading MEMLOCK hint removed from
// its message (nil stays nil). Loaders call it on every load and map
// creation error before showing it.
func CleanError(err error) error {
	if err == nil || !strings.Contains(err.Error(), memlockHint) {
		return err
	}
	var ce *cleanError
	if errors.As(err, &ce) {
		return err
	}
	return &cleanError{err}
}
