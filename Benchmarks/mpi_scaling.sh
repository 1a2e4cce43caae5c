#!/usr/bin/env bash
# Samples/s of 1 process against 2 MPI ranks (issue 15's benchmark), one BLAS thread per rank,
# OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE unset, runs alternated: 1 rank at batch 128, 2 ranks at global
# batch 128 (64 per rank) with the sharded step (the default) and with one allreduce and every rank
# updating everything (BACKPROP_SHARD_OPTIMIZER=0), and 2 ranks at global batch 256 (128 per rank),
# for 784-512-256-10 and 784-128-10.
# Needs the MPI build: swift build -c release --traits MPI --scratch-path .build-mpi-release
# Usage: Benchmarks/mpi_scaling.sh [rounds] [train options…]   (e.g. 3 --optimizer sgd; default: train's
# own, Adam; time it on a quiet machine: flock /tmp/cpu-quiet.lock …)
set -euo pipefail
cd "$(dirname "$0")/.."
B=${BACKPROP:-.build-mpi-release/release/backprop}
rounds=${1:-3}
shift $(( $# > 0 ? 1 : 0 ))
extra=("$@")
[ -x "$B" ] || { echo "no $B: build it with swift build -c release --traits MPI --scratch-path .build-mpi-release" >&2; exit 1; }
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1 BACKPROP_THREADS=1
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
# The first epoch's samples/s from train --json.
sps() { grep '"epoch":1,' | head -1 | sed 's/.*"samples_per_second":\([0-9]*\).*/\1/'; }
ratio() { python3 -c "print(f'{$1/$2:.2f}')"; }
for hidden in 512,256 128; do
    for round in $(seq "$rounds"); do
        one=$("$B" train --hidden $hidden --epochs 1 --batch-size 128 "${extra[@]}" --json 2>/dev/null | sps)
        two=$(mpirun --oversubscribe -np 2 --bind-to core "$B" train --hidden $hidden --epochs 1 --batch-size 128 "${extra[@]}" --json 2>/dev/null | sps)
        plain=$(mpirun --oversubscribe -np 2 --bind-to core -x BACKPROP_SHARD_OPTIMIZER=0 "$B" train --hidden $hidden --epochs 1 --batch-size 128 "${extra[@]}" --json 2>/dev/null | sps)
        wide=$(mpirun --oversubscribe -np 2 --bind-to core "$B" train --hidden $hidden --epochs 1 --batch-size 256 "${extra[@]}" --json 2>/dev/null | sps)
        echo "784-${hidden//,/-}-10 ${extra[*]} round $round: 1 rank b128 $one | 2 ranks b128 sharded $two ($(ratio "$two" "$one")x), one allreduce $plain ($(ratio "$plain" "$one")x) | 2 ranks b256 $wide ($(ratio "$wide" "$one")x)"
    done
done
