#!/usr/bin/env bash
# A fast stand-in "runtime" for `make bench-serve`: accepts the llama-server command line dsm builds, and starts
# nginx on the --port it names, answering /health and the OpenAI routes with fixed small responses (plain JSON,
# or an SSE stream when the request says Accept: text/event-stream: 64 one-token chunk events, as a model streams them,
# then the finish event and [DONE]; nginx sends them back to back, not spaced in time). Not a model: it measures the
# gateway, not inference.
set -euo pipefail
port=""
while [ $# -gt 0 ]; do
  if [ "$1" = "--port" ]; then port=$2; shift; fi
  shift
done
[ -n "$port" ] || { echo "fast_upstream: no --port given" >&2; exit 2; }
dir=$(mktemp -d /tmp/dsm-fast-upstream.XXXXXX)
chunk='data: {"id":"x","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":"hi"},"finish_reason":null}]}\n\n'
events=""
for _ in $(seq 64); do events+=$chunk; done
mkdir -p "$dir/logs"
cat > "$dir/nginx.conf" <<CONF
worker_processes 1;
daemon off;
pid $dir/nginx.pid;
error_log $dir/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  keepalive_requests 1000000;
  client_body_buffer_size 64k;
  server {
    listen 127.0.0.1:$port;
    location = /health { default_type application/json; return 200 '{"status":"ok"}'; }
    location / {
      if (\$http_accept ~ event-stream) { rewrite ^ /stream last; }
      default_type application/json;
      return 200 '{"id":"x","object":"chat.completion","created":1,"model":"m","choices":[{"index":0,"message":{"role":"assistant","content":"hi"},"finish_reason":"stop"}],"usage":{"prompt_tokens":3,"completion_tokens":1,"total_tokens":4}}';
    }
    location = /stream {
      internal;
      default_type text/event-stream;
      return 200 '${events}data: {"id":"x","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n';
    }
  }
}
CONF
trap 'rm -rf "$dir"' EXIT
nginx -c "$dir/nginx.conf" -p "$dir" &
child=$!
trap 'kill $child 2>/dev/null; wait $child; rm -rf "$dir"' TERM INT EXIT
wait $child
