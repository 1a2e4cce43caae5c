#!/usr/bin/env bash
# The GPU check of issue 14 in one call, for a Linux x86-64 machine with an NVIDIA driver and no
# Swift toolchain (it also runs anywhere else: what is missing is reported "not present").
#
#   scripts/gpu-check.sh [OUTPUT_DIR]        (default: $OUT, else ./gpu-check-out)
#
# Runs the prebuilt portable binary (.gpu/backprop, made by scripts/build-gpu-binary.sh; or
# $BACKPROP_BIN; or .build/release/backprop) through `devices`, `gradcheck --backend opencl`,
# `tune`, `bench --backend opencl` (GEMM at 4096³, 1024³ and the MLP's shapes; the MLP's training
# step at batch 128 and 1024) and a default training run on OpenCL; where python3 has torch with
# CUDA, times torch.mm in FP32 (TF32 off) and the same MLP's training step. Writes report.json and
# report.md (ours / PyTorch ratios) and every part's output under logs/. Each part has a timeout;
# the whole stays under $GPU_CHECK_SECONDS (default 450 s). A part that fails or times out is
# reported as such; the script exits 0 unless it cannot write its output.
set -uo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
out=${1:-${OUT:-$PWD/gpu-check-out}}
mkdir -p "$out/logs" || { echo "gpu-check: cannot create $out" >&2; exit 2; }
out=$(cd "$out" && pwd)
total=${GPU_CHECK_SECONDS:-450}
start=$SECONDS

# The binary and the libraries that travel with it (unpacked from .gpu.tar.xz, made by
# `scripts/build-gpu-binary.sh --pack`, when only that came); the NVIDIA driver's own folder.
if [ ! -x "$root/.gpu/backprop" ] && [ -f "$root/.gpu.tar.xz" ]; then
    echo "unpacking .gpu.tar.xz"
    tar -C "$root" -xJf "$root/.gpu.tar.xz" || echo "gpu-check: could not unpack .gpu.tar.xz" >&2
fi
bin=${BACKPROP_BIN:-}
if [ -z "$bin" ]; then
    for candidate in "$root/.gpu/backprop" "$root/.build/release/backprop"; do
        if [ -x "$candidate" ]; then bin=$candidate; break; fi
    done
fi
export LD_LIBRARY_PATH="$root/.gpu/lib:/usr/local/nvidia/lib64:/usr/local/nvidia/lib:${LD_LIBRARY_PATH:-}"
export BACKPROP_DATA_DIR="$root/Data"
# Compiled programs and the tuning file stay in the output folder (nothing written elsewhere).
export BACKPROP_CACHE_DIR="${BACKPROP_CACHE_DIR:-$out/cache}"
unset BACKPROP_BACKEND BACKPROP_OPENCL_TILING

# The MLP of the comparison and the GEMM shapes (ours column-major, PyTorch's the same products).
mlp=${GPU_CHECK_MLP:-784-512-256-10}
gemms=${GPU_CHECK_GEMMS:-4096x4096x4096,1024x1024x1024,128x128x784,128x784x128:NT,784x128x128:TN,512x128x784,512x784x128:NT,256x128x512}
trains="$mlp/b128,$mlp/b1024"

printf 'part\tstatus\trc\tseconds\tcommand\n' > "$out/parts.tsv"
# part NAME LIMIT COMMAND...: runs COMMAND with stdout/stderr in logs/NAME.{out,err} under
# min(LIMIT, time left); records ok, failed, timeout or skipped.
part() {
    local name=$1 limit=$2; shift 2
    local left=$((total - (SECONDS - start)))
    [ "$limit" -gt "$left" ] && limit=$left
    if [ "$limit" -lt 5 ]; then
        printf '%s\tskipped (time budget spent)\t\t0\t%s\n' "$name" "$*" >> "$out/parts.tsv"
        echo "== $name: skipped, the time budget is spent"
        return
    fi
    echo "== $name (at most ${limit} s): $*"
    local t0=$SECONDS rc status
    timeout -k 5 "$limit" "$@" > "$out/logs/$name.out" 2> "$out/logs/$name.err" < /dev/null
    rc=$?
    case $rc in
        0) status=ok ;;
        124|137) status="timeout after ${limit} s" ;;
        *) status=failed ;;
    esac
    printf '%s\t%s\t%s\t%s\t%s\n' "$name" "$status" "$rc" "$((SECONDS - t0))" "$*" >> "$out/parts.tsv"
    echo "   $status ($((SECONDS - t0)) s)"
    tail -n 3 "$out/logs/$name.err" | sed 's/^/   stderr: /'
}
absent() {
    printf '%s\tnot present\t\t0\t%s\n' "$1" "$2" >> "$out/parts.tsv"
    echo "== $1: not present ($2)"
}

# System and NVIDIA driver.
{ uname -a; cat /etc/os-release 2>/dev/null | head -2; nproc; } > "$out/logs/system.out" 2>&1
if command -v nvidia-smi > /dev/null 2>&1; then
    part nvidia-smi 20 nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.max.sm --format=csv
    # The ICD loader finds NVIDIA's OpenCL driver through /etc/OpenCL/vendors (add it where we may).
    if [ ! -e /etc/OpenCL/vendors/nvidia.icd ]; then
        { mkdir -p /etc/OpenCL/vendors && echo libnvidia-opencl.so.1 > /etc/OpenCL/vendors/nvidia.icd; } 2>/dev/null \
            || echo "note: could not add /etc/OpenCL/vendors/nvidia.icd (OpenCL may not see the GPU)"
    fi
else
    absent nvidia-smi "no nvidia-smi: no NVIDIA driver here"
fi

if [ -n "$bin" ] && [ -x "$bin" ]; then
    echo "binary: $bin"
    (ldd "$bin" 2>&1; echo; "$bin" --version 2>&1) > "$out/logs/binary.out"
    part devices 30 "$bin" devices
    part gradcheck 120 "$bin" gradcheck --backend opencl --quiet
    part tune 90 "$bin" tune --json --budget 60
    part bench-gemm 75 "$bin" bench --backend opencl --json --repetitions 5 --gemm "$gemms"
    part bench-train 60 "$bin" bench --backend opencl --json --quick --repetitions 5 --train "$trains"
    part train 90 "$bin" train --backend opencl --json
else
    for p in devices gradcheck tune bench-gemm bench-train train; do absent "$p" "no backprop binary (scripts/build-gpu-binary.sh makes .gpu/backprop)"; done
fi

if command -v python3 > /dev/null 2>&1; then
    part torch 90 python3 "$root/scripts/gpu-check-torch.py" "$gemms" "$trains"
    # Exit 3 is the script saying torch or CUDA is missing.
    if grep -q $'^torch\tfailed\t3\t' "$out/parts.tsv"; then
        sed -i $'s/^torch\tfailed\t3\t/torch\tnot present\t3\t/' "$out/parts.tsv"
        echo "   (torch with CUDA: not present)"
    fi
    python3 "$root/scripts/gpu-check-report.py" "$out" "$((SECONDS - start))" || echo "gpu-check: the report failed" >&2
else
    absent torch "no python3"
    # No Python: the part table is the report.
    { echo "# GPU check"; echo; echo '```'; cat "$out/parts.tsv"; echo '```'; } > "$out/report.md"
fi
echo "report: $out/report.md, $out/report.json ($((SECONDS - start)) s)"
