"""Hostile dsm bundles made byte by byte, following Sources/DSMBundle: a ustar archive whose first entry is the table
of contents (dsm-bundle.json), then manifests/sha256-<hex>.json and blobs/sha256-<hex> entries as the TOC lists them,
two zero blocks, all compressed with the zstd tool. Headers are written by hand so that a test can put anything in a
field (a negative base-256 size, an octal "-1"), and a stream can be fed in parts (concatenated zstd frames) so that
a bundle that expands to hundreds of MiB is built without holding them."""
from __future__ import annotations

import hashlib
import json
import subprocess
from pathlib import Path
from typing import Iterable

BLOCK = 512


def octal(value: int, width: int) -> bytes:
    """A NUL-terminated, zero-padded octal field of `width` bytes."""
    return format(value, "o").rjust(width - 1, "0").encode() + b"\0"


def base256(value: int) -> bytes:
    """A 12-byte base-256 size field (GNU tar's encoding: first byte 0x80, or 0xff for negative numbers)."""
    raw = (value % (1 << 96)).to_bytes(12, "big")
    return bytes([0xFF if value < 0 else 0x80]) + raw[1:]


def header(name: str, size: int, *, size_field: bytes | None = None, typeflag: bytes = b"0") -> bytes:
    """A ustar header with a valid checksum; `size_field` (12 bytes) replaces the octal size as given."""
    h = bytearray(BLOCK)
    h[0:len(name.encode())] = name.encode()
    h[100:108] = octal(0o444, 8)
    h[108:116] = octal(0, 8)
    h[116:124] = octal(0, 8)
    h[124:136] = size_field if size_field is not None else octal(size, 12)
    h[136:148] = octal(0, 12)
    h[156:157] = typeflag
    h[257:263] = b"ustar\0"
    h[263:265] = b"00"
    h[148:156] = b" " * 8
    h[148:156] = octal(sum(h), 7) + b" "
    return bytes(h)


def padding(size: int) -> bytes:
    return b"\0" * (-size % BLOCK)


def entry(name: str, data: bytes) -> bytes:
    return header(name, len(data)) + data + padding(len(data))


END = b"\0" * (2 * BLOCK)


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def toc(entries: Iterable[dict], names: Iterable[dict] = ()) -> bytes:
    """The table of contents: `entries` as [{path, size, sha256}], `names` as the TOC's name records."""
    return json.dumps({"format": "dsm-bundle", "version": 1, "created_at": "2026-01-01T00:00:00Z", "tool": "craft",
                       "names": list(names), "entries": list(entries)}, separators=(",", ":")).encode()


def listed(path: str, data: bytes) -> dict:
    return {"path": path, "size": len(data), "sha256": sha(data)}


def manifest(name: str, files: list[dict], *, kind: str = "hf-snapshot", repo: str = "org/model",
             commit: str = "c" * 40, tool: str = "dsm craft") -> bytes:
    """Manifest bytes (schema 1, canonical form); `files` as [{path, size, sha256, lfs}]."""
    doc = {"created_at": "2026-01-01T00:00:00Z", "files": files, "kind": kind, "name": name, "schema": 1,
           "source": {"commit": commit, "endpoint": "https://huggingface.co", "repo": repo, "revision": "main"},
           "tool": tool}
    return json.dumps(doc, sort_keys=True, separators=(",", ":")).encode() + b"\n"


def file_record(path: str, content: bytes) -> dict:
    return {"path": path, "size": len(content), "sha256": sha(content), "lfs": False}


def name_record(name: str, manifests: list[bytes], *, stable: int | None = 1, canary: int | None = None, weight: int = 0,
                tags: dict | None = None) -> dict:
    """A TOC name whose versions 1, 2, … are `manifests`."""
    return {"name": name, "stable": stable, "canary": canary, "weight": weight, "tags": tags or {},
            "versions": [{"number": i + 1, "manifest": sha(m), "created_at": "2026-01-01T00:00:00Z"}
                         for i, m in enumerate(manifests)]}


def model_bundle(name: str, versions: list[list[tuple[str, bytes]]], **channels) -> bytes:
    """The tar stream of one name whose versions hold `(path, content)` files: TOC, manifests, blobs, end."""
    manifests = [manifest(name, [file_record(p, c) for p, c in files]) for files in versions]
    blobs = {sha(c): c for files in versions for _, c in files}
    parts = [(f"manifests/sha256-{sha(m)}.json", m) for m in manifests] + [(f"blobs/sha256-{d}", c) for d, c in blobs.items()]
    contents = toc([listed(p, d) for p, d in parts], [name_record(name, manifests, **channels)])
    return entry("dsm-bundle.json", contents) + b"".join(entry(p, d) for p, d in parts) + END


def zstd(data: bytes) -> bytes:
    return subprocess.run(["zstd", "-q", "-c", "-3"], input=data, check=True, capture_output=True).stdout


def write(path: Path, tar: bytes) -> Path:
    """Writes `tar` compressed as one zstd frame."""
    path.write_bytes(zstd(tar))
    return path


def write_frames(path: Path, parts: Iterable[bytes]) -> Path:
    """Writes each part as its own zstd frame (frames concatenate into one stream); equal parts are compressed once."""
    cache: dict[str, bytes] = {}
    with open(path, "wb") as f:
        for part in parts:
            key = sha(part)
            if key not in cache:
                cache[key] = zstd(part)
            f.write(cache[key])
    return path
