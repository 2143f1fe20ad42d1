// Package runtimetest holds the helpers every package with kernel tests
// (tier 2: root, the live kernel) uses, so that all of them skip, fail and
// check for leaks by the same rules:
//
//   - RequireRoot skips a kernel test when not root, when -short is given
//     (tier 1 runs with -short and touches no kernel), and fails it instead
//     of skipping when CI=true and root is missing.
//   - Require(t, feature) skips with the feature probe's own sentence when
//     the running kernel lacks the feature, but fails when the kernel is at
//     or above the feature's minimum version (cilium's checkVersion rule),
//     unless the feature is one of the documented known-absent features of
//     our machines (KnownAbsent) and the probe's reason is the documented
//     one, so a skip never hides a regression.
//   - InGuest tells a test it runs inside the kernel matrix's qemu guest
//     (scripts/test-kernels.sh), where missing tools skip even under CI,
//     inconclusive probes fail, and RequireGuest lets a test assert what
//     the kernels there must have.
//   - Main is the fd-leak TestMain: it fails the package when file
//     descriptors opened by the tests are still open at the end, listing
//     each with what it points to ("anon_inode:bpf-map").
package runtimetest
