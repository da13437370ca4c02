#!/usr/bin/env python3
"""Write the small synthetic repos the integration tests use (deterministic).

    python3 Tests/Fixtures/make_test_repos.py ROOT [--big-mib 200] [--demo] [--only NAME ...]

Creates ROOT/test-org/{multi-shard,gated,private,disabled,huge,traversal,many-files,dupes,big}
(+ their .hub.json files) and, with --demo, ROOT/deepseek-ai/DeepSeek-R1-Distill-Qwen-Demo.
All content is derived from fixed seeds (SHAKE-256 counter mode), so every run writes the same
bytes. Prints a JSON summary (repo -> files -> size, sha256, ...) and writes ROOT/summary.json;
the summary is computed with the hub's own code, so sizes, hashes, LFS flags and commit ids are
exactly what the hub will serve.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import shutil
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from hfhub.repos import RepoStore  # noqa: E402

MiB = 1024 * 1024
TOKEN_OK = "hf_testtoken_OK_1234567890"
TOKEN_NOT_APPROVED = "hf_testtoken_NOTAPPROVED_99"
TOKEN_RULE = {"tokens": [TOKEN_OK], "known_tokens": [TOKEN_NOT_APPROVED]}
TEN_TIB = 10 * 1024 ** 4


def det_bytes(seed: str, n: int) -> bytes:
    """``n`` pseudo-random bytes from SHAKE-256 in 4 MiB counter blocks (stable forever)."""
    out, block = bytearray(), 4 * MiB
    for i in range((n + block - 1) // block):
        out += hashlib.shake_256(f"{seed}:{i}".encode()).digest(min(block, n - i * block))
    return bytes(out)


def write(path: str, data: bytes | str) -> None:
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data.encode() if isinstance(data, str) else data)


def write_big(path: str, seed: str, n: int) -> None:
    """Like write(det_bytes(...)) but streamed, for large files."""
    os.makedirs(os.path.dirname(path), exist_ok=True)
    block = 4 * MiB
    with open(path, "wb") as f:
        for i in range((n + block - 1) // block):
            f.write(hashlib.shake_256(f"{seed}:{i}".encode()).digest(min(block, n - i * block)))


def safetensors_bytes(tensors: dict, seed: str) -> bytes:
    """A valid safetensors file: {name: (dtype, shape)} filled with deterministic random bytes."""
    itemsize = {"BF16": 2, "F16": 2, "F32": 4, "U8": 1}
    header, off = {"__metadata__": {"format": "pt"}}, 0
    for name in sorted(tensors):
        dtype, shape = tensors[name]
        n = itemsize[dtype]
        for d in shape:
            n *= d
        header[name] = {"dtype": dtype, "shape": list(shape), "data_offsets": [off, off + n]}
        off += n
    hb = json.dumps(header, separators=(",", ":")).encode()
    hb += b" " * ((8 - len(hb) % 8) % 8)
    return len(hb).to_bytes(8, "little") + hb + det_bytes(seed, off)


def config_json(**extra) -> str:
    cfg = {"architectures": ["Qwen2ForCausalLM"], "model_type": "qwen2", "hidden_size": 2048,
           "num_hidden_layers": 1, "vocab_size": 6144, "torch_dtype": "bfloat16", **extra}
    return json.dumps(cfg, indent=2, sort_keys=True) + "\n"


def hub_json(root: str, repo: str, meta: dict) -> None:
    write(os.path.join(root, repo + ".hub.json"), json.dumps(meta, indent=2, sort_keys=True) + "\n")


def make_multi_shard(root: str, repo: str, big_mib: int) -> None:
    d = os.path.join(root, repo)
    s1 = {"model.embed_tokens.weight": ("BF16", (6144, 2048))}                       # 24 MiB
    s2 = {"lm_head.weight": ("BF16", (768, 2048)), "model.norm.weight": ("BF16", (2048,))}  # ~3 MiB
    shards = [("model-00001-of-00002.safetensors", s1), ("model-00002-of-00002.safetensors", s2)]
    weight_map, total = {}, 0
    for fn, tensors in shards:
        data = safetensors_bytes(tensors, f"{repo}/{fn}")
        write(os.path.join(d, fn), data)
        total += len(data) - 8 - int.from_bytes(data[:8], "little")
        weight_map.update({n: fn for n in tensors})
    write(os.path.join(d, "model.safetensors.index.json"),
          json.dumps({"metadata": {"total_size": total}, "weight_map": weight_map}, indent=2, sort_keys=True) + "\n")
    write(os.path.join(d, "config.json"), config_json())
    write(os.path.join(d, "empty.txt"), b"")
    write(os.path.join(d, "sub/dir/notes.md"), "# Notes\n\nA nested file in a multi-shard test repo.\n")
    hub_json(root, repo, {"revisions": {"refs/pr/1": {
        "drop": ["sub/dir/notes.md"], "add": {"pr-only.txt": "This file exists only in refs/pr/1.\n"}}}})


def make_gated(root: str, repo: str, big_mib: int) -> None:
    d = os.path.join(root, repo)
    write(os.path.join(d, "config.json"), config_json())
    write(os.path.join(d, "README.md"), "---\nlicense: mit\nextra_gated_prompt: Accept the terms\n---\n# Gated\n")
    write(os.path.join(d, "model.safetensors"),
          safetensors_bytes({"weight": ("BF16", (1280, 2048))}, f"{repo}/model"))   # ~5 MiB LFS
    hub_json(root, repo, {"gated": True, **TOKEN_RULE})


def make_private(root: str, repo: str, big_mib: int) -> None:
    d = os.path.join(root, repo)
    write(os.path.join(d, "config.json"), config_json())
    write(os.path.join(d, "model.safetensors"),
          safetensors_bytes({"weight": ("BF16", (256, 2048))}, f"{repo}/model"))    # 1 MiB LFS
    hub_json(root, repo, {"private": True, **TOKEN_RULE})


def make_disabled(root: str, repo: str, big_mib: int) -> None:
    write(os.path.join(root, repo, "config.json"), config_json())
    hub_json(root, repo, {"disabled": True})


def make_huge(root: str, repo: str, big_mib: int) -> None:
    write(os.path.join(root, repo, "config.json"), config_json())
    hub_json(root, repo, {"virtual": {"huge.bin": TEN_TIB}})


def make_traversal(root: str, repo: str, big_mib: int) -> None:
    write(os.path.join(root, repo, "config.json"), config_json())
    hub_json(root, repo, {"unsafe_paths": ["../escape.txt", "/etc/evil.txt"]})


def make_many_files(root: str, repo: str, big_mib: int) -> None:
    d = os.path.join(root, repo)
    for i in range(2500):   # 25 x 10 folders x 10 files -> 2500 files + 275 folders in the tree
        write(os.path.join(d, f"d{i // 100:02d}", f"s{i // 10 % 10}", f"f{i:04d}.txt"), f"file {i}\n")


def make_dupes(root: str, repo: str, big_mib: int) -> None:
    """The same content under several paths: small files and an LFS file, as in repos with per-checkpoint folders."""
    d = os.path.join(root, repo)
    for sub in ("ckpt-1", "ckpt-2", "ckpt-3"):
        write(os.path.join(d, sub, "config.json"), config_json())
        write(os.path.join(d, sub, "weights.bin"), det_bytes(f"{repo}/weights", 3 * MiB))


def make_big(root: str, repo: str, big_mib: int) -> None:
    write_big(os.path.join(root, repo, "big.bin"), f"{repo}/big.bin", big_mib * MiB)


MAKERS = {"multi-shard": make_multi_shard, "gated": make_gated, "private": make_private,
          "disabled": make_disabled, "huge": make_huge, "traversal": make_traversal,
          "many-files": make_many_files, "dupes": make_dupes, "big": make_big}


def summarize(root: str, repos: list) -> dict:
    """Per repo: options, and per revision its commit and files (size, sha256, lfs, oid)."""
    store, out = RepoStore(root), {}
    for repo_id in repos:
        org, name = repo_id.split("/")
        repo = store.get(org, name)
        meta_path = os.path.join(root, repo_id + ".hub.json")
        revs = {}
        for rname, rev in repo.revisions.items():
            files = {}
            for p, e in rev.entries.items():
                f = {"size": e.size, "sha256": e.sha256, "lfs": e.lfs, "oid": e.oid}
                if e.kind == "virtual":
                    f["virtual"] = True
                if e.unsafe:
                    f["unsafe"] = True
                files[p] = f
            revs[rname] = {"commit": rev.commit, "files": files}
        out[repo_id] = {"files": revs["main"]["files"], "commit": revs["main"]["commit"],
                        "revisions": revs,
                        "hub_json": json.load(open(meta_path)) if os.path.exists(meta_path) else None}
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("root")
    ap.add_argument("--big-mib", type=int, default=200, help="size of test-org/big/big.bin in MiB")
    ap.add_argument("--only", nargs="*", choices=sorted(MAKERS), help="only these test-org repos")
    ap.add_argument("--demo", action="store_true",
                    help="also write deepseek-ai/DeepSeek-R1-Distill-Qwen-Demo (make_demo_model.py)")
    a = ap.parse_args(argv)
    root = os.path.abspath(a.root)
    names = a.only or list(MAKERS)
    repos = []
    for name in names:
        repo = f"test-org/{name}"
        shutil.rmtree(os.path.join(root, repo), ignore_errors=True)
        for stale in (os.path.join(root, repo + ".hub.json"),):
            if os.path.exists(stale):
                os.remove(stale)
        MAKERS[name](root, repo, a.big_mib)
        repos.append(repo)
    if a.demo:
        import make_demo_model
        demo = "deepseek-ai/DeepSeek-R1-Distill-Qwen-Demo"
        make_demo_model.make(os.path.join(root, demo))
        repos.append(demo)
    summary = summarize(root, repos)
    if os.path.exists(os.path.join(root, "summary.json")) and a.only:
        with open(os.path.join(root, "summary.json")) as f:
            summary = {**json.load(f), **summary}
    with open(os.path.join(root, "summary.json"), "w") as f:
        json.dump(summary, f, indent=2, sort_keys=True)
        f.write("\n")
    json.dump(summary, sys.stdout, indent=2, sort_keys=True)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
