#!/bin/sh
# Speed benchmarks, tracebook against bpftrace, measured side by side in one
# run (see bench/main.go for what each figure is). Needs root.
#
#   bench/run.sh                 both tools
#   bench/run.sh -runs 9         more repetitions
#
# Environment: BPFTRACE (default /usr/bin/bpftrace), TRACEBOOK (default
# bin/tracebook, built first). Until tracebook runs programs, only
# bpftrace's column has figures and the table says why tracebook's has none.
set -eu
cd "$(dirname "$0")/.."
GO=${GO:-go}
if [ -z "${TRACEBOOK:-}" ] && ! $GO build -trimpath -o bin/tracebook .; then
	echo "bench: tracebook does not build; measuring the bin/tracebook there is, if any" >&2
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
gcc -O2 -o "$tmp/tbwork" difftest/testdata/progs/tbwork.c
$GO build -o "$tmp/bench" ./bench
"$tmp/bench" -workload "$tmp/tbwork" \
	-bpftrace "${BPFTRACE:-/usr/bin/bpftrace}" \
	-tracebook "${TRACEBOOK:-$PWD/bin/tracebook}" "$@"
