#!/usr/bin/env bash
# Every OpenCL kernel under Oclgrind's checks: a small training run and `gradcheck --quick`, run by
# `oclgrind --data-races --check-api`, once with the GPU tiling (Oclgrind reports itself as a GPU)
# and once with the CPU tiling (BACKPROP_OPENCL_TILING=cpu). Any Oclgrind diagnostic (its log,
# kept apart from the program's output with --log) fails the step, as does a failing command.
# Not --uninitialized: Oclgrind 21.10 cannot check uninitialized reads in optimized code
# (`freeze`) and misreports buffers filled by clEnqueueFillBuffer (issue 14).
#   .ci/oclgrind.sh [BINARY]      (default .build/debug/backprop)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-.build/debug/backprop}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# Compiled programs of this run only (Oclgrind's device is not the one a user's cache holds).
export BACKPROP_CACHE_DIR="$work/cache"
unset BACKPROP_BACKEND BACKPROP_OPENCL_DEVICE

# 240 rows, 4 features, 3 classes: a few dozen steps, seconds under the simulator.
awk 'BEGIN { srand(1); print "a,b,c,d,label"
             for (i = 0; i < 240; i++) { c = i % 3
                 printf "%.4f,%.4f,%.4f,%.4f,%d\n", c + rand(), rand() - c, rand(), c * rand(), c } }' > "$work/small.csv"

failed=0
for tiling in gpu cpu; do
    for what in train gradcheck; do
        case $what in
            train) args=(train --backend opencl --data "$work/small.csv" --hidden 16 --epochs 2 --batch-size 32 --optimizer adam --json) ;;
            gradcheck) args=(gradcheck --backend opencl --quick --quiet) ;;
        esac
        log="$work/oclgrind-$tiling-$what.log"
        start=$SECONDS
        echo "-- BACKPROP_OPENCL_TILING=$tiling oclgrind --data-races --check-api backprop ${args[*]}"
        if ! BACKPROP_OPENCL_TILING=$tiling oclgrind --data-races --check-api --log "$log" "$bin" "${args[@]}" > "$work/out" 2>&1; then
            echo "FAILED: the command exited non-zero"; tail -n 30 "$work/out"; failed=1
        else
            tail -n 1 "$work/out"
        fi
        if [ -s "$log" ]; then
            echo "FAILED: Oclgrind diagnostics:"; head -n 60 "$log"; failed=1
        fi
        echo "   $((SECONDS - start)) s"
    done
done
[ "$failed" -eq 0 ] && echo "Oclgrind: no diagnostic on either tiling"
exit "$failed"
