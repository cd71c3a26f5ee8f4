#!/usr/bin/env bash
# The leaders' figures of docs/sites.md on a quiet host (run as root from the repository root,
# after `npm run build`): the leaders' CPU per call (Allgather in place vs packed, Alltoall's three
# forms) on one host, then the testbed points side by side, three repetitions each. Writes
# everything under ${OUT:-/tmp/leaders-quiet}; about 25 minutes on 16 cores.
set -euo pipefail
OUT=${OUT:-/tmp/leaders-quiet}
mkdir -p "$OUT"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
LIB=$PWD/build/Release/libsitempi.so
mpicc -O2 -o "$OUT/leader_cpu" bench/collectives/leader_cpu.c
cat /proc/loadavg >"$OUT/load-start.txt"
run() { # MAP VAR=VALUE COLL BYTES ITERS
  mpirun -np 8 --oversubscribe -x LD_PRELOAD="$LIB" -x SITEMPI_SITES="$1" -x "$2" "$OUT/leader_cpu" "$3" "$4" "$5" |
    sed "s|^{|{\"map\":\"$1\",\"var\":\"$2\",\"load\":\"$(cut -d' ' -f1 /proc/loadavg)\",|"
}
for rep in 1 2 3; do
  for map in 'A:0,2,4,6;B:1,3,5,7' 'A:0-3;B:4-7'; do
    for v in 1 0; do run "$map" SITEMPI_COLL_PACKED=$v allgather 4194304 10; done
    for a in grouped pairwise library; do run "$map" SITEMPI_COLL_ALLTOALL=$a alltoall 1048576 6; done
  done
done >"$OUT/leader_cpu.jsonl"
TB=(--prefix smalt --mgmt-subnet 198.19.252.0/24 --data-subnet 198.19.253.0/24 --state-dir "$OUT/state" --modes default,han,sitempi --reps 3)
node dist/bench/collectives/run.js "${TB[@]}" --colls allgather,alltoall,reduce_scatter --sizes 64k,256k,1m,4m --out "$OUT/as-built"
node dist/bench/collectives/run.js "${TB[@]}" --colls allgather --sizes 1m,4m --shim-env SITEMPI_COLL_PACKED=1 --out "$OUT/packed"
node dist/bench/collectives/run.js "${TB[@]}" --colls alltoall --sizes 1m,4m --shim-env SITEMPI_COLL_ALLTOALL=pairwise --out "$OUT/pairwise"
cat /proc/loadavg >"$OUT/load-end.txt"
