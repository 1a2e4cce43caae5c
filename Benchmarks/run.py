#!/usr/bin/env python3
"""Runs `backprop bench` and the peers side by side, alternately, for several rounds; prints a
Markdown table (median, min–max, and the ratio ours/peer per workload) and writes raw JSON.

    bash Benchmarks/setup.sh && python3 Benchmarks/run.py            # everything (~15-25 min)
    python3 Benchmarks/run.py --quick                                 # seconds-long smoke run (CI)

Standard library only; installs nothing. A peer whose runtime is missing is a "not available"
row, never a crash. Every figure is a throughput (bigger is better), so ours/peer > 1 means we
are faster. Ratios are taken within a round (ours and the peer measured minutes apart at most),
then the median over rounds is reported: on a shared, noisy machine the ratio is the result.
Exit status: 0 when every available tool produced numbers, 1 otherwise.
"""
import argparse
import datetime
import json
import os
import platform
import re
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
VENV_PY = os.path.join(HERE, ".venv", "bin", "python")
GROUPS = ("gemm", "elementwise", "train")


def sh(cmd, timeout=30, env=None):
    """stdout of a command, or '' when it is missing or fails."""
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, env=env).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def python_with(module, candidates):
    """The first interpreter that can import `module`, or None."""
    for py in candidates:
        if py and os.path.exists(py) and subprocess.run([py, "-c", f"import {module}"], capture_output=True).returncode == 0:
            return py
    return None


def opencl_device():
    """Name of the first OpenCL device `clinfo -l` lists, or None."""
    m = re.search(r"Device #\d+: (.+)", sh(["clinfo", "-l"]))
    return m.group(1).strip() if m else None


def build_c_peer(name, libs):
    """Compiles Benchmarks/<name>.c into Benchmarks/bin (when stale); returns the binary or None."""
    src, binary = os.path.join(HERE, name + ".c"), os.path.join(HERE, "bin", name)
    if not shutil.which("gcc"):
        return None
    deps = [src, os.path.join(HERE, "sgemm_harness.h")]
    if os.path.exists(binary) and all(os.path.getmtime(binary) >= os.path.getmtime(d) for d in deps):
        return binary
    os.makedirs(os.path.dirname(binary), exist_ok=True)
    r = subprocess.run(["gcc", "-O2", "-o", binary, src] + libs + ["-lm"], capture_output=True, text=True)
    if r.returncode != 0:
        print(f"[run.py] could not compile {name}: {r.stderr.strip().splitlines()[0][:300]}", file=sys.stderr)
        return None
    return binary


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
    tools.append(Tool("numpy", "NumPy", "cpu", numpy_py and [numpy_py, os.path.join(HERE, "numpy_mlp.py")] + peer_args(),
                      # pip's NumPy ships a current OpenBLAS: these two (set on some machines for the
                      # older system OpenBLAS) only slow it, so they are unset for this command alone.
                      env={"OPENBLAS_CORETYPE": None, "OPENBLAS_L2_SIZE": None},
                      why="no python3 with numpy (bash Benchmarks/setup.sh)"))
    torch_py = python_with("torch", ["/usr/bin/python3"])
    torch_cmd = torch_py and [torch_py, os.path.join(HERE, "torch_mlp.py")]
    tools.append(Tool("torch", "PyTorch", "cpu", torch_cmd and torch_cmd + peer_args(),
                      why="no python3-torch (apt-get install python3-torch)"))
    if args.threads > 1:
        tools.append(Tool("torch-1t", "PyTorch 1 thread", "cpu", torch_cmd and torch_cmd + peer_args(1), threads=1,
                          why="no python3-torch (apt-get install python3-torch)"))
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
    env = dict(os.environ)
    threads = tool.threads or args.threads
    env.update(OPENBLAS_NUM_THREADS=str(threads), OMP_NUM_THREADS=str(threads),
               BACKPROP_DATA_DIR=os.path.dirname(os.path.abspath(args.data)))
    for k, v in tool.env.items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
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


def summarize(tool):
    """Per key over the rounds: median of the medians, min of the mins, max of the maxes."""
    out = {}
    for key in ordered_keys([tool]):
        rs = [run[key] for run in tool.runs if key in run]
        out[key] = {"unit": rs[0]["unit"], "median": statistics.median(r["median"] for r in rs),
                    "min": min(r["min"] for r in rs), "max": max(r["max"] for r in rs),
                    "rounds": len(rs), "repetitions": sum(r.get("repetitions", 0) for r in rs)}
    return out


def paired_ratios(ours, peer, key):
    """ours/peer per round, pairing the runs of the same round."""
    return [o[key]["median"] / p[key]["median"] for o, p in zip(ours.runs, peer.runs)
            if key in o and key in p and p[key]["median"] > 0]


def paired_ratio(ours, peer, key):
    """Median over rounds of ours/peer."""
    ratios = paired_ratios(ours, peer, key)
    return statistics.median(ratios) if ratios else None


def ratio_cell(ours, peer, key):
    """'×median (lowest–highest round)', or '–'."""
    rs = paired_ratios(ours, peer, key)
    if not rs:
        return "–"
    spread = f" ({fmt_ratio(min(rs))[1:]}–{fmt_ratio(max(rs))[1:]})" if len(rs) > 1 else ""
    return fmt_ratio(statistics.median(rs)) + spread


def ordered_keys(tools):
    """Workload keys in the order the tools report them (squares, then MLP shapes; small, then large)."""
    keys = {}
    for t in tools:
        for run in t.runs:
            for k in run:
                keys.setdefault(k, len(keys))
    return sorted(keys, key=lambda k: (CANONICAL.index(k) if k in CANONICAL else len(CANONICAL), keys[k]))


# The suite's keys in reading order (saved JSON sorts keys alphabetically, so order comes from here).
CANONICAL = ([f"gemm/NN/{s}x{s}x{s}" for s in (128, 256, 512, 1024, 2048)]
             + ["gemm/NN/128x128x784", "gemm/NT/128x784x128", "gemm/TN/784x128x128"]
             + [f"elementwise/{op}/{n}" for n in (65536, 16777216) for op in ("relu", "relu_backward", "hadamard")]
             + ["train/784-128-10/b128", "train/784-128-10/b32", "train/784-512-512-10/b128"])


def fmt_ratio(r):
    return "–" if r is None else (f"×{r:.2f}" if r >= 0.1 else f"×{r:.2g}")


def fmt(x):
    if x is None:
        return "–"
    if x >= 10000:
        return f"{x / 1000:.0f}k"
    if x >= 100:
        return f"{x:.0f}"
    return f"{x:.3g}" if x < 10 else f"{x:.1f}"


def train_to_98(args):
    """Wall time of the default `backprop train` until a test accuracy ≥ 98 %, and its peak RSS."""
    cmd = [os.path.abspath(args.backprop), "train", "--json", "--eval-test"]
    timer = os.path.exists("/usr/bin/time")
    full = (["/usr/bin/time", "-v"] if timer else []) + cmd
    env = dict(os.environ, BACKPROP_DATA_DIR=os.path.dirname(os.path.abspath(args.data)),
               OPENBLAS_NUM_THREADS=str(args.threads))
    start = time.time()
    p = subprocess.Popen(full, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=ROOT)
    reached, epochs, accuracy = None, [], None
    for line in p.stdout:
        try:
            obj = json.loads(line)
        except ValueError:
            continue
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
            "final_test_accuracy": accuracy, "peak_rss_mb": peak_mb, "epochs": epochs,
            "error": None if p.returncode == 0 else stderr.strip().splitlines()[-1:]}


def environment(args, tools):
    cpu = re.search(r"model name\s*:\s*(.+)", open("/proc/cpuinfo").read()) if os.path.exists("/proc/cpuinfo") else None
    dpkg = {name: sh(["dpkg-query", "-W", "-f=${Version}", pkg]) or None for name, pkg in
            [("OpenBLAS", "libopenblas0-pthread"), ("CLBlast", "libclblast1"), ("PoCL", "pocl-opencl-icd"),
             ("python3-torch", "python3-torch"), ("oneDNN", "libdnnl2")]}
    return {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "cpu": cpu.group(1).strip() if cpu else platform.processor(), "cores": os.cpu_count(),
            "kernel": platform.release(), "threads": args.threads, "load_average": os.getloadavg(),
            "opencl_device": opencl_device(), "system_packages": dpkg,
            "git_commit": sh(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"]) or None,
            "OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"), "quick": args.quick, "rounds": args.rounds,
            "cpu_flags": cpu_flags(), "fma_peak": fma_peak(args.threads), "cpu_gemm": cpu_gemm(args)}


def cpu_flags():
    """The vector instruction sets the CPU reports (what oneDNN picks its kernels by)."""
    text = open("/proc/cpuinfo").read() if os.path.exists("/proc/cpuinfo") else ""
    m = re.search(r"^flags\s*:\s*(.+)$", text, re.M)
    have = set(m.group(1).split()) if m else set()
    return [f for f in ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512_bf16", "avx512_vnni", "amx_tile") if f in have]


def fma_peak(threads):
    """FP32 FMA peak in GFLOP/s (Benchmarks/bin/fma_peak, built by setup.sh), OPENBLAS vars irrelevant."""
    exe = os.path.join(HERE, "bin", "fma_peak")
    out = sh([exe, str(threads)]) if os.access(exe, os.X_OK) else None
    try:
        return json.loads(out) if out else None
    except ValueError:
        return None


def cpu_gemm(args):
    """Our CPU backend's GEMM library, version and instruction set, as `backprop devices` prints them."""
    exe = os.path.abspath(args.backprop)
    out = sh([exe, "devices"]) if os.access(exe, os.X_OK) else None
    return [line.strip() for line in (out or "").splitlines() if line.strip().startswith("GEMM ")] or None


def targets(tools, train98):
    """The issue's targets, each with its measured ratio (None when not measured)."""
    by = {t.name: t for t in tools}

    def ratio(ours, peer, key):
        o, p = by.get(ours), by.get(peer)
        return paired_ratio(o, p, key) if o and p and o.runs and p.runs else None

    def worst(ours, peer, prefix):
        keys = {k for run in (by[ours].runs if ours in by else []) for k in run if k.startswith(prefix)}
        rs = [r for r in (ratio(ours, peer, k) for k in keys) if r is not None]
        return min(rs) if rs else None

    out = []
    r = ratio("backprop", "numpy", "train/784-128-10/b128")
    out.append(("CPU 784-128-10 b128 ≥ 1.7× NumPy", r, r is not None and r >= 1.7, fmt_ratio(r) if r else None))
    big = "train/784-512-512-10/b128"
    peers = [(p, ratio("backprop", p, big)) for p in ("numpy", "torch", "torch-1t", "jax", "tinygrad-cpu")]
    peers = [(p, r) for p, r in peers if r is not None]
    best = min(peers, key=lambda pr: pr[1]) if peers else (None, None)
    out.append(("CPU 784-512-512-10 b128 ≥ 1.3× the best peer", best[1], best[1] is not None and best[1] >= 1.3,
                f"{fmt_ratio(best[1])} vs {best[0]}" if best[0] else None))
    r = worst("backprop", "openblas", "gemm/")
    out.append(("CPU GEMM ≥ 0.9× OpenBLAS (worst shape)", r, r is not None and r >= 0.9, fmt_ratio(r) if r else None))
    if train98:
        s, mb = train98.get("seconds_to_98"), train98.get("peak_rss_mb")
        out.append(("default train to ≥ 98 % in ≤ 60 s", s, s is not None and s <= 60,
                    f"{s:.1f} s" if s else f"not reached ({train98.get('final_test_accuracy')})"))
        out.append(("peak memory of that run ≤ 400 MB", mb, mb is not None and mb <= 400, f"{mb:.0f} MB" if mb else None))
    r = worst("backprop-opencl", "clblast", "gemm/")
    out.append(("OpenCL GEMM ≥ 5× CLBlast (worst shape)", r, r is not None and r >= 5, fmt_ratio(r) if r else None))
    rs = [ratio("backprop-opencl", "backprop", f"train/{k}") for k in ("784-128-10/b128", "784-128-10/b32", "784-512-512-10/b128")]
    rs = [x for x in rs if x is not None]
    r = min(rs) if rs else None
    out.append(("OpenCL training ≥ 0.5× our CPU (worst net)", r, r is not None and r >= 0.5, fmt_ratio(r) if r else None))
    r = worst("backprop-opencl", "tinygrad-cl", "train/")
    out.append(("OpenCL training ahead of tinygrad on PoCL (worst net)", r, r is not None and r > 1, fmt_ratio(r) if r else None))
    return [{"target": t, "value": v, "met": met if v is not None else None, "shown": shown} for t, v, met, shown in out]


def markdown(env, tools, train98, goals):
    lines = [f"Date {env['date']} · CPU {env['cpu']} ({env['cores']} cores) · threads {env['threads']} · "
             f"OpenCL {env['opencl_device'] or 'none'} · load average before {env['load_average'][0]:.2f} · "
             f"{env['rounds']} round(s){' · quick' if env['quick'] else ''}", ""]
    avail = [t for t in tools if t.runs]
    summaries = {t.name: summarize(t) for t in avail}
    keys = ordered_keys(avail)
    ours_of = {"cpu": "backprop", "opencl": "backprop-opencl"}
    if env["quick"]:
        lines += ["**Quick smoke run**: it checks that every benchmark runs; its numbers are not results.", ""]
    lines += ["Median (min–max) per tool, then ours/peer (> 1: ours is faster; the paired median over rounds). "
              "The ratio table gives the lowest and highest round in brackets. "
              "OpenCL peers are compared with our OpenCL backend, CPU peers with our CPU backend.", ""]
    head = ["workload", "unit"] + [t.label for t in avail]
    lines += ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for key in keys:
        unit = next(s[key]["unit"] for s in summaries.values() if key in s)
        cells = []
        for t in avail:
            s = summaries[t.name].get(key)
            cells.append(f"{fmt(s['median'])} ({fmt(s['min'])}–{fmt(s['max'])})" if s else "–")
        lines.append(f"| {key} | {unit} | " + " | ".join(cells) + " |")
    ratio_cols = [t for t in avail if t.name not in ours_of.values() and ours_of[t.family] in summaries]
    cl_vs_cpu = "backprop-opencl" in summaries and "backprop" in summaries
    if ratio_cols or cl_vs_cpu:
        by = {t.name: t for t in tools}
        head = ["workload"] + [f"ours/{t.label}" for t in ratio_cols] + (["OpenCL/CPU (ours)"] if cl_vs_cpu else [])
        lines += ["", "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
        for key in keys:
            cells = [ratio_cell(by[ours_of[t.family]], t, key) for t in ratio_cols]
            if cl_vs_cpu:
                cells.append(ratio_cell(by["backprop-opencl"], by["backprop"], key))
            if any(c != "–" for c in cells):
                lines.append(f"| {key} | " + " | ".join(cells) + " |")
    missing = [t for t in tools if not t.runs]
    if missing:
        lines += ["", "| tool | status |", "|---|---|"]
        for t in missing:
            lines.append(f"| {t.label} | {'failed: ' + t.errors[-1] if t.errors else 'not available: ' + (t.why or '?')} |")
    if train98:
        lines += ["", f"Default `backprop train` (`{train98['command']}`): ≥ 98 % after "
                  f"{fmt(train98['seconds_to_98']) if train98['seconds_to_98'] else 'never'} s wall, "
                  f"{train98['seconds_total']:.1f} s in all, final test accuracy "
                  f"{100 * (train98['final_test_accuracy'] or 0):.2f} %, peak RSS {train98['peak_rss_mb']:.0f} MB."]
    lines += ["", "| target | measured | status |", "|---|---|---|"]
    for g in goals:
        status = "not measured" if g["met"] is None else ("**met**" if g["met"] else "not met")
        lines.append(f"| {g['target']} | {g['shown'] or '–'} | {status} |")
    lines += ["", "Versions: " + "; ".join(f"{t.label}: {json.dumps(t.meta.get('versions', {}), sort_keys=True)}"
                                          for t in avail if t.meta.get("versions")),
              "System packages: " + ", ".join(f"{k} {v}" for k, v in env["system_packages"].items() if v)]
    return "\n".join(lines)


def render_saved(args):
    """Prints (and with --markdown writes) the table of a saved run."""
    with open(args.from_json) as f:
        raw = json.load(f)
    tools = []
    for d in raw["tools"]:
        t = Tool(d["name"], d["label"], d["family"], d["command"], why=d["why_not"])
        t.runs, t.errors, t.meta = d["runs"], d["errors"], d["meta"]
        tools.append(t)
    text = markdown(raw["environment"], tools, raw["train_to_98"], targets(tools, raw["train_to_98"]))
    print(text)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(text + "\n")
    return 0


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--backprop", default=os.path.join(ROOT, ".build", "release", "backprop"), help="our binary")
    p.add_argument("--quick", action="store_true", help="seconds-long smoke run: 1 round, fewer sizes, no train-to-98")
    p.add_argument("--rounds", type=int, help="rounds of (ours, every peer) (default 3; 1 with --quick)")
    p.add_argument("--repetitions", type=int, help="timed repetitions per workload and round (default 5; 2 with --quick)")
    p.add_argument("--threads", type=int, default=os.cpu_count(), help="threads for every tool (default: all cores)")
    p.add_argument("--only", default="gemm,elementwise,train", help="groups: gemm, elementwise, train")
    p.add_argument("--tools", help="comma-separated subset of tools (backprop always runs)")
    p.add_argument("--data", default=os.path.join(ROOT, "Data", "mnist"), help="MNIST folder (gzipped IDX)")
    p.add_argument("--no-train98", action="store_true", help="skip timing the default `backprop train`")
    p.add_argument("--timeout", type=int, default=None, help="seconds per tool invocation (default 1200; 300 quick)")
    p.add_argument("--out", default=os.path.join(HERE, "results.json"), help="raw JSON output")
    p.add_argument("--markdown", help="also write the Markdown table to this file")
    p.add_argument("--from-json", help="render the table of an earlier run's raw JSON instead of running")
    args = p.parse_args()
    if args.from_json:
        return render_saved(args)
    args.rounds = args.rounds or (1 if args.quick else 3)
    args.repetitions = args.repetitions or (2 if args.quick else 5)
    args.timeout = args.timeout or (300 if args.quick else 1200)
    bad = [g for g in args.only.split(",") if g not in GROUPS]
    if bad:
        p.error(f"--only takes {', '.join(GROUPS)}; got {', '.join(bad)}")

    tools = discover(args)
    env = environment(args, tools)
    for t in tools:
        print(f"[run.py] {t.name:16s} {'ready' if t.available else 'not available: ' + (t.why or '')}", file=sys.stderr)
    available = [t for t in tools if t.available]
    for r in range(args.rounds):
        # ours first in each round, the peers in an order that rotates between rounds
        peers = [t for t in available if not t.name.startswith("backprop")]
        k = r % max(len(peers), 1)
        order = [t for t in available if t.name.startswith("backprop")] + peers[k:] + peers[:k]
        print(f"[run.py] round {r + 1}/{args.rounds}: {', '.join(t.name for t in order)}", file=sys.stderr)
        for t in order:
            run_tool(t, args)
    train98 = None
    if not args.quick and not args.no_train98 and tools[0].available:
        print("[run.py] timing the default `backprop train` to 98 %", file=sys.stderr)
        train98 = train_to_98(args)
    env["load_average_after"] = os.getloadavg()
    goals = targets(tools, train98)
    text = markdown(env, tools, train98, goals)
    print(text)
    raw = {"environment": env, "train_to_98": train98, "targets": goals,
           "tools": [{"name": t.name, "label": t.label, "family": t.family, "available": t.available,
                      "why_not": None if t.available else t.why, "command": t.cmd, "errors": t.errors,
                      "meta": t.meta, "summary": summarize(t), "runs": t.runs} for t in tools]}
    with open(args.out, "w") as f:
        json.dump(raw, f, indent=1, sort_keys=True)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(text + "\n")
    failed = [t.name for t in available if not t.runs or t.errors]
    if failed:
        print(f"[run.py] FAILED (available but produced no numbers or errored): {', '.join(failed)}", file=sys.stderr)
        return 1
    print(f"[run.py] ok: {len(available)} tools produced numbers; raw results in {args.out}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
