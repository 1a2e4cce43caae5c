"""JAX (CPU) peer: jit-compiled matmul and elementwise functions, and a jax.jit-compiled SGD step
(gather, forward, jax.grad backward, update in one XLA program; parameters donated).

    Benchmarks/.venv/bin/python Benchmarks/jax_mlp.py [--quick] [--only ...] [--threads N]

XLA's CPU backend uses every core it sees; with --threads below the core count it is told to use
one intra-op thread (the driver also pins each tool to --threads cores with taskset).
"""
import os

from peer_common import (LEARNING_RATE, Batches, elementwise_cases, emit, gemm_cases, he_init, load_mnist, log,
                         measure, parse_args, train_cases, train_steps)

args = parse_args(__doc__)
os.environ.setdefault("JAX_PLATFORMS", "cpu")
if args.threads < (os.cpu_count() or 1):
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + " --xla_cpu_multi_thread_eigen=false"
                               f" intra_op_parallelism_threads={args.threads}").strip()
import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402


def loss_fn(params, x, y):
    """Mean softmax cross-entropy of a ReLU MLP; params = [W1, b1, W2, b2, ...] with W fan_in × fan_out."""
    a = x
    for i in range(0, len(params) - 2, 2):
        a = jax.nn.relu(a @ params[i] + params[i + 1])
    logits = a @ params[-2] + params[-1]
    logp = jax.nn.log_softmax(logits)
    return -jnp.mean(jnp.take_along_axis(logp, y[:, None], axis=1))


def sgd_step(params, X, Y, idx):
    x, y = X[idx], Y[idx]
    grads = jax.grad(loss_fn)(params, x, y)
    return [p - LEARNING_RATE * g for p, g in zip(params, grads)]


def main():
    results = []
    rng = np.random.default_rng(1)
    last = [None]

    def sync():
        jax.block_until_ready(last[0])

    if "gemm" in args.only:
        for key, kind, m, n, k in gemm_cases(args):
            a = jnp.asarray(rng.uniform(-.5, .5, (k, m) if kind[0] == "T" else (m, k)).astype(np.float32))
            b = jnp.asarray(rng.uniform(-.5, .5, (n, k) if kind[1] == "T" else (k, n)).astype(np.float32))
            f = jax.jit(lambda a, b, ta=kind[0] == "T", tb=kind[1] == "T": (a.T if ta else a) @ (b.T if tb else b))

            def body(f=f, a=a, b=b):
                last[0] = f(a, b)
            results.append(measure(key, "GFLOP/s", 2e-9 * m * n * k, body, args, sync))
    if "elementwise" in args.only:
        fns = {"relu": jax.jit(lambda x, g: jnp.maximum(x, 0)),
               "relu_backward": jax.jit(lambda x, g: jnp.where(x > 0, g, 0)),
               "hadamard": jax.jit(lambda x, g: x * g)}
        for key, op, n, bpe in elementwise_cases(args):
            x = jnp.asarray(rng.uniform(-.5, .5, n).astype(np.float32))
            g = jnp.asarray(rng.uniform(0, 1, n).astype(np.float32))

            def body(f=fns[op], x=x, g=g):
                last[0] = f(x, g)
            results.append(measure(key, "GB/s", 1e-9 * bpe * n, body, args, sync))
    if "train" in args.only:
        images, labels = load_mnist(args.data)
        X, Y = jnp.asarray(images), jnp.asarray(labels)
        step = jax.jit(sgd_step, donate_argnums=(0,))
        for key, sizes, batch in train_cases(args):
            state = [[jnp.asarray(p) for p in he_init(sizes)]]
            batches, steps = Batches(len(images), batch), train_steps(args)

            def epoch():
                for _ in range(steps):
                    state[0] = step(state[0], X, Y, batches.next().astype(np.int32))
                last[0] = state[0]
            results.append(measure(key, "samples/s", steps * batch, epoch, args, sync))
    import jaxlib
    emit("jax", "cpu", args, results, {"jax": jax.__version__, "jaxlib": jaxlib.__version__,
                                        "devices": [str(d) for d in jax.devices()]},
         xla_flags=os.environ.get("XLA_FLAGS", ""))


if __name__ == "__main__":
    log(f"jax {jax.__version__} on {jax.devices()}, {args.threads} threads")
    main()
