#!/usr/bin/env bash
# Memory over a soak: runs the classify load (wrk, 32 connections) for SECONDS and samples the
# server's resident memory every 10 s.  Usage: soak.sh SERVER_PID URL SECONDS BODIES
set -euo pipefail
pid=$1 url=$2 seconds=$3 bodies=$4
here=$(cd "$(dirname "$0")" && pwd)
BODIES=$bodies wrk -t2 -c32 -d"${seconds}s" -s "$here/classify.lua" "$url" > /tmp/serve-soak-wrk.txt &
wrk_pid=$!
start=$(date +%s)
while kill -0 "$wrk_pid" 2>/dev/null; do
  echo "$(( $(date +%s) - start )) s  rss $(ps -o rss= -p "$pid") KiB  load $(cut -d' ' -f1 /proc/loadavg)"
  sleep 10
done
cat /tmp/serve-soak-wrk.txt
