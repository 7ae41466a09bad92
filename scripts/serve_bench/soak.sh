#!/usr/bin/env bash
# Memory over a soak: runs the classify load (wrk, 32 connections) for SECONDS and samples the
# server's resident memory every 10 s, then prints the series' first, last, min and max and the
# change from the first sample to the last.  Usage: soak.sh SERVER_PID URL SECONDS BODIES
set -euo pipefail
pid=$1 url=$2 seconds=$3 bodies=$4
here=$(cd "$(dirname "$0")" && pwd)
BODIES=$bodies wrk -t2 -c32 -d"${seconds}s" -s "$here/classify.lua" "$url" > /tmp/serve-soak-wrk.txt &
wrk_pid=$!
start=$(date +%s)
samples=()
while kill -0 "$wrk_pid" 2>/dev/null; do
  rss=$(ps -o rss= -p "$pid" | tr -d ' ')
  samples+=("$rss")
  echo "$(( $(date +%s) - start )) s  rss $rss KiB  load $(cut -d' ' -f1 /proc/loadavg)"
  sleep 10
done
cat /tmp/serve-soak-wrk.txt
printf '%s\n' "${samples[@]}" | awk '
  NR == 1 { first = $1; min = $1; max = $1 }
  { last = $1; if ($1 < min) min = $1; if ($1 > max) max = $1 }
  END { printf "rss over %d samples: first %d KiB, last %d KiB, min %d KiB, max %d KiB; last vs first %+.1f%%, (max - min) / min %.1f%%\n",
               NR, first, last, min, max, 100 * (last - first) / first, 100 * (max - min) / min }'
