#!/usr/bin/env bash
# The integration part of `make test`: the whole suite on the debug binary while the release binary builds beside it
# (the suite mostly waits on processes and sockets, so the build costs little wall time there), then the
# `release_smoke` subset on the release binary. Both pytest runs share generated fixtures (DSM_FIXTURE_CACHE).
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH=/opt/swift/usr/bin:$PATH
PY=.venv/bin/python
export DSM_FIXTURE_CACHE=${DSM_FIXTURE_CACHE:-$PWD/out/test-fixtures}
mkdir -p out
log=out/release-build.log
# shellcheck disable=SC2086 # SWIFT_BUILD_FLAGS holds several flags
swift build -c release ${SWIFT_BUILD_FLAGS:-} > "$log" 2>&1 &
build=$!
DSM_BIN=$PWD/.build/debug/dsm $PY -m pytest -q Tests/integration
tests=$?
if ! wait "$build"; then
  echo "test: the release build failed; last lines of $log:" >&2
  tail -40 "$log" >&2
  exit 1
fi
echo "test: release build finished ($(grep -c . "$log") lines of output in $log)"
[ "$tests" -eq 0 ] || exit "$tests"
DSM_BIN=$PWD/.build/release/dsm $PY -m pytest -q -m release_smoke Tests/integration
