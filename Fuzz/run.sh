#!/usr/bin/env bash
# libFuzzer targets for the IDX, CSV and safetensors readers.
#
#   Fuzz/run.sh                 build, then fuzz each target for $FUZZ_SECONDS (default 600) s
#   Fuzz/run.sh --smoke         build, then fuzz each target for a few seconds (CI)
#   Fuzz/run.sh TARGET [ARGS]   build, then run one target (idx, csv, safetensors) with libFuzzer ARGS
#
# Each target is compiled with swiftc -sanitize=fuzzer,address straight from the library's
# BackpropCore sources (everything but the compute backends), so no package build is needed. New inputs go
# to .build-fuzz/corpus/TARGET; the small seed corpus in Fuzz/Corpus/TARGET stays as it is.
# An allocation above 64 MB counts as a crash: no input of a few KB may ask for more.
set -euo pipefail
cd "$(dirname "$0")/.."
OUT=.build-fuzz
mkdir -p "$OUT"

# BackpropCore: the library minus the compute backends (it links no system library; zlib is
# opened at run time), so it compiles straight into the fuzzer.
mapfile -t SOURCES < <(find Sources/BackpropCore -name '*.swift' | sort)

# One binary holds every target; BACKPROP_FUZZ_TARGET picks one at run time.
build() {
    if [ ! -x "$OUT/fuzz" ] || [ -n "$(find Sources/BackpropCore Fuzz/Targets -newer "$OUT/fuzz" -name '*.swift' | head -n 1)" ]; then
        echo "== building $OUT/fuzz"
        swiftc -sanitize=fuzzer,address -parse-as-library -swift-version 6 -g -O -module-name BackpropFuzz \
            "${SOURCES[@]}" Fuzz/Targets/*.swift -o "$OUT/fuzz" \
            2> >(grep -v "Cannot export local symbol" >&2)
    fi
}

fuzz() {
    local target=$1; shift
    mkdir -p "$OUT/corpus/$target"
    echo "== fuzzing $target $*"
    BACKPROP_FUZZ_TARGET=$target "$OUT/fuzz" -malloc_limit_mb=64 -rss_limit_mb=2048 -max_len=4096 \
        -artifact_prefix="$OUT/crash-$target-" "$@" "$OUT/corpus/$target" "Fuzz/Corpus/$target"
}

TARGETS=(idx csv safetensors)
build
case "${1:-}" in
    --smoke) for t in "${TARGETS[@]}"; do fuzz "$t" -max_total_time="${FUZZ_SECONDS:-10}"; done ;;
    "")      for t in "${TARGETS[@]}"; do fuzz "$t" -max_total_time="${FUZZ_SECONDS:-600}"; done ;;
    idx|csv|safetensors) t=$1; shift; fuzz "$t" "$@" ;;
    *) echo "usage: Fuzz/run.sh [--smoke | idx|csv|safetensors [libFuzzer options]]" >&2; exit 2 ;;
esac
