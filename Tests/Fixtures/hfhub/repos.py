"""Repository model of the test hub.

``ROOT/<org>/<name>/`` holds the files of revision ``main``; the optional
``ROOT/<org>/<name>.hub.json`` adds options (gated/private/disabled, tokens, extra
revisions, virtual files, unsafe paths). Repos are rescanned when their files change
(checked at most every ``ttl`` seconds); content hashes are cached by (path, size, mtime).
"""
from __future__ import annotations

import hashlib
import json
import os
import threading
import time

LFS_EXTS = {".safetensors", ".bin", ".gguf", ".pt", ".pth", ".msgpack", ".h5", ".zst"}
LFS_MIN_SIZE = 10 * 1024 * 1024  # strictly larger -> LFS
HASH_CHUNK = 4 * 1024 * 1024


def git_blob_sha1(data: bytes) -> str:
    """Git blob id: sha1(b"blob <size>\\0" + content)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def lfs_pointer(sha256: str, size: int) -> bytes:
    """The git-lfs pointer text that git stores instead of an LFS file."""
    return (b"version https://git-lfs.github.com/spec/v1\n"
            b"oid sha256:%s\nsize %d\n" % (sha256.encode(), size))


def is_lfs(path: str, size: int) -> bool:
    return os.path.splitext(path)[1].lower() in LFS_EXTS or size > LFS_MIN_SIZE


_hash_lock = threading.Lock()
_hash_cache: dict = {}


def _hash_file(abspath: str, size: int, mtime_ns: int) -> tuple[str, str]:
    """(sha256, git blob sha1) of a file on disk, cached by (path, size, mtime_ns)."""
    key = (abspath, size, mtime_ns)
    with _hash_lock:  # serialises hashing; also prevents duplicate work by parallel requests
        hit = _hash_cache.get(key)
        if hit:
            return hit
        h256 = hashlib.sha256()
        h1 = hashlib.sha1(b"blob %d\0" % size)
        with open(abspath, "rb") as f:
            while True:
                b = f.read(HASH_CHUNK)
                if not b:
                    break
                h256.update(b)
                h1.update(b)
        _hash_cache[key] = res = (h256.hexdigest(), h1.hexdigest())
        return res


class Entry:
    """One file of one revision. ``kind`` is "disk", "bytes" (in-memory) or "virtual" (zeros)."""

    def __init__(self, path: str, size: int, kind: str, abspath: str | None = None,
                 data: bytes | None = None, mtime_ns: int = 0, unsafe: bool = False):
        self.path, self.size, self.kind = path, size, kind
        self.abspath, self.data, self.mtime_ns, self.unsafe = abspath, data, mtime_ns, unsafe
        self.lfs = kind == "virtual" or is_lfs(path, size)
        self._sha256 = hashlib.sha256(path.encode()).hexdigest() if kind == "virtual" else None
        self._sha1 = None

    def _hashes(self):
        if self.kind == "disk":
            self._sha256, self._sha1 = _hash_file(self.abspath, self.size, self.mtime_ns)
        else:
            self._sha256 = hashlib.sha256(self.data).hexdigest()
            self._sha1 = git_blob_sha1(self.data)

    @property
    def sha256(self) -> str:
        """SHA-256 of the content (fake for virtual files: sha256 of the path)."""
        if self._sha256 is None:
            self._hashes()
        return self._sha256

    @property
    def content_sha1(self) -> str:
        if self._sha1 is None:
            self._hashes()
        return self._sha1

    @property
    def pointer(self) -> bytes:
        return lfs_pointer(self.sha256, self.size)

    @property
    def oid(self) -> str:
        """Git object id as the Hub reports it: blob sha1 of the pointer (LFS) or of the content."""
        return git_blob_sha1(self.pointer) if self.lfs else self.content_sha1

    @property
    def etag(self) -> str:
        """Unquoted ETag the hub reports for resolve: sha256 for LFS, git sha1 otherwise."""
        return self.sha256 if self.lfs else self.oid

    def read(self, offset: int, n: int) -> bytes:
        if self.kind == "virtual":
            return bytes(max(0, min(n, self.size - offset)))
        if self.kind == "bytes":
            return self.data[offset:offset + n]
        with open(self.abspath, "rb") as f:
            return os.pread(f.fileno(), n, offset)

    def tree_json(self) -> dict:
        d = {"type": "file", "oid": self.oid, "size": self.size, "path": self.path}
        if self.lfs:
            d["lfs"] = {"oid": self.sha256, "size": self.size, "pointerSize": len(self.pointer)}
        return d

    def sibling_json(self, blobs: bool) -> dict:
        d = {"rfilename": self.path}
        if blobs:
            d.update(size=self.size, blobId=self.oid)
            if self.lfs:
                d["lfs"] = {"sha256": self.sha256, "size": self.size, "pointerSize": len(self.pointer)}
        return d


class Revision:
    """A named revision: its files, derived directories and its deterministic commit id."""

    def __init__(self, name: str, entries: dict):
        self.name = name
        self.entries = dict(sorted(entries.items()))
        dirs = set()
        for p, e in self.entries.items():
            if e.unsafe:
                continue
            parts = p.split("/")
            for i in range(1, len(parts)):
                dirs.add("/".join(parts[:i]))
        self.dirs = dirs
        self._cache: dict = {}  # memoised listings and folder oids (a Revision never changes)
        self.commit = hashlib.sha1("".join(
            f"{p}\0{e.oid}\n" for p, e in self.entries.items()).encode()).hexdigest()

    def _dir_oid(self, d: str) -> str:
        """Stand-in for a git tree id: sha1 over the files below folder ``d``."""
        oids = self._cache.get("dir_oids")
        if oids is None:
            acc = {x: hashlib.sha1(b"tree\0") for x in self.dirs}
            for p, e in self.entries.items():
                if not e.unsafe:
                    parts = p.split("/")
                    for i in range(1, len(parts)):
                        acc["/".join(parts[:i])].update(f"{p}\0{e.oid}\n".encode())
            oids = self._cache["dir_oids"] = {x: h.hexdigest() for x, h in acc.items()}
        return oids[d]

    def listing(self, path: str, recursive: bool) -> list | None:
        """Tree entries under ``path`` ("" = root), sorted by path; None if path is not a folder."""
        path = path.strip("/")
        if path and path not in self.dirs:
            return None
        key = ("listing", path, recursive)
        if key in self._cache:
            return self._cache[key]
        pre = path + "/" if path else ""
        items = [(d, None) for d in self.dirs] + list(self.entries.items())
        out = []
        for p, e in sorted(items, key=lambda t: t[0]):
            if e is not None and e.unsafe:
                if not path:
                    out.append(e.tree_json())
                continue
            if not p.startswith(pre):
                continue
            if not recursive and "/" in p[len(pre):]:
                continue
            out.append(e.tree_json() if e else
                       {"type": "directory", "oid": self._dir_oid(p), "size": 0, "path": p})
        self._cache[key] = out
        return out

    def info(self, path: str) -> dict | None:
        """Tree-shaped entry for a single path (file or folder), or None."""
        path = path.strip("/") if path not in self.entries else path
        if path in self.entries:
            return self.entries[path].tree_json()
        if path in self.dirs:
            return {"type": "directory", "oid": self._dir_oid(path), "size": 0, "path": path}
        return None


class Repo:
    """A model repo: options from .hub.json plus its revisions (``main`` and extra ones)."""

    def __init__(self, org: str, name: str, folder: str, meta: dict, main_entries: dict):
        self.org, self.name, self.id, self.folder, self.meta = org, name, f"{org}/{name}", folder, meta
        self.gated = bool(meta.get("gated", False))
        self.private = bool(meta.get("private", False))
        self.disabled = bool(meta.get("disabled", False))
        self.tokens = set(meta.get("tokens", []))
        self.known_tokens = set(meta.get("known_tokens", []))
        main = dict(main_entries)
        for p, size in (meta.get("virtual") or {}).items():
            main[p] = Entry(p, int(size), "virtual")
        for p in meta.get("unsafe_paths") or []:
            main[p] = Entry(p, 1, "bytes", data=b"x", unsafe=True)
        self.revisions = {"main": Revision("main", main)}
        for rname, spec in (meta.get("revisions") or {}).items():
            ents = {p: e for p, e in main.items() if p not in set(spec.get("drop", []))}
            for p, text in (spec.get("add") or {}).items():
                data = text.encode() if isinstance(text, str) else bytes(text)
                ents[p] = Entry(p, len(data), "bytes", data=data)
            self.revisions[rname] = Revision(rname, ents)
        self.by_commit = {r.commit: r for r in self.revisions.values()}

    def revision(self, rev: str) -> Revision | None:
        """Look up a revision by name or by its 40-hex commit id."""
        return self.revisions.get(rev) or self.by_commit.get(rev)


def _load_meta(path: str) -> dict:
    try:
        with open(path, encoding="utf-8") as f:
            return json.load(f)
    except FileNotFoundError:
        return {}


def _scan_folder(folder: str) -> list:
    """[(relpath, size, mtime_ns, abspath)] of all files below ``folder`` (skipping .git)."""
    out = []
    if not os.path.isdir(folder):
        return out
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = [d for d in dirnames if d != ".git"]
        for fn in filenames:
            ap = os.path.join(dirpath, fn)
            st = os.stat(ap)
            out.append((os.path.relpath(ap, folder).replace(os.sep, "/"), st.st_size, st.st_mtime_ns, ap))
    out.sort()
    return out


class RepoStore:
    """Finds and caches repos under ``root``; also maps sha256 -> Entry for the CDN."""

    def __init__(self, root: str, ttl: float = 1.0):
        self.root, self.ttl = os.path.abspath(root), ttl
        self._lock = threading.Lock()
        self._cache: dict = {}   # (org, name) -> (checked_at, signature, Repo)
        self._blobs: dict = {}   # sha256 -> Entry
        self._tokens = (0.0, set())
        self._scanning: dict = {}  # (org, name) -> lock held by the one thread rescanning that repo

    def invalidate(self) -> None:
        with self._lock:
            self._cache.clear()
            self._tokens = (0.0, set())

    def get(self, org: str, name: str) -> Repo | None:
        """The repo ``org/name`` or None. Names containing path tricks never match."""
        if not org or not name or any(s in (".", "..") or "/" in s or "\\" in s or s.endswith(".hub.json")
                                      for s in (org, name)):
            return None
        key, now = (org, name), time.monotonic()
        with self._lock:
            hit = self._cache.get(key)
            scan_lock = self._scanning.setdefault(key, threading.Lock())
        if hit and now - hit[0] < self.ttl:
            return hit[2]
        # One thread rescans a repo whose check is due; the others keep answering from the last scan meanwhile (a
        # client with 32 connections to a repo of 2,500 files otherwise had every request walk the folder at once).
        if hit and not scan_lock.acquire(blocking=False):
            return hit[2]
        if not hit:
            scan_lock.acquire()
        try:
            return self._rescan(org, name, key, hit)
        finally:
            scan_lock.release()

    def _rescan(self, org: str, name: str, key: tuple, hit) -> Repo | None:
        now = time.monotonic()
        folder = os.path.join(self.root, org, name)
        meta_path = folder + ".hub.json"
        files = _scan_folder(folder)
        meta_sig = os.stat(meta_path).st_mtime_ns if os.path.exists(meta_path) else None
        if not files and meta_sig is None and not os.path.isdir(folder):
            return None
        sig = (tuple((p, s, m) for p, s, m, _ in files), meta_sig)
        if hit and hit[1] == sig:
            repo = hit[2]
        else:
            entries = {p: Entry(p, s, "disk", abspath=ap, mtime_ns=m) for p, s, m, ap in files}
            repo = Repo(org, name, folder, _load_meta(meta_path), entries)
            for rev in repo.revisions.values():
                for e in rev.entries.values():
                    with self._lock:
                        self._blobs[e.sha256] = e
        with self._lock:
            self._cache[key] = (now, sig, repo)
        return repo

    def all_repos(self) -> list:
        out = []
        if os.path.isdir(self.root):
            for org in sorted(os.listdir(self.root)):
                od = os.path.join(self.root, org)
                if not os.path.isdir(od):
                    continue
                names = {n[:-9] if n.endswith(".hub.json") else n for n in os.listdir(od)}
                for n in sorted(names):
                    r = self.get(org, n)
                    if r:
                        out.append(r)
        return out

    def blob(self, sha256: str) -> Entry | None:
        """Entry whose content has this sha256 (scans all repos once if unknown)."""
        with self._lock:
            e = self._blobs.get(sha256)
        if e is None:
            self.all_repos()
            with self._lock:
                e = self._blobs.get(sha256)
        return e

    def all_tokens(self) -> set:
        """Union of ``tokens`` and ``known_tokens`` of every .hub.json (valid tokens)."""
        now = time.monotonic()
        with self._lock:
            if now - self._tokens[0] < self.ttl:
                return self._tokens[1]
        toks = set()
        if os.path.isdir(self.root):
            for org in os.listdir(self.root):
                od = os.path.join(self.root, org)
                if os.path.isdir(od):
                    for n in os.listdir(od):
                        if n.endswith(".hub.json"):
                            m = _load_meta(os.path.join(od, n))
                            toks |= set(m.get("tokens", [])) | set(m.get("known_tokens", []))
        with self._lock:
            self._tokens = (now, toks)
        return toks
