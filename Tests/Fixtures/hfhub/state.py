"""Shared live state of one test-hub process: config, faults, stats, rate limit, URL signing."""
from __future__ import annotations

import copy
import hashlib
import hmac
import math
import os
import threading
import time

FAULT_KINDS = {"status", "reset", "truncate", "corrupt", "ignore_range", "range_200", "stall", "bandwidth"}
RATE_QUOTA, RATE_WINDOW = 3000, 300


class FaultError(ValueError):
    """A fault rule that cannot be accepted."""


def normalize_rule(rule: dict) -> dict:
    """Validate one fault rule and fill in defaults."""
    if not isinstance(rule, dict):
        raise FaultError("fault rule must be an object")
    r = dict(rule)
    if r.get("kind") not in FAULT_KINDS:
        raise FaultError(f"unknown fault kind {r.get('kind')!r}; expected one of {sorted(FAULT_KINDS)}")
    r.setdefault("match", "")
    r["server"] = r.get("server") or "any"
    if r["server"] not in ("hub", "cdn", "any"):
        raise FaultError("server must be hub, cdn or any")
    r["method"] = r["method"].upper() if r.get("method") else None
    r["count"] = int(r.get("count", 1))
    if r["kind"] == "status" and not isinstance(r.get("status"), int):
        raise FaultError("status fault needs an integer 'status'")
    if r["kind"] == "corrupt" and not isinstance(r.get("offset"), int):
        raise FaultError("corrupt fault needs an integer 'offset'")
    if r["kind"] == "bandwidth" and not r.get("bytes_per_sec"):
        raise FaultError("bandwidth fault needs 'bytes_per_sec'")
    r["after_bytes"] = int(r.get("after_bytes", 0))
    r["fired"] = 0
    return r


class HubState:
    """Everything the hub and CDN handlers share. All mutators are thread-safe."""

    def __init__(self, store, page_size=1000, cdn_bandwidth=None, cdn_latency_ms=0,
                 url_ttl=3600, log_path=None):
        self.store = store
        self.lock = threading.Lock()
        self.defaults = {"page_size": int(page_size), "cdn_bandwidth": cdn_bandwidth,
                         "cdn_latency_ms": int(cdn_latency_ms), "url_ttl": int(url_ttl)}
        self.config = dict(self.defaults)
        self.faults: list = []
        self.secret = os.urandom(16)
        self.hub_base = self.cdn_base = ""
        self.window_start = time.time()
        self.window_count = 0
        self.log_file = open(log_path, "a", buffering=1) if log_path else None
        self._clear_stats()

    # -- config ---------------------------------------------------------------
    def update_config(self, changes: dict) -> dict:
        with self.lock:
            for k, v in changes.items():
                if k not in self.config:
                    raise FaultError(f"unknown config key {k!r}; known: {sorted(self.config)}")
                if k == "cdn_bandwidth":
                    self.config[k] = int(v) if v else None
                else:
                    self.config[k] = int(v)
            if self.config["page_size"] < 1:
                self.config["page_size"] = 1
            return dict(self.config)

    def cfg(self, key):
        with self.lock:
            return self.config[key]

    # -- faults ---------------------------------------------------------------
    def set_faults(self, rules: list) -> None:
        new = [normalize_rule(r) for r in rules]
        with self.lock:
            self.faults = new

    def faults_view(self) -> list:
        with self.lock:
            return copy.deepcopy(self.faults)

    def take_fault(self, kinds, server: str, method: str, targets, pred=None) -> dict | None:
        """Find the first live rule of one of ``kinds`` matching this request; consume one count.

        ``targets`` are the strings ``match`` is tested against (request path, file path).
        ``pred(rule)`` may veto rules whose effect would not be observable on this response.
        """
        with self.lock:
            for r in self.faults:
                if r["kind"] not in kinds or r["count"] == 0:
                    continue
                if r["server"] not in ("any", server) or (r["method"] and r["method"] != method):
                    continue
                if not any(r["match"] in t for t in targets if t is not None):
                    continue
                if pred is not None and not pred(r):
                    continue
                if r["count"] > 0:
                    r["count"] -= 1
                r["fired"] += 1
                return dict(r)
        return None

    # -- stats ----------------------------------------------------------------
    def _clear_stats(self):
        self.requests = []
        self.cdn_auth_violations = 0
        self.resolve_auth_seen = 0
        self.bytes_by_sha256 = {}

    def reset(self, config: bool = False) -> None:
        with self.lock:
            self.faults = []
            self._clear_stats()
            if config:
                self.config = dict(self.defaults)
        self.store.invalidate()

    def record(self, rec: dict) -> None:
        with self.lock:
            self.requests.append(rec)
            if rec["auth"]:
                if rec["server"] == "cdn":
                    self.cdn_auth_violations += 1
                elif "/resolve/" in rec["path"] or rec["path"].startswith("/api/resolve-cache/"):
                    self.resolve_auth_seen += 1
        if self.log_file:
            self.log_file.write("%(server)s %(method)s %(path)s range=%(range)s -> %(status)s "
                                "%(bytes_sent)d bytes auth=%(auth)s\n" % rec)

    def add_bytes(self, sha256: str | None, n: int) -> None:
        if sha256 and n:
            with self.lock:
                self.bytes_by_sha256[sha256] = self.bytes_by_sha256.get(sha256, 0) + n

    def stats(self) -> dict:
        with self.lock:
            return {"requests": copy.deepcopy(self.requests),
                    "cdn_auth_violations": self.cdn_auth_violations,
                    "bytes_by_sha256": dict(self.bytes_by_sha256),
                    "resolve_auth_seen": self.resolve_auth_seen}

    # -- rate limit (reported, never enforced; use a status fault for 429) ----
    def ratelimit_headers(self) -> dict:
        with self.lock:
            now = time.time()
            if now - self.window_start >= RATE_WINDOW:
                self.window_start += RATE_WINDOW * ((now - self.window_start) // RATE_WINDOW)
                self.window_count = 0
            self.window_count += 1
            remaining = max(0, RATE_QUOTA - self.window_count)
            reset = max(1, math.ceil(self.window_start + RATE_WINDOW - now))
        return {"RateLimit": f'"resolvers";r={remaining};t={reset}',
                "RateLimit-Policy": f'"fixed window";"resolvers";q={RATE_QUOTA};w={RATE_WINDOW}'}

    # -- signed CDN URLs --------------------------------------------------------
    def sign(self, sha256: str, expires: int, path: str) -> str:
        msg = f"{sha256}\n{expires}\n{path}".encode()
        return hmac.new(self.secret, msg, hashlib.sha256).hexdigest()

    def check_signature(self, sha256: str, expires: str, path: str, sig: str) -> str | None:
        """None if valid, else the reason ("missing", "expired", "signature")."""
        if not expires or not sig:
            return "missing"
        try:
            exp = int(expires)
        except ValueError:
            return "signature"
        if not hmac.compare_digest(self.sign(sha256, exp, path), sig):
            return "signature"
        if exp < time.time():
            return "expired"
        return None
