#!/bin/sh
# Runs bpftrace's own runtime tests (tests/runtime of a bpftrace source tree
# you supply; nothing of it is committed here) against a bpftrace-compatible
# binary, with the semantics of bpftrace's Python runner.
#
#   BPFTRACE_SRC=~/src/bpftrace scripts/test-upstream.sh            tracebook
#   BPFTRACE_SRC=~/src/bpftrace scripts/test-upstream.sh -upstream.bin=/usr/bin/bpftrace
#   ... -upstream.run='call.*'        only some tests (glob over suite.name)
#
# A bare clone works once a tree is extracted from it, e.g. bpftrace 0.17:
#   git --git-dir=bpftrace.git archive 1326f040a0f8 tests | tar -x -C /tmp/bt017
#   BPFTRACE_SRC=/tmp/bt017 scripts/test-upstream.sh
set -eu
cd "$(dirname "$0")/.."
: "${BPFTRACE_SRC:?set BPFTRACE_SRC to a bpftrace source tree}"
GO=${GO:-go}
$GO build -trimpath -o bin/tracebook .
exec $GO test -count=1 -timeout 60m ./difftest -run TestUpstream \
	-tracebook="${TRACEBOOK:-$PWD/bin/tracebook}" "$@"
