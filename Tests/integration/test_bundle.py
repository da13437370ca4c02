"""dsm export / import through the real binary: a round trip between two stores keeps versions, provenance and (on
request) channels; the bundle is a standard zstd-compressed tar that `zstd` and Python's tarfile read; --dry-run
writes nothing; re-importing stores nothing twice; and truncated, corrupted, wrong-version, hash-mismatched and
path-escaping bundles are refused with nothing registered."""
from __future__ import annotations

import hashlib
import io
import json
import subprocess
import tarfile
from pathlib import Path

import pytest

from conftest import fmt, parse_json_stdout, pull_ok
from test_registry import make_gguf

NAME = "my-r1:7b"


def ok(run_dsm, *args, home=None):
    rc, out, err = run_dsm([*map(str, args)], dsm_home=home)
    assert rc == 0, f"dsm {' '.join(map(str, args))}\n" + fmt(rc, out, err)
    return out, err


def js(run_dsm, *args, home=None):
    rc, out, err = run_dsm([*map(str, args), "--json"], dsm_home=home)
    assert rc == 0, fmt(rc, out, err)
    return parse_json_stdout(rc, out, err)


def tree(home: Path) -> dict:
    return {p.relative_to(home).as_posix(): p.stat().st_size for p in sorted(home.rglob("*")) if p.is_file() and "locks" not in p.parts}


def members(bundle: Path):
    raw = subprocess.run(["zstd", "-dc", str(bundle)], check=True, capture_output=True).stdout
    with tarfile.open(fileobj=io.BytesIO(raw)) as t:
        return [(m.name, m.size, t.extractfile(m).read()) for m in t.getmembers()]


def write_bundle(path: Path, entries, toc_patch=None):
    """A bundle made by hand (tarfile + the zstd tool): `entries` is [(name, bytes)], the TOC made from them."""
    toc = {"format": "dsm-bundle", "version": 1, "created_at": "2026-01-01T00:00:00Z", "tool": "test", "names": [],
           "entries": [{"path": n, "size": len(b), "sha256": hashlib.sha256(b).hexdigest()} for n, b in entries]}
    if toc_patch:
        toc_patch(toc)
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w", format=tarfile.USTAR_FORMAT) as t:
        for n, b in [("dsm-bundle.json", json.dumps(toc).encode())] + list(entries):
            info = tarfile.TarInfo(n)
            info.size = len(b)
            t.addfile(info, io.BytesIO(b))
    path.write_bytes(subprocess.run(["zstd", "-q", "-c"], input=buf.getvalue(), check=True, capture_output=True).stdout)
    return path


@pytest.fixture
def other_home(tmp_path):
    return tmp_path / "offline-home"


def test_round_trip_keeps_versions_provenance_and_channels(run_dsm, dsm_home, other_home, tmp_path):
    pulled = pull_ok(run_dsm, "hf.co/test-org/multi-shard")
    for i in (1, 2, 3):
        ok(run_dsm, "create", NAME, "--from", make_gguf(tmp_path / f"{i}.gguf", i, mib=1))
    ok(run_dsm, "release", NAME, "--canary", "v3", "--weight", "25")
    ok(run_dsm, "tag", f"{NAME}@v1", "golden")
    bundle = tmp_path / "models.dsm"
    report = js(run_dsm, "export", NAME, "hf.co/test-org/multi-shard", "--all-versions", "-o", bundle, "--level", "5")
    assert report["versions"] == 4 and report["path"] == str(bundle) and bundle.stat().st_size == report["compressed_bytes"]
    assert not list(tmp_path.glob("models.dsm.tmp-*"))

    # A standard container: zstd + tar read it; the table of contents comes first and lists every entry.
    entries = members(bundle)
    toc = json.loads(entries[0][2])
    assert entries[0][0] == "dsm-bundle.json" and toc["format"] == "dsm-bundle" and toc["version"] == 1
    assert [(e["path"], e["size"]) for e in toc["entries"]] == [(n, s) for n, s, _ in entries[1:]]
    for e, (_, _, data) in zip(toc["entries"], entries[1:]):
        assert hashlib.sha256(data).hexdigest() == e["sha256"]

    dry = js(run_dsm, "import", bundle, "--dry-run", home=other_home)
    assert dry["dry_run"] and dry["blobs"] == len([e for e in toc["entries"] if e["path"].startswith("blobs/")])
    assert not other_home.exists() or not list((other_home).rglob("state.json")), "--dry-run registered something"

    imported = js(run_dsm, "import", bundle, "--with-channels", home=other_home)
    assert imported["stored_blobs"] == imported["blobs"] and imported["present_blobs"] == 0
    here = js(run_dsm, "show", NAME)
    there = js(run_dsm, "show", NAME, home=other_home)
    assert there["routing"] == here["routing"] == {"stable": 1, "canary": 3, "weight": 25}
    assert there["tags"] == {"golden": 1}
    assert [(v["version"], v["manifest"]) for v in there["versions"]] == [(v["version"], v["manifest"]) for v in here["versions"]]
    pulled_there = js(run_dsm, "show", "hf.co/test-org/multi-shard", home=other_home)
    assert pulled_there["source"]["commit"] == pulled["commit"] and pulled_there["manifest"] == pulled["manifest"], "provenance kept"
    history = js(run_dsm, "history", NAME, home=other_home)
    assert history[0]["command"].startswith("dsm import ")
    ok(run_dsm, "verify", home=other_home)

    again = js(run_dsm, "import", bundle, home=other_home)
    assert again["stored_blobs"] == 0 and again["present_blobs"] == imported["blobs"], "a re-import stored blobs again"
    assert js(run_dsm, "show", NAME, home=other_home)["versions"] == there["versions"], "a re-import added versions"


def test_one_version_by_default_and_channels_only_on_request(run_dsm, dsm_home, other_home, tmp_path):
    for i in (1, 2):
        ok(run_dsm, "create", NAME, "--from", make_gguf(tmp_path / f"{i}.gguf", i))
    bundle = tmp_path / "one.dsm"
    assert js(run_dsm, "export", NAME, "-o", bundle)["versions"] == 1
    ok(run_dsm, "import", bundle, home=other_home)
    shown = js(run_dsm, "show", NAME, home=other_home)
    assert [v["manifest"] for v in shown["versions"]] == [js(run_dsm, "show", NAME + "@v1")["manifest"]]
    v2 = tmp_path / "v2.dsm"
    ok(run_dsm, "export", NAME + "@v2", "-o", v2)
    out, _ = ok(run_dsm, "import", v2, home=other_home)
    assert "v2 → v2" in out and js(run_dsm, "show", NAME, home=other_home)["routing"]["stable"] == 1, \
        "without --with-channels an import adds versions and changes no channel"


def put(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def corrupt_byte(src: Path, dst: Path, at: float) -> Path:
    data = bytearray(src.read_bytes())
    data[int(len(data) * at)] ^= 0x5A
    dst.write_bytes(bytes(data))
    return dst


def test_bad_bundles_register_nothing(run_dsm, dsm_home, other_home, tmp_path):
    ok(run_dsm, "create", NAME, "--from", make_gguf(tmp_path / "a.gguf", 1, mib=2))
    good = tmp_path / "good.dsm"
    ok(run_dsm, "export", NAME, "-o", good, "--level", "1")
    blob = hashlib.sha256(b"real content").hexdigest()
    cases = {
        "truncated": (lambda p: put(p, good.read_bytes()[: good.stat().st_size * 2 // 3]), "truncated"),
        "corrupted": (lambda p: corrupt_byte(good, p, 0.6), "not a readable dsm bundle"),
        "empty": (lambda p: put(p, b""), "empty"),
        "not zstd": (lambda p: put(p, b"PK\x03\x04 not a bundle at all"), "not a readable dsm bundle"),
        "newer version": (lambda p: write_bundle(p, [], lambda t: t.update(version=2)), "format version 2"),
        "hash mismatch": (lambda p: write_bundle(p, [(f"blobs/sha256-{blob}", b"other content")],
                                                 lambda t: t["entries"][0].update(sha256=blob)), "corrupted in the bundle"),
        "escaping path": (lambda p: write_bundle(p, [("../../etc/evil", b"x")]), "could escape the store"),
        "no toc first": (lambda p: write_bundle(p, [], lambda t: t.update(format="zip")), "not dsm-bundle"),
    }
    for label, (make, message) in cases.items():
        path = make(tmp_path / f"{label.replace(' ', '-')}.dsm")
        before = tree(other_home) if other_home.exists() else {}
        rc, out, err = run_dsm(["import", str(path)], dsm_home=other_home)
        assert rc == 1 and message in err, f"{label}\n" + fmt(rc, out, err)
        after = tree(other_home) if other_home.exists() else {}
        assert not [p for p in after if p.startswith(("registry/", "manifests/"))], f"{label}: something was registered"
        assert not [p for p in after if p.startswith("partials/")], f"{label}: temp files left"
        assert not [p for p in set(after) - set(before) if p.startswith("blobs/") and blob in p], f"{label}: a bad blob was stored"
    assert not Path("/etc/evil").exists() and not (tmp_path / "etc" / "evil").exists()
    ok(run_dsm, "import", good, home=other_home)  # and the good one still imports
    ok(run_dsm, "verify", home=other_home)


def test_export_errors(run_dsm, dsm_home, tmp_path):
    for args, message in [(["export", "nothing:x", "-o", tmp_path / "x.dsm"], "not in the store"),
                          (["export", NAME, "-o", tmp_path / "x.dsm", "--level", "99"], "--level must be"),
                          (["export", NAME, "-o", tmp_path], "is a folder")]:
        rc, out, err = run_dsm([str(a) for a in args])
        assert rc == 1 and message in err, fmt(rc, out, err)
    assert not list(tmp_path.glob("x.dsm*"))


def test_a_failed_import_keeps_its_verified_blobs_for_the_next_run(run_dsm, other_home, tmp_path):
    good, bad = b"first blob, intact" * 1000, b"second blob"
    a, b = hashlib.sha256(good).hexdigest(), hashlib.sha256(b"what the TOC promised").hexdigest()
    broken = write_bundle(tmp_path / "broken.dsm", [(f"blobs/sha256-{a}", good), (f"blobs/sha256-{b}", bad)],
                          lambda t: t["entries"][1].update(sha256=b))
    rc, out, err = run_dsm(["import", str(broken)], dsm_home=other_home)
    assert rc == 1 and "corrupted in the bundle" in err, fmt(rc, out, err)
    assert (other_home / "blobs" / f"sha256-{a}").read_bytes() == good, "the verified blob was not kept"
    assert not (other_home / "blobs" / f"sha256-{b}").exists()
    assert not (other_home / "registry").exists() or not list((other_home / "registry").iterdir())
    again = write_bundle(tmp_path / "again.dsm", [(f"blobs/sha256-{a}", good)])
    report = js(run_dsm, "import", again, home=other_home)
    assert report["present_blobs"] == 1 and report["stored_blobs"] == 0, report
