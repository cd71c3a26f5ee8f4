#!/bin/sh
# Instructions of the partitioner on the regular grids, counted by valgrind's callgrind (the same
# under any load) inside partition() only, and the placements' hashes (a bookkeeping change must
# keep them).
#   sh bench/partition/callgrind.sh [CASES]   CASES: "pattern:n:k ..." (default below)
set -e
cd "$(dirname "$0")/../.."
out=${TMPDIR:-/tmp}/sitempi-partition-driver
g++ -O2 -std=c++17 -DNDEBUG -o "$out" bench/partition/driver.cpp native/core/partition*.cpp
cases=${1:-"stencil3d:100000:8 stencil3d:10000:4 wavefront2d:100000:8 wavefront2d:10000:2"}
for c in $cases; do
  IFS=: read -r pat n k <<EOT
$c
EOT
  DRIVER_METIS_GRAPH=$out.graph "$out" "$pat" "$n" "$k"
  valgrind --tool=callgrind --callgrind-out-file=/dev/null --toggle-collect='sitempi::partition::partition(*' "$out" "$pat" "$n" "$k" 2>&1 |
    sed -n 's/.*Collected : \([0-9]*\).*/  instructions: \1/p'
  # METIS on the same graph and capacities (ufactor as bench/partition/metis.ts maps them).
  if command -v gpmetis >/dev/null; then
    u=$(awk -v n="$n" -v k="$k" 'BEGIN { c = 1.03 * n / k; c = c == int(c) ? c : int(c) + 1; print int(1000 * (c * k / n - 1) + 1e-9) }')
    valgrind --tool=callgrind --callgrind-out-file=/dev/null --toggle-collect='METIS_PartGraphKway' \
      gpmetis -ptype=kway -ufactor="$u" -seed=1 "$out.graph" "$k" 2>&1 |
      sed -n -e 's/.*Edgecut: \([0-9]*\),.*/  METIS cut: \1/p' -e 's/.*Collected : \([0-9]*\).*/  METIS_PartGraphKway instructions: \1/p'
  fi
done
