#!/usr/bin/env bash
# Kill-and-resume test (issue 12): starts `rnn classify train` (also with its masked pretraining
# stage first), `rnn lm train` and `rnn tag train` on tiny data,
# kills them at random moments with SIGKILL (and SIGINT, once and twice), and checks after every
# trial that
#   - the output holds a complete checkpoint, byte-identical to the reference run's checkpoint of
#     the same epoch (or none yet, and then --resume says so in one line),
#   - `--resume` finishes with final weights bit-identical to an uninterrupted run with the same seed,
#   - Ctrl-C finishes the step, saves, exits 130 with a message naming --resume; a second Ctrl-C exits at once.
#
#   scripts/kill-resume.sh [TRIALS]        (default 20 SIGKILL trials for classify; RNN=path/to/rnn)
#
# Run by .ci/run after the release build. Prints one summary line per part; exits 1 on any failure.
set -euo pipefail
cd "$(dirname "$0")/.."
rnn=${RNN:-.build/release/rnn}
trials=${1:-20}
[[ -x $rnn ]] || { echo "kill-resume: no $rnn; build with swift build -c release" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
seed=${SEED:-$((RANDOM * 32768 + RANDOM))}
RANDOM=$seed
failures=0
# Failures go to fd 3 (the real stderr): trials run with stderr discarded, which hides bash's
# "Killed" notices for the killed runs.
exec 3>&2
fail() { echo "kill-resume FAILED: $*" >&3; failures=$((failures + 1)); }
now_ms() { date +%s%3N; }

# Checkpoints after every epoch; a large embedding makes each checkpoint a few MB, so that a fair
# share of the random kills lands while one is being written.
data=Tests/RNNTasksTests/Fixtures
classify=(classify train --data $data/tiny-sentiment.csv --text-column review --label-column sentiment
          --hidden 8 --embedding-dim 384 --batch-size 16 --threads 1 --seed 7 --pretrain-epochs 0)
# The same with the masked pretraining stage first (2 epochs; its own checkpoint, OUT/pretraining):
# classify's last two words, --pretrain-epochs 0, replaced.
pretrain=("${classify[@]:0:${#classify[@]}-2}" --pretrain-epochs 2)
lm=(lm train --data Sources/rnn/Resources/demo/jokes.csv --text-column Joke --limit 300 --hidden 16 --vocab-size 500 --batch-size 16
    --patience 0 --threads 1 --seed 7)
tag=(tag train --data $data/tiny-tagging.conllu --hidden 32 --embedding-dim 256 --char-dim 8 --char-hidden 16 --batch-size 16
     --threads 1 --seed 7)
epochs=5

# reference TASK: uninterrupted runs of 1..epochs epochs; their checkpoints are what every epoch's
# checkpoint must equal byte for byte (the constant learning rate makes the first k epochs of a
# longer run the same), and the last one's weights are what every resume must reach.
reference() {
  local name=$1; shift
  local k start
  for ((k = 1; k <= epochs; k++)); do
    start=$(now_ms)
    "$rnn" "$@" --epochs $k --out "$work/$name-ref$k" >/dev/null 2>&1 || { fail "$name reference run ($k epochs)"; return; }
    duration=$(( $(now_ms) - start ))
  done
}

# check_checkpoint TASK OUT: the checkpoint left in OUT is complete and equals the reference's.
check_checkpoint() {
  local name=$1 out=$2 folder=""
  for candidate in "$out/checkpoint" "$out/checkpoint.old"; do
    [[ -f $candidate/trainer.json ]] && { folder=$candidate; break; }
  done
  if [[ -z $folder ]]; then
    # Killed inside classify's pretraining stage after its first checkpoint: --resume continues it.
    if [[ -f $out/pretraining/checkpoint/trainer.json || -f $out/pretraining/checkpoint.old/trainer.json ]]; then echo stage; else echo none; fi
    return
  fi
  local done_epochs
  done_epochs=$(grep -o '"completedEpochs" : [0-9]*' "$folder/trainer.json" | grep -o '[0-9]*$')
  if grep -q '"partialEpoch"' "$folder/trainer.json"; then echo "partial$done_epochs"; return; fi
  for file in weights.safetensors optimizer.safetensors; do
    cmp -s "$folder/$file" "$work/$name-ref$done_epochs/checkpoint/$file" \
      || fail "$name: $folder/$file after epoch $done_epochs differs from the reference checkpoint"
  done
  echo "$done_epochs"
}

# resume_and_compare TASK OUT ARGS...: --resume reaches the reference's final weights.
resume_and_compare() {
  local name=$1 out=$2; shift 2
  local log=$work/resume.log
  if ! "$rnn" "$@" --epochs $epochs --out "$out" --resume >"$log" 2>&1; then
    fail "$name: --resume failed: $(tail -n 1 "$log")"; return
  fi
  cmp -s "$out/model.safetensors" "$work/$name-ref$epochs/model.safetensors" \
    || fail "$name: resumed final weights differ from the uninterrupted run's"
}

# kill_trial TASK SIGNALS ARGS...: one run, interrupted by SIGNALS (e.g. "KILL", "INT", "INT INT")
# at a random moment of the reference duration; then the checks.
declare -A counts
kill_trial() {
  local name=$1 signals=$2; shift 2
  local out=$work/$name-trial$((++trial_number)) log=$work/run.log
  local delay=$((RANDOM % (duration + 1)))
  # Ctrl-C within the first 70%, after start-up: late ones only meet the final save (exit 0).
  [[ $signals == INT* ]] && delay=$((100 + RANDOM % (duration * 7 / 10 + 1)))
  "$rnn" "$@" --epochs $epochs --out "$out" >"$log" 2>&1 &
  local pid=$!
  sleep "$(printf '%d.%03d' $((delay / 1000)) $((delay % 1000)))"
  for signal in $signals; do kill -s "$signal" $pid 2>/dev/null || true; sleep 0.05; done
  local status=0
  { wait $pid; } 2>/dev/null || status=$?
  [[ -d $out/checkpoint.tmp ]] && counts[$name-during-write]=$((${counts[$name-during-write]:-0} + 1))
  [[ -d $out/checkpoint.old ]] && counts[$name-between-renames]=$((${counts[$name-between-renames]:-0} + 1))
  if [[ $status == 0 ]]; then
    counts[$name-finished]=$((${counts[$name-finished]:-0} + 1))
  elif [[ $signals == INT* && $status != 130 ]]; then
    fail "$name: Ctrl-C ended with status $status, expected 130: $(tail -n 1 "$log")"
  fi
  if [[ $signals == INT && $status == 130 ]]; then
    grep -q "saved the checkpoint .*--resume" "$log" || fail "$name: Ctrl-C message lacks how to resume: $(tail -n 1 "$log")"
  fi
  local state
  state=$(check_checkpoint "$name" "$out")
  counts[$name-$state]=$((${counts[$name-$state]:-0} + 1))
  if [[ $state == none ]]; then
    # Killed before the first checkpoint: --resume must say so in one line, exit 1.
    local message status=0
    message=$("$rnn" "$@" --epochs $epochs --out "$out" --resume 2>&1 >/dev/null) || status=$?
    message=$(grep '^error:' <<<"$message" || true)
    if [[ $status != 1 || $(grep -c . <<<"$message") != 1 || $message != *"no checkpoint to resume from"* ]]; then
      fail "$name: --resume without a checkpoint: status $status, $message"
    fi
    return
  fi
  resume_and_compare "$name" "$out" "$@"
}

summary() {
  local name=$1 key line=""
  for key in $(printf '%s\n' "${!counts[@]}" | grep "^$name-" | sort); do line+=" ${key#$name-}=${counts[$key]}"; done
  echo "$line"
}

start=$(now_ms)
trial_number=0
reference classify "${classify[@]}"
for ((i = 0; i < trials; i++)); do kill_trial classify KILL "${classify[@]}" 2>/dev/null; done
echo "kill-resume classify: $trials SIGKILL trials (reference run $duration ms); left:$(summary classify)"
unset counts; declare -A counts
for ((i = 0; i < 4; i++)); do kill_trial classify INT "${classify[@]}"; done
for ((i = 0; i < 2; i++)); do kill_trial classify "INT INT" "${classify[@]}"; done
echo "kill-resume classify: 4 Ctrl-C and 2 double Ctrl-C trials; left:$(summary classify)"
unset counts; declare -A counts
reference pretrain "${pretrain[@]}"
for ((i = 0; i < 6; i++)); do kill_trial pretrain KILL "${pretrain[@]}" 2>/dev/null; done
for ((i = 0; i < 2; i++)); do kill_trial pretrain INT "${pretrain[@]}"; done
echo "kill-resume classify with pretraining: 6 SIGKILL and 2 Ctrl-C trials (reference run $duration ms); left:$(summary pretrain)"
unset counts; declare -A counts
reference lm "${lm[@]}"
for ((i = 0; i < 5; i++)); do kill_trial lm KILL "${lm[@]}" 2>/dev/null; done
for ((i = 0; i < 2; i++)); do kill_trial lm INT "${lm[@]}"; done
echo "kill-resume lm: 5 SIGKILL and 2 Ctrl-C trials (reference run $duration ms); left:$(summary lm)"
unset counts; declare -A counts
reference tag "${tag[@]}"
for ((i = 0; i < 3; i++)); do kill_trial tag KILL "${tag[@]}" 2>/dev/null; done
for ((i = 0; i < 2; i++)); do kill_trial tag INT "${tag[@]}"; done
echo "kill-resume tag: 3 SIGKILL and 2 Ctrl-C trials (reference run $duration ms); left:$(summary tag)"
echo "kill-resume: seed $seed, $(( ($(now_ms) - start) / 1000 )) s, $failures failures"
[[ $failures == 0 ]]
