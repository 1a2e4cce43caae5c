#!/usr/bin/env bash
# Builds and runs Benchmarks/mpi_overlap.c (one allreduce vs per-layer buckets; issue 15) on N ranks
# of this machine, OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE unset. Needs libopenmpi-dev openmpi-bin
# libopenblas-dev. Usage: Benchmarks/mpi_overlap.sh [ranks] [rounds]; time it on a quiet machine
# (flock /tmp/cpu-quiet.lock …).
set -euo pipefail
cd "$(dirname "$0")"
ranks=${1:-2}
rounds=${2:-3}
mkdir -p bin
mpicc -O2 -o bin/mpi_overlap mpi_overlap.c -lopenblas
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
for round in $(seq "$rounds"); do
    echo "round $round:"
    mpirun --oversubscribe -np "$ranks" --bind-to core bin/mpi_overlap
done
