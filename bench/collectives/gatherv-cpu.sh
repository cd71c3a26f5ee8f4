#!/usr/bin/env bash
# The root's and the other site's leader's thread CPU per forwarded byte in Gather(v)/Scatter(v)
# (bench/collectives/leader_cpu.c), one host, 8 ranks, two sites of four (interleaved and
# contiguous), side by side and interleaved run by run: the shim of BEFORE (a libsitempi.so built
# from an earlier commit, default: none) and this build with SITEMPI_COLL_PACKED=1 and unset.
# Run from the repository root after `npm run build`. Writes $OUT/gatherv-cpu.jsonl (one line per
# rank and run) and prints a table of medians over REPS repetitions.
# Usage: [BEFORE=/path/libsitempi.so] [REPS=3] [SIZES="65536 1048576 4194304"] bash bench/collectives/gatherv-cpu.sh
set -euo pipefail
OUT=${OUT:-/tmp/gatherv-cpu}
REPS=${REPS:-3}
SIZES=${SIZES:-65536 262144 1048576 4194304}
mkdir -p "$OUT"
export OMPI_ALLOW_RUN_AS_ROOT=1 OMPI_ALLOW_RUN_AS_ROOT_CONFIRM=1
LIB=$PWD/build/Release/libsitempi.so
mpicc -O2 -o "$OUT/leader_cpu" bench/collectives/leader_cpu.c
variants=("new:$LIB:SITEMPI_COLL_PACKED=1" "new:$LIB:SITEMPI_COLL_PACKED=0")
[ -n "${BEFORE:-}" ] && variants=("before:$BEFORE:SITEMPI_COLL_PACKED=0" "${variants[@]}")
run() { # MAP LAYOUT COLL BYTES SHAPE
  local iters=$((4194304 * 8 / $4)) && [ $iters -gt 200 ] && iters=200
  for v in "${variants[@]}"; do
    IFS=: read -r name lib var <<<"$v"
    mpirun -np 8 --oversubscribe --mca mpi_yield_when_idle 1 -x LD_PRELOAD="$lib" -x SITEMPI_SITES="$1" -x "$var" \
      "$OUT/leader_cpu" "$3" "$4" "$iters" "$5" |
      sed "s|^{|{\"layout\":\"$2\",\"variant\":\"$name $var\",\"shape\":\"$5\",\"load\":$(cut -d' ' -f1 /proc/loadavg),|"
  done
}
: >"$OUT/gatherv-cpu.jsonl"
for rep in $(seq "$REPS"); do
  for size in $SIZES; do
    for coll in gatherv scatterv gather scatter; do
      for shape in even uneven; do
        [ "$shape" = uneven ] && [ "${coll%v}" = "$coll" ] && continue
        run 'A:0,2,4,6;B:1,3,5,7' interleaved "$coll" "$size" "$shape"
        run 'A:0-3;B:4-7' contiguous "$coll" "$size" "$shape"
      done
    done
  done
done >>"$OUT/gatherv-cpu.jsonl"
node - "$OUT/gatherv-cpu.jsonl" <<'JS'
const fs = require('node:fs');
const rows = fs.readFileSync(process.argv[2], 'utf8').trim().split('\n').map((l) => JSON.parse(l));
const med = (a) => { const s = [...a].sort((x, y) => x - y); return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };
// The other site's bytes cross to or from root 0; its leader is rank 1 (interleaved) or 4 (contiguous).
const other = (layout) => (layout === 'interleaved' ? [1, 3, 5, 7] : [4, 5, 6, 7]);
const groups = new Map();
for (const r of rows) {
  const key = [r.coll, r.shape, r.bytes, r.layout, r.variant].join('|');
  if (!groups.has(key)) groups.set(key, []);
  groups.get(key).push(r);
}
console.log('coll shape bytes layout variant | root ns/B | leader ns/B | wall us | load');
for (const [key, rs] of groups) {
  const byRun = []; // every 8 lines is one run
  for (let i = 0; i < rs.length; i += 8) byRun.push(rs.slice(i, i + 8));
  const layout = rs[0].layout, o = other(layout), leader = o[0];
  const fwd = (run) => o.reduce((t, j) => t + run[j].block, 0);
  const root = med(byRun.map((run) => (run[0].cpu_us * 1000) / fwd(run)));
  const lead = med(byRun.map((run) => (run[leader].cpu_us * 1000) / fwd(run)));
  const wall = med(byRun.map((run) => run[0].wall_us));
  console.log(`${key.replaceAll('|', ' ')} | ${root.toFixed(2)} | ${lead.toFixed(2)} | ${wall.toFixed(0)} | ${med(byRun.map((r) => r[0].load))}`);
}
JS
