#!/usr/bin/env python3
"""Scaling model for data-parallel training (issue 15): time of one step on p ranks =
compute + ring allreduce of the gradients,

    T(p) = T1(b) + 2(p-1)/p * bytes / bandwidth + 2(p-1) * latency

with T1(b) the measured one-rank time for the rank's batch b. Prints Markdown tables.
Inputs are in MEASURED and FABRICS below; edit them after a new measurement."""

# One rank, one GEMM thread, global batch 128, release build, AMD EPYC (Zen 4, 2 vCPU), 2026-12-02:
# samples/s of `backprop train --epochs 1 --batch-size 128` with OPENBLAS_NUM_THREADS=1 (best of 3).
MEASURED = {
    "784-512-256-10": {"parameters": 535_818, "samples_per_s": 31_874},
    "784-128-10": {"parameters": 101_770, "samples_per_s": 112_341},
}
# (name, bandwidth in bytes/s, latency in s). Shared memory: fitted to our 2-rank in-place float
# allreduce (median 219 µs for 2.14 MB, 80 µs for 0.41 MB; Open MPI 4.1.4, vader). The others
# are typical MPI figures, not measured here: 100 Gb/s InfiniBand ~11 GB/s, ~2 µs;
# 10 GbE over TCP ~1.1 GB/s, ~25 µs.
FABRICS = [("shared memory", 12.5e9, 24e-6), ("100 Gb InfiniBand", 11e9, 2e-6), ("10 GbE", 1.1e9, 25e-6)]
RANKS = [2, 4, 8, 16, 32, 64]
BATCH = 128


def allreduce(p, nbytes, bandwidth, latency):
    return 2 * (p - 1) / p * nbytes / bandwidth + 2 * (p - 1) * latency


def table(per_rank_fixed):
    kind = "per-rank batch 128 (global 128·p)" if per_rank_fixed else "global batch 128 (128/p per rank)"
    print(f"\n**{kind}**: speedup in samples/s over one rank (allreduce share of the step)\n")
    print("| network | fabric | " + " | ".join(f"p={p}" for p in RANKS) + " |")
    print("|---|---|" + "---|" * len(RANKS))
    for name, m in MEASURED.items():
        t1 = BATCH / m["samples_per_s"]          # seconds per 128-sample step on one rank
        nbytes = 4 * m["parameters"]
        for fabric, bw, lat in FABRICS:
            cells = []
            for p in RANKS:
                # Compute assumed linear in the rank's batch (optimistic for small batches).
                compute = t1 if per_rank_fixed else t1 / p
                comm = allreduce(p, nbytes, bw, lat)
                samples = BATCH * (p if per_rank_fixed else 1)
                speedup = (samples / (compute + comm)) / m["samples_per_s"]
                cells.append(f"{speedup:.1f}× ({100 * comm / (compute + comm):.0f} %)")
            print(f"| {name} | {fabric} | " + " | ".join(cells) + " |")


if __name__ == "__main__":
    table(per_rank_fixed=False)
    table(per_rank_fixed=True)
