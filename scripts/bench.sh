#!/bin/sh
# Benchmarks. Each section may be appended by whoever owns it.
set -eu
cd "$(dirname "$0")/.."

# Speed against bpftrace 0.17: attach time, per-event overhead, exit time.
sh bench/run.sh "$@"
