"""NumPy peer: SGEMM through np.matmul, elementwise ufuncs, and the classic vectorized
from-scratch minibatch MLP (row-major: one row per sample, so a layer is Z = A·W + b).

    python3 Benchmarks/numpy_mlp.py [--quick] [--only gemm,elementwise,train] [--threads N]

OPENBLAS_NUM_THREADS is set from --threads before NumPy loads (unless already set).
"""
import os

from peer_common import (LEARNING_RATE, Batches, elementwise_cases, emit, gemm_cases, he_init, load_mnist,
                         log, measure, parse_args, train_cases, train_steps)

args = parse_args(__doc__)
for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, str(args.threads))
import numpy as np  # noqa: E402  (after the thread count is in the environment)


class MLP:
    """784-…-10 ReLU MLP, softmax cross-entropy averaged over the batch, plain SGD."""

    def __init__(self, sizes, lr, seed=1):
        p = he_init(sizes, seed)
        self.W, self.b, self.lr = p[0::2], p[1::2], lr

    def step(self, x, y):
        # forward: keep every layer's input a and pre-activation z
        acts, zs = [x], []
        for i, (W, b) in enumerate(zip(self.W, self.b)):
            z = acts[-1] @ W + b
            zs.append(z)
            acts.append(np.maximum(z, 0) if i < len(self.W) - 1 else z)
        logits = acts[-1]
        e = np.exp(logits - logits.max(axis=1, keepdims=True))
        p = e / e.sum(axis=1, keepdims=True)
        # backward: δᴸ = (softmax − onehot)/B, δˡ = δˡ⁺¹·Wᵀ ⊙ relu'(zˡ), ∂W = aᵀ·δ, ∂b = Σ δ
        n = x.shape[0]
        delta = p
        delta[np.arange(n), y] -= 1
        delta /= n
        for i in reversed(range(len(self.W))):
            dW = acts[i].T @ delta
            db = delta.sum(axis=0)
            if i > 0:
                delta = (delta @ self.W[i].T) * (zs[i - 1] > 0)
            self.W[i] -= self.lr * dW
            self.b[i] -= self.lr * db


def main():
    results = []
    rng = np.random.default_rng(1)
    if "gemm" in args.only:
        for key, kind, m, n, k in gemm_cases(args):
            a = rng.uniform(-.5, .5, (k, m) if kind[0] == "T" else (m, k)).astype(np.float32)
            b = rng.uniform(-.5, .5, (n, k) if kind[1] == "T" else (k, n)).astype(np.float32)
            opa, opb = (a.T if kind[0] == "T" else a), (b.T if kind[1] == "T" else b)
            c = np.empty((m, n), dtype=np.float32)
            results.append(measure(key, "GFLOP/s", 2e-9 * m * n * k, lambda: np.matmul(opa, opb, out=c), args))
    if "elementwise" in args.only:
        for key, op, n, bpe in elementwise_cases(args):
            x = rng.uniform(-.5, .5, n).astype(np.float32)
            g = rng.uniform(0, 1, n).astype(np.float32)
            out = np.empty(n, dtype=np.float32)
            body = {"relu": lambda: np.maximum(x, 0, out=out),
                    "relu_backward": lambda: np.multiply(g, x > 0, out=out),
                    "hadamard": lambda: np.multiply(x, g, out=out)}[op]
            results.append(measure(key, "GB/s", 1e-9 * bpe * n, body, args))
    if "train" in args.only:
        images, labels = load_mnist(args.data)
        for key, sizes, batch in train_cases(args):
            net, batches, steps = MLP(sizes, LEARNING_RATE), Batches(len(images), batch), train_steps(args)

            def epoch():
                for _ in range(steps):
                    idx = batches.next()
                    net.step(images[idx], labels[idx])
            results.append(measure(key, "samples/s", steps * batch, epoch, args))
    versions = {"numpy": np.__version__}
    try:
        from threadpoolctl import threadpool_info
        versions["blas"] = [{k: i.get(k) for k in ("internal_api", "version", "architecture", "num_threads")}
                            for i in threadpool_info() if i.get("user_api") == "blas"]
    except ImportError:
        pass
    emit("numpy", "cpu", args, results, versions)


if __name__ == "__main__":
    log(f"numpy {np.__version__}, {args.threads} threads")
    main()
