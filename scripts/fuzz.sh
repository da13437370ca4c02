#!/usr/bin/env bash
# Builds the libFuzzer targets of Fuzz/ (with AddressSanitizer) and runs each one for a set time.
#
#   scripts/fuzz.sh [TARGET...]          every target when none is named (FuzzGGUF, FuzzTar, ...)
#   FUZZ_SECONDS=600                     seconds per target (default 600; `make fuzz-short` uses 10)
#   FUZZ_JOBS=2                          targets run side by side (default: the number of cores)
#
# Seeds come from Fuzz/corpus/<target> (checked in, read only); what a run learns goes to
# .build-fuzz/corpus/<target>, so later runs start from it. A crash, leak, timeout (10 s), out-of-memory
# (2 GiB) or any sanitizer report stops that target, leaves the input in Fuzz/crashes/<target>/ and makes this
# script exit 1. The per-target executions and rate are printed and written to .build-fuzz/fuzz-results.tsv.
set -uo pipefail
cd "$(dirname "$0")/.."
export PATH=/opt/swift/usr/bin:$PATH

SECONDS_PER_TARGET=${FUZZ_SECONDS:-600}
JOBS=${FUZZ_JOBS:-$(nproc)}
SCRATCH=.build-fuzz
ALL=(FuzzSafetensors FuzzGGUF FuzzTar FuzzBundleTOC FuzzState FuzzHub FuzzReferences FuzzRequestFields FuzzAPIKeys)
TARGETS=("${@:-${ALL[@]}}")
[ $# -eq 0 ] && TARGETS=("${ALL[@]}")

# Largest input per target: enough for the formats' interesting structure (a tar needs three 512-byte blocks).
max_len() {
  case $1 in
    FuzzTar) echo 16384 ;;
    FuzzSafetensors|FuzzGGUF|FuzzBundleTOC|FuzzState|FuzzRequestFields) echo 8192 ;;
    FuzzReferences) echo 512 ;;
    *) echo 2048 ;;
  esac
}

started=$(date +%s)
bin=$SCRATCH/release
# SwiftPM spends tens of seconds loading the package graph even when nothing changed; skip it when no source the
# targets are built from is newer than every target (the stamp is written after a successful build).
stamp=$SCRATCH/fuzz-build.stamp
sources=(Package.swift Fuzz/Package.swift Fuzz/Sources Sources/DSMSystem Sources/DSMHub Sources/DSMFormats Sources/DSMStore
         Sources/DSMRegistry Sources/DSMBundle Sources/DSMServeCore Sources/CCurl Sources/COpenSSL Sources/CZstd)
if [ -f "$stamp" ] && [ -z "$(find "${sources[@]}" -newer "$stamp" -print -quit)" ]; then
  echo "fuzz: targets are up to date (nothing changed since the last build)"
else
echo "fuzz: building ${#TARGETS[@]} targets (-sanitize=fuzzer,address, release) into $SCRATCH"
# ld.gold warns once per target about ASan's local symbols; nothing else of its output is dropped.
if ! swift build --package-path Fuzz --scratch-path "$SCRATCH" -c release -Xswiftc -sanitize=fuzzer,address 2>&1 \
     | grep -v "Cannot export local symbol"; then
  echo "fuzz: build failed" >&2
  exit 1
fi
touch "$stamp"
fi
echo "fuzz: build took $(( $(date +%s) - started )) s; running each target for ${SECONDS_PER_TARGET} s, $JOBS at a time"
logs=$SCRATCH/logs
mkdir -p "$logs"

run_one() {
  local t=$1 work=$SCRATCH/corpus/$1 crashes=Fuzz/crashes/$1
  mkdir -p "$work" "$crashes"
  local dict=()
  [ -f "Fuzz/dict/$t.dict" ] && dict=(-dict="Fuzz/dict/$t.dict")
  # Swift's own crash backtracer would run under ASan after a trap and muddle the report: libFuzzer reports instead.
  SWIFT_BACKTRACE=enable=no ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1} \
  "$bin/$t" "$work" "Fuzz/corpus/$t" "${dict[@]}" -max_total_time="$SECONDS_PER_TARGET" -timeout=10 -rss_limit_mb=2048 \
    -max_len="$(max_len "$t")" -print_final_stats=1 -artifact_prefix="$crashes/" >"$logs/$t.log" 2>&1
  echo $? >"$logs/$t.rc"
}

running=0
for t in "${TARGETS[@]}"; do
  [ -x "$bin/$t" ] || { echo "fuzz: no target $t (have: ${ALL[*]})" >&2; exit 2; }
  run_one "$t" &
  running=$((running + 1))
  if [ "$running" -ge "$JOBS" ]; then wait -n; running=$((running - 1)); fi
done
wait

status=0
printf "%-18s %8s %14s %10s %s\n" target seconds executions "exec/s" result | tee "$SCRATCH/fuzz-results.tsv.txt"
: >"$SCRATCH/fuzz-results.tsv"
for t in "${TARGETS[@]}"; do
  log=$logs/$t.log
  rc=$(cat "$logs/$t.rc" 2>/dev/null || echo 99)
  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -1)
  rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -1)
  result=ok
  if [ "$rc" != 0 ] || grep -qE "ERROR: (AddressSanitizer|LeakSanitizer|libFuzzer)|SUMMARY: (AddressSanitizer|libFuzzer)" "$log"; then
    result="FAILED (exit $rc): $(grep -m1 -oE "(Test unit|artifact) written to [^ ]+|ERROR: [A-Za-z]+: [^\n]{0,80}" "$log" | head -1)"
    status=1
  fi
  printf "%-18s %8s %14s %10s %s\n" "$t" "$SECONDS_PER_TARGET" "${execs:-?}" "${rate:-?}" "$result"
  printf "%s\t%s\t%s\t%s\t%s\n" "$t" "$SECONDS_PER_TARGET" "${execs:-0}" "${rate:-0}" "$result" >>"$SCRATCH/fuzz-results.tsv"
done
echo "fuzz: $(( $(date +%s) - started )) s in all; logs in $logs"
[ $status -eq 0 ] || echo "fuzz: FAILED: see the logs above; each crashing input is in Fuzz/crashes/<target>/ (reproduce: $bin/<target> <file>)" >&2
exit $status
