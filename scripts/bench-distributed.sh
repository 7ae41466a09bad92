#!/usr/bin/env bash
# Distributed-training throughput on this machine: for imdb-lstm and jokes-lm (the `rnn bench`
# reference configurations, trained with the real `classify train` / `lm train` on the shared
# data), 1 process with 1 BLAS thread, 1 process with 2 threads, and 2 MPI ranks with 1 thread
# each, all with the same global batch: `2ranks-1thread` the default step (on one machine, the
# shared-memory step), `2ranks-allreduce` the dense MPI all-reduce step (`--no-shared-memory`,
# the output layer's all-reduce overlapped with the backward pass, only the touched embedding
# rows sent), `2ranks-allreduce-dense` that sending every row, `2ranks-blocking` that
# without the overlap, `2ranks-sharded` the sharded optimizer step over MPI. Prints one JSON
# line per run (training tokens/s of the best epoch, per-step
# milliseconds of wall and CPU time in compute / wait / communication / update, machine load
# before and after), then per configuration and mode the median ratio to 1rank-1thread over the
# rounds (ROUNDS, paired round by round), then the all-reduce alone for each gradient size.
#
#   [MODES="1rank-1thread 2ranks-1thread"] [CONFIGS="imdb-lstm"] scripts/bench-distributed.sh [RNN_BINARY] [OUT_DIR]
# Needs Open MPI (apt-get install libopenmpi-dev openmpi-bin) and ../shared/data.
set -euo pipefail
cd "$(dirname "$0")/.."
rnn=${1:-.build/release/rnn}
out=${2:-$(mktemp -d)}
mkdir -p "$out"
rm -f "$out/records.jsonl"
shared=${SHARED:-../shared/data}
[[ -d $shared ]] || shared=/work/shared/data
rounds=${ROUNDS:-1}
mpirun=(mpirun --bind-to none -np 2)
# MPI_YIELD=1: a waiting rank yields its core instead of spinning (better on a crowded machine).
[[ -n ${MPI_YIELD:-} ]] && mpirun+=(--mca mpi_yield_when_idle 1)
[[ $(id -u) == 0 ]] && mpirun+=(--allow-run-as-root)

imdb=(classify train --data "$shared/aclImdb/train" --limit "${IMDB_LIMIT:-500}" --cell lstm --no-bidirectional --pool last
      --hidden 128 --embedding-dim 128 --vocab-size 20000 --max-length 256 --batch-size 64 --epochs 2 --validation-split 0.1)
jokes=(lm train --data "$shared/jokes/reddit-cleanjokes.csv" --text-column Joke --cell lstm --layers 2 --hidden 256
       --embedding-dim 128 --no-tie-embeddings --vocab-size 5000 --max-length 35 --batch-size 32 --epochs 3 --validation-split 0.1)

load() { cut -d' ' -f1 /proc/loadavg; }
# User + system CPU seconds of this script's finished children (every rank included).
# (`times` must run in this shell, not in a $(...) subshell, which has no finished children.)
children_cpu_to() { times >"$1"; }
cpu_of() { tail -1 "$1" | python3 -c "import sys,re; print(sum(int(m)*60+float(s) for m,s in re.findall(r'(\d+)m([\d.]+)s', sys.stdin.read())))"; }

# name, mode, command...: trains, then summarizes OUT/name-mode/history.json.
measure() {
  local name=$1 mode=$2; shift 2
  local dir="$out/$name-$mode" before after
  rm -rf "$dir"
  before=$(load)
  local cpu0 cpu1
  children_cpu_to "$out/.times"; cpu0=$(cpu_of "$out/.times")
  case $mode in
    1rank-1thread) "$rnn" "$@" --out "$dir" --threads 1 --distributed none >/dev/null 2>"$dir.log" ;;
    1rank-2threads) "$rnn" "$@" --out "$dir" --threads 2 --distributed none >/dev/null 2>"$dir.log" ;;
    2ranks-1thread) "${mpirun[@]}" "$rnn" "$@" --out "$dir" --threads 1 >/dev/null 2>"$dir.log" ;;
    2ranks-allreduce) "${mpirun[@]}" "$rnn" "$@" --out "$dir" --threads 1 --no-shared-memory >/dev/null 2>"$dir.log" ;;
    2ranks-allreduce-dense) "${mpirun[@]}" "$rnn" "$@" --out "$dir" --threads 1 --no-shared-memory --dense-allreduce >/dev/null 2>"$dir.log" ;;
    2ranks-blocking) "${mpirun[@]}" "$rnn" "$@" --out "$dir" --threads 1 --no-shared-memory --blocking-allreduce >/dev/null 2>"$dir.log" ;;
    2ranks-sharded) "${mpirun[@]}" "$rnn" "$@" --out "$dir" --threads 1 --sharded-optimizer >/dev/null 2>"$dir.log" ;;
  esac
  after=$(load)
  children_cpu_to "$out/.times"; cpu1=$(cpu_of "$out/.times")
  python3 - "$dir/history.json" "$name" "$mode" "$before" "$after" "$dir.log" "$cpu0" "$cpu1" "$out/records.jsonl" <<'PY'
import json, re, sys
path, name, mode, before, after, log, cpu0, cpu1, records = sys.argv[1:]
history = json.load(open(path))
best = max(history, key=lambda r: r["tokensPerSecond"])
steps = None
for line in open(log):
    m = re.search(r"batch (\d+)/(\d+)", line)
    if m: steps = int(m.group(2))
record = {"config": name, "mode": mode, "tokens_per_second": round(best["tokensPerSecond"]),
          "epoch_tokens_per_second": [round(r["tokensPerSecond"]) for r in history],
          "load_before": float(before), "load_after": float(after), "steps_per_epoch": steps,
          "cpu_seconds": round(float(cpu1) - float(cpu0), 1),
          "wall_seconds": round(sum(r["seconds"] for r in history), 1)}
if history[0].get("cpuSeconds") is not None:
    # CPU seconds of (rank 0's) training steps per epoch, all threads: the work itself, which a
    # crowded machine stretches in wall time but not in CPU time. Same tokens in every mode, so
    # 1-rank CPU / 2-rank rank-0 CPU is the speedup with a core per rank.
    record["train_cpu_seconds_per_epoch"] = [round(r["cpuSeconds"], 2) for r in history]
if best.get("allReduceSeconds") is not None and steps:
    record["allreduce_ms_per_step"] = round(best["allReduceSeconds"] / steps * 1000, 2)
    record["allreduce_share"] = round(best["allReduceSeconds"] / best["seconds"], 4)
if best.get("allReducedGradientFloats") is not None and steps:
    # Floats handed to MPI's all-reduce per step (0 with the shared-memory step; with the touched
    # embedding rows only, less than the gradient).
    record["allreduce_floats_per_step"] = round(best["allReducedGradientFloats"] / steps)
if best.get("rankWaitSeconds") is not None and steps:
    record["wait_for_ranks_ms_per_step"] = round(best["rankWaitSeconds"] / steps * 1000, 2)
if history[0].get("phases") is not None and steps:
    # Per step, averaged over the epochs: wall ms and CPU ms of each phase (rank 0).
    for phase in ("compute", "wait", "communication", "update"):
        record[phase + "_ms_per_step"] = round(sum(r["phases"][phase]["seconds"] for r in history) / (steps * len(history)) * 1000, 2)
        record[phase + "_cpu_ms_per_step"] = round(sum(r["phases"][phase]["cpuSeconds"] for r in history) / (steps * len(history)) * 1000, 2)
print(json.dumps(record))
open(records, "a").write(json.dumps(record) + "\n")
PY
}

for round in $(seq 1 "$rounds"); do
  for mode in ${MODES:-1rank-1thread 2ranks-1thread 2ranks-allreduce 2ranks-sharded 1rank-2threads}; do
    for config in ${CONFIGS:-imdb-lstm jokes-lm}; do
      case $config in
        imdb-lstm) measure imdb-lstm "$mode" "${imdb[@]}" ;;
        jokes-lm) measure jokes-lm "$mode" "${jokes[@]}" ;;
      esac
    done
  done
done
# Summary: each mode's throughput over 1rank-1thread of the same round (paired, so a slow
# stretch of the machine hits both sides of a ratio less often), median and range.
python3 - "$out/records.jsonl" <<'PY'
import json, statistics, sys
records = [json.loads(line) for line in open(sys.argv[1])]
for config in dict.fromkeys(r["config"] for r in records):
    base = [r["tokens_per_second"] for r in records if r["config"] == config and r["mode"] == "1rank-1thread"]
    for mode in dict.fromkeys(r["mode"] for r in records if r["config"] == config and r["mode"] != "1rank-1thread"):
        runs = [r["tokens_per_second"] for r in records if r["config"] == config and r["mode"] == mode]
        ratios = [b / a for a, b in zip(base, runs)]
        if ratios:
            print(json.dumps({"config": config, "mode": mode, "rounds": len(ratios), "median_ratio_to_1rank_1thread": round(statistics.median(ratios), 3),
                              "min": round(min(ratios), 3), "max": round(max(ratios), 3), "ratios": [round(x, 3) for x in ratios]}))
PY
[[ -n ${SKIP_ALONE:-} ]] && exit 0
# The gradient all-reduce alone, at each configuration's gradient size.
for name in ${CONFIGS:-imdb-lstm jokes-lm}; do
  [[ -f $out/$name-1rank-1thread/model.safetensors ]] || continue
  floats=$(python3 -c "import json,sys; print(sum(__import__('math').prod(v['shape']) for k,v in json.loads(open(sys.argv[1],'rb').read()[8:8+int.from_bytes(open(sys.argv[1],'rb').read(8),'little')]).items() if k!='__metadata__'))" "$out/$name-1rank-1thread/model.safetensors")
  echo "{\"config\": \"$name\", \"allreduce_alone\": $("${mpirun[@]}" "$rnn" bench-allreduce --floats "$floats" 2>/dev/null)}"
  echo "{\"config\": \"$name\", \"reduce_scatter_all_gather_alone\": $("${mpirun[@]}" "$rnn" bench-allreduce --sharded --floats "$floats" 2>/dev/null)}"
done
