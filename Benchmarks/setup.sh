#!/usr/bin/env bash
# Installs the benchmark peers. Idempotent: re-running skips what is already there.
#   system (apt): python3-torch (PyTorch CPU for Debian's /usr/bin/python3), libclblast-dev, OpenBLAS, PoCL
#   virtualenv Benchmarks/.venv (python3 on PATH): numpy, jax[cpu], tinygrad
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
    if "$venv/bin/python" -c "import numpy, jax, tinygrad, threadpoolctl" 2>/dev/null; then
        echo "== venv: numpy, jax, tinygrad present"
    else
        echo "== venv: installing numpy jax[cpu] tinygrad threadpoolctl"
        "$venv/bin/python" -m pip install -q --upgrade pip
        "$venv/bin/python" -m pip install -q numpy "jax[cpu]" tinygrad threadpoolctl
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
