#!/bin/sh
# CPU time of partition() now against a git revision's partitioner, side by side (runs alternate,
# so that both sides see the same load): medians of REPS runs per case, the ratio, the host's load,
# and whether both give the same placement (cut and hash).
#   sh bench/partition/against.sh REV [REPS] [CASES]   CASES: "pattern:n:k ..." (default below)
set -e
cd "$(dirname "$0")/../.."
rev=${1:?usage: against.sh REV [REPS] [CASES]}
reps=${2:-7}
cases=${3:-"stencil3d:100000:8 stencil3d:100000:4 stencil3d:10000:4 wavefront2d:100000:8 wavefront2d:10000:2"}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/native/core" "$tmp/bench/partition"
cp bench/partition/driver.cpp "$tmp/bench/partition/"
for f in $(git ls-tree --name-only "$rev" native/core/ | grep '/partition'); do
  git show "$rev:$f" >"$tmp/$f"
done
g++ -O2 -std=c++17 -DNDEBUG -o "$tmp/old" "$tmp/bench/partition/driver.cpp" "$tmp"/native/core/partition*.cpp
g++ -O2 -std=c++17 -DNDEBUG -o "$tmp/new" bench/partition/driver.cpp native/core/partition*.cpp
median() { sort -n | awk '{a[NR] = $1} END {print a[int((NR + 1) / 2)]}'; }
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
for c in $cases; do
  IFS=: read -r pat n k <<EOT
$c
EOT
  : >"$tmp/o"
  : >"$tmp/n"
  i=0
  while [ $i -lt "$reps" ]; do
    DRIVER_CPU=1 "$tmp/old" "$pat" "$n" "$k" | sed -n 's/.*cpu seconds: //p' >>"$tmp/o"
    DRIVER_CPU=1 "$tmp/new" "$pat" "$n" "$k" | sed -n 's/.*cpu seconds: //p' >>"$tmp/n"
    i=$((i + 1))
  done
  if [ "$("$tmp/old" "$pat" "$n" "$k")" = "$("$tmp/new" "$pat" "$n" "$k")" ]; then same=identical; else same=DIFFERENT; fi
  o=$(median <"$tmp/o")
  m=$(median <"$tmp/n")
  echo "$pat $n ranks $k sites: $rev ${o} s, now ${m} s CPU (median of $reps), now / $rev $(echo "$m $o" | awk '{printf "%.3f", $1 / $2}'), placements $same"
done
echo "load average: $(cut -d' ' -f1-3 /proc/loadavg)"
