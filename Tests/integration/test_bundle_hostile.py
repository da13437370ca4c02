"""Bundles from elsewhere, made hostile byte by byte (bundle_craft.py), against the real dsm binary: manifest paths
that leave the model folder are refused at import and never become links under `dsm serve --runtime vllm`; `dsm show`
prints no terminal control characters from a manifest; manifests and tables of contents are bounded so a tiny bundle
cannot take the memory; negative and absurd tar sizes are refused with a message instead of a crash; and
`import --with-channels` applies a name's channels and tags all together or not at all."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import bundle_craft as craft
from conftest import fmt, parse_json_stdout

NAME = "crafted:latest"
CONFIG = ("config.json", b'{"architectures": ["Qwen2ForCausalLM"]}')
WEIGHTS = ("model.safetensors", b"not really weights")
ENV = {"DSM_PYTHON": None, "PATH": "/usr/bin:/bin"}


@pytest.fixture
def home(tmp_path):
    return tmp_path / "home" / "dsm"


def registered(home: Path) -> list[str]:
    return sorted(p.relative_to(home).as_posix() for p in home.rglob("*")
                  if p.is_file() and p.parts[len(home.parts)] in ("registry", "manifests")) if home.exists() else []


# Linux carries a process's peak RSS across fork and exec (the new program starts with the old memory's high-water
# mark), so dsm spawned straight from pytest would report at least pytest's own peak. A small Python process forks
# dsm instead and reports the peak of that child alone.
_PEAK_OF_CHILD = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[2], sys.argv[2:])
_, status, usage = os.wait4(pid, 0)
with open(sys.argv[1], "w") as f:
    f.write(str(usage.ru_maxrss))
sys.exit(os.waitstatus_to_exitcode(status))
"""


def run_measured(run_dsm, args, home: Path):
    """Runs dsm and returns (rc, stdout, stderr, peak RSS in MiB of the dsm process alone)."""
    peak = home.parent / f"peak-rss-{os.getpid()}-{len(list(home.parent.glob('peak-rss-*')))}"
    home.parent.mkdir(parents=True, exist_ok=True)
    p = subprocess.run([sys.executable, "-c", _PEAK_OF_CHILD, str(peak), run_dsm.bin, *map(str, args)],
                       env=run_dsm.env(None, home), capture_output=True, stdin=subprocess.DEVNULL, timeout=300)
    return p.returncode, p.stdout.decode(errors="replace"), p.stderr.decode(errors="replace"), int(peak.read_text()) / 1024


# --- 1. manifest paths ------------------------------------------------------------------------------------------

@pytest.mark.parametrize("bad", ["zz/../../../../../escaped-by-bundle", "/tmp/escaped-by-bundle", "a//b", "./config.json",
                                 "sub/\x1b[2Jpath", "dir\\..\\x"])
def test_a_manifest_path_outside_the_model_folder_is_refused(run_dsm, home, tmp_path, bad):
    bundle = craft.write(tmp_path / "evil.dsm", craft.model_bundle(NAME, [[CONFIG, (bad, b"ssh-ed25519 AAAA attacker")]]))
    for extra in (["--dry-run"], []):
        rc, out, err = run_dsm(["import", bundle, *extra], dsm_home=home)
        assert rc == 1, fmt(rc, out, err)
        shown = bad.replace("\x1b", "\\x1b")
        assert f"'{shown}'" in err and "manifest" in err and "\x1b" not in err, fmt(rc, out, err)
        assert registered(home) == [], "a bundle with an unsafe manifest path registered something"
    # Had it been registered, serving it with vLLM would have linked the path outside the store.
    rc, out, err = run_dsm(["serve", NAME, "--runtime", "vllm", "--print-commands"], env=ENV, dsm_home=home)
    assert rc == 1
    assert not (tmp_path / "escaped-by-bundle").exists() and not Path("/tmp/escaped-by-bundle").exists()


def test_serve_refuses_a_hostile_manifest_already_in_the_store(run_dsm, home, tmp_path):
    """A store written before the check (or edited by hand): the manifest does not decode, so no link is made."""
    folder = tmp_path / "checkpoint"
    folder.mkdir()
    for path, content in (CONFIG, WEIGHTS):
        (folder / path).write_bytes(content)
    rc, out, err = run_dsm(["create", NAME, "--from", folder], dsm_home=home)
    assert rc == 0, fmt(rc, out, err)
    (state_path,) = (home / "registry").rglob("state.json")
    state = json.loads(state_path.read_text())
    versions = state_path.parent / "versions"
    bad = "zz/../../../../../escaped-by-bundle"
    hostile = craft.manifest(NAME, [craft.file_record(CONFIG[0], CONFIG[1]), craft.file_record(bad, WEIGHTS[1])])
    (versions / f"sha256-{craft.sha(hostile)}.json").write_bytes(hostile)
    state["versions"][0]["manifest"] = craft.sha(hostile)
    state_path.write_text(json.dumps(state))
    rc, out, err = run_dsm(["serve", NAME, "--runtime", "vllm", "--print-commands"], env=ENV, dsm_home=home)
    assert rc == 1 and f"'{bad}'" in err, fmt(rc, out, err)
    assert not (tmp_path / "escaped-by-bundle").exists() and not (tmp_path / "escaped-by-bundle").is_symlink()


def test_show_escapes_control_characters_from_a_manifest(run_dsm, home, tmp_path):
    evil = "\x1b]0;owned\x07\x1b[2J\r\x7f\u009b31m"
    files = [craft.file_record(*CONFIG)]
    m = craft.manifest("crafted\x1b[1A:latest" + evil, files, repo="org/" + evil, commit="c\x1b[K" * 3, tool="dsm" + evil)
    tar = craft.entry("dsm-bundle.json", craft.toc([craft.listed(f"manifests/sha256-{craft.sha(m)}.json", m),
                                                     craft.listed(f"blobs/sha256-{craft.sha(CONFIG[1])}", CONFIG[1])],
                                                    [craft.name_record(NAME, [m])]))
    tar += craft.entry(f"manifests/sha256-{craft.sha(m)}.json", m) + craft.entry(f"blobs/sha256-{craft.sha(CONFIG[1])}", CONFIG[1]) + craft.END
    rc, out, err = run_dsm(["import", craft.write(tmp_path / "ctl.dsm", tar)], dsm_home=home)
    assert rc == 0, fmt(rc, out, err)
    rc, out, err = run_dsm(["show", NAME], dsm_home=home)
    assert rc == 0, fmt(rc, out, err)
    controls = [c for c in out + err if (ord(c) < 0x20 and c != "\n") or 0x7F <= ord(c) <= 0x9F]
    assert controls == [], f"dsm show printed raw control characters {controls!r}\n{out!r}"
    assert "\\x1b]0;owned\\x07" in out and "\\u{9b}31m" in out and "org/" in out, out


# --- 2. bounded manifests and tables of contents -----------------------------------------------------------------

def manifest_bomb(path: Path, count: int, padding_mib: float) -> Path:
    """`count` distinct valid manifests, each padded with `padding_mib` MiB of JSON white space: a few KiB on disk."""
    chunk = b" " * (1 << 18)
    chunks = int(padding_mib * 4)
    heads = [craft.manifest(f"bomb:v{i}", []) for i in range(count)]
    digests, sizes = [], []
    for head in heads:
        h = craft.hashlib.sha256(head)
        for _ in range(chunks):
            h.update(chunk)
        digests.append(h.hexdigest())
        sizes.append(len(head) + chunks * len(chunk))
    entries = [{"path": f"manifests/sha256-{d}.json", "size": s, "sha256": d} for d, s in zip(digests, sizes)]

    def parts():
        yield craft.entry("dsm-bundle.json", craft.toc(entries))
        for head, d, s in zip(heads, digests, sizes):
            yield craft.header(f"manifests/sha256-{d}.json", s) + head
            yield from (chunk for _ in range(chunks))
            yield craft.padding(s)
        yield craft.END
    return craft.write_frames(path, parts())


def test_a_manifest_bomb_is_refused_in_bounded_memory(run_dsm, home, tmp_path):
    bomb = manifest_bomb(tmp_path / "bomb.dsm", count=8, padding_mib=48)
    assert bomb.stat().st_size < 200_000
    rc, out, err, rss = run_measured(run_dsm, ["import", bomb, "--dry-run"], home)
    assert rc == 1 and "at most 8 MiB" in err and "docs/bundle.md" in err, fmt(rc, out, err)
    # the same eight manifests without the padding: the process's own footprint (build and machine dependent)
    plain = manifest_bomb(tmp_path / "plain.dsm", count=8, padding_mib=0)
    _, _, _, baseline = run_measured(run_dsm, ["import", plain, "--dry-run"], home)
    # one padded manifest read whole would add 48 MiB, all eight 384 MiB; the 8 MiB cap allows a few buffers
    assert rss < baseline + 40, (f"import --dry-run of a {bomb.stat().st_size}-byte bundle peaked at {rss:.0f} MiB, "
                                 f"{rss - baseline:.0f} MiB above the same bundle without padding")


def test_manifest_count_total_and_toc_entries_are_bounded(run_dsm, home, tmp_path):
    many = manifest_bomb(tmp_path / "many.dsm", count=1001, padding_mib=0)
    rc, out, err = run_dsm(["import", many, "--dry-run"], dsm_home=home)
    assert rc == 1 and "1001 manifests" in err and "at most 1000" in err, fmt(rc, out, err)

    heavy = manifest_bomb(tmp_path / "heavy.dsm", count=9, padding_mib=7.5)
    rc, out, err, rss = run_measured(run_dsm, ["import", heavy, "--dry-run"], home)
    assert rc == 1 and "at most 64 MiB" in err, fmt(rc, out, err)

    blob = craft.sha(b"x")
    entries = [{"path": f"blobs/sha256-{blob}", "size": 1, "sha256": blob}] * 100_001
    wide = craft.write(tmp_path / "wide.dsm", craft.entry("dsm-bundle.json", craft.toc(entries)) + craft.END)
    rc, out, err = run_dsm(["import", wide, "--dry-run"], dsm_home=home)
    assert rc == 1 and "100001 entries" in err and "at most 100000" in err, fmt(rc, out, err)
    assert registered(home) == []


# --- 3. tar sizes -------------------------------------------------------------------------------------------------

def test_negative_and_absurd_tar_sizes_are_refused_without_a_crash(run_dsm, home, tmp_path):
    blob = b"some content"
    listed = craft.toc([craft.listed(f"blobs/sha256-{craft.sha(blob)}", blob)])
    too_big = craft.toc([{"path": f"blobs/sha256-{'a' * 64}", "size": 1 << 62, "sha256": "a" * 64},
                         {"path": f"blobs/sha256-{'b' * 64}", "size": 1 << 62, "sha256": "b" * 64}])
    cases = {
        "toc base-256 -1": (craft.header("dsm-bundle.json", 0, size_field=craft.base256(-1)) + listed, "negative size"),
        "toc octal -1": (craft.header("dsm-bundle.json", 0, size_field=b"-1".rjust(11) + b"\0") + listed, "not a number"),
        "toc base-256 beyond Int64": (craft.header("dsm-bundle.json", 0, size_field=b"\x80" + b"\xff" * 11) + listed,
                                      "too large"),
        "blob base-256 -1": (craft.entry("dsm-bundle.json", listed)
                             + craft.header(f"blobs/sha256-{craft.sha(blob)}", 0, size_field=craft.base256(-1)) + blob,
                             "negative size"),
        "sizes that overflow a sum": (craft.entry("dsm-bundle.json", too_big), "larger than"),
        "short header": (craft.entry("dsm-bundle.json", listed) + craft.header(f"blobs/sha256-{craft.sha(blob)}", 12)[:300],
                         "truncated"),
        "entry beyond the stream": (craft.entry("dsm-bundle.json", listed) + craft.header(f"blobs/sha256-{craft.sha(blob)}", 12)
                                    + blob[:5], "truncated"),
    }
    for label, (tar, message) in cases.items():
        path = craft.write(tmp_path / f"{label.replace(' ', '-')}.dsm", tar)
        for extra in (["--dry-run"], []):
            rc, out, err = run_dsm(["import", path, *extra], dsm_home=home)
            assert rc == 1 and message in err, f"{label}\n" + fmt(rc, out, err)
    assert registered(home) == []


# --- 4. --with-channels: all or nothing ----------------------------------------------------------------------------

def test_with_channels_applies_all_changes_of_a_name_or_none(run_dsm, home, tmp_path):
    v1, v2 = [CONFIG, ("a.bin", b"one")], [CONFIG, ("a.bin", b"two")]
    first = craft.write(tmp_path / "first.dsm", craft.model_bundle(NAME, [v1]))
    rc, out, err = run_dsm(["import", first, "--with-channels"], dsm_home=home)
    assert rc == 0, fmt(rc, out, err)
    rc, out, err = run_dsm(["show", NAME, "--json"], dsm_home=home)
    before = parse_json_stdout(rc, out, err)

    bad_sets = {
        "an invalid tag": (dict(stable=2, tags={"good": 2, "v7": 1}), "'v7' is not a valid tag"),
        "a weight over 100": (dict(stable=1, canary=2, weight=150, tags={"good": 2}), "0 to 100"),
        "a tag on a version not in the bundle": (dict(stable=2, tags={"good": 2, "ghost": 9}), "v9"),
    }
    for label, (channels, message) in bad_sets.items():
        bundle = craft.write(tmp_path / "second.dsm", craft.model_bundle(NAME, [v1, v2], **channels))
        result = run_dsm(["import", bundle, "--with-channels"], dsm_home=home)
        after = parse_json_stdout(*run_dsm(["show", NAME, "--json"], dsm_home=home))
        assert (after["routing"], after["tags"], after["versions"]) == (before["routing"], before["tags"], before["versions"]), \
            f"{label}: part of the bundle was registered\n{after}\n" + fmt(*result)
        rc, out, err = result
        assert rc == 1 and message in err and "nothing was registered" in err, f"{label}\n" + fmt(rc, out, err)

    good = craft.write(tmp_path / "good.dsm", craft.model_bundle(NAME, [v1, v2], stable=2, tags={"good": 2, "old": 1}))
    rc, out, err = run_dsm(["import", good, "--with-channels"], dsm_home=home)
    assert rc == 0, fmt(rc, out, err)
    rc, out, err = run_dsm(["show", NAME, "--json"], dsm_home=home)
    shown = parse_json_stdout(rc, out, err)
    assert shown["routing"]["stable"] == 2 and shown["tags"] == {"good": 2, "old": 1}, shown
