#!/usr/bin/env bash
# Installs the benchmark peers as users install them. Idempotent: re-running skips what is there.
#   virtualenv Benchmarks/.venv (python3 on PATH): pip's numpy (its bundled OpenBLAS), jax[cpu],
#     threadpoolctl (to record NumPy's OpenBLAS core), tinygrad (optional), and PyTorch's CPU build
#     when a CPU wheel can be had: a local torch-*+cpu wheel (PIP_FIND_LINKS, /opt/wheels), else
#     PyTorch's CPU index; when neither is reachable PyTorch is reported "not installable here"
#     and run.py falls back to Debian's python3-torch (or shows PyTorch as not available).
#   system (apt): python3-torch (Debian's PyTorch, the fallback), libclblast-dev, OpenBLAS, oneDNN, PoCL
# Set BENCH_SKIP_APT=1 or BENCH_SKIP_PIP=1 to skip a half. Needs the package registries; run.py needs none.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive

apt_pkgs=(python3-torch libclblast-dev libopenblas-dev libdnnl-dev ocl-icd-opencl-dev opencl-headers pocl-opencl-icd clinfo gcc time python3-venv)
if [ "${BENCH_SKIP_APT:-0}" != 1 ]; then
    missing=()
    for p in "${apt_pkgs[@]}"; do
        dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        echo "== apt: installing ${missing[*]}"
        $SUDO apt-get update -q
        $SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
    else
        echo "== apt: all present"
    fi
fi

if [ "${BENCH_SKIP_PIP:-0}" != 1 ]; then
    venv="$here/.venv"
    if [ ! -x "$venv/bin/python" ]; then
        echo "== venv: creating $venv"
        python3 -m venv "$venv"
    fi
    py="$venv/bin/python"
    if "$py" -c "import numpy, jax, threadpoolctl" 2>/dev/null; then
        echo "== venv: numpy, jax, threadpoolctl present"
    else
        echo "== venv: installing numpy jax[cpu] threadpoolctl"
        "$py" -m pip install -q --upgrade pip || true
        "$py" -m pip install -q numpy "jax[cpu]" threadpoolctl
    fi
    if "$py" -c "import tinygrad" 2>/dev/null; then
        echo "== venv: tinygrad present"
    else
        "$py" -m pip install -q tinygrad || echo "== venv: tinygrad not installable here (optional; its rows will be absent)"
    fi
    if "$py" -c "import torch" 2>/dev/null; then
        echo "== venv: torch $("$py" -c 'import torch; print(torch.__version__)') present"
    else
        # PyPI's default torch wheel is the CUDA build (gigabytes); users of a CPU machine install
        # the +cpu wheel. Look for one locally first, then on PyTorch's CPU index.
        pyver="$("$py" -c 'import sys; print(f"cp{sys.version_info[0]}{sys.version_info[1]}")')"
        wheel=""
        for dir in ${PIP_FIND_LINKS:-} /opt/wheels; do
            for w in "$dir"/torch-*+cpu-"$pyver"-*manylinux*_x86_64.whl; do [ -e "$w" ] && wheel="$w"; done
        done
        if [ -n "$wheel" ]; then
            echo "== venv: installing PyTorch's CPU wheel $(basename "$wheel")"
            "$py" -m pip install -q "$wheel" || wheel=""
        fi
        if [ -z "$wheel" ] && ! "$py" -c "import torch" 2>/dev/null; then
            echo "== venv: trying PyTorch's CPU index"
            "$py" -m pip install -q --timeout 20 --retries 0 torch --index-url https://download.pytorch.org/whl/cpu \
                || echo "== venv: PyTorch's CPU wheel is not installable here (no local torch-*+cpu wheel, CPU index unreachable); run.py uses Debian's python3-torch if present"
        fi
    fi
fi

echo "== compiling the C peers into $here/bin"
mkdir -p "$here/bin"
gcc -O2 -o "$here/bin/openblas_sgemm" "$here/openblas_sgemm.c" -lopenblas -lm
gcc -O2 -pthread -o "$here/bin/fma_peak" "$here/fma_peak.c"   # the FMA peak every GFLOP/s is a share of
if [ -e /usr/include/clblast_c.h ]; then
    gcc -O2 -o "$here/bin/clblast_sgemm" "$here/clblast_sgemm.c" -lclblast -lOpenCL -lm
fi
echo "== setup done"
