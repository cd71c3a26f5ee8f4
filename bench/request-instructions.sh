#!/bin/bash
# Instructions per loop iteration on the application thread (callgrind, which load does not change)
# of bench/programs/request_trio.c, plain Open MPI and under the shim. One rank sending to itself.
# Usage: bench/request-instructions.sh [SHIM.so|none] [KIND...]   (defaults: build/Release/libsitempi.so, kinds 0 1 2 5)
# Needs valgrind (callgrind) and Open MPI's mpicc/mpirun.
set -euo pipefail
cd "$(dirname "$0")/.."
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
shim=${1:-build/Release/libsitempi.so}
shift || true
kinds=("$@")
[ ${#kinds[@]} -eq 0 ] && kinds=(0 1 2 5)
n=20000
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mpicc -O2 -o "$work/trio" bench/programs/request_trio.c
[ "$shim" != none ] && shim=$(realpath "$shim")
for k in "${kinds[@]}"; do
  pre=()
  [ "$shim" != none ] && pre=(-x "LD_PRELOAD=$shim" -x "SITEMPI_OUTPUT_DIR=$work/out")
  mpirun -np 1 --mca btl self "${pre[@]}" valgrind --tool=callgrind --separate-threads=yes \
    --callgrind-out-file="$work/cg-$k.%p" "$work/trio" "$k" "$n" > /dev/null 2>&1
  # the dump at the loop's end (part 1), the application thread (thread 01)
  f=$(ls "$work"/cg-"$k".*.1-01 | head -1)
  t=$(awk '/^totals:/ {print $2}' "$f")
  echo "kind $k: $(awk -v t="$t" -v n="$n" 'BEGIN {printf "%.1f", t / n}') instructions/iteration ($(basename "$shim"))"
done
