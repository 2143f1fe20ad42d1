// Package difftest is the differential tier (tier 3): it runs the same
// bpftrace programs through bpftrace 0.17 and through tracebook and requires
// both to produce the same normalised output and exit code.
//
// The package holds no library code; everything is in its tests:
//
//   - TestDiff runs the corpus in testdata/cases/*.txt (format described in
//     testdata/cases/README.md). Every case is run twice, as subtest
//     bpftrace/<topic>/<name> (the reference, /usr/bin/bpftrace unless the
//     -bpftrace flag says otherwise; an empty flag turns it off) and as
//     tracebook/<topic>/<name> (bin/tracebook, or the -tracebook flag or the
//     TRACEBOOK environment variable). Both must reproduce the golden file in
//     testdata/golden/<topic>/<name>.out, which -update regenerates from the
//     reference: so the reference checks the expectation as well as
//     tracebook, the scheme goawk uses against the one true awk.
//   - Deliberate differences sit in one table, testdata/known-differences.txt;
//     for those cases tracebook is held to a hand-written
//     <name>.tracebook.out instead.
//   - TestUpstream runs bpftrace's own runtime-test suites (the directive
//     format of tests/runtime in bpftrace's source tree, supplied by the user
//     through BPFTRACE_SRC) against any bpftrace-compatible binary.
//
// Both tests need root and skip in -short mode; scripts/test-diff.sh builds
// tracebook and runs the tier.
package difftest
