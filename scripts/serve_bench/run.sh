#!/usr/bin/env bash
# The serving benchmark of issue 11 in one command: starts `rnn serve` with the IMDB classifier and
# the jokes language model, then measures
#   1. /v1/classify under wrk (32 connections, 200-word reviews): req/s, p50/p90/p99, errors, and
#      the server's CPU time per request (user + system, from /proc: valid on a loaded machine);
#   2. /v1/generate, 8 streams alone: tokens/s, first-token p50/p99;
#   3. /v1/generate, 8 streams while the classify load runs: first-token p50/p99 under contention.
# Usage: scripts/serve_bench/run.sh [SECONDS=60]
# Environment: RNN (binary, default .build/release/rnn), IMDB_MODEL (/tmp/serve-imdb), JOKES_MODEL
# (/tmp/serve-jokes), IMDB_TRAIN (../shared/data/aclImdb/train), PORT (18090), CONNECTIONS (32).
# Models: see BENCHMARKS.md "Serving" (rnn classify train / rnn lm train commands).
set -euo pipefail
cd "$(dirname "$0")/../.."
here=scripts/serve_bench
seconds=${1:-60}
rnn=${RNN:-.build/release/rnn}
imdb=${IMDB_MODEL:-/tmp/serve-imdb} jokes=${JOKES_MODEL:-/tmp/serve-jokes}
port=${PORT:-18090} connections=${CONNECTIONS:-32}
url=http://127.0.0.1:$port
bodies=/tmp/serve-bench-reviews.jsonl
command -v wrk >/dev/null || { echo "error: wrk is not installed (apt-get install -y wrk)" >&2; exit 1; }
for model in "$imdb" "$jokes"; do
  [[ -d $model ]] || { echo "error: no model directory $model (see BENCHMARKS.md, Serving)" >&2; exit 1; }
done
[[ -s $bodies ]] || python3 $here/make_reviews.py "${IMDB_TRAIN:-../shared/data/aclImdb/train}" 500 $bodies 200 >/dev/null

"$rnn" serve --model "$imdb" --model "$jokes" --port "$port" 2>/tmp/serve-bench-server.log &
server=$!
trap 'kill $server 2>/dev/null; wait $server 2>/dev/null || true' EXIT
for _ in $(seq 300); do curl -sf "$url/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
curl -sf "$url/healthz" >/dev/null || { echo "error: the server did not start:" >&2; cat /tmp/serve-bench-server.log >&2; exit 1; }

cpu_ticks() { awk '{print $14 + $15}' "/proc/$server/stat"; }   # utime + stime, in clock ticks
hz=$(getconf CLK_TCK)
echo "binary $rnn; load average $(cut -d' ' -f1-3 /proc/loadavg) at start"
BODIES=$bodies wrk -t2 -c"$connections" -d5s -s $here/classify.lua "$url" >/dev/null   # warm-up

echo "== classify: $connections connections, ${seconds} s"
before=$(cpu_ticks)
BODIES=$bodies wrk -t2 -c"$connections" -d"${seconds}s" -s $here/classify.lua "$url" | tee /tmp/serve-bench-wrk.txt | grep -E '^(requests|latency|errors)'
after=$(cpu_ticks)
requests=$(awk '/^requests/ {print $2}' /tmp/serve-bench-wrk.txt)
awk -v t=$((after - before)) -v hz="$hz" -v n="$requests" \
  'BEGIN { printf "server CPU %.1f s for %d requests: %.2f CPU-ms per request\n", t / hz, n, 1000 * t / hz / n }'

stream_seconds=$(( seconds < 30 ? seconds : 30 ))
echo "== generate: 8 streams alone, ${stream_seconds} s, max_tokens 60"
python3 $here/generate_streams.py "$url" 8 "$stream_seconds" 60

echo "== generate: 8 streams during the classify load, ${stream_seconds} s"
BODIES=$bodies wrk -t2 -c"$connections" -d"$((stream_seconds + 2))s" -s $here/classify.lua "$url" > /tmp/serve-bench-wrk-mixed.txt &
wrk_pid=$!
sleep 1
python3 $here/generate_streams.py "$url" 8 "$stream_seconds" 60
wait $wrk_pid
echo "classify meanwhile: $(grep -E '^requests' /tmp/serve-bench-wrk-mixed.txt); $(grep -E 'p99 ' /tmp/serve-bench-wrk-mixed.txt); $(grep -E '^errors' /tmp/serve-bench-wrk-mixed.txt)"
echo "load average $(cut -d' ' -f1-3 /proc/loadavg) at end"
