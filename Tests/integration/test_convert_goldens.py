"""dsm convert against llama.cpp's converter: every fixture and outtype must be byte-identical to the
golden made by convert_hf_to_gguf.py (Tests/Fixtures/goldens/convert/, see its README), and readable
by the gguf Python package. On a mismatch the test names the first differing KV or tensor."""
from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import FIXTURES, fmt, sha256_file

GOLDENS = FIXTURES / "goldens" / "convert"
GOLDEN_FILES = sorted(GOLDENS.glob("*.json"))


def describe_difference(gguf_path: Path, golden: dict) -> str:
    """The first KV or tensor where dsm's file and the golden disagree, for the failure message."""
    from gguf import GGUFReader
    r = GGUFReader(str(gguf_path))
    kvs = [f for f in r.fields.values() if not f.name.startswith("GGUF.")]
    gkv = golden["kv"]
    for i, (f, g) in enumerate(zip(kvs, gkv)):
        if f.name != g["key"]:
            return f"KV #{i}: dsm has {f.name!r}, llama.cpp has {g['key']!r}"
        if f.types[0].name != g["type"]:
            return f"KV {f.name}: type {f.types[0].name} vs {g['type']}"
        if g["type"] not in ("ARRAY",) and "value" in g:
            v = f.parts[f.data[0]]
            mine = bytes(v).decode() if g["type"] == "STRING" else v.tolist()[0]
            if isinstance(g["value"], (str, bool, int)) and mine != g["value"]:
                return f"KV {f.name}: {mine!r} vs {g['value']!r}"
    if len(kvs) != len(gkv):
        return f"{len(kvs)} KVs vs {len(gkv)}: {[f.name for f in kvs][len(gkv):]} / {[g['key'] for g in gkv][len(kvs):]}"
    for i, (t, g) in enumerate(zip(r.tensors, golden["tensors"])):
        mine = {"name": t.name, "shape": [int(x) for x in t.shape], "ggml_type": t.tensor_type.name}
        want = {k: g[k] for k in ("name", "shape", "ggml_type")}
        if mine != want:
            return f"tensor #{i}: {mine} vs {want}"
        if hashlib.sha256(bytes(t.data)).hexdigest() != g["sha256"]:
            return f"tensor {t.name}: data differs"
    if len(r.tensors) != len(golden["tensors"]):
        return f"{len(r.tensors)} tensors vs {len(golden['tensors'])}"
    return "header bytes differ (padding or alignment)"


# a few of them also run against the release build (make test's release_smoke run)
RELEASE_SMOKE = {"qwen2.bf16", "deepseek-v3-fp8.auto", "deepseek-v2-lite.f16"}


@pytest.mark.parametrize("golden_path", [pytest.param(p, id=p.stem, marks=[pytest.mark.release_smoke] if p.stem in RELEASE_SMOKE else [])
                                         for p in GOLDEN_FILES])
def test_convert_is_byte_identical_to_llama_cpp(golden_path, convert_fixtures, run_dsm, tmp_path):
    golden = json.loads(golden_path.read_text())
    src = convert_fixtures / golden["source_dir_name"]
    # the fixture generator must reproduce the exact inputs the golden was made from
    for f in golden["source_files"]:
        assert sha256_file(src / f["name"]) == f["sha256"], f"fixture file {f['name']} differs from the golden's input"
    out = tmp_path / "out.gguf"
    rc, stdout, stderr = run_dsm(["convert", str(src), "--outtype", golden["outtype"], "-o", str(out), "--json"], timeout=300)
    assert rc == 0, "convert failed\n" + fmt(rc, stdout, stderr)
    report = json.loads(stdout)
    assert report["sha256"] == sha256_file(out), "--json sha256 does not match the file"
    assert not list(tmp_path.glob("*.tmp-*")), "temp file left behind"
    if sha256_file(out) != golden["file_sha256"]:
        pytest.fail(f"{golden_path.stem}: not byte-identical to llama.cpp: {describe_difference(out, golden)}")
    assert out.stat().st_size == golden["file_size"]
    # the gguf package (llama.cpp's gguf-py from PyPI) reads it
    from gguf import GGUFReader
    r = GGUFReader(str(out))
    assert len(r.tensors) == golden["n_tensors"]
