#!/bin/sh
# Benchmarks. Each section may be appended by whoever owns it.
set -eu
cd "$(dirname "$0")/.."

# Speed against bpftrace 0.17: attach time, per-event overhead, exit time.
sh bench/run.sh "$@"

# Jupyter kernel latency against ipykernel in the same run: start to
# kernel_info, execute round trip, and how soon a 5-probe cell's probes are
# attached (the bpftrace executor; kernel/exec_bench_test.go has the same
# figure in-process).
/usr/bin/python3 bench/kernel_bench.py --binary bin/tracebook
