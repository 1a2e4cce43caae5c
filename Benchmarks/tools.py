"""The tools of a run: ours and each peer, as a command that prints the common JSON object (or
why it is not available), run in the clean environment of machine.py; and the default `backprop train`.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import time

from machine import HERE, ROOT, build_c_peer, clean_env, opencl_device, sh

VENV_PY = os.path.join(HERE, ".venv", "bin", "python")


def python_with(module, candidates):
    """The first interpreter that can import `module`, or None."""
    for py in candidates:
        if py and os.path.exists(py) and subprocess.run([py, "-c", f"import {module}"], capture_output=True).returncode == 0:
            return py
    return None


class Tool:
    """One column: a command that prints the common JSON object, or why it is not available."""

    def __init__(self, name, label, family, cmd=None, env=None, why=None, threads=None):
        self.name, self.label, self.family, self.cmd, self.env, self.why = name, label, family, cmd, env or {}, why
        self.threads = threads  # overrides --threads for this tool (torch, 1 thread)
        self.runs, self.errors, self.meta = [], [], {}

    @property
    def available(self):
        return self.cmd is not None


def discover(args):
    """Every tool, available or not, in column order. Ours first, then CPU peers, then OpenCL."""
    tools = []
    common = ["--repetitions", str(args.repetitions)] + (["--quick"] if args.quick else []) + ["--only", args.only]

    def peer_args(threads=args.threads):
        return common + ["--threads", str(threads), "--data", args.data]
    backprop = os.path.abspath(args.backprop)
    have_backprop = os.access(backprop, os.X_OK)
    help_text = sh([backprop, "bench", "--help"]) if have_backprop else ""
    no_bench = None if "--json" in help_text else f"{args.backprop} has no `bench` subcommand (build main: swift build -c release)"
    why = f"{args.backprop} not found (swift build -c release)" if not have_backprop else no_bench
    ours = [backprop, "bench", "--json"] + common
    has_backend = "--backend" in help_text
    tools.append(Tool("backprop", "backprop CPU", "cpu", None if why else ours + (["--backend", "cpu"] if has_backend else []),
                      why=why))
    cl = opencl_device()

    numpy_py = python_with("numpy", [VENV_PY, shutil.which("python3")])
    numpy_label = "NumPy (pip)" if numpy_py == VENV_PY else "NumPy"
    tools.append(Tool("numpy", numpy_label, "cpu", numpy_py and [numpy_py, os.path.join(HERE, "numpy_mlp.py")] + peer_args(),
                      why="no python3 with numpy (bash Benchmarks/setup.sh)"))
    # PyTorch as users install it: pip's CPU wheel in the venv (setup.sh), else Debian's python3-torch.
    torch_py = python_with("torch", [VENV_PY, "/usr/bin/python3"])
    torch_label = "PyTorch (pip CPU)" if torch_py == VENV_PY else "PyTorch (Debian)"
    torch_cmd = torch_py and [torch_py, os.path.join(HERE, "torch_mlp.py")]
    no_torch = "no torch: neither a pip CPU wheel in Benchmarks/.venv (bash Benchmarks/setup.sh) nor python3-torch"
    tools.append(Tool("torch", torch_label, "cpu", torch_cmd and torch_cmd + peer_args(), why=no_torch))
    if args.threads > 1:
        tools.append(Tool("torch-1t", torch_label + " 1 thread", "cpu", torch_cmd and torch_cmd + peer_args(1), threads=1,
                          why=no_torch))
    jax_py = python_with("jax", [VENV_PY])
    tools.append(Tool("jax", "JAX", "cpu", jax_py and [jax_py, os.path.join(HERE, "jax_mlp.py")] + peer_args(),
                      why="no jax in Benchmarks/.venv (bash Benchmarks/setup.sh)"))
    tg_py = python_with("tinygrad", [VENV_PY])
    tg = tg_py and [tg_py, os.path.join(HERE, "tinygrad_mlp.py")] + peer_args()
    tools.append(Tool("tinygrad-cpu", "tinygrad CPU", "cpu", tg, env={"DEV": "CPU"},
                      why="no tinygrad in Benchmarks/.venv (bash Benchmarks/setup.sh)"))
    openblas = build_c_peer("openblas_sgemm", ["-lopenblas"]) if "gemm" in args.only else None
    tools.append(Tool("openblas", "OpenBLAS", "cpu", openblas and [openblas] + peer_args(),
                      why="needs gcc and libopenblas-dev" if "gemm" in args.only else "gemm not selected"))

    no_cl = "no OpenCL device (clinfo -l)" if not cl else None
    ours_cl = None if (why or no_cl or not has_backend) else ours + ["--backend", "opencl"]
    tools.append(Tool("backprop-opencl", "backprop OpenCL", "opencl", ours_cl,
                      why=why or no_cl or "this backprop has no --backend option"))
    clblast = None
    if cl and "gemm" in args.only:
        clblast = build_c_peer("clblast_sgemm", ["-lclblast", "-lOpenCL"])
    tools.append(Tool("clblast", "CLBlast", "opencl", clblast and [clblast] + peer_args(),
                      why=no_cl or "needs gcc and libclblast-dev"))
    tools.append(Tool("tinygrad-cl", "tinygrad CL", "opencl", (tg if cl else None), env={"DEV": "CL"},
                      why=no_cl or "no tinygrad in Benchmarks/.venv (bash Benchmarks/setup.sh)"))
    selected = set(args.tools.split(",")) if args.tools else None
    return [t for t in tools if selected is None or t.name in selected or t.name == "backprop"]


def run_tool(tool, args):
    """One invocation; appends {key: result} to tool.runs, or an error to tool.errors."""
    threads = tool.threads or args.threads
    env = clean_env(dict(OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads),
                         BACKPROP_DATA_DIR=os.path.dirname(os.path.abspath(args.data))))
    env = clean_env({**env, **tool.env})
    cmd = list(tool.cmd)
    if args.threads < (os.cpu_count() or 1) and shutil.which("taskset"):
        cmd = ["taskset", "-c", f"0-{args.threads - 1}"] + cmd
    start = time.time()
    try:
        p = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=ROOT, timeout=args.timeout)
    except subprocess.TimeoutExpired:
        tool.errors.append(f"timed out after {args.timeout} s")
        return
    seconds = time.time() - start
    obj = None
    for line in reversed(p.stdout.strip().splitlines()):
        try:
            obj = json.loads(line)
            break
        except ValueError:
            continue
    if p.returncode != 0 or not obj or not obj.get("results"):
        tail = (p.stderr.strip().splitlines() or ["(no output)"])[-1]
        tool.errors.append(f"exit {p.returncode}: {tail[:300]}")
        return
    tool.meta = {k: v for k, v in obj.items() if k != "results"}
    tool.runs.append({r["key"]: r for r in obj["results"]})
    print(f"[run.py]   {tool.name}: {len(obj['results'])} results in {seconds:.0f} s", file=sys.stderr)


def train_to_98(args):
    """The default `backprop train`: wall time until a test accuracy ≥ 98 %, training seconds, final accuracy, peak RSS."""
    cmd = [os.path.abspath(args.backprop), "train", "--json", "--eval-test"]
    timer = os.path.exists("/usr/bin/time")
    full = (["/usr/bin/time", "-v"] if timer else []) + cmd
    env = clean_env(dict(BACKPROP_DATA_DIR=os.path.dirname(os.path.abspath(args.data)),
                         OPENBLAS_NUM_THREADS=str(args.threads)))
    start = time.time()
    p = subprocess.Popen(full, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    reached, epochs, accuracy, training_seconds = None, [], None, None
    for line in p.stdout:
        try:
            obj = json.loads(line)
        except ValueError:
            continue
        if obj.get("summary"):
            training_seconds = obj.get("seconds")
            accuracy = obj.get("test_accuracy", accuracy)
        if "test_accuracy" in obj and not obj.get("summary"):
            accuracy = obj["test_accuracy"]
            epochs.append({"epoch": obj.get("epoch"), "test_accuracy": accuracy, "at_seconds": time.time() - start})
            if reached is None and accuracy >= 0.98:
                reached = time.time() - start
    stderr = p.stderr.read()
    _, status, usage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    wall = time.time() - start
    m = re.search(r"Maximum resident set size \(kbytes\): (\d+)", stderr)
    peak_mb = int(m.group(1)) / 1024 if m else usage.ru_maxrss / 1024
    return {"command": " ".join(cmd), "exit": p.returncode, "seconds_to_98": reached, "seconds_total": wall,
            "training_seconds": training_seconds,
            "final_test_accuracy": accuracy, "peak_rss_mb": peak_mb, "epochs": epochs,
            "error": None if p.returncode == 0 else stderr.strip().splitlines()[-1:]}
