#!/usr/bin/env python3
"""PyTorch side of scripts/gpu-check.sh: cuBLAS FP32 GEMM (TF32 off) and the MLP's training step.

Prints one JSON object. Exits 3 with {"present": false, ...} when torch or CUDA is missing, so the
caller reports "not present" rather than a failure.
"""
import json
import sys
import time


def main():
    out = {"present": False}
    try:
        import torch
    except Exception as e:  # noqa: BLE001 - any import failure means "not present"
        out["reason"] = f"import torch failed: {e}"
        print(json.dumps(out))
        return 3
    out["torch"] = torch.__version__
    if not torch.cuda.is_available():
        out["reason"] = "torch has no CUDA device"
        print(json.dumps(out))
        return 3
    out["present"] = True
    dev = torch.device("cuda")
    out["device"] = torch.cuda.get_device_name(0)
    out["cuda"] = torch.version.cuda
    # Really FP32: no TF32 in matmul or cuDNN.
    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    torch.set_float32_matmul_precision("highest")

    def time_cuda(fn, min_seconds=0.2, reps=5):
        def seconds(calls):
            """Device time of `calls` back-to-back calls, by CUDA events."""
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            for _ in range(calls):
                fn()
            end.record()
            torch.cuda.synchronize()
            return start.elapsed_time(end) / 1e3

        fn()
        torch.cuda.synchronize()
        calls = 1
        # Double the calls per timing until one lasts min_seconds / reps.
        while seconds(calls) < min_seconds / reps and calls < 1 << 14:
            calls *= 2
        times = [seconds(calls) / calls for _ in range(reps)]
        times.sort()
        return times[len(times) // 2]

    gemm = {}
    for spec in sys.argv[1].split(","):
        dims, _, kind = spec.partition(":")
        kind = kind or "NN"
        m, n, k = (int(x) for x in dims.split("x"))
        # Column-major C(m×n) = op(A)·op(B) is row-major Cᵀ = op(B)ᵀ·op(A)ᵀ: same flops, same shapes up to transposes.
        a = torch.randn(k, m, device=dev) if kind[0] == "T" else torch.randn(m, k, device=dev)
        b = torch.randn(n, k, device=dev) if kind[1] == "T" else torch.randn(k, n, device=dev)
        opa = a.t() if kind[0] == "T" else a
        opb = b.t() if kind[1] == "T" else b
        c = torch.empty(m, n, device=dev)
        sec = time_cuda(lambda: torch.mm(opa, opb, out=c))
        gemm[f"gemm/{kind}/{m}x{n}x{k}"] = 2e-9 * m * n * k / sec
    out["gemm_gflops"] = gemm

    train = {}
    for spec in sys.argv[2].split(","):
        sizes_s, _, batch_s = spec.partition("/b")
        sizes, batch = [int(x) for x in sizes_s.split("-")], int(batch_s)
        layers = []
        for i in range(1, len(sizes)):
            layers.append(torch.nn.Linear(sizes[i - 1], sizes[i]))
            if i < len(sizes) - 1:
                layers.append(torch.nn.ReLU())
        model = torch.nn.Sequential(*layers).to(dev)
        opt = torch.optim.SGD(model.parameters(), lr=0.1)
        loss_fn = torch.nn.CrossEntropyLoss()
        steps = 64
        x = torch.rand(steps * batch, sizes[0], device=dev)
        y = torch.randint(0, sizes[-1], (steps * batch,), device=dev)
        perm = torch.randperm(steps * batch, device=dev)

        def epoch():
            for s in range(steps):
                idx = perm[s * batch:(s + 1) * batch]
                opt.zero_grad(set_to_none=True)
                loss = loss_fn(model(x[idx]), y[idx])
                loss.backward()
                opt.step()

        sec = time_cuda(epoch, min_seconds=0.5, reps=3)
        train[f"train/{'-'.join(map(str, sizes))}/b{batch}"] = steps * batch / sec
    out["train_samples_per_second"] = train
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
