"""The CDN server: GET|HEAD /blobs/<sha256>?Expires=..&Signature=..&path=.. (signed, expiring)."""
from __future__ import annotations

import hashlib
import os
import re
import time
from xml.sax.saxutils import escape

from .httpbase import BaseHandler

BLOB_RE = re.compile(r"/blobs/([0-9a-f]{64})")


class CdnHandler(BaseHandler):
    """Serves LFS content by sha256. Requests carrying Authorization are counted as violations."""
    SERVER = "cdn"

    def fault_targets(self) -> list:
        return [self.path, self.upath, self.qs.get("path", [None])[0]]

    def send_error_generic(self, status, code, message, headers=None, method="GET"):
        body = ('<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>%s</Code><Message>%s</Message></Error>'
                % (escape(code or "Error"), escape(message))).encode()
        self.send_bytes(status, body, headers, "application/xml", method)

    def route(self, method: str):
        if method not in ("GET", "HEAD"):
            return self.send_error_generic(405, "MethodNotAllowed", "Method not allowed", method=method)
        m = BLOB_RE.fullmatch(self.path_raw)
        if not m:
            return self.send_error_generic(404, "NoSuchKey", "The specified key does not exist.", method=method)
        st = self.state
        latency = st.cfg("cdn_latency_ms")
        if latency:
            time.sleep(latency / 1000.0)
        sha = m.group(1)
        q = {k: v[0] for k, v in self.qs.items()}
        path = q.get("path", "")
        self.rec["file"], self.rec["sha256"] = path or None, sha
        why = st.check_signature(sha, q.get("Expires", ""), path, q.get("Signature", ""))
        if why:
            msg = {"expired": "Request has expired", "missing": "Missing Key-Pair-Id query parameter or cookie value",
                   "signature": "Invalid signature"}[why]
            return self.send_error_generic(403, "AccessDenied", msg, method=method)
        entry = st.store.blob(sha)
        if entry is None:
            return self.send_error_generic(404, "NoSuchKey", "The specified key does not exist.", method=method)
        hdrs = {"Content-Type": "application/octet-stream",
                "ETag": '"cdn-%s"' % hashlib.md5(sha.encode()).hexdigest(),
                "Last-Modified": "Mon, 20 Jan 2025 09:19:00 GMT",
                "Content-Disposition": 'inline; filename="%s"' % os.path.basename(path).replace('"', ""),
                "X-Cache": "Miss from cloudfront", "Via": "1.1 testhub-cdn (CloudFront)"}
        self.serve_content(method, entry, hdrs, bps=st.cfg("cdn_bandwidth"))
