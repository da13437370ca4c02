"""HTTP_PROXY / http_proxy / NO_PROXY: a tiny forward proxy written here counts what goes through it."""
from __future__ import annotations

import http.client
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import urlsplit

import pytest

from conftest import assert_pull_matches, pull_ok, summary_files

REPO = "test-org/multi-shard"
HOP = {"connection", "proxy-connection", "keep-alive", "proxy-authorization", "proxy-authenticate", "te",
       "trailers", "transfer-encoding", "upgrade"}


class _ProxyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    timeout = 60

    def log_message(self, *a):
        pass

    def _forward(self, method):
        srv = self.server
        with srv.lock:
            srv.seen.append((method, self.path))
        u = urlsplit(self.path)
        if u.scheme != "http" or not u.hostname:
            self.send_response(400)
            self.send_header("Content-Length", "0")
            self.send_header("Connection", "close")
            self.end_headers()
            self.close_connection = True
            return
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else None
        headers = {k: v for k, v in self.headers.items() if k.lower() not in HOP}
        conn = http.client.HTTPConnection(u.hostname, u.port or 80, timeout=60)
        try:
            target = (u.path or "/") + (("?" + u.query) if u.query else "")
            conn.request(method, target, body=body, headers=headers)
            resp = conn.getresponse()
            self.send_response(resp.status, resp.reason)
            chunked = resp.getheader("Transfer-Encoding", "").lower() == "chunked"
            data = resp.read() if chunked and method != "HEAD" else None
            for k, v in resp.getheaders():
                if k.lower() in HOP or (data is not None and k.lower() == "content-length"):
                    continue
                self.send_header(k, v)
            if data is not None:
                self.send_header("Content-Length", str(len(data)))
            self.send_header("Connection", "close")
            self.end_headers()
            if method != "HEAD":
                if data is not None:
                    self.wfile.write(data)
                else:
                    while True:
                        b = resp.read(256 * 1024)
                        if not b:
                            break
                        self.wfile.write(b)
        finally:
            conn.close()
            self.close_connection = True

    def do_GET(self):
        self._forward("GET")

    def do_HEAD(self):
        self._forward("HEAD")

    def do_POST(self):
        self._forward("POST")

    def do_CONNECT(self):
        with self.server.lock:
            self.server.seen.append(("CONNECT", self.path))
        self.send_response(405)
        self.send_header("Content-Length", "0")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True


@pytest.fixture
def proxy():
    srv = ThreadingHTTPServer(("127.0.0.1", 0), _ProxyHandler)
    srv.daemon_threads = True
    srv.lock = threading.Lock()
    srv.seen = []
    t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
    t.start()
    srv.url = f"http://127.0.0.1:{srv.server_address[1]}"
    try:
        yield srv
    finally:
        srv.shutdown()
        srv.server_close()


@pytest.mark.parametrize("var", ["HTTP_PROXY", "http_proxy"])
def test_pull_through_proxy(run_dsm, hub, summary, dsm_home, proxy, var):
    res = pull_ok(run_dsm, "hf.co/" + REPO, env={var: proxy.url}, timeout=120)
    assert_pull_matches(res, summary_files(summary, REPO), dsm_home, str(res)[:2000])
    seen = list(proxy.seen)
    assert seen, f"{var}={proxy.url} was set but no request went through the proxy"
    hub_host, cdn_host = hub.hub.split("//")[1], hub.cdn.split("//")[1]
    assert any(hub_host in u for _, u in seen), f"no hub request went through the proxy: {seen[:10]}"
    assert any(cdn_host in u for _, u in seen), f"no CDN request went through the proxy: {seen[:10]}"


@pytest.mark.parametrize("no_proxy_var", ["NO_PROXY", "no_proxy"])
def test_no_proxy_bypasses_proxy(run_dsm, hub, summary, dsm_home, proxy, no_proxy_var):
    env = {"HTTP_PROXY": proxy.url, "http_proxy": proxy.url, no_proxy_var: "127.0.0.1"}
    res = pull_ok(run_dsm, "hf.co/" + REPO, env=env, timeout=120)
    assert_pull_matches(res, summary_files(summary, REPO), dsm_home, str(res)[:2000])
    assert not proxy.seen, f"{no_proxy_var}=127.0.0.1 was set but requests went through the proxy: {proxy.seen[:10]}"
