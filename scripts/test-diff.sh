#!/bin/sh
# Tier 3, the differential tier: every program of difftest/testdata/cases
# runs through bpftrace 0.17 (the reference) and through tracebook, and both
# must print the golden output. Needs root. In CI (CI=true) a missing
# bpftrace, gcc or tracebook binary fails the tier instead of skipping it.
#
#   scripts/test-diff.sh                     build, then run the whole tier
#   scripts/test-diff.sh -test.run 'TestDiff/tracebook/printf/'   one topic, tracebook only
#   scripts/test-diff.sh -update             regenerate the goldens from bpftrace
#
# Environment: BPFTRACE (reference binary, default /usr/bin/bpftrace; empty
# turns the reference off), TRACEBOOK (binary under test, default
# bin/tracebook), DIFF_PARALLEL (cases run at once, default 4: most of a
# bpftrace run is spent waiting, so more than the 2 cores is fine).
#
# With BPFTRACE_SRC=/path/to/bpftrace it also runs bpftrace's own runtime
# tests against tracebook (see scripts/test-upstream.sh).
set -eu
cd "$(dirname "$0")/.."
GO=${GO:-go}
$GO build -trimpath -o bin/tracebook .
TRACEBOOK=${TRACEBOOK:-$PWD/bin/tracebook}
BPFTRACE=${BPFTRACE-/usr/bin/bpftrace}
if [ "${CI:-}" = true ] && [ ! -x "${BPFTRACE:-/nonexistent}" ]; then
	echo "test-diff: CI=true and the reference bpftrace ($BPFTRACE) is missing; run scripts/deps.sh test" >&2
	exit 1
fi
run="TestDiff"
[ -n "${BPFTRACE_SRC:-}" ] && run="TestDiff|TestUpstream"
# The test binary runs directly (not under go test, which hides a passing
# package's output) so the per-topic summary is always shown.
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
$GO test -c -o "$tmp/difftest.test" ./difftest
cd difftest
"$tmp/difftest.test" -test.count=1 -test.timeout=20m -test.run "$run" \
	-test.parallel "${DIFF_PARALLEL:-4}" \
	-bpftrace="$BPFTRACE" -tracebook="$TRACEBOOK" "$@"
