#!/usr/bin/env bash
# BackpropCore links no system library: build it with every OpenCL, BLAS and oneDNN header hidden
# (bind-mounted away in a private mount namespace, so nothing on the machine changes), and check
# that the CPU backend, for contrast, does not build that way. Needs root (CI runs as root).
set -euo pipefail
if [ "${1:-}" != "--inside" ]; then exec unshare -m "$0" --inside; fi
cd "$(dirname "$0")/.."
empty=$(mktemp -d)
for d in /usr/include/CL /usr/include/x86_64-linux-gnu/openblas-pthread /usr/include/x86_64-linux-gnu/openblas64-pthread; do
    if [ -d "$d" ]; then mount --bind "$empty" "$d"; fi
done
for f in /usr/include/cblas.h /usr/include/x86_64-linux-gnu/cblas.h /usr/include/x86_64-linux-gnu/cblas-openblas.h \
         /usr/include/x86_64-linux-gnu/openblas_config.h /usr/include/dnnl.h; do
    if [ -e "$f" ]; then mount --bind /dev/null "$f"; fi
done
scratch=$(mktemp -d /tmp/core-alone.XXXXXX)
swift build --scratch-path "$scratch" --target BackpropCore
if swift build --scratch-path "$scratch" --target BackpropCPU >/dev/null 2>&1; then
    echo "the CPU backend built without BLAS headers: the check hides nothing" >&2
    exit 1
fi
echo "BackpropCore builds with no OpenCL, BLAS or oneDNN header visible; BackpropCPU does not."
rm -rf "$scratch"
