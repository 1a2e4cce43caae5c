"""Facts about the machine a run measures, and the environment every tool runs in.

CPU model, family/model and vector flags; the measured FP32 FMA peak (fma_peak.c); our GEMM
library and the instruction set of its kernels (`backprop devices`); system package versions.
OPENBLAS_CORETYPE and OPENBLAS_L2_SIZE change which kernels an OpenBLAS picks (some machines
export them for an older OpenBLAS), so they are unset for every tool of a run, ours included,
and the values the caller had are recorded.
"""
import datetime
import json
import os
import platform
import re
import shutil
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
UNSET = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")


def clean_env(extra=None):
    """os.environ less UNSET, plus `extra` (a value None removes that variable)."""
    env = {k: v for k, v in os.environ.items() if k not in UNSET}
    for k, v in (extra or {}).items():
        if v is None:
            env.pop(k, None)
        else:
            env[k] = v
    return env


def sh(cmd, timeout=30, env=None):
    """stdout of a command (run in the clean environment), or '' when it is missing or fails."""
    try:
        return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                              env=env or clean_env()).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def opencl_device():
    """Name of the first OpenCL device `clinfo -l` lists, or None."""
    m = re.search(r"Device #\d+: (.+)", sh(["clinfo", "-l"]))
    return m.group(1).strip() if m else None


def build_c_peer(name, libs, deps=("sgemm_harness.h",)):
    """Compiles Benchmarks/<name>.c into Benchmarks/bin (when stale); returns the binary or None."""
    src, binary = os.path.join(HERE, name + ".c"), os.path.join(HERE, "bin", name)
    if not shutil.which("gcc"):
        return None
    deps = [src] + [os.path.join(HERE, d) for d in deps]
    if os.path.exists(binary) and all(os.path.getmtime(binary) >= os.path.getmtime(d) for d in deps):
        return binary
    os.makedirs(os.path.dirname(binary), exist_ok=True)
    r = subprocess.run(["gcc", "-O2", "-o", binary, src] + libs + ["-lm"], capture_output=True, text=True)
    if r.returncode != 0:
        print(f"[run.py] could not compile {name}: {r.stderr.strip().splitlines()[0][:300]}", file=sys.stderr)
        return None
    return binary


def cpu_model():
    """Model name, vendor, family and model number from /proc/cpuinfo (Zen 2 is AMD family 23, model 49)."""
    text = open("/proc/cpuinfo").read() if os.path.exists("/proc/cpuinfo") else ""

    def field(name):
        m = re.search(rf"^{name}\s*:\s*(.+)$", text, re.M)
        return m.group(1).strip() if m else None
    return {"name": field("model name") or platform.processor(), "vendor": field("vendor_id"),
            "family": field("cpu family"), "model": field("model"), "hypervisor": "hypervisor" in (field("flags") or "")}


def cpu_flags():
    """The vector instruction sets the CPU reports (what oneDNN picks its kernels by)."""
    text = open("/proc/cpuinfo").read() if os.path.exists("/proc/cpuinfo") else ""
    m = re.search(r"^flags\s*:\s*(.+)$", text, re.M)
    have = set(m.group(1).split()) if m else set()
    return [f for f in ("sse4_2", "avx", "avx2", "fma", "avx512f", "avx512_bf16", "avx512_vnni", "amx_tile") if f in have]


def fma_peak(threads, tries=5):
    """FP32 FMA peak in GFLOP/s, 1 thread and `threads` (Benchmarks/bin/fma_peak, compiled here when
    missing): the best of `tries` runs, since another tenant's load only ever lowers it (on a shared
    2-vCPU host one run measured 98 GFLOP/s on 2 threads, the 1-thread figure, minutes after 198);
    every run's 2-thread figure is kept under "tries" as a record of how busy the host was."""
    exe = build_c_peer("fma_peak", ["-pthread"], deps=())
    runs = []
    for _ in range(tries if exe else 0):
        out = sh([exe, str(threads)], timeout=120)
        try:
            if out:
                runs.append(json.loads(out))
        except ValueError:
            pass
    if not runs:
        return None
    best = max(runs, key=lambda r: r.get("gflops") or 0)
    best = dict(best, gflops_1_thread=max(r.get("gflops_1_thread") or 0 for r in runs))
    best["tries"] = [r.get("gflops") for r in runs]
    return best


def cpu_gemm(args):
    """Our CPU backend's GEMM library, version and instruction set, as `backprop devices` prints them."""
    exe = os.path.abspath(args.backprop)
    out = sh([exe, "devices"]) if os.access(exe, os.X_OK) else None
    return [line.strip() for line in (out or "").splitlines() if line.strip().startswith("GEMM ")] or None


def gemm_flops_per_sample(sizes):
    """FLOPs of the GEMMs of one SGD step, per sample, for an MLP of layer `sizes`: forward W·A,
    weight gradients δ·Aᵀ, and the error Wᵀ·δ for every layer but the first (2 FLOPs a multiply-add)."""
    macs = sum(a * b for a, b in zip(sizes, sizes[1:]))
    return 2 * macs + 2 * macs + 2 * (macs - sizes[0] * sizes[1])


def train_sizes(key):
    """[784, 128, 10] for 'train/784-128-10/b128', or None."""
    parts = key.split("/")
    if len(parts) != 3 or parts[0] != "train":
        return None
    try:
        return [int(s) for s in parts[1].split("-")]
    except ValueError:
        return None


def peak_for(env, threads):
    """The measured FMA peak (GFLOP/s) for a tool running `threads` threads, or None."""
    p = env.get("fma_peak") or {}
    if threads == 1:
        return p.get("gflops_1_thread")
    return p.get("gflops") if p.get("threads") == threads else None


def limit(key, peak):
    """A workload's ceiling at the FMA peak: GFLOP/s for a GEMM key, samples/s for a train key
    (the peak divided by the GEMM FLOPs of a step per sample); None for the rest."""
    if not peak:
        return None
    if key.startswith("gemm/"):
        return peak
    sizes = train_sizes(key)
    return peak * 1e9 / gemm_flops_per_sample(sizes) if sizes else None


def environment(args, tools):
    cpu = cpu_model()
    dpkg = {name: sh(["dpkg-query", "-W", "-f=${Version}", pkg]) or None for name, pkg in
            [("OpenBLAS", "libopenblas0-pthread"), ("CLBlast", "libclblast1"), ("PoCL", "pocl-opencl-icd"),
             ("python3-torch", "python3-torch"), ("oneDNN", "libdnnl2")]}
    return {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "cpu": cpu["name"], "cpu_id": cpu, "cores": os.cpu_count(),
            "kernel": platform.release(), "threads": args.threads, "load_average": os.getloadavg(),
            "opencl_device": opencl_device(), "system_packages": dpkg,
            "git_commit": sh(["git", "-C", ROOT, "rev-parse", "--short", "HEAD"]) or None,
            "unset_for_every_tool": {k: os.environ.get(k) for k in UNSET}, "quick": args.quick, "rounds": args.rounds,
            "cpu_flags": cpu_flags(), "fma_peak": fma_peak(args.threads), "cpu_gemm": cpu_gemm(args)}
