#!/usr/bin/env bash
# Builds the backprop binary that travels to a machine with no Swift toolchain (a GPU box):
# release, the Swift runtime linked in (--static-swift-stdlib), no MPI, an RPATH of $ORIGIN/lib
# (with --disable-new-dtags, so libopenblas's own dependencies are found there too), and copies it
# with every shared library it needs beyond glibc into .gpu/ (git-ignored). The OpenCL kernels
# are embedded in the binary. See ../shared/gpu/README.md and scripts/gpu-check.sh.
#
#   scripts/build-gpu-binary.sh [--pack]   → .gpu/backprop, .gpu/lib/*.so* (~140 MB; with --pack also
#                                            .gpu.tar.xz, ~28 MB, which gpu-check.sh unpacks itself)
# Copy the repository (or just .gpu/, scripts/ and Data/) to the GPU machine and run
# scripts/gpu-check.sh there.
set -euo pipefail
cd "$(dirname "$0")/.."
scratch=${SCRATCH:-.build-gpu}
flags=(-c release --static-swift-stdlib --product backprop --scratch-path "$scratch"
       -Xlinker -rpath -Xlinker '$ORIGIN/lib' -Xlinker --disable-new-dtags)
swift build "${flags[@]}"
bin="$(swift build "${flags[@]}" --show-bin-path)/backprop"
rm -rf .gpu
mkdir -p .gpu/lib
cp "$bin" .gpu/backprop
strip .gpu/backprop 2>/dev/null || true
# Everything ldd resolves except glibc's own libraries (the target has its own, ≥ 2.34).
ldd "$bin" | awk '/=> \// { print $3 }' | while read -r lib; do
    case "$(basename "$lib")" in
        libc.so*|libm.so*|libpthread.so*|libdl.so*|librt.so*|ld-linux*|libresolv.so*|libutil.so*) ;;
        *) cp -L "$lib" .gpu/lib/ ;;
    esac
done
echo "built .gpu/backprop ($(du -h .gpu/backprop | cut -f1)), libraries: $(ls .gpu/lib | tr '\n' ' ')"
echo "check on the target: LD_LIBRARY_PATH= ldd .gpu/backprop (every library found), then scripts/gpu-check.sh"
if [ "${1:-}" = "--pack" ]; then
    tar -cf - .gpu | xz -T0 -6 > .gpu.tar.xz
    echo "packed .gpu.tar.xz ($(du -h .gpu.tar.xz | cut -f1))"
fi
