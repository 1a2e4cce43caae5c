#!/usr/bin/env bash
# The binary on other x86-64 CPUs than this one, emulated by QEMU's user mode: CPUID reports the
# model's features and the emulator runs only the instructions that model has, so an instruction
# used without checking for it stops the run (SIGILL), as it would on such a machine.
#   qemu64   x86-64-v1 (SSE3), an AMD K8 without 3DNow!: QEMU's default model, also under KVM.
#            oneDNN has no kernels below SSE4.1, and OpenBLAS 0.3.21 picks its Opteron kernels,
#            which use 3DNow! (femms): the automatic choice must avoid them, and forcing them
#            must be an error, not a crash. With OPENBLAS_CORETYPE=Haswell it would run AVX2 kernels.
#   Nehalem  x86-64-v2 (SSE4.2): our loops' baseline clone, OpenBLAS chosen (oneDNN below AVX2).
#   Haswell  x86-64-v3 (AVX2, FMA): the v3 clone, oneDNN's AVX2 kernels.
# No AVX-512 model: QEMU's emulator has no AVX-512. The Swift runtime needs CMPXCHG16B (every
# x86-64 CPU since 2008 but the first K8s and Pentium 4s): a model without it stops at start.
# For each: `devices` names the expected GEMM provider, `gradcheck --quick` passes on the CPU
# backend, a small CSV trains and predicts.
#   .ci/cpu-models.sh [BINARY]      (default .build/debug/backprop; needs qemu-user)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-.build/debug/backprop}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
unset BACKPROP_BACKEND BACKPROP_GEMM OPENBLAS_CORETYPE
export BACKPROP_BACKEND=cpu

awk 'BEGIN { srand(1); print "a,b,c,d,label"
             for (i = 0; i < 240; i++) { c = i % 3
                 printf "%.4f,%.4f,%.4f,%.4f,%d\n", c + rand(), rand() - c, rand(), c * rand(), c } }' > "$work/small.csv"

# The emulator's notes about features of a model it does not emulate (TSX, PCID) are not ours.
# Through a file, not a process substitution, which the caller's grep would not wait for.
emulate() {
    local model=$1 status=0; shift
    qemu-x86_64 -cpu "$model" "$bin" "$@" 2> "$work/stderr" || status=$?
    grep -v "TCG doesn't support" "$work/stderr" >&2 || true
    return $status
}

failed=0
check() { # model, what, expected pattern in the output, command...
    local model=$1 what=$2 pattern=$3; shift 3
    local out="$work/$model-$what.out" status=0
    emulate "$model" "$@" > "$out" 2>&1 || status=$?
    if [ $status -ne 0 ]; then
        echo "FAIL $model $what (exit $status):"; tail -n 5 "$out"; failed=1
    elif ! grep -Eq "$pattern" "$out"; then
        echo "FAIL $model $what: no line matches /$pattern/:"; cat "$out"; failed=1
    else
        echo "ok   $model $what: $(grep -Em1 "$pattern" "$out" | sed 's/^ *//')"
    fi
}

for model in qemu64 Nehalem Haswell; do
    case $model in
        qemu64) expected="GEMM oneDNN .*no JIT.* — in use" ;;
        Nehalem) expected="GEMM OpenBLAS .* — in use" ;;
        Haswell) expected="GEMM oneDNN .*avx2 — in use" ;;
    esac
    check $model devices "$expected" devices
    check $model gradcheck "checks passed" gradcheck --quick --quiet --sizes 1,7,33
    check $model train "^\{" train --data "$work/small.csv" --hidden 16 --epochs 2 --batch-size 32 \
        --save "$work/$model.model" --json
    check $model predict "^class,p_0,p_1,p_2" predict --model "$work/$model.model" --input "$work/small.csv"
done

# OPENBLAS_CORETYPE=Haswell (a value copied from a newer machine) on a CPU without AVX2: OpenBLAS, the
# automatic choice there, would run AVX2 kernels; oneDNN runs instead, and devices says why.
export OPENBLAS_CORETYPE=Haswell
check Nehalem devices-haswell-forced "GEMM oneDNN .*sse41 — in use" devices
check Nehalem gradcheck-haswell-forced "checks passed" gradcheck --quick --quiet --sizes 1,7,33
unset OPENBLAS_CORETYPE

# Forcing OpenBLAS where its kernels cannot run: an error that says why and what to do.
if BACKPROP_GEMM=openblas emulate qemu64 gradcheck --quick > "$work/forced.out" 2>&1; then
    echo "FAIL qemu64 BACKPROP_GEMM=openblas succeeded"; failed=1
elif [ $? -ne 1 ] || ! grep -q "OPENBLAS_CORETYPE=Prescott" "$work/forced.out"; then
    echo "FAIL qemu64 BACKPROP_GEMM=openblas: not a clean error:"; cat "$work/forced.out"; failed=1
else
    echo "ok   qemu64 BACKPROP_GEMM=openblas refused: $(head -c 120 "$work/forced.out")…"
fi
exit $failed
