#!/usr/bin/env python3
"""`make bench-convert`: convert a 7B-shaped BF16 checkpoint (DeepSeek-R1-Distill-Qwen-7B widths, 4 of its 28
layers, random weights (one block of normal BF16 values repeated, not a trained model), about 4 GB in two shards)
with dsm to bf16 and f16, next to `cp` of the same bytes and llama.cpp's convert_hf_to_gguf.py (the one `make setup`
unpacks into .venv/llama-src, run with the .venv's torch). dsm's files are byte-compared with llama.cpp's; a goal that
was not met is reported as **missed**. Writes docs/benchmarks.md section "convert"."""
from __future__ import annotations

import filecmp
import json
import os
import shutil
import struct
import sys
import time
from pathlib import Path

sys.path.insert(0, os.path.dirname(__file__))
from benchlib import ROOT, machine_line, replace_section, run_measured  # noqa: E402

DSM = os.environ.get("DSM_BIN", str(ROOT / ".build" / "release" / "dsm"))
OUT = ROOT / "out" / "bench-convert"
LAYERS = int(os.environ.get("BENCH_CONVERT_LAYERS", "4"))
HIDDEN, FF, HEADS, KV, VOCAB = 3584, 18944, 28, 4, 152064
LLAMA_SRC = Path(os.environ.get("LLAMA_CPP_SRC", str(ROOT / ".venv" / "llama-src" / "llama.cpp")))
GOLDEN_PY = Path(os.environ.get("CONVERTER_PYTHON", sys.executable))  # the .venv's: torch 2.13.0+cpu, transformers 4.57.6


def tensors():
    head = HIDDEN // HEADS
    yield "model.embed_tokens.weight", [VOCAB, HIDDEN]
    for i in range(LAYERS):
        p = f"model.layers.{i}."
        yield p + "input_layernorm.weight", [HIDDEN]
        yield p + "post_attention_layernorm.weight", [HIDDEN]
        yield p + "self_attn.q_proj.weight", [HIDDEN, HIDDEN]
        yield p + "self_attn.q_proj.bias", [HIDDEN]
        yield p + "self_attn.k_proj.weight", [KV * head, HIDDEN]
        yield p + "self_attn.k_proj.bias", [KV * head]
        yield p + "self_attn.v_proj.weight", [KV * head, HIDDEN]
        yield p + "self_attn.v_proj.bias", [KV * head]
        yield p + "self_attn.o_proj.weight", [HIDDEN, HIDDEN]
        yield p + "mlp.gate_proj.weight", [FF, HIDDEN]
        yield p + "mlp.up_proj.weight", [FF, HIDDEN]
        yield p + "mlp.down_proj.weight", [HIDDEN, FF]
    yield "model.norm.weight", [HIDDEN]
    yield "lm_head.weight", [VOCAB, HIDDEN]


def write_shard(path: Path, items, block: bytes):
    header, offset = {"__metadata__": {"format": "pt"}}, 0
    for name, shape in sorted(items):
        n = 2
        for d in shape:
            n *= d
        header[name] = {"dtype": "BF16", "shape": shape, "data_offsets": [offset, offset + n]}
        offset += n
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text)
        left = offset
        while left:
            chunk = block[: min(len(block), left)]
            f.write(chunk)
            left -= len(chunk)
    return {name: path.name for name, _ in items}


def make_checkpoint() -> Path:
    d = OUT / "DeepSeek-R1-Distill-Qwen-7B-shaped"
    if (d / "model.safetensors.index.json").exists():
        return d
    d.mkdir(parents=True, exist_ok=True)
    import numpy as np
    rng = np.random.default_rng(0)
    block = ((rng.standard_normal(32 << 20, dtype=np.float32) * 0.02).view(np.uint32) >> 16).astype(np.uint16).tobytes()
    items = list(tensors())
    half = len(items) // 2
    weight_map = {}
    weight_map.update(write_shard(d / "model-00001-of-00002.safetensors", items[:half], block))
    weight_map.update(write_shard(d / "model-00002-of-00002.safetensors", items[half:], block))
    (d / "model.safetensors.index.json").write_text(json.dumps({"metadata": {}, "weight_map": weight_map}))
    src = ROOT / "out" / "convert-fixtures" / "DeepSeek-R1-Distill-Qwen-7B"
    if not src.exists():
        import subprocess
        subprocess.run([sys.executable, str(ROOT / "Tests" / "Fixtures" / "make_convert_fixtures.py"), str(ROOT / "out" / "convert-fixtures"),
                        "--only", "qwen2"], check=True)
    for f in ("tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "generation_config.json"):
        shutil.copy(src / f, d / f)
    cfg = json.loads((src / "config.json").read_text())
    cfg.update(hidden_size=HIDDEN, intermediate_size=FF, num_attention_heads=HEADS, num_key_value_heads=KV, num_hidden_layers=LAYERS)
    (d / "config.json").write_text(json.dumps(cfg, indent=2))
    return d


def main():
    ckpt = make_checkpoint()
    shards = sorted(ckpt.glob("*.safetensors"))
    size = sum(p.stat().st_size for p in shards)
    for p in shards:  # warm the page cache so every tool reads the same way
        with open(p, "rb") as f:
            while f.read(64 << 20):
                pass
    rows = []
    dest = OUT / "cp"
    shutil.rmtree(dest, ignore_errors=True)
    dest.mkdir()
    runs = int(os.environ.get("BENCH_RUNS", "2"))

    def best(make_cmd, cleanup):
        # The disk's speed varies from run to run on this machine: keep the fastest of `runs`.
        out = []
        for _ in range(runs):
            out.append(run_measured(make_cmd()))
            cleanup()
        return min(out, key=lambda r: r[0])

    cp = best(lambda: ["cp", *shards, dest], lambda: [p.unlink() for p in dest.iterdir()])
    rows.append(("cp of the shards", cp))
    shutil.rmtree(dest)
    results = {}
    for outtype in ("bf16", "f16"):
        target = OUT / f"dsm.{outtype}.gguf"
        results[outtype] = best(lambda: [DSM, "convert", ckpt, "--outtype", outtype, "-o", target, "-q"], lambda: target.unlink())
        rows.append((f"dsm convert --outtype {outtype}", results[outtype]))
        run_measured([DSM, "convert", ckpt, "--outtype", outtype, "-o", target, "-q"])  # kept for the byte comparison
    if not (LLAMA_SRC / "convert_hf_to_gguf.py").exists():
        raise SystemExit(f"llama.cpp's converter is missing at {LLAMA_SRC}: run `make setup`")
    peer, identical = {}, {}
    for outtype in ("bf16", "f16"):
        target = OUT / f"llama.{outtype}.gguf"
        env = dict(os.environ, PYTHONPATH=str(LLAMA_SRC / "gguf-py"))
        peer[outtype] = run_measured([GOLDEN_PY, LLAMA_SRC / "convert_hf_to_gguf.py", ckpt, "--outtype", outtype, "--outfile", target], env=env)
        rows.append((f"llama.cpp convert_hf_to_gguf.py --outtype {outtype}", peer[outtype]))
        identical[outtype] = filecmp.cmp(target, OUT / f"dsm.{outtype}.gguf", shallow=False)
        target.unlink()
        (OUT / f"dsm.{outtype}.gguf").unlink()
    table = "\n".join(f"| {name} | {w:.2f} | {size / w / 1e6:.0f} | {c:.2f} | {rss:.0f} |" for name, (w, c, rss) in rows)

    def verdict(ok: bool) -> str:
        return "met" if ok else "**missed**"
    cp_ratio = results["bf16"][0] / cp[0]
    speedup = {t: peer[t][0] / results[t][0] for t in peer}
    rss = max(results["bf16"][2], results["f16"][2])
    notes = [f"- dsm bf16 takes {cp_ratio:.2f}x the time of `cp` (goal: at most 1.5x: {verdict(cp_ratio <= 1.5)}); "
             f"f16 {results['f16'][0] / cp[0]:.2f}x.",
             f"- dsm vs llama.cpp's converter: {speedup['bf16']:.1f}x faster for bf16, {speedup['f16']:.1f}x for f16 "
             f"(goal: at least 5x: {verdict(min(speedup.values()) >= 5)}).",
             "- Byte-identical to llama.cpp's output: "
             + ", ".join(f"{t} {'yes' if ok else '**no (missed)**'}" for t, ok in identical.items()) + "."]
    faster = "finished before" if results["bf16"][0] < cp[0] else "took longer than"
    notes.append(f"- In this run dsm {faster} `cp` of the same bytes. Both write the whole file, so the disk's speed, which varies "
                 "from run to run on this machine, bounds them and moves these ratios"
                 + f"; llama.cpp's f16 path took {peer['f16'][0] / cp[0]:.1f}x the time of `cp`.")
    notes.append(f"- dsm's peak RSS: {rss:.0f} MiB (goal: under 1024 MiB: {verdict(rss < 1024)}); its input is memory-mapped and released tensor by tensor.")
    body = f"""## Convert (`make bench-convert`)

Measured {time.strftime('%Y-%m-%d')} on {machine_line()}; release build, page cache warm, best of {runs} runs for cp and dsm (llama.cpp: 1 run). Input: a BF16 checkpoint
with DeepSeek-R1-Distill-Qwen-7B's widths (hidden {HIDDEN}, ffn {FF}, vocab {VOCAB}) and {LAYERS} of its 28 layers,
{size / 1e9:.2f} GB in two shards of random BF16 values (one 64 MiB block of normal values, std 0.02, repeated: not a
trained model, and far more compressible than one). Output to the same disk.

| tool | wall s | MB/s | CPU s | peak RSS MiB |
|---|---|---|---|---|
{table}

{chr(10).join(notes)}
"""
    replace_section("convert", body)
    print(body)


if __name__ == "__main__":
    main()
