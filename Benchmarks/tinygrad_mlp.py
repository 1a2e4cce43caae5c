"""tinygrad peer: matmul and elementwise kernels, and an MLP trained with a TinyJit-compiled step
(gather, forward, backward, SGD update), as tinygrad's own MNIST example does it.

    DEV=CPU Benchmarks/.venv/bin/python Benchmarks/tinygrad_mlp.py [--quick] [--only ...] [--threads N]
    DEV=CL  ...   (OpenCL, e.g. PoCL)

The device comes from DEV (default CPU); NUM_CPU_THREADS is set from --threads for DEV=CPU.
"""
import os

from peer_common import (LEARNING_RATE, Batches, elementwise_cases, emit, gemm_cases, he_init, load_mnist, log,
                         measure, parse_args, train_cases, train_steps)

args = parse_args(__doc__)
os.environ.setdefault("DEV", "CPU")
os.environ.setdefault("NUM_CPU_THREADS", str(args.threads))
import numpy as np  # noqa: E402
import tinygrad  # noqa: E402
from tinygrad import Context, Device, Tensor, TinyJit, nn  # noqa: E402

DEVICE = Device.DEFAULT


class MLP:
    def __init__(self, sizes):
        p = he_init(sizes)
        self.layers = []
        for W, b in zip(p[0::2], p[1::2]):
            layer = nn.Linear(W.shape[0], W.shape[1])
            layer.weight, layer.bias = Tensor(np.ascontiguousarray(W.T)), Tensor(b)  # tinygrad keeps out × in
            self.layers.append(layer)

    def __call__(self, x):
        for layer in self.layers[:-1]:
            x = layer(x).relu()
        return self.layers[-1](x)


def sync():
    Device[DEVICE].synchronize()


def main():
    results = []
    rng = np.random.default_rng(1)
    if "gemm" in args.only:
        for key, kind, m, n, k in gemm_cases(args):
            a = Tensor(rng.uniform(-.5, .5, (k, m) if kind[0] == "T" else (m, k)).astype(np.float32)).realize()
            b = Tensor(rng.uniform(-.5, .5, (n, k) if kind[1] == "T" else (k, n)).astype(np.float32)).realize()
            f = TinyJit(lambda a, b, ta=kind[0] == "T", tb=kind[1] == "T":
                        ((a.T if ta else a) @ (b.T if tb else b)).realize())
            results.append(measure(key, "GFLOP/s", 2e-9 * m * n * k, lambda f=f, a=a, b=b: f(a, b), args, sync,
                                   warmup=3))
    if "elementwise" in args.only:
        ops = {"relu": lambda x, g: x.relu(),
               "relu_backward": lambda x, g: (x > 0).where(g, 0),
               "hadamard": lambda x, g: x * g}
        for key, op, n, bpe in elementwise_cases(args):
            x = Tensor(rng.uniform(-.5, .5, n).astype(np.float32)).realize()
            g = Tensor(rng.uniform(0, 1, n).astype(np.float32)).realize()
            f = TinyJit(lambda x, g, op=ops[op]: op(x, g).realize())
            results.append(measure(key, "GB/s", 1e-9 * bpe * n, lambda f=f, x=x, g=g: f(x, g), args, sync, warmup=3))
    if "train" in args.only:
        images, labels = load_mnist(args.data)
        X, Y = Tensor(images).realize(), Tensor(labels).realize()
        for key, sizes, batch in train_cases(args):
            model = MLP(sizes)
            opt = nn.optim.SGD(nn.state.get_parameters(model), lr=LEARNING_RATE)

            @TinyJit
            def step(idx):
                with Context(TRAINING=1):
                    opt.zero_grad()
                    loss = model(X[idx]).sparse_categorical_crossentropy(Y[idx]).backward()
                    opt.step()
                    return loss

            batches, steps = Batches(len(images), batch), train_steps(args)

            def epoch(step=step, batches=batches):
                for _ in range(steps):
                    step(Tensor(batches.next().astype(np.int32)))
            results.append(measure(key, "samples/s", steps * batch, epoch, args, sync))
    emit("tinygrad", DEVICE.lower(), args, results, {"tinygrad": getattr(tinygrad, "__version__", _version())},
         device=DEVICE)


def _version():
    from importlib.metadata import version
    return version("tinygrad")


if __name__ == "__main__":
    log(f"tinygrad on {DEVICE}, {args.threads} threads")
    main()
