# dsm: the two commands are `make demo` and `make test`; both do all set-up first.
SHELL := /bin/bash
export PATH := /opt/swift/usr/bin:$(PATH)

PY      := .venv/bin/python
DSM_DEBUG   := .build/debug/dsm
DSM_RELEASE := .build/release/dsm
SWIFT_BUILD_FLAGS ?=

.PHONY: all setup build release test unit-test integration-test release-smoke demo catalog catalog-check bench-pull bench-convert bench-quantize bench-serve bench-bundle fuzz fuzz-short clean

all: build

## setup: install Debian packages and the Python venv the tests and demo need (idempotent)
setup:
	@bash scripts/setup.sh

## build: debug build of dsm
build: setup
	swift build $(SWIFT_BUILD_FLAGS)

## release: optimized build (used by the demo and the benchmarks)
release: setup
	swift build -c release $(SWIFT_BUILD_FLAGS)

# generated test fixtures are kept here between the two pytest runs of `make test` (see conftest.py)
FIXTURE_CACHE := $(CURDIR)/out/test-fixtures

## test: every test: catalog consistency, Swift unit tests, a short run of every fuzz target, integration tests of the
## real binary (debug build) with the live oracles (libggml, llama.cpp's converter, llama-quantize, llama-server), while
## the release binary builds beside them, then a smoke subset on the release build (scripts/test_integration.sh)
test: setup catalog-check
	swift build $(SWIFT_BUILD_FLAGS)
	swift test $(SWIFT_BUILD_FLAGS)
	FUZZ_SECONDS=$${FUZZ_SHORT_SECONDS:-10} bash scripts/fuzz.sh
	SWIFT_BUILD_FLAGS="$(SWIFT_BUILD_FLAGS)" DSM_FIXTURE_CACHE=$(FIXTURE_CACHE) bash scripts/test_integration.sh

unit-test: setup
	swift test $(SWIFT_BUILD_FLAGS)

integration-test: build
	DSM_BIN=$(CURDIR)/$(DSM_DEBUG) DSM_FIXTURE_CACHE=$(FIXTURE_CACHE) $(PY) -m pytest -q Tests/integration

## release-smoke: the release_smoke subset against the release build
release-smoke: release
	DSM_BIN=$(CURDIR)/$(DSM_RELEASE) DSM_FIXTURE_CACHE=$(FIXTURE_CACHE) $(PY) -m pytest -q -m release_smoke Tests/integration

## demo: build, start the local test hub with the bundled demo model, pull it end to end
demo: release
	DSM_BIN=$(CURDIR)/$(DSM_RELEASE) PYTHON=$(PY) bash scripts/demo.sh

## catalog: recompile registry/*.json into the binary's bundled catalog
catalog:
	python3 scripts/gen-catalog.py

catalog-check: setup
	$(PY) registry/check.py
	$(PY) scripts/gen-catalog.py --check

## bench-pull: dsm pull vs aria2c and hf download on three repo shapes from the capped test hub; hashing vs openssl
bench-pull: release
	DSM_EXTRA_PACKAGES="aria2 hyperfine" bash scripts/setup.sh
	DSM_BIN=$(CURDIR)/$(DSM_RELEASE) $(PY) scripts/bench_pull.py

## bench-convert: dsm convert vs cp (and llama.cpp's converter where torch is installed) on a 7B-shaped checkpoint
bench-convert: release
	DSM_BIN=$(CURDIR)/$(DSM_RELEASE) $(PY) scripts/bench_convert.py

## bench-quantize: dsm quantize vs llama-quantize (Q4_K_M, Q8_0; 1 and 2 threads; byte-compared) and one pass from safetensors
bench-quantize: release
	DSM_BIN=$(CURDIR)/$(DSM_RELEASE) $(PY) scripts/bench_quantize.py

## bench-serve: gateway overhead (rps, added p50/p99) vs calling a fast local upstream (nginx) directly; JSON and SSE
bench-serve: release
	DSM_EXTRA_PACKAGES="nginx-light wrk" bash scripts/setup.sh
	DSM_BIN=$(CURDIR)/$(DSM_RELEASE) $(PY) scripts/bench_serve.py

## bench-bundle: dsm export/import vs tar + zstd on a 4 GB BF16 checkpoint and its Q4_K_M GGUF (levels 1, 3, 9)
bench-bundle: release
	DSM_BIN=$(CURDIR)/$(DSM_RELEASE) $(PY) scripts/bench_bundle.py

## fuzz: every parser under libFuzzer + AddressSanitizer (Fuzz/), FUZZ_SECONDS per target (default 600); fails on any
## crash, leak, timeout or sanitizer report, leaving the input in Fuzz/crashes/<target>/ (docs/security.md)
fuzz: setup
	bash scripts/fuzz.sh

## fuzz-short: the same, 10 s per target (about a minute in all once the fuzz build is up to date)
fuzz-short: setup
	FUZZ_SECONDS=$${FUZZ_SHORT_SECONDS:-10} bash scripts/fuzz.sh

clean:
	rm -rf .build .build-fuzz out
