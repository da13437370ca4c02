"""dsm convert from the store and from folders: registration with provenance, and bad input refused with a
clear message, nothing registered and no file left behind."""
from __future__ import annotations

import json
import shutil
import struct
import subprocess
import sys
from pathlib import Path

import pytest

from conftest import DEMO_REPO, FIXTURES, fmt, pull_ok, sha256_file


@pytest.fixture(scope="module")
def odd_fixture(tmp_path_factory):
    """The smallest convert fixture (Qwen2 with hidden 120), one safetensors file."""
    out = tmp_path_factory.mktemp("odd")
    subprocess.run([sys.executable, str(FIXTURES / "make_convert_fixtures.py"), str(out), "--only", "qwen2-odd"],
                   check=True, timeout=600, stdout=subprocess.DEVNULL)
    return out / "tiny-qwen2-odd"


def damaged_copy(src: Path, dst: Path) -> Path:
    shutil.copytree(src, dst)
    return dst


def names(run_dsm, dsm_home):
    rc, out, err = run_dsm(["list", "--json"], dsm_home=dsm_home)
    assert rc == 0, fmt(rc, out, err)
    return [m["name"] for m in json.loads(out)]


def test_pulled_model_is_converted_and_registered(run_dsm, dsm_home):
    ref = "hf.co/" + DEMO_REPO
    pulled = pull_ok(run_dsm, ref)
    rc, out, err = run_dsm(["convert", pulled["name"], "--json"], timeout=300)
    assert rc == 0, fmt(rc, out, err)
    report = json.loads(out)
    name = report["name"]
    assert name == f"hf.co/{DEMO_REPO}:bf16", f"a BF16 source converts to bf16 under NAME-OUTTYPE: {report}"
    blob = Path(report["path"])
    assert blob.parent == dsm_home / "blobs" and sha256_file(blob) == report["sha256"] == blob.name.removeprefix("sha256-")
    rc, out, err = run_dsm(["show", name, "--json"])
    assert rc == 0, fmt(rc, out, err)
    shown = json.loads(out)
    assert shown["kind"] == "gguf"
    assert shown["source"]["commit"] == pulled["manifest"], "provenance must name the source manifest digest"
    assert shown["source"]["revision"] == "outtype=bf16" and shown["tool"].startswith("dsm ")
    assert shown["files"][0]["sha256"] == report["sha256"]
    assert not list((dsm_home / "partials").glob("convert.tmp-*")), "the working file must be adopted, not left behind"
    from gguf import GGUFReader
    r = GGUFReader(report["path"])
    assert r.fields["general.architecture"].parts[-1].tobytes() == b"qwen2"
    assert r.fields["general.name"].parts[-1].tobytes() == b"DeepSeek R1 Distill Qwen Demo"


@pytest.mark.parametrize("damage, expect", [
    ("truncate-shard", "truncated"),
    ("lying-offsets", "data_offsets"),
    ("index-missing-tensor", "named in the index but missing"),
    ("dtype-shape-mismatch", "bytes but data_offsets span"),
    ("unknown-architecture", "DeepseekV4ForCausalLM is not supported"),
    ("malformed-tokenizer", "tokenizer.json is not valid JSON"),
    ("no-config", "config.json"),
])
def test_bad_input_is_refused_and_nothing_is_left(damage, expect, odd_fixture, run_dsm, dsm_home, tmp_path):
    d = damaged_copy(odd_fixture, tmp_path / "tiny-qwen2-odd")
    st = d / "model.safetensors"
    if damage == "truncate-shard":
        data = st.read_bytes()
        st.write_bytes(data[: len(data) - 1000])
    elif damage in ("lying-offsets", "dtype-shape-mismatch"):
        data = bytearray(st.read_bytes())
        n = struct.unpack("<Q", data[:8])[0]
        header = json.loads(data[8:8 + n])
        name = sorted(k for k in header if k != "__metadata__")[0]
        if damage == "lying-offsets":
            header[name]["data_offsets"][1] += 2
        else:
            header[name]["shape"] = [header[name]["shape"][0] + 1] + header[name]["shape"][1:]
        text = json.dumps(header, separators=(",", ":")).encode()
        text += b" " * (n - len(text)) if len(text) <= n else b""
        assert len(text) == n, "test setup: header grew"
        data[8:8 + n] = text
        st.write_bytes(bytes(data))
    elif damage == "index-missing-tensor":
        header_n = struct.unpack("<Q", st.read_bytes()[:8])[0]
        header = json.loads(st.read_bytes()[8:8 + header_n])
        wm = {k: "model.safetensors" for k in header if k != "__metadata__"}
        wm["model.layers.99.mlp.up_proj.weight"] = "model.safetensors"
        (d / "model.safetensors.index.json").write_text(json.dumps({"metadata": {}, "weight_map": wm}))
    elif damage == "unknown-architecture":
        cfg = json.loads((d / "config.json").read_text())
        cfg["architectures"] = ["DeepseekV4ForCausalLM"]
        (d / "config.json").write_text(json.dumps(cfg))
    elif damage == "malformed-tokenizer":
        (d / "tokenizer.json").write_text('{"model": {"type": "BPE", ')
    elif damage == "no-config":
        (d / "config.json").unlink()
    before = names(run_dsm, dsm_home)
    rc, out, err = run_dsm(["convert", str(d)], timeout=300)
    assert rc == 1, f"{damage} must be refused\n" + fmt(rc, out, err)
    assert expect in err, f"{damage}: the message should say {expect!r}\n" + fmt(rc, out, err)
    assert names(run_dsm, dsm_home) == before, "nothing may be registered"
    blobs = dsm_home / "blobs"
    assert not blobs.exists() or not [p for p in blobs.iterdir() if p.stat().st_size > 1_000_000], "no GGUF blob may be stored"
    leftovers = [p for p in dsm_home.rglob("*") if p.is_file() and ".tmp-" in p.name]
    assert not leftovers, f"temp files left: {leftovers}"


def test_output_path_is_atomic_and_unknown_outtype_refused(odd_fixture, run_dsm, tmp_path):
    (tmp_path / "out").mkdir()
    out = tmp_path / "out" / "x.gguf"
    rc, so, se = run_dsm(["convert", str(odd_fixture), "--outtype", "q4_k_m", "-o", str(out)])
    assert rc != 0 and "--outtype must be one of" in se, fmt(rc, so, se)
    rc, so, se = run_dsm(["convert", str(odd_fixture), "--outtype", "f16", "-o", str(out), "--threads", "1"], timeout=300)
    assert rc == 0, fmt(rc, so, se)
    one = sha256_file(out)
    rc, so, se = run_dsm(["convert", str(odd_fixture), "--outtype", "f16", "-o", str(out), "--threads", "2"], timeout=300)
    assert rc == 0 and sha256_file(out) == one, "output must not depend on the thread count"
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["x.gguf"], "only the finished file may remain"


def test_chat_template_from_chat_template_jinja(odd_fixture, run_dsm, tmp_path):
    """Recent transformers save the chat template as chat_template.jinja; gguf-py then uses that file."""
    d = damaged_copy(odd_fixture, tmp_path / "tiny-qwen2-odd")
    cfg = json.loads((d / "tokenizer_config.json").read_text())
    template = cfg.pop("chat_template")
    (d / "tokenizer_config.json").write_text(json.dumps(cfg))
    (d / "chat_template.jinja").write_text(template)
    out = tmp_path / "x.gguf"
    rc, so, se = run_dsm(["convert", str(d), "-o", str(out)], timeout=300)
    assert rc == 0, fmt(rc, so, se)
    from gguf import GGUFReader
    assert GGUFReader(str(out)).fields["tokenizer.chat_template"].parts[-1].tobytes().decode() == template


def test_interrupted_store_conversion_leaves_nothing(convert_fixtures, run_dsm, dsm_home):
    """Ctrl-C in the middle of a conversion (the 307 MB V3 fixture on one thread takes seconds)."""
    import signal
    import time
    p = run_dsm.start(["convert", str(convert_fixtures / "DeepSeek-V3"), "--threads", "1"])
    time.sleep(0.5)
    p.send_signal(signal.SIGINT)
    rc = p.wait(timeout=60)
    assert rc == 130, f"expected the interrupted conversion to exit 130, got {rc}"
    left = [q for q in dsm_home.rglob("*") if q.is_file() and q.stat().st_size > 1_000_000]
    assert not left, f"an interrupted conversion left {left}"
    assert "interrupted" in Path(p.err_path).read_text()
