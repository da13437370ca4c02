"""The security review's gateway findings, each against the real `dsm serve` and real llama-server: logging that
cannot take serving down, client hang-ups that are neither runtime failures nor leaks, labels and log fields a
client cannot inflate, idle and per-client connection limits, limits for callers without a key, and log lines a
prompt cannot forge."""
from __future__ import annotations

import json
import os
import signal
import socket
import struct
import time

from conftest import fmt
from test_serve import ENV, MESSAGES, NAME, dsm_ok, get, post, runtimes_of, serve


def metric(s, name: str) -> float:
    """One unlabelled (or first labelled) sample of `name` from /metrics."""
    text = get(s.url + "/metrics")[2].decode()
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not in /metrics:\n{text}")


def access_log(dsm_home) -> list[dict]:
    lines = (dsm_home / "serve" / "logs" / "access.jsonl").read_text().splitlines()
    return [json.loads(line) for line in lines]  # every line must be one JSON object


def raw_request(port: int, body: dict, source: str = "127.0.0.1") -> socket.socket:
    """Sends a POST on a fresh socket bound to `source` and returns the socket, unread."""
    data = json.dumps(body).encode()
    sock = socket.socket()
    sock.bind((source, 0))
    sock.connect(("127.0.0.1", port))
    sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\ncontent-type: application/json\r\n"
                 + f"content-length: {len(data)}\r\n\r\n".encode() + data)
    return sock


def reset(sock: socket.socket):
    """Closes with a TCP reset (SO_LINGER 0), as a crashed client or a proxy timing out does."""
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    sock.close()


def wait_for(what, check, timeout=30.0):
    deadline = time.time() + timeout
    while time.time() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def runtime_busy(dsm_home, s) -> bool:
    """Whether the llama-server of v1 is working on a request (its /metrics, asked with the per-run key)."""
    key = next((dsm_home / "serve").rglob("runtime-key-*")).read_text().strip()
    port = runtimes_of(s)[1][1]
    status, _, body = get(f"http://127.0.0.1:{port}/metrics", {"authorization": "Bearer " + key})
    assert status == 200, body
    for line in body.decode().splitlines():
        if line.startswith("llamacpp:requests_processing"):
            return float(line.split()[-1]) > 0
    raise AssertionError("llama-server's /metrics has no requests_processing gauge")


def test_a_failing_access_log_does_not_stop_serving(run_dsm, start_dsm, dsm_home, demo_versions):
    """Finding 1: /dev/full as the access log used to end the process (SIGILL) on the first request."""
    s = serve(run_dsm, start_dsm, dsm_home, demo_versions, "--access-log", "/dev/full", versions=1)
    for _ in range(3):
        assert s.chat(max_tokens=1)[0] == "v1"
    assert s.proc.poll() is None, "dsm serve died after a failed access-log write"
    assert metric(s, "dsm_access_log_write_failures_total") >= 3
    s.proc.send_signal(signal.SIGTERM)
    rc, out, err = run_dsm.wait(s.proc, timeout=60)
    assert rc == 0, fmt(rc, out, err)
    assert err.count("cannot write the access log") == 1, "the failure should be reported once a minute, not per request\n" + err


def test_client_hangups_are_not_runtime_failures_and_cancel_the_work(run_dsm, start_dsm, dsm_home, demo_versions):
    """Findings 3 and 6: hang-ups mid-stream counted as canary 5xx and rolled the canary back; a reset before the
    answer left in_flight at 1, no log line, and the runtime generating for nobody."""
    # A long context, so an answer takes seconds to generate and is still in flight when its client leaves.
    s = serve(run_dsm, start_dsm, dsm_home, demo_versions, "--auto-rollback-error-rate", "0.2", "--auto-rollback-window", "4",
              "--ctx-size", "16384")
    dsm_ok(run_dsm, "release", NAME, "--canary", "v2", "--weight", "100")
    s.wait_routing(1, 2, 100)
    long = {"model": NAME, "messages": MESSAGES, "max_tokens": 8000, "ignore_eos": True}
    # Streams cut after their first event, then non-streamed requests reset while the runtime works.
    for i in range(6):
        sock = raw_request(s.port, {**long, "stream": True, "user": f"u{i}"})
        assert sock.recv(4096).startswith(b"HTTP/1.1 200"), "the stream did not start"
        reset(sock)
    for i in range(3):
        sock = raw_request(s.port, {**long, "user": f"r{i}"})
        time.sleep(0.3)
        reset(sock)
    wait_for("every request to be accounted for", lambda: metric(s, "dsm_requests_in_flight") == 0)
    entries = access_log(dsm_home)
    assert len(entries) == 9, entries
    assert all(e["status"] in (499, 200) for e in entries), entries
    assert sum(e["status"] == 499 for e in entries) >= 3, entries
    assert json.loads(run_dsm(["show", NAME, "--json"], env=ENV)[1])["routing"]["weight"] == 100, "hang-ups rolled the canary back"
    assert "automatic rollback" not in run_dsm(["history", NAME], env=ENV)[1]
    # The work of a stream whose client left is cancelled: the runtime is idle long before 8,000 tokens could be
    # generated. (llama-server finishes a non-streamed request even when its connection closes; see serving.md.)
    dsm_ok(run_dsm, "release", NAME, "--weight", "0")
    s.wait_routing(1, 2, 0)
    wait_for("the runtime to finish the earlier requests", lambda: not runtime_busy(dsm_home, s), timeout=120)
    sock = raw_request(s.port, {**long, "stream": True})
    wait_for("the runtime to start working", lambda: runtime_busy(dsm_home, s), timeout=20)
    assert sock.recv(4096).startswith(b"HTTP/1.1 200")
    reset(sock)
    wait_for("the runtime to stop working after the client left", lambda: not runtime_busy(dsm_home, s), timeout=5)
    # Shutdown does not wait out the drain timeout for requests that are long gone.
    began = time.time()
    s.proc.send_signal(signal.SIGTERM)
    rc, out, err = run_dsm.wait(s.proc, timeout=60)
    assert rc == 0 and time.time() - began < 20, fmt(rc, out, err)


def test_clients_cannot_inflate_metrics_or_log_lines(run_dsm, start_dsm, dsm_home, demo_versions, tmp_path):
    """Finding 4 (any `model` became a label: 1 MB names, 20k names) and finding 10 (60 KB paths were logged)."""
    keys = tmp_path / "keys"
    keys.write_text("sk-hardening-key-0001\n")
    s = serve(run_dsm, start_dsm, dsm_home, demo_versions, "--api-key-file", keys, "--unauthenticated-rate-limit", "5",
              versions=1, key="sk-hardening-key-0001")
    auth = {"authorization": "Bearer sk-hardening-key-0001"}
    for i in range(300):
        post(s.url + "/v1/chat/completions", {"model": f"junk-{i}:x", "messages": MESSAGES}, auth)
    status, _, _ = post(s.url + "/v1/chat/completions", {"model": "m" * (1 << 20), "messages": MESSAGES}, auth)
    assert status == 404
    status, _, body = get(s.url + "/metrics", auth)
    text = body.decode()
    assert status == 200 and len(text) < 20_000, f"/metrics grew to {len(text)} bytes"
    assert 'model="unknown"' in text and "junk-" not in text
    assert max(len(json.dumps(e)) for e in access_log(dsm_home)) < 2_000
    # Callers without a valid key: 401 up to the per-address limit, then 429 without checking keys; paths capped.
    answers = [get(s.url + "/v1/" + "p" * 60_000)[0] for _ in range(7)]
    assert answers[:5] == [401] * 5 and answers[5:] == [429, 429], answers
    assert get(s.url + "/v1/models", auth)[0] == 200, "a valid key is still served"
    assert max(len(e["route"]) for e in access_log(dsm_home)) < 1_000


def test_idle_and_per_client_connection_limits_keep_health_answering(run_dsm, start_dsm, dsm_home, demo_versions):
    """Finding 5: 300 half-sent requests starved /health."""
    s = serve(run_dsm, start_dsm, dsm_home, demo_versions, "--idle-timeout", "2", "--max-connections-per-client", "50", versions=1)
    held = []
    for _ in range(300):
        sock = socket.socket()
        sock.connect(("127.0.0.1", s.port))
        sock.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\ncontent-le")  # never finished
        held.append(sock)
    # Another client is served at once.
    other = socket.socket()
    other.bind(("127.0.0.2", 0))
    other.settimeout(5)
    other.connect(("127.0.0.1", s.port))
    other.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
    assert other.recv(100).startswith(b"HTTP/1.1 200"), "/health was starved by half-sent requests"
    other.close()
    # Beyond 50 connections from one address, the gateway closes new ones; the rest are closed when idle.
    closed_at_once = 0
    for sock in held[60:]:
        sock.settimeout(1)
        try:
            closed_at_once += sock.recv(1) == b""
        except ConnectionResetError:  # closed with our half-sent head unread: the kernel answers with a reset
            closed_at_once += 1
        except TimeoutError:
            pass
    assert closed_at_once >= 200, f"only {closed_at_once} of 240 connections over the per-client limit were closed"
    for sock in held[:50]:
        sock.settimeout(5)
        try:
            assert sock.recv(1) == b"", "an idle half-sent request was answered"
        except ConnectionResetError:
            pass
        sock.close()
    assert metric(s, "dsm_connections_refused_total") >= 200
    assert s.chat(max_tokens=1)[0] == "v1"


def test_rate_limit_without_keys_is_per_client_address(run_dsm, start_dsm, dsm_home, demo_versions):
    """Finding 17: with no keys every caller shared one bucket."""
    s = serve(run_dsm, start_dsm, dsm_home, demo_versions, "--rate-limit", "2", versions=1)

    def ask(source):
        sock = socket.socket()
        sock.bind((source, 0))
        sock.settimeout(10)
        sock.connect(("127.0.0.1", s.port))
        sock.sendall(b"GET /v1/models HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        head = sock.recv(20)
        sock.close()
        return int(head.split()[1])

    assert [ask("127.0.0.1") for _ in range(3)] == [200, 200, 429]
    assert [ask("127.0.0.2") for _ in range(2)] == [200, 200], "another address was limited by the first one's requests"


def test_logged_prompts_cannot_forge_lines(run_dsm, start_dsm, dsm_home, demo_versions):
    """Finding 12: --log-prompts embedded the raw body; a newline forged a log line, nan passed the scanner."""
    s = serve(run_dsm, start_dsm, dsm_home, demo_versions, "--log-prompts", versions=1)
    body = ('{"model": "%s",\n"messages": [{"role": "user", "content": "hi\\n{\\"forged\\": true}"}],\n"max_tokens": 1}\n'
            '{"time": "forged", "status": 200}' % NAME).encode()
    assert post(s.url + "/v1/chat/completions", body)[0] == 400, "two JSON values are not one body"
    ok = ('{"model": "%s",\n"messages": [{"role": "user", "content": "hi\\n{\\"x\\": 1}"}],\n"max_tokens": 1}\n' % NAME).encode()
    assert post(s.url + "/v1/chat/completions", ok)[0] == 200
    for bad in (b'{"model": "%s", "temperature": nan}' % NAME.encode(), b'{"model": "%s", "x": [0x10]}' % NAME.encode()):
        assert post(s.url + "/v1/chat/completions", bad)[0] == 400, bad
    entries = access_log(dsm_home)
    assert len(entries) == 4 and not any(e.get("time") == "forged" for e in entries), entries
    logged = [e for e in entries if e["status"] == 200]
    assert logged[0]["request"]["messages"][0]["content"] == 'hi\n{"x": 1}', logged


def test_health_does_not_publish_runtime_ports_or_pids(run_dsm, start_dsm, dsm_home, demo_versions):
    """Finding 8: the open /health listed every runtime's loopback port and pid."""
    s = serve(run_dsm, start_dsm, dsm_home, demo_versions, versions=1)
    _, h = s.health()
    runtime = h["models"][NAME]["runtimes"][0]
    assert runtime["phase"] == "ready" and "port" not in runtime and "pid" not in runtime, runtime
    pid, port = runtimes_of(s)[1]
    raw = get(s.url + "/health")[2].decode()
    assert str(port) not in raw and f"{pid}" not in raw.replace('"in_flight":0', ""), raw
