"""dsm fit through the real binary: this machine as detected (checked against /proc and os.cpu_count), planned
machines given by flags, catalog names before any pull, a stored GGUF sized from its own tensors (checked with the
gguf package), bad flags, and the warnings pull and serve print when a model will not fit."""
from __future__ import annotations

import json
import os
import subprocess

import pytest

from conftest import DEMO_REPO, fmt, parse_json_stdout


def fit(run_dsm, *args, ok=True):
    rc, out, err = run_dsm(["fit", *map(str, args), "--json"])
    assert (rc == 0) == ok, fmt(rc, out, err)
    return parse_json_stdout(rc, out, err) if ok else err


def meminfo_total() -> int:
    for line in open("/proc/meminfo"):
        if line.startswith("MemTotal:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no MemTotal")


def test_this_machine_and_the_catalog_overview(run_dsm, dsm_home):
    r = fit(run_dsm)
    m = r["machine"]
    assert m["cores"] == os.cpu_count() and m["ram_bytes"] == meminfo_total() and not m["planned"], m
    assert m["gpus"] == [], "no nvidia-smi here: no GPUs, and no failure"
    assert 0 < r["usable_ram_bytes"] < m["ram_bytes"] and m["free_disk_bytes"] > 0
    rows = {row["name"]: row for row in r["catalog"]}
    assert rows["deepseek-r1:1.5b"]["suggestion"]["verdict"] == "CPU only (slow)", rows["deepseek-r1:1.5b"]
    assert rows["deepseek-r1:671b"].get("suggestion") is None, "671B does not fit a test machine"
    assert "deepseek-v4:pro" not in rows, "entries without shape facts are not sized"
    rc, out, err = run_dsm(["fit"])
    assert rc == 0 and "Largest that runs at all:" in out and "no NVIDIA GPU" in out, fmt(rc, out, err)


def test_planned_machines(run_dsm, dsm_home):
    big = fit(run_dsm, "deepseek-r1:671b", "--gpus", "8x80", "--ram", "512")
    assert big["machine"]["planned"] and len(big["machine"]["gpus"]) == 8
    s = big["suggestion"]
    assert s["verdict"] == "fits on GPU" and s["type"] in ("Q4_K_M", "Q5_K_M", "Q6_K"), s
    assert big["serve_flags"] == ["--ctx-size", "4096", "--gpu-layers", "62"]
    assert big["kv_bytes_per_token"] == 61 * 576 * 2, "MLA caches the 576-wide latent per layer"
    assert big["reference"]["gpu_count"] == 8

    mid = fit(run_dsm, "deepseek-r1:70b", "--gpus", "24", "--ram", "64")
    s = mid["suggestion"]
    assert s["verdict"] == "partial GPU offload" and s["type"] == "Q4_K_M" and 10 < s["gpu_layers"] < 80, s
    assert mid["serve_flags"][-2:] == ["--gpu-layers", str(s["gpu_layers"])]

    long = fit(run_dsm, "deepseek-r1:7b", "--gpus", "8", "--ctx", "131072")
    short = fit(run_dsm, "deepseek-r1:7b", "--gpus", "8", "--ctx", "4096")
    q4 = lambda r: next(p for p in r["plans"] if p["type"] == "Q4_K_M")
    assert q4(long)["kv_bytes"] == 32 * q4(short)["kv_bytes"] and q4(short)["verdict"] == "fits on GPU" != q4(long)["verdict"]

    rc, out, err = run_dsm(["fit", "deepseek-r1:671b", "--gpus", "0", "--ram", "16"])
    assert rc == 0 and "Nothing fits" in out and "short" in out, fmt(rc, out, err)
    rc, out, err = run_dsm(["fit", "deepseek-r1:32b", "--disk", "10"])
    assert rc == 0 and "not enough" in out and "Reference table (32B class" in out, fmt(rc, out, err)


def test_a_stored_gguf_is_sized_from_its_tensors(run_dsm, dsm_home, repos, tmp_path):
    from gguf import GGUFReader
    q8 = tmp_path / "demo-q8.gguf"
    rc, out, err = run_dsm(["quantize", repos / DEMO_REPO, "--q8", "-o", q8, "--quiet"], timeout=300)
    assert rc == 0, fmt(rc, out, err)
    rc, out, err = run_dsm(["create", "demo-r1:q8", "--from", q8])
    assert rc == 0, fmt(rc, out, err)
    r = fit(run_dsm, "demo-r1:q8", "--ctx", "2048")
    tensors = GGUFReader(str(q8)).tensors
    plan = next(p for p in r["plans"] if p["type"] == "Q8_0")
    assert plan["weight_bytes"] == sum(int(t.n_bytes) for t in tensors), "the GGUF's own tensors are its weight bytes"
    assert r["source"].startswith("stored GGUF, qwen2, Q8_0") and r["model"] == "demo-r1:q8@v1"
    assert fit(run_dsm, q8, "--ctx", "2048")["plans"] == r["plans"], "a .gguf path is sized the same way"


@pytest.mark.parametrize("args,message", [
    (["nothing:here"], "neither a stored model"),
    (["deepseek-r1:7b", "--gpus", "8xabc"], "--gpus"),
    (["deepseek-r1:7b", "--ctx", "10"], "--ctx must be"),
    (["deepseek-r1:7b", "--ram=-1"], "--ram must be"),
    (["deepseek-v4:pro"], "no layer and attention facts"),
])
def test_bad_input_is_refused(run_dsm, args, message):
    rc, out, err = run_dsm(["fit", *args])
    assert rc == 1 and message in err, fmt(rc, out, err)


def test_pull_and_serve_warn_when_it_will_not_fit(run_dsm, dsm_home, tmp_path, repos):
    rc, out, err = run_dsm(["pull", "deepseek-r1:671b"], timeout=60)
    assert "warning: deepseek-r1:671b will not run on this machine" in err and "dsm fit deepseek-r1:671b" in err, fmt(rc, out, err)
    q4 = tmp_path / "demo-q4.gguf"
    rc, out, err = run_dsm(["quantize", repos / DEMO_REPO, "--q4", "-o", q4, "--quiet"], timeout=300)
    assert rc == 0, fmt(rc, out, err)
    rc, out, err = run_dsm(["create", "demo-r1:latest", "--from", q4])
    assert rc == 0, fmt(rc, out, err)
    rc, out, err = run_dsm(["serve", "demo-r1", "--ctx-size", "100000000", "--print-commands", "--runtime-path", "/bin/true"])
    assert rc == 0 and "warning: demo-r1:latest needs about" in err and "--ctx-size 100000000" in out, fmt(rc, out, err)
    rc, out, err = run_dsm(["serve", "demo-r1", "--print-commands", "--runtime-path", "/bin/true"])
    assert rc == 0 and "warning" not in err, fmt(rc, out, err)
