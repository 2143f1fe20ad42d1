# tracebook — build, run and test.
#
# make run    installs what is missing, builds, installs the kernelspec and
#             opens Jupyter on notebooks/
# make test   installs the test dependencies and runs every tier
#
# Each test tier has its own script under scripts/, so the tiers can be run
# (and changed) one at a time.

GO      ?= go
BIN     := bin/tracebook
PKGS    := ./...
export CGO_ENABLED ?= 0

.PHONY: all build run deps deps-run deps-test test test-pure test-kernel \
        test-diff test-clients test-kernels bench fuzz vet fmt clean

all: build

build:
	$(GO) build -trimpath -o $(BIN) .

deps-run:
	sh scripts/deps.sh run

deps-test:
	sh scripts/deps.sh test

deps: deps-run deps-test

run: deps-run build
	sh scripts/run.sh

# Every tier, in order of cost. In CI (CI=true) a tier that cannot run fails.
test: deps-test vet test-pure test-kernel test-diff test-clients test-kernels

vet:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt needed:"; echo "$$out"; exit 1; fi
	$(GO) vet $(PKGS)

# Tier 1: no root, no kernel.
test-pure:
	$(GO) test -count=1 -short $(PKGS)

# Tier 2: root, the live kernel.
test-kernel: build
	sh scripts/test-kernel.sh

# Tier 3: the same programs through bpftrace 0.17 and tracebook.
test-diff: build
	sh scripts/test-diff.sh

# Tier 4: real Jupyter clients.
test-clients: build
	sh scripts/test-clients.sh

# kprobe/kretprobe/fentry/fexit inside Debian's kernels under qemu.
test-kernels:
	sh scripts/test-kernels.sh

bench: build
	sh scripts/bench.sh

fuzz:
	sh scripts/fuzz.sh

fmt:
	gofmt -w $$(git ls-files '*.go')

clean:
	rm -rf bin
