#!/usr/bin/env bash
# Fuzz one reader or loader with libFuzzer under AddressSanitizer (issue 12).
#
#   scripts/fuzz.sh TARGET SECONDS [libFuzzer flags...]    e.g. scripts/fuzz.sh safetensors 600
#   scripts/fuzz.sh list                                    the targets
#   scripts/fuzz.sh build [TARGET]                          build only
#
# Targets are Fuzz/Targets/TARGET.swift (one `LLVMFuzzerTestOneInput` each). The package's library
# modules are compiled once (again when their sources change) with `swiftc -sanitize=fuzzer,address`
# into .build/fuzz/modules; each target is linked against them.
# Seeds come from the test fixtures and Fuzz/fixtures (copied into .build/fuzz/corpus/TARGET,
# which also keeps what libFuzzer finds). A crash, leak or hang (> 2 s per input: -timeout=2)
# stops the run and leaves the input as .build/fuzz/artifacts/TARGET/crash-* (or leak-, timeout-);
# commit a small one as a regression test in the mirroring test file.
set -euo pipefail
cd "$(dirname "$0")/.."
root=$PWD
build=$root/.build/fuzz
targets=$(cd Fuzz/Targets && ls *.swift | sed 's/\.swift$//')

usage() { echo "usage: scripts/fuzz.sh TARGET SECONDS [libFuzzer flags...] | list | build [TARGET]" >&2; exit 64; }
[[ $# -ge 1 ]] || usage
if [[ $1 == list ]]; then echo "$targets"; exit 0; fi

build_modules() {
  # The library modules, each compiled whole-module into one object with coverage and ASan. (With
  # `swift build --sanitize=fuzzer` SwiftPM 6.3 passes the flag but its release objects carry no
  # coverage counters, so libFuzzer would fuzz blind; plain swiftc per module does instrument.)
  local out=$build/modules
  mkdir -p "$out"
  local module sources
  # RNNKernelsAVX512 is built without RNN_AVX512_KERNEL: its kernel stays disabled (the recurrent
  # step takes the AVX2 path), so the fuzz build runs on any x86-64 CPU.
  for module in RNNKernelsAVX512 RNNCore RNN RNNText RNNTasks RNNServeAPI; do
    sources=(Sources/$module/*.swift Sources/$module/*/*.swift)
    local newest=$(ls -t "${sources[@]}" 2>/dev/null | head -n 1)
    if [[ -f $out/$module.o && $out/$module.o -nt $newest && ( $module == RNNKernelsAVX512 || $out/$module.o -nt $out/$previous.o ) ]]; then
      previous=$module; continue
    fi
    echo "fuzz: compiling $module" >&2
    swiftc -O -wmo -parse-as-library -swift-version 6 -sanitize=fuzzer,address -module-name "$module" \
      -I "$out" -I Sources/CBLAS -emit-module -emit-module-path "$out/$module.swiftmodule" \
      -c $(ls "${sources[@]}" 2>/dev/null) -o "$out/$module.o" >&2
    previous=$module
  done
}

build_target() {
  local target=$1 out=$build/modules
  mkdir -p "$build/bin"
  swiftc -O -sanitize=fuzzer,address -parse-as-library -swift-version 6 -use-ld=lld -module-name "Fuzz_$target" \
    -I "$out" -I Sources/CBLAS Fuzz/Support/*.swift "Fuzz/Targets/$target.swift" \
    "$out"/RNNKernelsAVX512.o "$out"/RNNCore.o "$out"/RNN.o "$out"/RNNText.o "$out"/RNNTasks.o "$out"/RNNServeAPI.o \
    $(pkg-config --libs openblas) -o "$build/bin/$target" >&2
}

seed() {
  # Small real inputs for each target: the test fixtures, the bundled demo data, a few lines of
  # the shared data sets when present, and the tiny model directories of Fuzz/fixtures.
  local target=$1 corpus=$build/corpus/$1
  mkdir -p "$corpus"
  local fixtures=Tests/RNNTextTests/Fixtures/datasets shared=$root/../shared
  case $target in
    safetensors)
      for task in Fuzz/fixtures/*/; do cp "$task/model.safetensors" "$corpus/$(basename "$task").safetensors"; done
      cp Tests/RNNCoreTests/Fixtures/*.safetensors "$corpus/"
      cp Fuzz/seeds/safetensors/* "$corpus/" 2>/dev/null || true ;;
    model_directory)
      local index=0
      for task in classify lm tag forecast; do
        { printf "\\x$(printf %02x $index)"; cat "Fuzz/fixtures/$task/config.json"; } > "$corpus/$task-config.json"
        index=$((index + 1))
      done ;;
    tokenizer_json)
      for task in Fuzz/fixtures/*/; do
        [[ -f $task/tokenizer.json ]] && cp "$task/tokenizer.json" "$corpus/$(basename "$task").tokenizer.json"
      done
      cp Fuzz/seeds/tokenizer_json/* "$corpus/" 2>/dev/null || true ;;
    tokenizer_encode)
      head -c 2000 "$shared/data/imdb-unsup.txt" > "$corpus/imdb" 2>/dev/null || true
      head -c 2000 Tests/RNNTextTests/Fixtures/hf-tokenizers/wordpiece-uncased-8k.expected.jsonl > "$corpus/expected"
      cp $fixtures/lines.txt $fixtures/latin1.txt Tests/RNNTasksTests/Fixtures/two-topics.txt "$corpus/" ;;
    delimited)
      cp $fixtures/*.csv $fixtures/*.tsv Tests/RNNTasksTests/Fixtures/tiny-*.csv "$corpus/"
      head -n 20 "$shared/data/jokes/reddit-cleanjokes.csv" > "$corpus/jokes.csv" 2>/dev/null || true ;;
    jsonl)
      cp $fixtures/*.jsonl "$corpus/" ;;
    conllu)
      cp $fixtures/*.conllu "$corpus/"
      head -n 80 "$shared/data/ud-english-ewt/en_ewt-ud-dev.conllu" > "$corpus/ewt.conllu" 2>/dev/null || true ;;
    glove)
      cp $fixtures/vectors*.txt "$corpus/" ;;
    serve_requests)
      cp Fuzz/seeds/serve_requests/* "$corpus/" ;;
  esac
}

if [[ $1 == build ]]; then
  build_modules
  for target in ${2:-$targets}; do build_target "$target"; done
  exit 0
fi

target=$1 seconds=${2:-}
[[ -n $seconds && $seconds =~ ^[0-9]+$ ]] || usage
grep -qx "$target" <<<"$targets" || { echo "error: no fuzz target '$target' (scripts/fuzz.sh list)" >&2; exit 64; }
build_modules
build_target "$target"
seed "$target"
mkdir -p "$build/artifacts/$target"
# -timeout=2: an input taking over 2 s is a hang. -rss_limit_mb: an allocation the input size does
# not justify is a bug too. detect_leaks: leaks end the run; Fuzz/lsan.supp lists the one false
# positive (objects made once by global initializers, which live as long as the process).
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$root/Fuzz/lsan.supp:print_suppressions=0}
export RNN_FUZZ_SEED_DIR=$build/corpus/$target
# Swift's own backtracer reads the crashed stack in a way ASan reports as a second error; ASan's
# report of the first is enough.
export SWIFT_BACKTRACE=${SWIFT_BACKTRACE:-enable=no}
# Encoding costs ~0.1 ms per byte under ASan with six tokenizers (linear): inputs stay under 1 KiB
# so that the 2 s limit catches real hangs, not long texts, and inputs run at a useful rate.
extra=()
[[ $target == tokenizer_encode ]] && extra=(-max_len=1024)
exec "$build/bin/$target" -max_total_time="$seconds" -timeout=2 -rss_limit_mb=2048 -print_final_stats=1 "${extra[@]}" \
  -artifact_prefix="$build/artifacts/$target/" "${@:3}" "$build/corpus/$target"
