#!/usr/bin/env python3
"""Scaling model for data-parallel training (issue 15). One step on p ranks, each with batch b:

    one allreduce:  T(p) = C(b) + U     + 2(p-1)/p * bytes / bandwidth + 2(p-1) * latency
    sharded step:   T(p) = C(b) + U / p + (the same: a reduce-scatter and an allgather move what
                                           one ring allreduce moves)

with C(b) the forward and backward passes (assumed linear in b: optimistic for small batches) and U
the optimizer's pass over every parameter (which does not shrink with b, only with sharding).
Prints Markdown tables. Inputs are in MEASURED and FABRICS below; edit them after a new measurement."""

# One rank, one GEMM thread, batch 128, Adam, release build, AMD EPYC Zen 2 (family 23 model 49,
# 2 vCPU), 2026-12-03: samples/s of epoch 1 of `backprop train --epochs 1 --batch-size 128` in
# Benchmarks/mpi_scaling.sh (median of its 1-rank runs); Adam's pass measured at ~0.55 ms for the
# 535,818 parameters of 784-512-256-10 (perf share of a step), scaled by parameters for 784-128-10.
MEASURED = {
    "784-512-256-10": {"parameters": 535_818, "samples_per_s": 28_000, "optimizer_s": 0.55e-3},
    "784-128-10": {"parameters": 101_770, "samples_per_s": 155_000, "optimizer_s": 0.55e-3 * 101_770 / 535_818},
}
# (name, bandwidth in bytes/s, latency in s). Shared memory: fitted to the 2-rank in-place float
# allreduce of Benchmarks/mpi_collectives.c on the same machine (360 µs for 2.14 MB, 64 µs for
# 0.41 MB; Open MPI 4.1.4, vader with CMA). The others are typical MPI figures, not measured here:
# 100 Gb/s InfiniBand ~11 GB/s, ~2 µs; 10 GbE over TCP ~1.1 GB/s, ~25 µs.
FABRICS = [("shared memory", 5.9e9, 1e-6), ("100 Gb InfiniBand", 11e9, 2e-6), ("10 GbE", 1.1e9, 25e-6)]
RANKS = [2, 4, 8, 16, 32, 64]
BATCH = 128


def ring(p, nbytes, bandwidth, latency):
    return 2 * (p - 1) / p * nbytes / bandwidth + 2 * (p - 1) * latency


def table(per_rank_fixed):
    kind = "per-rank batch 128 (global 128·p)" if per_rank_fixed else "global batch 128 (128/p per rank)"
    print(f"\n**{kind}**: speedup in samples/s over one rank, sharded step / one allreduce "
          "(the exchange's share of the sharded step)\n")
    print("| network | fabric | " + " | ".join(f"p={p}" for p in RANKS) + " |")
    print("|---|---|" + "---|" * len(RANKS))
    for name, m in MEASURED.items():
        step = BATCH / m["samples_per_s"]          # seconds per 128-sample step on one rank
        update = m["optimizer_s"]
        passes = step - update                       # forward and backward at batch 128
        nbytes = 4 * m["parameters"]
        for fabric, bw, lat in FABRICS:
            cells = []
            for p in RANKS:
                compute = passes if per_rank_fixed else passes / p
                comm = ring(p, nbytes, bw, lat)
                samples = BATCH * (p if per_rank_fixed else 1)
                sharded = compute + update / p + comm
                whole = compute + update + comm
                speedup = lambda t: (samples / t) / m["samples_per_s"]
                cells.append(f"{speedup(sharded):.1f}× / {speedup(whole):.1f}× ({100 * comm / sharded:.0f} %)")
            print(f"| {name} | {fabric} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    table(per_rank_fixed=False)
    table(per_rank_fixed=True)
