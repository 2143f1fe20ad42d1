#!/bin/sh
# Tier 2, the kernel tier: every package's tests against the live kernel,
# as root. Without -short, tests gated by runtime/runtimetest load programs,
# attach them and drive workloads; tests of features this kernel lacks skip
# with the feature probe's reason (and fail when the kernel is new enough
# to have them, unless the absence is a documented one: see
# runtime/runtimetest.KnownAbsent).
#
#   sh scripts/test-kernel.sh                  every package
#   sh scripts/test-kernel.sh -run Attach ./runtime/   go test flags and packages
#
# In CI (CI=true) not being root is a failure; elsewhere the kernel tests
# then skip and the script says so. Packages run one at a time (-p 1): the
# kernel tests measure rates and counts that a second package's workload
# would disturb.
set -eu
cd "$(dirname "$0")/.."
GO=${GO:-go}
if [ "$(id -u)" != 0 ]; then
	if [ "${CI:-}" = true ]; then
		echo "test-kernel: CI=true and not root: the kernel tier needs root" >&2
		exit 1
	fi
	echo "test-kernel: not root, so the kernel tests will skip" >&2
fi
# Test every package unless the arguments name some (./...-style paths).
havepkg=false
for a in "$@"; do
	case "$a" in
	./*) havepkg=true ;;
	esac
done
[ "$havepkg" = true ] || set -- "$@" ./...
exec $GO test -count=1 -p 1 -timeout 30m "$@"
