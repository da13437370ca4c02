"""Handler base shared by hub and CDN: request bookkeeping, errors, Range, the body writer."""
from __future__ import annotations

import gzip
import json
import os
import re
import select
import socket
import struct
import sys
import time
import traceback
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, unquote

from .repos import Entry


class Abort(Exception):
    """The connection was dropped on purpose (reset/truncate fault)."""


QUIET_ERRORS = (ConnectionError, TimeoutError, socket.timeout, Abort)
SENDFILE_CHUNK = 8 * 1024 * 1024
WRITE_CHUNK = 1024 * 1024
THROTTLED_CHUNK = 64 * 1024


class QuietServer(ThreadingHTTPServer):
    """Threaded HTTP/1.1 server that does not print tracebacks for client disconnects."""
    daemon_threads = True
    allow_reuse_address = True
    block_on_close = False
    request_queue_size = 256

    def __init__(self, addr, handler, state):
        super().__init__(addr, handler)
        self.state = state

    def handle_error(self, request, client_address):
        if isinstance(sys.exc_info()[1], QUIET_ERRORS):
            return
        super().handle_error(request, client_address)


def parse_range(value: str, total: int):
    """Parse a Range header for a body of ``total`` bytes.

    Returns None (header to be ignored: absent, malformed or multi-range -> 200 full body),
    "unsatisfiable" (-> 416), or an inclusive (start, end) with end clamped to total-1.
    """
    v = (value or "").strip()
    if not v.lower().startswith("bytes="):
        return None
    spec = v[6:].strip()
    m = re.fullmatch(r"(\d*)\s*-\s*(\d*)", spec)
    if not m or m.groups() == ("", ""):
        return None
    a, b = m.groups()
    if a == "":  # suffix range: last b bytes
        n = int(b)
        if n == 0 or total == 0:
            return "unsatisfiable"
        return (max(0, total - n), total - 1)
    start = int(a)
    if b and int(b) < start:
        return None
    if start >= total:
        return "unsatisfiable"
    return (start, min(int(b), total - 1) if b else total - 1)


def accepts_gzip(value: str | None) -> bool:
    for part in (value or "").split(","):
        name, _, params = part.strip().partition(";")
        if name.strip().lower() == "gzip":
            m = re.search(r"q\s*=\s*([0-9.]+)", params)
            return not (m and float(m.group(1)) == 0)
    return False


def truthy(v) -> bool:
    return str(v).lower() in ("1", "true", "yes")


class BaseHandler(BaseHTTPRequestHandler):
    """Common request plumbing. Subclasses set SERVER and implement ``route(method)``."""
    protocol_version = "HTTP/1.1"
    server_version = "testhub/1.0"
    sys_version = ""
    timeout = 300
    SERVER = "hub"

    # -- plumbing ---------------------------------------------------------------
    @property
    def state(self):
        return self.server.state

    def log_message(self, fmt, *args):  # access logging goes through state.record
        pass

    def version_string(self):
        return self.server_version

    def handle_one_request(self):
        try:
            super().handle_one_request()
        except QUIET_ERRORS:
            self.close_connection = True

    def do_GET(self):
        self._run("GET")

    def do_HEAD(self):
        self._run("HEAD")

    def do_POST(self):
        self._run("POST")

    def do_PUT(self):
        self._run("PUT")

    def do_DELETE(self):
        self._run("DELETE")

    def is_control(self) -> bool:
        return False

    def fault_targets(self) -> list:
        return [self.path, self.upath]

    def send_response(self, code, message=None):
        self.rec["status"] = code
        super().send_response(code, message)

    def _run(self, method: str):
        self.path_raw, _, self.query = self.path.partition("?")
        self.upath = unquote(self.path_raw)
        self.qs = parse_qs(self.query, keep_blank_values=True)
        n = int(self.headers.get("Content-Length") or 0)
        self.body = self.rfile.read(n) if n > 0 else b""
        auth = self.headers.get("Authorization")
        self.token = None
        if auth is not None:
            self.token = auth[7:].strip() if auth.lower().startswith("bearer ") else auth.strip()
        self.rec = {"server": self.SERVER, "method": method, "path": self.upath, "query": self.query,
                    "range": self.headers.get("Range"), "status": None, "bytes_sent": 0,
                    "auth": auth is not None, "file": None, "sha256": None, "repo": None,
                    "aborted": False, "faults": [], "time": time.time()}
        control = self.is_control()
        try:
            f = None if control else self.take("status", method)
            if f:
                self.send_fault_status(method, f)
            else:
                self.route(method)
        except QUIET_ERRORS:
            self.close_connection = True
            self.rec["aborted"] = True
        except Exception:
            traceback.print_exc()
            self.close_connection = True
            if self.rec["status"] is None:
                try:
                    self.send_error_json(500, None, "internal test-hub error", method=method)
                except Exception:
                    pass
        finally:
            if not control:
                self.state.record(self.rec)

    def take(self, kind: str, method: str, pred=None):
        """Consume a matching fault rule of this kind (see HubState.take_fault)."""
        kinds = {"reset", "truncate"} if kind == "cut" else {kind}
        f = self.state.take_fault(kinds, self.SERVER, method, self.fault_targets(), pred)
        if f:
            self.rec["faults"].append(f["kind"])
        return f

    # -- simple responses ---------------------------------------------------------
    def send_bytes(self, status: int, body: bytes, headers: dict | None = None,
                   ctype: str = "application/json; charset=utf-8", method: str = "GET"):
        self.send_response(status)
        hdrs = {"Content-Type": ctype, **(headers or {}), "Content-Length": str(len(body))}
        for k, v in hdrs.items():
            self.send_header(k, v)
        self.end_headers()
        if method != "HEAD" and body:
            self.wfile.write(body)
            self.rec["bytes_sent"] += len(body)

    def send_json(self, status: int, obj, headers: dict | None = None, method: str = "GET"):
        self.send_bytes(status, json.dumps(obj).encode(), headers, method=method)

    def send_error_json(self, status: int, code: str | None, message: str,
                        headers: dict | None = None, method: str = "GET"):
        """Hub-style error: JSON {"error": message} + X-Error-Code / X-Error-Message."""
        hdrs = dict(headers or {})
        if code:
            hdrs["X-Error-Code"] = code
        hdrs["X-Error-Message"] = message
        self.send_json(status, {"error": message}, hdrs, method=method)

    def send_error_generic(self, status, code, message, headers=None, method="GET"):
        """Error in this server's native style (JSON on the hub; the CDN overrides with XML)."""
        self.send_error_json(status, code, message, headers, method=method)

    def send_fault_status(self, method: str, f: dict):
        status = f["status"]
        hdrs = dict(f.get("headers") or {})
        if f.get("retry_after") is not None:
            hdrs["Retry-After"] = str(f["retry_after"])
        if f.get("ratelimit_reset") is not None:
            hdrs["RateLimit"] = f'"resolvers";r=0;t={int(f["ratelimit_reset"])}'
            hdrs["RateLimit-Policy"] = '"fixed window";"resolvers";q=3000;w=300'
        if status == 429:
            msg = "You have exceeded our hourly quotas for action: resolve. We invite you to retry later."
        else:
            try:
                msg = HTTPStatus(status).phrase
            except ValueError:
                msg = "injected error"
        msg = f.get("message", msg)
        self.send_error_json(status, f.get("error_code"), msg, hdrs, method=method)

    # -- content with Range, gzip and body faults ---------------------------------
    def serve_content(self, method: str, entry: Entry, headers: dict, allow_gzip: bool = False,
                      bps: int | None = None):
        """Send ``entry`` honouring Range (206/416), optional gzip, and body fault rules."""
        total = entry.size
        rng_hdr = self.headers.get("Range")
        hdrs = {**headers, "Accept-Ranges": "bytes"}
        self.rec["sha256"] = entry.sha256
        fb = self.take("bandwidth", method) if method == "GET" else None
        if fb:
            bps = min(bps, int(fb["bytes_per_sec"])) if bps else int(fb["bytes_per_sec"])
        if allow_gzip and rng_hdr is None and accepts_gzip(self.headers.get("Accept-Encoding")):
            data = gzip.compress(entry.read(0, total), 6, mtime=0)
            hdrs.update({"Content-Encoding": "gzip", "Transfer-Encoding": "chunked", "Vary": "Accept-Encoding"})
            return self._send_body(method, 200, hdrs, Entry(entry.path, len(data), "bytes", data=data),
                                   0, len(data), bps, sha=entry.sha256, chunked=True)
        rng = parse_range(rng_hdr, total) if rng_hdr else None
        if rng == "unsatisfiable":
            return self.send_error_generic(416, "InvalidRange", "The requested range is not satisfiable",
                                           {"Content-Range": f"bytes */{total}"}, method=method)
        status, start, end = 200, 0, total - 1
        if rng is not None and not self.take("ignore_range", method):
            start, end = rng
            status = 200 if self.take("range_200", method) else 206
            hdrs["Content-Range"] = f"bytes {start}-{end}/{total}"
        length = max(0, end - start + 1)
        hdrs["Content-Length"] = str(length)
        return self._send_body(method, status, hdrs, entry, start, length, bps, sha=entry.sha256)

    def _send_body(self, method, status, hdrs, src: Entry, start, length, bps, sha, chunked=False):
        plan = {}
        if method == "GET" and length > 0:
            plan["cut"] = self.take("cut", method, lambda r: r["after_bytes"] < length)
            plan["stall"] = self.take("stall", method, lambda r: r["after_bytes"] < length)
            plan["corrupt"] = self.take("corrupt", method, lambda r: start <= r["offset"] < start + length)
        self.send_response(status)
        for k, v in hdrs.items():
            self.send_header(k, v)
        self.end_headers()
        if method == "HEAD":
            return
        self._write(src, start, length, bps, sha, chunked, **plan)

    def _write(self, src: Entry, start: int, length: int, bps, sha, chunked,
               cut=None, stall=None, corrupt=None):
        """Write body bytes [start, start+length) of ``src``; counts bytes as they are sent."""
        sock = self.connection
        cut_at = cut["after_bytes"] if cut else None
        stall_at = stall["after_bytes"] if stall else None
        flip = corrupt["offset"] - start if corrupt else None
        fast = src.kind == "disk" and not chunked and not bps and flip is None
        f = open(src.abspath, "rb") if src.kind == "disk" else None
        t0, pos = time.monotonic(), 0
        try:
            while pos < length:
                if stall_at is not None and pos >= stall_at:
                    stall_at = None
                    self._stall(float(stall.get("seconds", 60)))
                if cut_at is not None and pos >= cut_at:
                    self._cut(cut["kind"])
                limit = length - pos
                for ev in (stall_at, cut_at):
                    if ev is not None and ev > pos:
                        limit = min(limit, ev - pos)
                if fast:
                    sent = sock.sendfile(f, start + pos, min(limit, SENDFILE_CHUNK))
                    if sent == 0:
                        raise ConnectionAbortedError("sendfile sent nothing")
                else:
                    n = min(limit, THROTTLED_CHUNK if bps else WRITE_CHUNK)
                    data = os.pread(f.fileno(), n, start + pos) if f else src.read(start + pos, n)
                    if flip is not None and pos <= flip < pos + len(data):
                        data = bytearray(data)
                        data[flip - pos] ^= 0x01
                    sock.sendall(b"%x\r\n%s\r\n" % (len(data), data) if chunked else data)
                    sent = len(data)
                pos += sent
                self.rec["bytes_sent"] += sent
                self.state.add_bytes(sha, sent)
                if bps:
                    delay = t0 + pos / bps - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)
            if chunked:
                sock.sendall(b"0\r\n\r\n")
        finally:
            if f:
                f.close()

    def _stall(self, seconds: float):
        """Send nothing for ``seconds``; give up early if the client closes the connection."""
        sock, deadline = self.connection, time.monotonic() + seconds
        while (rem := deadline - time.monotonic()) > 0:
            r, _, _ = select.select([sock], [], [], min(0.2, rem))
            if r:
                try:
                    peek = sock.recv(1, socket.MSG_PEEK)
                except OSError:
                    peek = b""
                if not peek:
                    raise ConnectionAbortedError("client went away during stall")
                time.sleep(min(0.2, max(0, deadline - time.monotonic())))

    def _cut(self, kind: str):
        """Drop the connection: RST (SO_LINGER 0) for "reset", FIN for "truncate"."""
        self.close_connection = True
        self.rec["aborted"] = True
        sock = self.connection
        if kind == "reset":
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            try:
                self.rfile.close()  # drop the makefile reference so close() really closes the fd
            finally:
                sock.close()
        else:
            sock.shutdown(socket.SHUT_WR)
        raise Abort(kind)

