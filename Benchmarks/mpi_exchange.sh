#!/usr/bin/env bash
# Issue 15's measurements of the gradient exchange on N ranks of this machine, OPENBLAS_CORETYPE/
# OPENBLAS_L2_SIZE unset: Benchmarks/mpi_collectives.c (allreduce against the sharded step's
# reduce-scatter and allgather) and Benchmarks/mpi_overlap.c (one allreduce against per-layer buckets
# started during the backward pass). Needs libopenmpi-dev openmpi-bin libopenblas-dev.
# Usage: Benchmarks/mpi_exchange.sh [ranks] [rounds]; time it on a quiet machine (flock /tmp/cpu-quiet.lock …).
set -euo pipefail
cd "$(dirname "$0")"
ranks=${1:-2}
rounds=${2:-3}
mkdir -p bin
mpicc -O2 -o bin/mpi_collectives mpi_collectives.c
mpicc -O2 -o bin/mpi_overlap mpi_overlap.c -lopenblas
unset OPENBLAS_CORETYPE OPENBLAS_L2_SIZE
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
# One core per rank where there are enough (Open MPI refuses to bind more ranks than cores).
bind=$([ "$ranks" -le "$(nproc)" ] && echo core || echo none)
for round in $(seq "$rounds"); do
    echo "round $round:"
    mpirun --oversubscribe -np "$ranks" --bind-to "$bind" bin/mpi_collectives
    mpirun --oversubscribe -np "$ranks" --bind-to "$bind" bin/mpi_overlap
done
