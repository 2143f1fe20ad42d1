#!/bin/sh
# Re-record render's golden files from the real bpftrace 0.17
# (/usr/bin/bpftrace; needs root). Each Go test case holds the program it
# records; the outputs are facts about bpftrace and are stored verbatim.
set -e
cd "$(dirname "$0")/../.."
go test ./render -count=1 -run 'TestGolden|TestDiagGolden' -update-golden "$@"
git status --short render/testdata/golden
