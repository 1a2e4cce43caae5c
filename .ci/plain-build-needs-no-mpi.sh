#!/usr/bin/env bash
# Without the trait MPI, `swift build` builds every target, BackpropMPI included: check that it does
# so with every MPI header and pkg-config file hidden (bind-mounted away in a private mount
# namespace, so nothing on the machine changes). Needs root (CI runs as root).
set -euo pipefail
if [ "${1:-}" != "--inside" ]; then exec unshare -m "$0" --inside; fi
cd "$(dirname "$0")/.."
empty=$(mktemp -d)
for d in /usr/lib/x86_64-linux-gnu/openmpi/include /usr/include/openmpi /usr/include/x86_64-linux-gnu/openmpi; do
    if [ -d "$d" ]; then mount --bind "$empty" "$d"; fi
done
for f in /usr/include/mpi.h /usr/lib/x86_64-linux-gnu/pkgconfig/ompi-c.pc /usr/lib/x86_64-linux-gnu/pkgconfig/ompi.pc; do
    if [ -e "$f" ]; then mount --bind /dev/null "$f"; fi
done
if pkg-config --cflags ompi-c >/dev/null 2>&1; then echo "ompi-c is still visible: the check hides nothing" >&2; exit 1; fi
swift build
echo "swift build (no trait) needs no MPI header."
