# dsm: the two commands are `make demo` and `make test`; both do all set-up first.
SHELL := /bin/bash
export PATH := /opt/swift/usr/bin:$(PATH)

PY      := .venv/bin/python
DSM_DEBUG   := .build/debug/dsm
DSM_RELEASE := .build/release/dsm
SWIFT_BUILD_FLAGS ?=

.PHONY: all setup build release test unit-test integration-test demo catalog catalog-check bench-pull bench-convert bench-quantize bench-serve bench-bundle clean

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

## test: every test: catalog consistency, Swift unit tests, integration tests of the real binary
test: setup catalog-check
	swift build $(SWIFT_BUILD_FLAGS)
	swift test $(SWIFT_BUILD_FLAGS)
	DSM_BIN=$(CURDIR)/$(DSM_DEBUG) $(PY) -m pytest -q Tests/integration

unit-test: setup
	swift test $(SWIFT_BUILD_FLAGS)

integration-test: build
	DSM_BIN=$(CURDIR)/$(DSM_DEBUG) $(PY) -m pytest -q Tests/integration

## demo: build, start the local test hub with the bundled demo model, pull it end to end
demo: release
	DSM_BIN=$(CURDIR)/$(DSM_RELEASE) PYTHON=$(PY) bash scripts/demo.sh

## catalog: recompile registry/*.json into the binary's bundled catalog
catalog:
	python3 scripts/gen-catalog.py

catalog-check: setup
	$(PY) registry/check.py
	$(PY) scripts/gen-catalog.py --check

## bench-pull: dsm pull vs aria2c and curl against the capped test hub; hashing vs openssl
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

clean:
	rm -rf .build out
