#!/bin/sh
# Runs every fuzz target for FUZZTIME each (default 10m), one after another.
#   sh scripts/fuzz.sh              all targets
#   sh scripts/fuzz.sh kernel       only targets whose package contains "kernel"
# Seed corpora live in each package's testdata/fuzz/<Target>/; failures the
# fuzzer finds are written there too, and then run as ordinary tests.
# To add a target, append a "fuzz PACKAGE TARGET" line at the end.
set -eu
cd "$(dirname "$0")/.."
FUZZTIME=${FUZZTIME:-10m}
PARALLEL=${PARALLEL:-1}
only=${1:-}

fuzz() {
	case "$1" in *"$only"*) ;; *) return 0 ;; esac
	echo "== fuzz $1 $2 for $FUZZTIME"
	go test -run '^$' -fuzz "^$2\$" -fuzztime "$FUZZTIME" -parallel "$PARALLEL" "$1"
}

fuzz ./kernel FuzzDecodeFrames
fuzz ./lang FuzzCheck
fuzz ./lang FuzzScan
fuzz ./lang FuzzParse
fuzz ./lang FuzzHeader
fuzz ./runtime/codegen FuzzCompile
