"""The hub server: model API, tree/paths-info, resolve, resolve-cache, raw and /_control."""
from __future__ import annotations

import base64
import binascii
import hashlib
import json
import mimetypes
import time
import uuid
from urllib.parse import parse_qs, quote, unquote

from .httpbase import BaseHandler, truthy
from .repos import Entry, Repo, Revision
from .state import FaultError

GATED_401 = ("Access to model {id} is restricted. You must have access to it and be authenticated "
             "to access it. Please log in.")
GATED_403 = ("Access to model {id} is restricted and you are not in the authorized list. "
             "Visit https://huggingface.co/{id} to ask for access.")
EXPOSE = ("X-Repo-Commit,X-Request-Id,X-Error-Code,X-Error-Message,X-Total-Count,ETag,Link,"
          "Accept-Ranges,Content-Range,X-Linked-Size,X-Linked-ETag,X-Xet-Hash")


def content_type(path: str) -> str:
    if path.endswith(".json"):
        return "application/json; charset=utf-8"
    t = mimetypes.guess_type(path)[0]
    if t is None or t.startswith("text/"):
        return (t or "text/plain") + "; charset=utf-8"
    return t


class HubHandler(BaseHandler):
    """Routes of the hub port. All repo routes go through ``access`` (auth/gating rules)."""
    SERVER = "hub"

    def is_control(self) -> bool:
        return self.path_raw.startswith("/_control/")

    def route(self, method: str):
        if self.is_control():
            return self.control(method)
        segs = self.path_raw.split("/")[1:]
        if segs[:2] == ["api", "models"] and len(segs) >= 4:
            return self.api_models(method, segs[2:])
        if segs[:3] == ["api", "resolve-cache", "models"] and len(segs) >= 7:
            return self.resolve_cache(method, segs[3:])
        if len(segs) >= 5 and segs[2] in ("resolve", "raw"):
            return self.files(method, segs)
        self.send_error_json(404, None, "Not Found", method=method)

    # -- helpers ----------------------------------------------------------------
    def base_headers(self, extra: dict | None = None) -> dict:
        return {"X-Request-Id": "Root=1-" + uuid.uuid4().hex[:8] + "-" + uuid.uuid4().hex[:24],
                "X-Powered-By": "huggingface-moon", "Vary": "Origin, Accept",
                "Access-Control-Expose-Headers": EXPOSE, **(extra or {})}

    def access(self, org: str, name: str, method: str, files: bool) -> Repo | None:
        """Apply the Hub's auth rules; send the error and return None when access is denied."""
        st, tok = self.state, self.token
        h = self.base_headers()
        if tok is not None and tok not in st.store.all_tokens():
            self.send_error_json(401, None, "Invalid credentials in Authorization header", h, method)
            return None
        repo = st.store.get(org, name)
        self.rec["repo"] = f"{org}/{name}"
        if repo is None or (repo.private and tok not in repo.tokens):
            self.send_error_json(401, "RepoNotFound", "Repository not found", h, method)
            return None
        if repo.disabled:
            self.send_error_json(403, None, "Access to this resource is disabled.", h, method)
            return None
        if files and repo.gated and tok not in repo.tokens:
            if tok is None:
                self.send_error_json(401, "GatedRepo", GATED_401.format(id=repo.id), h, method)
            else:
                self.send_error_json(403, "GatedRepo", GATED_403.format(id=repo.id), h, method)
            return None
        return repo

    @staticmethod
    def split_rev(repo: Repo, segs: list) -> tuple[str, str, str]:
        """(revision name, raw revision segment(s), unquoted rest path) from raw URL segments.

        The revision is normally one %-quoted segment (``refs%2Fpr%2F1``); an unquoted
        ``refs/pr/1`` spanning several segments is recognised when such a revision exists."""
        for k in range(len(segs), 1, -1):
            cand = "/".join(unquote(s) for s in segs[:k])
            if cand in repo.revisions:
                return cand, "/".join(segs[:k]), unquote("/".join(segs[k:]))
        return unquote(segs[0]), segs[0], unquote("/".join(segs[1:]))

    def get_rev(self, repo: Repo, rev: str, method: str) -> Revision | None:
        r = repo.revision(rev)
        if r is None:
            self.send_error_json(404, "RevisionNotFound", f"Invalid rev id: {rev}", self.base_headers(), method)
        return r

    def entry_not_found(self, rev: Revision, path: str, method: str):
        self.send_error_json(404, "EntryNotFound", "Entry not found",
                             self.base_headers({"X-Repo-Commit": rev.commit}), method)

    # -- /api/models ----------------------------------------------------------------
    def api_models(self, method: str, s: list):
        org, name, rest = unquote(s[0]), unquote(s[1]), s[2:]
        repo = self.access(org, name, method, files=False)
        if repo is None:
            return
        if not rest or (rest[0] == "revision" and len(rest) >= 2):
            rev = self.get_rev(repo, unquote("/".join(rest[1:])) if rest else "main", method)
            return rev and self.model_info(method, repo, rev)
        kind = rest[0]
        if kind in ("tree", "paths-info") and len(rest) >= 2:
            rev_name, rev_raw, path = self.split_rev(repo, rest[1:])
            rev = self.get_rev(repo, rev_name, method)
            if rev is None:
                return
            if kind == "tree":
                return self.tree(method, repo, rev, rev_raw, path)
            return self.paths_info(method, rev)
        if kind == "refs":
            return self.refs(method, repo)
        self.send_error_json(404, None, "Not Found", method=method)

    def model_info(self, method: str, repo: Repo, rev: Revision):
        blobs = truthy(self.qs.get("blobs", [""])[0])
        body = {"_id": hashlib.sha1(repo.id.encode()).hexdigest()[:24], "id": repo.id, "modelId": repo.id,
                "author": repo.org, "sha": rev.commit, "lastModified": "2025-01-20T09:19:00.000Z",
                "createdAt": "2025-01-20T09:00:00.000Z", "private": repo.private,
                "gated": "auto" if repo.gated else False, "disabled": False, "downloads": 0, "likes": 0,
                "tags": ["transformers", "safetensors"], "library_name": "transformers",
                "siblings": [e.sibling_json(blobs) for e in rev.entries.values()], "spaces": []}
        if blobs:
            body["usedStorage"] = sum(e.size for e in rev.entries.values())
        self.send_json(200, body, self.base_headers(), method)

    def tree(self, method: str, repo: Repo, rev: Revision, rev_raw: str, path: str):
        recursive = truthy(self.qs.get("recursive", [""])[0])
        items = rev.listing(path, recursive)
        if items is None:
            return self.entry_not_found(rev, path, method)
        offset = 0
        cursor = self.qs.get("cursor", [None])[0]
        if cursor:
            try:
                c = json.loads(base64.urlsafe_b64decode(cursor.encode()))
                offset = int(c["offset"]) if c["commit"] == rev.commit else -1
            except (ValueError, KeyError, TypeError, binascii.Error):
                offset = -1
            if offset < 0:
                return self.send_error_json(400, None, "Invalid cursor", self.base_headers(), method)
        page = self.state.cfg("page_size")
        hdrs = self.base_headers()
        if offset + page < len(items):
            nxt = base64.urlsafe_b64encode(json.dumps(
                {"commit": rev.commit, "offset": offset + page}).encode()).decode()
            url = (f"{self.state.hub_base}/api/models/{repo.id}/tree/{rev_raw}"
                   + (f"/{quote(path.strip('/'))}" if path.strip("/") else "")
                   + ("?recursive=true&" if recursive else "?") + f"cursor={nxt}")
            hdrs["Link"] = f'<{url}>; rel="next"'
        self.send_json(200, items[offset:offset + page], hdrs, method)

    def paths_info(self, method: str, rev: Revision):
        if method != "POST":
            return self.send_error_json(405, None, "Method Not Allowed", method=method)
        ctype = self.headers.get("Content-Type", "")
        try:
            if "json" in ctype:
                paths = json.loads(self.body or b"{}").get("paths", [])
            else:
                paths = parse_qs(self.body.decode(), keep_blank_values=True).get("paths", [])
        except ValueError:
            return self.send_error_json(400, None, "Invalid body", method=method)
        if isinstance(paths, str):
            paths = [paths]
        out = [i for i in (rev.info(p) for p in dict.fromkeys(paths)) if i is not None]
        self.send_json(200, out, self.base_headers(), method)

    def refs(self, method: str, repo: Repo):
        body = {"branches": [{"name": "main", "ref": "refs/heads/main",
                              "targetCommit": repo.revisions["main"].commit}],
                "tags": [], "converts": [],
                "pullRequests": [{"name": n, "ref": n, "targetCommit": r.commit}
                                 for n, r in repo.revisions.items() if n.startswith("refs/pr/")]}
        self.send_json(200, body, self.base_headers(), method)

    # -- resolve / raw / resolve-cache ----------------------------------------------------
    def files(self, method: str, segs: list):
        org, name, kind = unquote(segs[0]), unquote(segs[1]), segs[2]
        repo = self.access(org, name, method, files=True)
        if repo is None:
            return
        rev_name, _, path = self.split_rev(repo, segs[3:])
        rev = self.get_rev(repo, rev_name, method)
        if rev is None:
            return
        entry = rev.entries.get(path)
        self.rec["file"] = path
        if entry is None:
            return self.entry_not_found(rev, path, method)
        if kind == "raw":
            src = Entry(path, len(entry.pointer), "bytes", data=entry.pointer) if entry.lfs else entry
            hdrs = self.base_headers({"X-Repo-Commit": rev.commit, "ETag": f'"{entry.oid}"',
                                      "Content-Type": "text/plain; charset=utf-8"})
            return self.serve_content(method, src, hdrs)
        return self.resolve(method, repo, rev, rev_name, path, entry)

    def resolve(self, method: str, repo: Repo, rev: Revision, rev_name: str, path: str, entry: Entry):
        st = self.state
        hdrs = self.base_headers({"X-Repo-Commit": rev.commit, **st.ratelimit_headers()})
        self.rec["sha256"] = entry.sha256
        if entry.lfs:
            sha = entry.sha256
            exp = int(time.time()) + st.cfg("url_ttl")
            loc = (f"{st.cdn_base}/blobs/{sha}?Expires={exp}&Signature={st.sign(sha, exp, path)}"
                   f"&path={quote(path, safe='')}")
            xet = hashlib.sha256(b"xet:" + sha.encode()).hexdigest()
            hdrs.update({"Location": loc, "X-Linked-Etag": f'"{sha}"', "X-Linked-Size": str(entry.size),
                         "ETag": f'"{sha}"', "Accept-Ranges": "bytes", "X-Xet-Hash": xet,
                         "Link": f'<{st.hub_base}/api/models/{repo.id}/xet-read-token/{rev.commit}>; '
                                 f'rel="xet-auth", <{st.cdn_base}/v1/reconstructions/{xet}>; '
                                 f'rel="xet-reconstruction-info"'})
            body = f"Found. Redirecting to {loc}".encode()
            return self.send_bytes(302, body, hdrs, "text/plain; charset=utf-8", method)
        key = quote(f"/{repo.id}/resolve/{rev_name}/{path}", safe="")
        loc = (f"/api/resolve-cache/models/{repo.id}/{rev.commit}/{quote(path, safe='/')}"
               f"?{key}=&etag=%22{entry.oid}%22")
        hdrs.update({"Location": loc, "ETag": f'"{entry.oid}"'})
        body = f"Temporary Redirect. Redirecting to {loc}".encode()
        self.send_bytes(307, body, hdrs, "text/plain; charset=utf-8", method)

    def resolve_cache(self, method: str, segs: list):
        org, name = unquote(segs[0]), unquote(segs[1])
        repo = self.access(org, name, method, files=True)
        if repo is None:
            return
        rev = self.get_rev(repo, unquote(segs[2]), method)
        if rev is None:
            return
        path = unquote("/".join(segs[3:]))
        entry = rev.entries.get(path)
        self.rec["file"] = path
        if entry is None:
            return self.entry_not_found(rev, path, method)
        hdrs = self.base_headers({"X-Repo-Commit": rev.commit, "ETag": f'"{entry.etag}"',
                                  "Content-Type": content_type(path)})
        self.serve_content(method, entry, hdrs, allow_gzip=True)

    # -- /_control ----------------------------------------------------------------------
    def control(self, method: str):
        st, what = self.state, self.path_raw[len("/_control/"):].strip("/")
        try:
            body = json.loads(self.body) if self.body.strip() else None
            if what == "stats" and method == "GET":
                return self.send_json(200, st.stats())
            if what == "faults" and method == "GET":
                return self.send_json(200, st.faults_view())
            if what == "faults" and method == "POST":
                rules = body.get("faults", []) if isinstance(body, dict) else (body or [])
                st.set_faults(rules)
                return self.send_json(200, {"ok": True, "faults": len(rules)})
            if what == "reset" and method == "POST":
                st.reset(config=truthy(self.qs.get("config", [""])[0])
                         or bool(isinstance(body, dict) and body.get("config")))
                return self.send_json(200, {"ok": True})
            if what == "config" and method in ("GET", "POST"):
                return self.send_json(200, st.update_config(body or {}))
            if what == "rescan" and method == "POST":
                st.store.invalidate()
                return self.send_json(200, {"ok": True})
        except (ValueError, FaultError, AttributeError, TypeError) as e:
            return self.send_error_json(400, None, f"bad control request: {e}")
        self.send_error_json(404, None, "unknown control endpoint")
