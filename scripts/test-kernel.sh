#!/bin/sh
# Tier 2, the kernel tier: the packages whose tests load, attach and run
# BPF programs on the live kernel, without -short. Needs root; in CI
# (CI=true) a test that cannot run fails instead of skipping (see
# runtime/runtimetest). The differential tier (./difftest) has its own
# script, scripts/test-diff.sh.
#
#   scripts/test-kernel.sh                    every kernel-tier package
#   scripts/test-kernel.sh -run TestSession   extra flags go to go test
#
# Environment: GO (default go), KERNEL_PKGS (packages, default below).
set -eu
cd "$(dirname "$0")/.."
GO=${GO:-go}
if [ "$(id -u)" != 0 ]; then
	if [ "${CI:-}" = true ]; then
		echo "test-kernel: CI=true and not root: the kernel tier must run" >&2
		exit 1
	fi
	echo "test-kernel: not root; the kernel-tier tests will skip" >&2
fi
PKGS=${KERNEL_PKGS:-"./runtime/... . ./kernel/... ./install/..."}
# -p 1: the packages share the kernel (perf events, the ring buffer's
# memory) and some tests count events system-wide.
exec $GO test -count=1 -p 1 -timeout 20m $PKGS "$@"
