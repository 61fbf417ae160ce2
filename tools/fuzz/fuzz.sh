#!/usr/bin/env bash
# Builds the Stepwise fuzzer and runs one target.
#   tools/fuzz/fuzz.sh build                 # -> .build/fuzz/stepwise-fuzz
#   tools/fuzz/fuzz.sh run TARGET [SECONDS]  # fuzz TARGET (safetensors gguf tokenizer-json lesson repl lesson-sandbox)
#   tools/fuzz/fuzz.sh repro TARGET FILE...  # run the given inputs once (crash reproduction)
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD
OUT=$ROOT/.build/fuzz
BIN=$OUT/stepwise-fuzz
SWIFTC=${SWIFTC:-swiftc}

build() {
    mkdir -p "$OUT"
    rm -f "$BIN"
    # The C target (kernels, worker pool, allocator settings), instrumented the same way, and a module
    # map so the Swift sources can import it as SwiftPM does.
    local c=$OUT/ckernels
    mkdir -p "$c/include"
    printf 'module CKernels {\n    header "%s"\n    export *\n}\n' "$ROOT/Sources/CKernels/include/CKernels.h" > "$c/include/module.modulemap"
    for f in Sources/CKernels/*.c; do
        "${CC:-clang}" -O2 -g -fsanitize=address,fuzzer-no-link -ISources/CKernels/include -c "$f" -o "$c/$(basename "$f" .c).o"
    done
    # One module: the library sources, a stand-in for SwiftPM's resource accessor, and the harness.
    find Sources/StepwiseKit -name '*.swift' | sort > "$OUT/sources.txt"
    "$SWIFTC" -sanitize=fuzzer,address -parse-as-library -swift-version 6 -O -g \
        -module-name StepwiseKit -I "$c/include" -I "$ROOT/Sources/CZlib" \
        $(cat "$OUT/sources.txt") tools/fuzz/BundleStub.swift tools/fuzz/FuzzMain.swift "$c"/*.o \
        -o "$BIN" 2>&1 | grep -v "Cannot export local symbol" || true
    [ -x "$BIN" ] || { echo "build failed" >&2; exit 1; }
    echo "built $BIN"
}

# The REPL target needs a model folder: the random GPT-2 fixture plus a small tokenizer.
repl_model() {
    local dir=$OUT/repl-model
    mkdir -p "$dir"
    cp Tests/StepwiseKitTests/Fixtures/gpt2/tied-4h/config.json Tests/StepwiseKitTests/Fixtures/gpt2/tied-4h/model.safetensors "$dir/"
    cp Tests/StepwiseKitTests/Fixtures/hostile/tokenizer/vocab.json Tests/StepwiseKitTests/Fixtures/hostile/tokenizer/merges.txt "$dir/"
    echo "$dir"
}

run() {
    local target=$1 seconds=${2:-600}
    [ -x "$BIN" ] || build
    local corpus=$OUT/corpus/$target
    mkdir -p "$corpus" "$OUT/crashes/$target"
    export STEPWISE_FUZZ_TARGET=$target
    if [ "$target" = repl ] || [ "$target" = lesson-sandbox ]; then export STEPWISE_FUZZ_MODEL=$(repl_model); fi
    # Generated inputs go to .build (not committed); the committed seeds are read from tools/fuzz/corpus.
    "$BIN" "$corpus" "tools/fuzz/corpus/$target" \
        -max_total_time="$seconds" -max_len=65536 -rss_limit_mb=2048 -malloc_limit_mb=512 -timeout=20 \
        -print_final_stats=1 -artifact_prefix="$OUT/crashes/$target/" \
        $( [ -f "tools/fuzz/dict/$target.dict" ] && echo "-dict=tools/fuzz/dict/$target.dict" )
}

repro() {
    local target=$1; shift
    [ -x "$BIN" ] || build
    export STEPWISE_FUZZ_TARGET=$target
    if [ "$target" = repl ] || [ "$target" = lesson-sandbox ]; then export STEPWISE_FUZZ_MODEL=$(repl_model); fi
    "$BIN" "$@"
}

case "${1:-}" in
    build) build ;;
    run) shift; run "$@" ;;
    repro) shift; repro "$@" ;;
    *) echo "usage: $0 build | run TARGET [SECONDS] | repro TARGET FILE..." >&2; exit 2 ;;
esac
