"""PyTorch (CPU) peer: torch.mm, elementwise ops, and an nn.Sequential MLP trained with autograd
and torch.optim.SGD, the way a PyTorch user writes it.

    /usr/bin/python3 Benchmarks/torch_mlp.py [--quick] [--only ...] [--threads N]

Run with Debian's python3-torch. With its defaults PyTorch oversubscribes the 2 cores, so the
thread count is set explicitly: OPENBLAS_NUM_THREADS / OMP_NUM_THREADS before import, then
torch.set_num_threads.
"""
import os
import re

from peer_common import (LEARNING_RATE, Batches, elementwise_cases, emit, gemm_cases, load_mnist, log, measure,
                         parse_args, train_cases, train_steps)

args = parse_args(__doc__)
for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ[var] = str(args.threads)
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

torch.set_num_threads(args.threads)
torch.set_num_interop_threads(1)
torch.manual_seed(1)


def mlp(sizes):
    layers = []
    for i, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(torch.nn.Linear(fan_in, fan_out))
        if i < len(sizes) - 2:
            layers.append(torch.nn.ReLU())
    return torch.nn.Sequential(*layers)


def main():
    results = []
    g = torch.Generator().manual_seed(1)

    def uniform(*shape, lo=-.5, hi=.5):
        return torch.rand(*shape, generator=g) * (hi - lo) + lo

    with torch.no_grad():
        if "gemm" in args.only:
            for key, kind, m, n, k in gemm_cases(args):
                a = uniform(*((k, m) if kind[0] == "T" else (m, k)))
                b = uniform(*((n, k) if kind[1] == "T" else (k, n)))
                opa, opb = (a.t() if kind[0] == "T" else a), (b.t() if kind[1] == "T" else b)
                c = torch.empty(m, n)
                results.append(measure(key, "GFLOP/s", 2e-9 * m * n * k, lambda: torch.mm(opa, opb, out=c), args))
        if "elementwise" in args.only:
            threshold_backward = torch.ops.aten.threshold_backward.grad_input
            for key, op, n, bpe in elementwise_cases(args):
                x, up, out = uniform(n), uniform(n, lo=0, hi=1), torch.empty(n)
                body = {"relu": lambda: torch.clamp(x, min=0, out=out),
                        # what autograd runs for ReLU's backward: upstream where z > 0, fused
                        "relu_backward": lambda: threshold_backward(up, x, 0, grad_input=out),
                        "hadamard": lambda: torch.mul(x, up, out=out)}[op]
                results.append(measure(key, "GB/s", 1e-9 * bpe * n, body, args))
    if "train" in args.only:
        images, labels = load_mnist(args.data)
        X, Y = torch.from_numpy(images), torch.from_numpy(labels).long()
        for key, sizes, batch in train_cases(args):
            model = mlp(sizes)
            opt = torch.optim.SGD(model.parameters(), lr=LEARNING_RATE)
            batches, steps = Batches(len(X), batch), train_steps(args)

            def epoch():
                for _ in range(steps):
                    idx = torch.from_numpy(batches.next())
                    x, y = X[idx], Y[idx]
                    opt.zero_grad(set_to_none=True)
                    F.cross_entropy(model(x), y).backward()
                    opt.step()
            results.append(measure(key, "samples/s", steps * batch, epoch, args))
    blas = re.findall(r"BLAS_INFO=([^,\s]+)", torch.__config__.show())
    try:
        isa = torch.backends.cpu.get_cpu_capability()   # the ATen kernels' instruction set (AVX2, AVX512, …)
    except AttributeError:
        isa = None
    versions = {"torch": torch.__version__, "blas": ", ".join(blas), "isa": isa,
                "mkldnn": torch.backends.mkldnn.is_available()}
    emit("torch", "cpu", args, results, versions,
         torch_threads=torch.get_num_threads())


if __name__ == "__main__":
    log(f"torch {torch.__version__}, {torch.get_num_threads()} threads")
    main()
