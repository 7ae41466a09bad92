#!/usr/bin/env bash
# Hostile-environment test (issue 12) for `rnn classify train`: a read-only output directory, a
# full disk (a 1 MB tmpfs), and the data file deleted before --resume. Each must give one clear
# `error:` line, exit 1, and leave any earlier checkpoint intact and resumable. (Ctrl-C is tested by
# scripts/kill-resume.sh.) Needs root to mount tmpfs; without it, it says so and skips.
#
#   scripts/hostile-env.sh          (RNN=path/to/rnn)
set -euo pipefail
cd "$(dirname "$0")/.."
rnn=${RNN:-.build/release/rnn}
[[ -x $rnn ]] || { echo "hostile-env: no $rnn; build with swift build -c release" >&2; exit 1; }
work=$(mktemp -d)
mounts=()
cleanup() {
  for mount in "${mounts[@]}"; do umount "$mount" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
failures=0
fail() { echo "hostile-env FAILED: $*" >&2; failures=$((failures + 1)); }

data=Tests/RNNTasksTests/Fixtures/tiny-sentiment.csv
train() {
  "$rnn" classify train --data "$1" --text-column review --label-column sentiment --hidden 8 --embedding-dim "$2" \
    --batch-size 16 --threads 1 --seed 7 --pretrain-epochs 0 --epochs "$3" --out "$4" "${@:5}"
}

# expect_error WHAT PATTERN COMMAND...: exit status 1 and exactly one stderr line, `error: ...PATTERN...`.
expect_error() {
  local what=$1 pattern=$2; shift 2
  local status=0
  "$@" >"$work/out.log" 2>"$work/err.log" || status=$?
  local lines
  lines=$(grep -v '^\(read \|tokenizer \|pretraining \|epoch \|resuming\)' "$work/err.log" | grep -c . || true)
  if [[ $status != 1 ]]; then fail "$what: exit status $status, expected 1"; fi
  if [[ $lines != 1 ]] || ! grep -qi "^error: .*$pattern" "$work/err.log"; then
    fail "$what: expected one 'error: ...$pattern...' line, got: $(cat "$work/err.log")"
  fi
  echo "hostile-env $what: $(grep '^error:' "$work/err.log" | head -n 1)"
}

mount_tmpfs() {  # mount_tmpfs DIR OPTIONS
  mkdir -p "$1"
  mount -t tmpfs -o "$2" tmpfs "$1" 2>/dev/null || return 1
  mounts+=("$1")
}

if mount_tmpfs "$work/readonly" ro,size=1m; then
  expect_error "read-only output" "read.only" train "$data" 16 2 "$work/readonly/model"
  # An existing checkpoint on a file system remounted read-only: the error, and the checkpoint untouched.
  mount_tmpfs "$work/frozen" size=8m
  train "$data" 16 1 "$work/frozen/model" >/dev/null 2>&1
  before=$(cd "$work/frozen/model/checkpoint" && md5sum * | md5sum)
  mount -o remount,ro "$work/frozen"
  expect_error "read-only output, resuming" "read.only" train "$data" 16 2 "$work/frozen/model" --resume
  [[ $(cd "$work/frozen/model/checkpoint" && md5sum * | md5sum) == "$before" ]] || fail "read-only: the checkpoint changed"

  # Disk full: one checkpoint (~0.7 MB with a 512-wide embedding) fits in 1 MB, two do not, so the
  # second epoch's checkpoint cannot be written: the error, then the first one is still complete and
  # resumes (on a roomier disk) to the weights of an uninterrupted run.
  mount_tmpfs "$work/full" size=1m
  expect_error "disk full" "disk full\|No space left" train "$data" 512 3 "$work/full/model"
  [[ -f $work/full/model/checkpoint/trainer.json ]] || fail "disk full: no complete checkpoint left"
  [[ ! -e $work/full/model/checkpoint.tmp ]] || fail "disk full: the partial checkpoint.tmp was left behind"
  cp -r "$work/full/model" "$work/resumed"
  train "$data" 512 3 "$work/resumed" --resume >/dev/null 2>&1 || fail "disk full: resuming the surviving checkpoint failed"
  train "$data" 512 3 "$work/reference" >/dev/null 2>&1
  cmp -s "$work/resumed/model.safetensors" "$work/reference/model.safetensors" \
    || fail "disk full: the resumed weights differ from an uninterrupted run's"
  echo "hostile-env disk full: the surviving checkpoint resumed to bit-identical weights"
else
  echo "hostile-env: cannot mount tmpfs (not root?): read-only and disk-full checks skipped"
fi

# The data file deleted between the interrupted run and --resume.
cp "$data" "$work/data.csv"
train "$work/data.csv" 16 1 "$work/model" >/dev/null 2>&1
rm "$work/data.csv"
expect_error "data deleted" "data.csv" train "$work/data.csv" 16 2 "$work/model" --resume

echo "hostile-env: $failures failures" >&2
[[ $failures == 0 ]]
