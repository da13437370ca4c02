"""dsm quantize as a user runs it: into the store with provenance (after a pull, from a name, from the GGUF
`dsm convert` registered, from a plain file), --dry-run, -o / --threads / --json, bad input refused with a
clear message and nothing left, and Ctrl-C / SIGTERM / kill -9 in the middle of a run."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from conftest import DEMO_REPO, fmt, manifest_files, parse_json_stdout, pull_ok, sha256_file, verify_store

VALID_TYPES = ["Q4_0", "Q4_1", "Q5_0", "Q5_1", "Q8_0", "Q4_K_S", "Q4_K_M", "Q5_K_S", "Q5_K_M", "Q6_K", "F16", "BF16", "F32"]
REPORT_KEYS = {"path", "name", "file_type", "tensors", "bytes", "bits_per_weight", "sha256", "kernels"}
LEFTOVER = re.compile(r"quantize\.tmp-\d+-\d+\.gguf(\.tmp-\d+-\d+)?")


@pytest.fixture(scope="module")
def demo_ggufs(repos, dsm_bin, tmp_path_factory):
    """The demo model as a BF16 GGUF (dsm convert) and as Q8_0 (dsm quantize), written with -o once."""
    out = tmp_path_factory.mktemp("quantize-inputs")
    env = dict(os.environ, DSM_HOME=str(out / "unused-home"))
    files = {"bf16": out / "demo-bf16.gguf", "q8": out / "demo-q8_0.gguf"}
    subprocess.run([dsm_bin, "convert", str(repos / DEMO_REPO), "-o", str(files["bf16"]), "--quiet"],
                   check=True, timeout=300, env=env)
    subprocess.run([dsm_bin, "quantize", str(repos / DEMO_REPO), "--q8", "-o", str(files["q8"]), "--quiet"],
                   check=True, timeout=300, env=env)
    return files


def ok_json(run_dsm, args, **kw):
    rc, out, err = run_dsm([*args, "--json"], timeout=300, **kw)
    assert rc == 0, f"dsm {' '.join(map(str, args))} failed\n" + fmt(rc, out, err)
    return parse_json_stdout(rc, out, err)


def listed(run_dsm):
    return {m["name"]: m for m in ok_json(run_dsm, ["list"])}


def state(root: Path) -> dict:
    """{relative path: (size, mtime_ns)} of every file under root: enough to tell that nothing was written."""
    return {p.relative_to(root).as_posix(): (p.stat().st_size, p.stat().st_mtime_ns)
            for p in sorted(root.rglob("*")) if p.is_file()}


def gguf_summary(path):
    """(keys, {key: scalar}, tensors) of a GGUF read by the gguf package."""
    from gguf import GGUFReader
    r = GGUFReader(str(path))
    scalars = {k: f.parts[-1][0] for k, f in r.fields.items() if k.startswith("general.") and len(f.data) == 1
               and f.types and f.types[0].name.startswith("UINT")}
    return list(r.fields), scalars, list(r.tensors)


def assert_quantized_file(path, file_type: int, report: dict):
    keys, scalars, tensors = gguf_summary(path)
    assert keys[-2:] == ["general.quantization_version", "general.file_type"], f"last keys are {keys[-2:]}"
    assert scalars["general.quantization_version"] == 2 and scalars["general.file_type"] == file_type, scalars
    assert len(tensors) == report["tensors"], f"{len(tensors)} tensors in the file, --json says {report['tensors']}"
    bpw = 8 * sum(int(t.n_bytes) for t in tensors) / sum(int(t.n_elements) for t in tensors)
    assert abs(bpw - report["bits_per_weight"]) < 1e-9, f"bits per weight: file {bpw}, --json {report['bits_per_weight']}"
    assert Path(path).stat().st_size == report["bytes"] and sha256_file(path) == report["sha256"], report
    return {t.tensor_type.name for t in tensors}


def assert_registered(run_dsm, dsm_home, report, name, repo, commit, revision):
    assert report["name"] == name, report
    blob = Path(report["path"])
    assert blob == dsm_home / "blobs" / f"sha256-{report['sha256']}", f"the result must be stored as its blob: {blob}"
    row = listed(run_dsm)[name]
    assert (row["kind"], row["repo"], row["files"], row["size"]) == ("gguf", repo, 1, report["bytes"]), row
    shown = ok_json(run_dsm, ["show", name])
    assert shown["source"] == {"endpoint": "dsm quantize", "repo": repo, "revision": revision, "commit": commit}, shown
    assert shown["tool"] == "dsm " + run_dsm(["--version"])[1].strip(), shown["tool"]
    assert [(f["path"], f["sha256"], f["size"]) for f in shown["files"]] == [("model.gguf", report["sha256"], report["bytes"])]
    assert not [p for p in dsm_home.rglob("*") if ".tmp-" in p.name], "temp files left in the store"
    verify_store(dsm_home)
    return shown


def test_latest_pull_to_q4_is_registered_with_provenance(run_dsm, dsm_home):
    pulled = pull_ok(run_dsm, "deepseek-r1:7b", timeout=120)
    report = ok_json(run_dsm, ["quantize", "--q4"])
    assert REPORT_KEYS <= set(report) and report["file_type"] == "Q4_K_M" and report["kernels"] in ("avx2", "baseline"), report
    assert_registered(run_dsm, dsm_home, report, "deepseek-r1:7b-q4_K_M", "deepseek-r1:7b", pulled["manifest"], "file_type=Q4_K_M")
    types = assert_quantized_file(report["path"], 15, report)
    assert {"Q4_K", "Q6_K", "F32"} <= types, f"Q4_K_M mixes Q4_K and Q6_K (F32 norms): {types}"
    assert set(listed(run_dsm)) == {"deepseek-r1:7b", "deepseek-r1:7b-q4_K_M"}


def test_q8_by_name_and_quantizing_the_converted_gguf(run_dsm, dsm_home):
    pulled = pull_ok(run_dsm, "deepseek-r1:7b", timeout=120)
    q8 = ok_json(run_dsm, ["quantize", "deepseek-r1:7b", "--q8"])
    assert_registered(run_dsm, dsm_home, q8, "deepseek-r1:7b-q8_0", "deepseek-r1:7b", pulled["manifest"], "file_type=Q8_0")
    assert "Q8_0" in assert_quantized_file(q8["path"], 7, q8)
    one_pass = ok_json(run_dsm, ["quantize", "deepseek-r1:7b", "--q4"])

    converted = ok_json(run_dsm, ["convert", "deepseek-r1:7b"])
    assert converted["name"] == "deepseek-r1:7b-bf16", converted
    bf16_manifest = ok_json(run_dsm, ["show", "deepseek-r1:7b-bf16"])["manifest"]
    dry = ok_json(run_dsm, ["quantize", "--q8", "--dry-run"])
    assert dry["source"] == "deepseek-r1:7b", "without SOURCE the latest *pulled* model is used, not the newer GGUF"
    two_pass = ok_json(run_dsm, ["quantize", "deepseek-r1:7b-bf16", "--q4"])
    assert two_pass["sha256"] == one_pass["sha256"], "convert + quantize must give the bytes of the one-pass quantization"
    # The same bytes are the same registry version: nothing new is recorded, the first provenance stays.
    assert_registered(run_dsm, dsm_home, two_pass, "deepseek-r1:7b-q4_K_M", "deepseek-r1:7b", pulled["manifest"],
                      "file_type=Q4_K_M")

    # quantizing X-bf16 to BF16 would register X-bf16 again, over its own input: refused
    rc, out, err = run_dsm(["quantize", "deepseek-r1:7b-bf16", "--type", "BF16"])
    assert rc == 1 and "-o" in err and "replacing" in err, fmt(rc, out, err)
    assert ok_json(run_dsm, ["show", "deepseek-r1:7b-bf16"])["manifest"] == bf16_manifest, "the converted model was replaced"


def test_a_named_version_is_read_from_the_registry(demo_ggufs, run_dsm, dsm_home, tmp_path):
    """NAME@vN (and @stable, @TAG) picks a version; a bare name is the committed stable version."""
    name = "demo-r1:upgrade"
    for f in ("bf16", "q8"):
        rc, out, err = run_dsm(["create", name, "--from", demo_ggufs[f]])
        assert rc == 0, fmt(rc, out, err)
    direct = ok_json(run_dsm, ["quantize", demo_ggufs["bf16"], "--q4", "-o", tmp_path / "direct.gguf"])
    by_version = ok_json(run_dsm, ["quantize", name + "@v1", "--q4", "-o", tmp_path / "v1.gguf"])
    by_stable = ok_json(run_dsm, ["quantize", name, "--q4", "-o", tmp_path / "stable.gguf"])
    assert direct["sha256"] == by_version["sha256"] == by_stable["sha256"], "v1 (stable) is the BF16 file"
    for args in (["release", name, "--canary", "v2", "--weight", "10"], ["promote", name], ["tag", name + "@v1", "old"]):
        rc, out, err = run_dsm(args)
        assert rc == 0, fmt(rc, out, err)
    by_tag = ok_json(run_dsm, ["quantize", name + "@old", "--q4", "-o", tmp_path / "old.gguf"])
    assert by_tag["sha256"] == direct["sha256"]
    q8_input = ok_json(run_dsm, ["quantize", name, "--q8", "--dry-run"])
    assert q8_input["source"] == name, q8_input
    rc, out, err = run_dsm(["quantize", name + "@v7", "--q4"])
    assert rc == 1 and "has no version v7" in err, fmt(rc, out, err)
    rc, out, err = run_dsm(["convert", "deepseek-r1:7b@canary"])
    assert rc == 1 and "neither a folder nor a model" in err, fmt(rc, out, err)


def test_plain_file_registers_local_name(demo_ggufs, run_dsm, dsm_home):
    report = ok_json(run_dsm, ["quantize", demo_ggufs["bf16"], "--type", "q4_k_m"])
    assert_registered(run_dsm, dsm_home, report, "local/demo-bf16:q4_K_M", str(demo_ggufs["bf16"]),
                      sha256_file(demo_ggufs["bf16"]), "file_type=Q4_K_M")
    assert_quantized_file(report["path"], 15, report)


def test_dry_run_lists_every_tensor_and_writes_nothing(run_dsm, dsm_home, tmp_path):
    pull_ok(run_dsm, "deepseek-r1:7b", timeout=120)
    before = state(dsm_home)
    planned = ok_json(run_dsm, ["quantize", "--q4", "--dry-run"])
    rc, text, err = run_dsm(["quantize", "--q4", "--dry-run"])
    assert rc == 0, fmt(rc, text, err)
    out = tmp_path / "out" / "dry.gguf"
    rc, so, se = run_dsm(["quantize", "deepseek-r1:7b", "--q4", "--dry-run", "-o", out])
    assert rc == 0, fmt(rc, so, se)
    assert state(dsm_home) == before, "a dry run changed the store"
    assert not out.parent.exists(), "a dry run with -o created the output (or its folder)"

    assert planned["source"] == "deepseek-r1:7b" and planned["file_type"] == "Q4_K_M", planned
    tensors = planned["tensors"]
    assert sum(t["bytes"] for t in tensors) == planned["tensor_bytes"], "tensor sizes must add up to tensor_bytes"
    assert planned["tensor_bytes"] < planned["bytes"], "the file is the tensors plus the header"

    lines = text.splitlines()
    assert len(lines) == len(tensors) + 1 and "nothing written" in lines[-1], text
    for i, (line, t) in enumerate(zip(lines, tensors), 1):
        shape = "[" + ", ".join(map(str, t["shape"])) + "]"
        assert re.match(rf"\[\s*{i}/{len(tensors)}\]\s+{re.escape(t['name'])}\s+{re.escape(shape)}\s+{t['from']}\s+→\s+{t['type']}\s", line), line

    # the plan is what a real run writes: same tensors in the same order, types, shapes, sizes, file size
    real = tmp_path / "real.gguf"
    rc, so, se = run_dsm(["quantize", "deepseek-r1:7b", "--q4", "-o", real], timeout=300)
    assert rc == 0, fmt(rc, so, se)
    _, _, written = gguf_summary(real)
    assert [(t.name, t.tensor_type.name, [int(d) for d in t.shape], int(t.n_bytes)) for t in written] == \
        [(t["name"], t["type"], t["shape"], t["bytes"]) for t in tensors]
    assert real.stat().st_size == planned["bytes"], "--dry-run's bytes must be the size of the file a real run writes"


def error_inputs(demo_ggufs, d: Path) -> dict:
    bf16 = demo_ggufs["bf16"].read_bytes()
    (d / "half.gguf").write_bytes(bf16[: len(bf16) // 2])
    (d / "garbage.gguf").write_bytes(b"this is not a model file\n" * 4000)
    i = bf16.index(b"general.architecture")
    (d / "noarch.gguf").write_bytes(bf16[:i] + b"general.Architecture" + bf16[i + 20:])
    return {"bf16": str(demo_ggufs["bf16"]), "q8": str(demo_ggufs["q8"]), "half": str(d / "half.gguf"),
            "garbage": str(d / "garbage.gguf"), "noarch": str(d / "noarch.gguf"), "missing": str(d / "missing.gguf")}


ERRORS = {  # args (with {input} placeholders), exit code, what the message must say
    "unknown-type": (["{bf16}", "--type", "Q3_K"], 64, ["unknown type 'Q3_K'; valid types: " + ", ".join(VALID_TYPES)]),
    "no-type": (["{bf16}"], 64, ["choose one type: --q4 (Q4_K_M), --q8 (Q8_0) or --type NAME"]),
    "two-flags": (["{bf16}", "--q4", "--q8"], 64, ["choose one type"]),
    "flag-and-type": (["{bf16}", "--q8", "--type", "Q6_K"], 64, ["choose one type"]),
    "already-quantized": (["{q8}", "--q4"], 1, ["is already quantized (Q8_0)", "--allow-requantize"]),
    "truncated": (["{half}", "--q4"], 1, ["half.gguf: not a valid GGUF file", "truncated"]),
    "garbage": (["{garbage}", "--q4"], 1, ["garbage.gguf: not a valid GGUF file", "bad magic"]),
    "no-architecture": (["{noarch}", "--q4"], 1, ["no general.architecture key"]),
    "missing-source": (["{missing}", "--q4"], 1, ["missing.gguf' is neither a file, a folder nor a model"]),
    "empty-store": (["--q4"], 1, ["none pulled yet", "dsm pull"]),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_errors_are_clear_and_leave_nothing(case, demo_ggufs, run_dsm, dsm_home, tmp_path):
    inputs = error_inputs(demo_ggufs, tmp_path)
    args, code, messages = ERRORS[case]
    args = [a.format(**inputs) for a in args]
    outdir = tmp_path / "out"
    outdir.mkdir()
    for extra in ([], ["-o", outdir / "x.gguf"]):
        rc, out, err = run_dsm(["quantize", *args, *extra], timeout=120)
        ctx = f"{case} {extra}\n" + fmt(rc, out, err)
        assert rc == code, ctx
        for m in messages:
            assert m in err, f"the message should say {m!r}\n{ctx}"
        assert "Traceback" not in err and "Fatal error" not in err, ctx
        assert not manifest_files(dsm_home), "nothing may be registered\n" + ctx
        blobs = dsm_home / "blobs"
        assert not blobs.exists() or not list(blobs.iterdir()), "no blob may be stored\n" + ctx
        assert not [p for p in dsm_home.rglob("*") if p.is_file()], "no file may be left in the store\n" + ctx
        assert not list(outdir.iterdir()), "no output or temp file may be left beside -o\n" + ctx


def start_until_writing(run_dsm, args, folder: Path, pattern: str, timeout=60):
    """Starts dsm and returns once its temp file exists in ``folder`` and it is still running."""
    p = run_dsm.start(args)
    deadline = time.monotonic() + timeout
    while not list(folder.glob(pattern)):
        if p.poll() is not None or time.monotonic() > deadline:
            rc, out, err = run_dsm.wait(p, timeout=5)
            raise AssertionError(f"dsm finished (or stalled) before its temp file {pattern} appeared\n" + fmt(rc, out, err))
        time.sleep(0.01)
    time.sleep(0.2)
    assert p.poll() is None, "dsm finished before it could be interrupted; the test needs a slower run"
    return p


@pytest.mark.parametrize("sig, into", [(signal.SIGINT, "store"), (signal.SIGTERM, "store"), (signal.SIGINT, "-o")])
def test_interrupt_exits_130_and_leaves_nothing(sig, into, run_dsm, dsm_home, tmp_path):
    pull_ok(run_dsm, "deepseek-r1:7b", timeout=120)
    names = set(listed(run_dsm))
    args = ["quantize", "deepseek-r1:7b", "--type", "Q5_K_M", "--threads", "1"]
    if into == "store":
        folder, pattern = dsm_home / "partials", "quantize.tmp-*.gguf.tmp-*"
    else:
        folder, pattern = tmp_path / "out", "x.gguf.tmp-*"
        folder.mkdir()
        args += ["-o", folder / "x.gguf"]
    p = start_until_writing(run_dsm, args, folder, pattern)
    os.killpg(p.pid, sig)  # the whole process group, as a terminal does for Ctrl-C
    rc, out, err = run_dsm.wait(p, timeout=30)
    assert rc == 130 and "interrupted" in err, fmt(rc, out, err)
    assert not list(folder.iterdir()), f"left behind: {list(folder.iterdir())}"
    assert not [q for q in dsm_home.rglob("*") if ".tmp-" in q.name], "temp files left in the store"
    assert set(listed(run_dsm)) == names, "an interrupted quantization registered something"
    verify_store(dsm_home)


def test_kill9_leaves_the_store_consistent(run_dsm, dsm_home):
    pull_ok(run_dsm, "deepseek-r1:7b", timeout=120)
    names = set(listed(run_dsm))
    args = ["quantize", "deepseek-r1:7b", "--type", "Q5_K_M", "--threads", "1"]
    p = start_until_writing(run_dsm, args, dsm_home / "partials", "quantize.tmp-*.gguf.tmp-*")
    os.killpg(p.pid, signal.SIGKILL)
    rc, out, err = run_dsm.wait(p, timeout=30)
    assert rc == -signal.SIGKILL, fmt(rc, out, err)
    assert set(listed(run_dsm)) == names, "a killed quantization left a manifest"
    verify_store(dsm_home)
    left = list((dsm_home / "partials").iterdir())
    assert left and all(LEFTOVER.fullmatch(q.name) for q in left), f"partials/ holds more than temp files: {left}"
    assert not [q for q in (dsm_home / "manifests").rglob("*") if ".tmp-" in q.name]

    report = ok_json(run_dsm, ["quantize", "deepseek-r1:7b", "--type", "Q5_K_M"])
    assert report["name"] == "deepseek-r1:7b-q5_K_M" and sha256_file(report["path"]) == report["sha256"], report
    assert set(listed(run_dsm)) == names | {"deepseek-r1:7b-q5_K_M"}
    assert all(q.exists() for q in left), "another run's temp files must not be removed while they may be in use"

    # once abandoned for more than an hour, the next pull sweeps them
    old = time.time() - 2 * 3600
    for q in left:
        os.utime(q, (old, old))
    pull_ok(run_dsm, "deepseek-r1:7b", timeout=120)
    assert not any(q.exists() for q in left), f"dsm did not sweep the leftovers: {[q for q in left if q.exists()]}"
    verify_store(dsm_home)


def test_threads_relative_output_and_json(demo_ggufs, run_dsm, dsm_home, tmp_path):
    work = tmp_path / "work"
    work.mkdir()
    rc, out, err = run_dsm(["quantize", demo_ggufs["bf16"], "--q4", "--threads", "1", "-o", "out/one.gguf"], cwd=work, timeout=300)
    assert rc == 0 and out.strip() == str(work / "out" / "one.gguf"), fmt(rc, out, err)
    report = ok_json(run_dsm, ["quantize", demo_ggufs["bf16"], "--q4", "-o", "out/all.gguf"], cwd=work)
    # with -o nothing is registered: "name" is left out (as dsm convert --json does), everything else is there
    assert REPORT_KEYS - {"name"} <= set(report) and report.get("name") is None, report
    assert report["path"] == str(work / "out" / "all.gguf"), report
    assert report["file_type"] == "Q4_K_M" and report["kernels"] in ("avx2", "baseline"), report
    assert_quantized_file(work / "out" / "all.gguf", 15, report)
    assert (work / "out" / "one.gguf").read_bytes() == (work / "out" / "all.gguf").read_bytes(), \
        "the output must not depend on the thread count"
    assert sorted(p.name for p in (work / "out").iterdir()) == ["all.gguf", "one.gguf"], "only finished files may remain"
    assert not manifest_files(dsm_home), "-o must not register anything"


@pytest.mark.parametrize("kind", ["folder", "fifo", "symlink"])
def test_output_over_something_that_is_not_a_regular_file_is_refused(demo_ggufs, run_dsm, dsm_home, tmp_path, kind):
    """-o replaces the output by a rename: a folder, a device or FIFO, or a link there must not be replaced (as root,
    `-o /dev/null` once turned the device into a file)."""
    target = tmp_path / "out.gguf"
    if kind == "folder":
        target.mkdir()
    elif kind == "fifo":
        os.mkfifo(target)
    else:
        (tmp_path / "elsewhere.gguf").write_bytes(b"keep me")
        target.symlink_to(tmp_path / "elsewhere.gguf")
    before = target.lstat()
    rc, out, err = run_dsm(["quantize", str(demo_ggufs["bf16"]), "--q8", "-o", str(target)])
    assert rc != 0 and "not a regular file" in err, fmt(rc, out, err)
    after = target.lstat()
    assert (after.st_mode, after.st_ino) == (before.st_mode, before.st_ino), "the path was replaced"
    if kind == "symlink":
        assert (tmp_path / "elsewhere.gguf").read_bytes() == b"keep me"
