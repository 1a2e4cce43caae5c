"""Shared harness for the Python peers: arguments, the workload list, timing, MNIST, JSON output.

Every peer prints one JSON object on stdout, the same shape as `backprop bench --json`:
    {"tool": ..., "backend": ..., "threads": N, "versions": {...},
     "results": [{"key", "unit", "median", "min", "max", "repetitions"}, ...]}
Progress goes to stderr. The timing method mirrors ours (Sources/BackpropCore/Benchmark): untimed
warm-up, then calibrate how many calls make a repetition last `min_seconds`, then time
`repetitions` such repetitions and report work per second (median, min, max).
"""
import argparse
import gzip
import json
import math
import os
import struct
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DATA = os.path.join(HERE, "..", "Data", "mnist")

# Key conventions (shared with `backprop bench`): C(m×n) = op(A)(m×k)·op(B)(k×n), 2mnk FLOPs.
GEMM_SQUARE = [128, 256, 512, 1024, 2048]
GEMM_SQUARE_QUICK = [128, 256]
GEMM_MLP = [("NN", 128, 128, 784),   # forward  W·X
            ("NT", 128, 784, 128),   # ∂W = δ·Xᵀ
            ("TN", 784, 128, 128)]   # error Wᵀ·δ
# A 784-512-512-10 step at batch 128 (full runs only): forward, ∂W, error of each layer.
GEMM_STEP_LARGE = [("NN", 512, 128, 784), ("NN", 512, 128, 512), ("NN", 10, 128, 512),
                   ("NT", 512, 784, 128), ("NT", 512, 512, 128), ("NT", 10, 512, 128),
                   ("TN", 512, 128, 512), ("TN", 512, 128, 10)]
ELEMENTWISE = [("relu", 8), ("relu_backward", 12), ("hadamard", 12)]  # bytes read + written per element
ELEMENTWISE_SIZES = [65536, 16777216]
ELEMENTWISE_SIZES_QUICK = [65536]
TRAIN = [((784, 128, 10), 128), ((784, 128, 10), 32), ((784, 512, 512, 10), 128)]
LEARNING_RATE = 0.1


def parse_args(description, extra=None):
    p = argparse.ArgumentParser(description=description)
    p.add_argument("--quick", action="store_true", help="seconds-long smoke run")
    p.add_argument("--only", default="gemm,elementwise,train", help="comma-separated groups")
    p.add_argument("--repetitions", type=int, default=None)
    p.add_argument("--threads", type=int, default=os.cpu_count())
    p.add_argument("--data", default=DEFAULT_DATA, help="folder with MNIST train-images-idx3-ubyte.gz")
    if extra:
        extra(p)
    a = p.parse_args()
    a.only = set(a.only.split(","))
    a.repetitions = a.repetitions or (2 if a.quick else 7)
    a.min_seconds = 0.01 if a.quick else 0.2
    return a


def log(*parts):
    print(*parts, file=sys.stderr, flush=True)


def measure(key, unit, work, body, args, sync=lambda: None, warmup=1):
    """Time `body` (one call does `work` units); returns a result dict in units per second."""
    for _ in range(warmup):
        body()
    sync()

    def timed(calls):
        t0 = time.perf_counter()
        for _ in range(calls):
            body()
        sync()
        return time.perf_counter() - t0

    calls = 1
    while True:
        t = timed(calls)
        if t >= args.min_seconds or calls >= 1 << 20:
            break
        calls = max(calls * 2, int(calls * args.min_seconds / max(t, 1e-6) * 1.2))
    rates = sorted(work * calls / timed(calls) for _ in range(args.repetitions))
    r = {"key": key, "unit": unit, "median": rates[len(rates) // 2], "min": rates[0], "max": rates[-1],
         "repetitions": args.repetitions}
    log(f"  {key:34s} {r['median']:12.2f} {unit}")
    return r


def gemm_cases(args):
    """(key, kind, m, n, k) for every GEMM workload."""
    squares = GEMM_SQUARE_QUICK if args.quick else GEMM_SQUARE
    cases = [("NN", s, s, s) for s in squares] + GEMM_MLP + ([] if args.quick else GEMM_STEP_LARGE)
    return [(f"gemm/{kind}/{m}x{n}x{k}", kind, m, n, k) for kind, m, n, k in cases]


def elementwise_cases(args):
    sizes = ELEMENTWISE_SIZES_QUICK if args.quick else ELEMENTWISE_SIZES
    return [(f"elementwise/{op}/{n}", op, n, bpe) for n in sizes for op, bpe in ELEMENTWISE]


def train_cases(args):
    return [(f"train/{'-'.join(map(str, sizes))}/b{batch}", sizes, batch) for sizes, batch in TRAIN]


def load_mnist(folder):
    """MNIST training images (60000×784 float32 in [0, 1]) and labels (int32), from gzipped IDX."""
    import numpy as np

    def read(name):
        for candidate in (name + ".gz", name):
            path = os.path.join(folder, candidate)
            if os.path.exists(path):
                opener = gzip.open if candidate.endswith(".gz") else open
                with opener(path, "rb") as f:
                    return f.read()
        raise FileNotFoundError(f"{name}(.gz) not found in {folder}")

    raw = read("train-images-idx3-ubyte")
    magic, count, rows, cols = struct.unpack(">IIII", raw[:16])
    assert magic == 2051, f"bad IDX image magic {magic}"
    images = np.frombuffer(raw, dtype=np.uint8, offset=16).reshape(count, rows * cols)
    raw = read("train-labels-idx1-ubyte")
    magic, n = struct.unpack(">II", raw[:8])
    assert magic == 2049 and n == count, "bad IDX label file"
    labels = np.frombuffer(raw, dtype=np.uint8, offset=8).astype(np.int32)
    return (images.astype(np.float32) / 255.0), labels


def he_init(sizes, seed=1):
    """Weights (fan_in × fan_out, He normal) and zero biases for a ReLU MLP, as float32 NumPy arrays."""
    import numpy as np
    rng = np.random.default_rng(seed)
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        w = (rng.standard_normal((fan_in, fan_out)) * math.sqrt(2.0 / fan_in)).astype(np.float32)
        params += [w, np.zeros(fan_out, dtype=np.float32)]
    return params


class Batches:
    """Shuffled minibatch indices over `count` samples: a fresh permutation per epoch, whole batches only."""

    def __init__(self, count, batch, seed=1):
        import numpy as np
        self.np, self.count, self.batch = np, count, batch
        self.rng = np.random.default_rng(seed)
        self.order, self.pos = self.rng.permutation(count), 0

    def next(self):
        if self.pos + self.batch > self.count:
            self.order, self.pos = self.rng.permutation(self.count), 0
        idx = self.order[self.pos:self.pos + self.batch]
        self.pos += self.batch
        return idx


def train_steps(args):
    """Steps per timed call of a peer's training workload (ours times whole epochs, 8 steps with --quick)."""
    return 8 if args.quick else 50


def emit(tool, backend, args, results, versions, **extra):
    obj = {"tool": tool, "backend": backend, "threads": args.threads, "versions": versions,
           "results": results}
    obj.update(extra)
    print(json.dumps(obj, sort_keys=True), flush=True)
