"""GGUF repos (issue 15): quantization tags, --include/--exclude, split sets, imatrix on request, bad repos, kill -9
during a multi-part pull. Real dsm binary against the test hub's GGUF repos (make_gguf_repos.py: real llama-quantize and
llama-gguf-split output of the demo model); huggingface_hub's own filter is the oracle for the file filters."""
from __future__ import annotations

import json
import os
import signal
import time

import pytest
from huggingface_hub.utils import filter_repo_objects

from conftest import fmt, manifest_files, parse_json_stdout, sha256_file, verify_store, range_length

PER_FILE = "test-org/DeepSeek-R1-Distill-Qwen-Demo-GGUF"
SPLIT = "test-org/DeepSeek-R1-Demo-Split-GGUF"
BROKEN = "test-org/Broken-GGUF"


def cdn_files(hub) -> set[str]:
    """Repo paths the CDN served (or was asked for) since the last reset."""
    return {r["file"] for r in hub.stats()["requests"] if r["server"] == "cdn" and r.get("file")}


def pull(run_dsm, ref, *extra, timeout=120):
    rc, out, err = run_dsm(["pull", ref, "--json", *extra], timeout=timeout)
    return rc, out, err


def stored_names(run_dsm) -> list[str]:
    rc, out, err = run_dsm(["list", "--json"])
    assert rc == 0, fmt(rc, out, err)
    return [m["name"] for m in json.loads(out)]


def test_a_tag_pulls_only_that_quantization_of_a_per_file_repo(run_dsm, hub, gguf_repos, repos, dsm_home):
    rc, out, err = pull(run_dsm, f"hf.co/{PER_FILE}:q4_k_m")
    res = parse_json_stdout(rc, out, err)
    gguf = "DeepSeek-R1-Distill-Qwen-Demo-Q4_K_M.gguf"
    assert res["name"] == f"hf.co/{PER_FILE}:Q4_K_M" and res["kind"] == "gguf" and res["tag"] == "Q4_K_M", res
    assert sorted(f["path"] for f in res["files"]) == sorted([gguf, "README.md"]), res["files"]
    # the CDN saw only the chosen files: not Q8_0, not the importance matrix
    assert cdn_files(hub) <= {gguf, "README.md"}, cdn_files(hub)
    assert res["downloaded_bytes"] == sum(gguf_repos["repos"][PER_FILE][p] for p in (gguf, "README.md"))
    blob = next(f["blob"] for f in res["files"] if f["path"] == gguf)
    assert sha256_file(blob) == sha256_file(repos / PER_FILE / gguf)
    verify_store(dsm_home)
    rc, out, err = run_dsm(["show", res["name"]])
    assert rc == 0 and "GGUF" in out and "Q4_K_M" in out, fmt(rc, out, err)


def test_a_tag_pulls_every_part_of_a_split_folder_as_one_version(run_dsm, hub, gguf_repos, repos, dsm_home):
    rc, out, err = pull(run_dsm, f"hf.co/{SPLIT}:Q8_0")
    res = parse_json_stdout(rc, out, err)
    parts = [f"Q8_0/DeepSeek-R1-Demo-Q8_0-0000{i}-of-00003.gguf" for i in (1, 2, 3)]
    assert sorted(f["path"] for f in res["files"]) == sorted(parts + ["README.md"]), res["files"]
    assert cdn_files(hub) <= set(parts + ["README.md"]), cdn_files(hub)
    assert res["version"] == 1 and res["kind"] == "gguf"
    manifest = json.loads(manifest_files(dsm_home)[0].read_text())
    assert manifest["kind"] == "gguf" and manifest["source"]["selection"] == "tag Q8_0", manifest["source"]
    for p in parts:
        blob = next(f["blob"] for f in res["files"] if f["path"] == p)
        assert sha256_file(blob) == sha256_file(repos / SPLIT / p)
    # pulling again changes nothing: same commit, same files, same version
    rc, out, err = pull(run_dsm, f"hf.co/{SPLIT}:Q8_0")
    assert parse_json_stdout(rc, out, err)["version"] == 1


def test_no_tag_means_q4_k_m_and_the_imatrix_comes_on_request(run_dsm, hub, gguf_repos, dsm_home):
    rc, out, err = pull(run_dsm, f"hf.co/{SPLIT}", "--with-imatrix")
    res = parse_json_stdout(rc, out, err)
    assert res["tag"] == "Q4_K_M" and res["name"] == f"hf.co/{SPLIT}:Q4_K_M", res
    paths = {f["path"] for f in res["files"]}
    assert "imatrix_unsloth.gguf" in paths and len([p for p in paths if p.startswith("Q4_K_M/")]) == 2, paths


@pytest.mark.parametrize("tag", ["Q5_K_M", "Q4_K"])
def test_an_unknown_or_partial_tag_lists_the_tags_with_sizes_and_downloads_nothing(run_dsm, hub, gguf_repos, dsm_home, tag):
    rc, out, err = pull(run_dsm, f"hf.co/{SPLIT}:{tag}")
    assert rc != 0, fmt(rc, out, err)
    assert "Q8_0 (" in err and "3 parts" in err and "Q4_K_M (" in err, fmt(rc, out, err)
    assert not cdn_files(hub), cdn_files(hub)
    assert stored_names(run_dsm) == []


def test_include_and_exclude_choose_files(run_dsm, hub, gguf_repos, dsm_home):
    rc, out, err = pull(run_dsm, f"hf.co/{SPLIT}", "--include", "Q8_0/*", "--exclude", "*.md")
    res = parse_json_stdout(rc, out, err)
    assert sorted(f["path"] for f in res["files"]) == [f"Q8_0/DeepSeek-R1-Demo-Q8_0-0000{i}-of-00003.gguf" for i in (1, 2, 3)]
    assert cdn_files(hub) == {f["path"] for f in res["files"]}
    assert res["kind"] == "gguf" and res["tag"] == "Q8_0"


# Patterns against repos with many paths; the oracle is huggingface_hub's filter_repo_objects on the same listing.
FILTER_CASES = [
    ("test-org/multi-shard", ["*.json"], None), ("test-org/multi-shard", ["*.safetensors"], ["*00002*"]),
    ("test-org/multi-shard", None, ["*.safetensors"]), ("test-org/multi-shard", ["*"], ["*.md", "*.json"]),
    ("test-org/multi-shard", ["config.json", "model*"], None), ("test-org/multi-shard", ["sub/"], None),
    ("test-org/multi-shard", ["?odel*"], ["*.json"]), ("test-org/multi-shard", ["*[!n]"], None),
    ("test-org/many-files", ["d01/"], None), ("test-org/many-files", ["*/s[0-2]/*"], ["d0[1-9]*"]),
    ("test-org/many-files", ["d0?/s9/f00[!3]*", "*/s1/f*5.txt"], None), ("test-org/many-files", ["*.txt"], ["d*/s*/f0*"]),
    ("test-org/many-files", ["D01/*"], None), ("test-org/dupes", ["ckpt-[13]/*"], ["*.bin"]),
]


@pytest.mark.parametrize("repo,include,exclude", FILTER_CASES)
def test_filters_match_huggingface_hubs_choice(run_dsm, hub, summary, dsm_home, repo, include, exclude):
    from conftest import summary_files
    listing = sorted(summary_files(summary, repo))
    expected = sorted(filter_repo_objects(listing, allow_patterns=include, ignore_patterns=exclude))
    args = [a for p in include or [] for a in ("--include", p)] + [a for p in exclude or [] for a in ("--exclude", p)]
    rc, out, err = run_dsm(["pull", f"hf.co/{repo}", "--dry-run", "--json", *args])
    if not expected:
        assert rc != 0 and "match none" in err, fmt(rc, out, err)
        return
    res = parse_json_stdout(rc, out, err)
    assert sorted(f["path"] for f in res["files"]) == expected, (include, exclude)
    assert res["total_bytes"] == sum(f["size"] for f in res["files"])
    assert not cdn_files(hub), "a dry run downloaded something"
    assert stored_names(run_dsm) == []


def test_bad_repos_are_refused_with_clear_errors_and_nothing_registered(run_dsm, hub, gguf_repos, dsm_home):
    cases = {
        "Q8_0": ("missing", "DeepSeek-R1-Demo-Q8_0-00002-of-00003.gguf"),  # refused from the listing
        "Q4_K_M": ("split.no", "part"),                                    # refused after reading the headers
        "Q5_K_M": ("not a GGUF", "model-Q5_K_M.gguf"),                     # refused after reading the header
    }
    for tag, words in cases.items():
        hub.reset()
        rc, out, err = pull(run_dsm, f"hf.co/{BROKEN}:{tag}")
        ctx = fmt(rc, out, err)
        assert rc != 0, ctx
        assert all(w in err for w in words) and "Traceback" not in err, ctx
        assert "Nothing was" in err, ctx
        if tag == "Q8_0":
            assert not cdn_files(hub), "an incomplete set was downloaded before it was refused"
        assert stored_names(run_dsm) == [], ctx
    verify_store(dsm_home)


def test_kill9_during_a_multi_part_pull_then_resume_downloads_each_part_once(run_dsm, hub, gguf_repos, dsm_home):
    sizes = gguf_repos["repos"][SPLIT]
    parts = [p for p in sizes if p.startswith("Q8_0/")]
    total = sum(sizes[p] for p in parts)
    connections = 4
    hub.config(cdn_bandwidth=2_000_000)
    p = run_dsm.start(["pull", f"hf.co/{SPLIT}:Q8_0", "--connections", str(connections)])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        sent = sum(v for v in hub.stats()["bytes_by_sha256"].values())
        if sent >= total * 0.4 or p.poll() is not None:
            break
        time.sleep(0.05)
    os.killpg(p.pid, signal.SIGKILL)
    run_dsm.wait(p, timeout=30)
    assert not manifest_files(dsm_home), "a killed pull left a manifest"
    first = hub.stats()["bytes_by_sha256"]
    assert sum(first.values()) < total, "the first run finished before it was killed"
    hub.config(cdn_bandwidth=None)
    rc, out, err = pull(run_dsm, f"hf.co/{SPLIT}:Q8_0", "--connections", str(connections))
    res = parse_json_stdout(rc, out, err)
    st = hub.stats()
    gets = [r for r in st["requests"] if r["server"] == "cdn" and r.get("file") in parts and r["method"] == "GET"]
    # Each run first reads the parts' GGUF headers: ranges from byte 0 of 512 KiB, 2 MiB, 8 MiB… (RemoteGGUFHeaders)
    header_sizes = {(512 << 10) * 4 ** k for k in range(6)}
    headers = [r for r in gets if r["range"] and r["range"].startswith("bytes=0-")
               and int(r["range"].split("-")[1]) + 1 in header_sizes]
    header_bytes = sum(r["bytes_sent"] for r in headers)
    largest = max((range_length(r["range"], sizes.get(r["file"], 0)) for r in gets if r not in headers), default=0)
    sent = sum(st["bytes_by_sha256"].values()) - header_bytes
    # each part at most once, plus what the killed connections had in flight (the usual per-connection margin)
    assert sent <= total + sizes.get("README.md", 0) + connections * largest, (sent, total, largest, header_bytes)
    assert header_bytes < total / 2, (header_bytes, total)
    assert res["files"] and verify_store(dsm_home)


def test_fit_sizes_a_hub_quantization_from_its_headers_before_pulling(run_dsm, hub, gguf_repos, repos, dsm_home):
    from gguf import GGUFReader
    rc, out, err = run_dsm(["fit", f"hf.co/{SPLIT}:Q8_0", "--json", "--ram", "64"], timeout=120)
    res = parse_json_stdout(rc, out, err)
    assert "GGUF headers of" in res["source"] and "Q8_0" in res["source"], res["source"]
    # exact weight bytes: the sum of every part's tensors, as gguf-py reads the local copies
    sizes = gguf_repos["repos"][SPLIT]
    parts = sorted(p for p in sizes if p.startswith("Q8_0/"))
    tensor_bytes = sum(int(t.n_bytes) for p in parts for t in GGUFReader(str(repos / SPLIT / p)).tensors)
    plan = next(p for p in res["plans"] if p["type"] == "Q8_0")
    assert plan["weight_bytes"] == tensor_bytes, (plan, tensor_bytes)
    # only the headers crossed the wire, never a whole part, and nothing was stored
    st = hub.stats()
    sent = sum(r["bytes_sent"] for r in st["requests"] if r["server"] == "cdn")
    assert 0 < sent < sum(sizes[p] for p in parts) / 2, (sent, sum(sizes[p] for p in parts))
    assert stored_names(run_dsm) == [] and not manifest_files(dsm_home)


def test_a_catalog_tag_can_point_at_a_gguf_repo(run_dsm, hub, gguf_repos, dsm_home, tmp_path):
    from conftest import REPO_ROOT
    family = json.loads((REPO_ROOT / "registry" / "deepseek-r1.json").read_text())
    family["tags"]["671b-ud-iq1_s"]["gguf"].update(repo=SPLIT, tag="Q8_0")
    (tmp_path / "deepseek-r1.json").write_text(json.dumps(family))
    env = {"DSM_CATALOG_DIR": str(tmp_path)}
    rc, out, err = run_dsm(["catalog", "671b-ud", "--json"], env=env)
    rows = {r["name"]: r for r in json.loads(out)}
    assert rows["deepseek-r1:671b-ud-iq1_s"]["gguf"]["repo"] == SPLIT and rows["deepseek-r1:671b-ud-iq1_s"]["pulls_gguf"], rows
    rc, out, err = run_dsm(["pull", "deepseek-r1:671b-ud-iq1_s", "--json"], env=env, timeout=120)
    res = parse_json_stdout(rc, out, err)
    assert res["name"] == "deepseek-r1:671b-ud-iq1_s" and res["kind"] == "gguf" and res["tag"] == "Q8_0", res
    assert len([f for f in res["files"] if f["path"].endswith(".gguf")]) == 3
