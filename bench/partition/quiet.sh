#!/bin/sh
# The full benchmark against METIS on a quiet host that has Node but not Debian's metis package:
# gpmetis and its library travel from this host in build/metis (ignored by git, so that they can be
# carried with dist/ and the addon).
#   sh bench/partition/quiet.sh --pack        here: copies gpmetis and libmetis.so.5 to build/metis
#   sh bench/partition/quiet.sh OUT [REPS]    there: runs dist/bench/partition/run.js --out OUT
# Needs dist/ (npm run build) and build/Release/sitempi.node beside it.
set -e
cd "$(dirname "$0")/../.."
if [ "$1" = --pack ]; then
  mkdir -p build/metis
  cp "$(command -v gpmetis)" build/metis/
  cp "$(ldd "$(command -v gpmetis)" | awk '/libmetis/ { print $3 }')" build/metis/
  ls -l build/metis
  exit 0
fi
out=${1:?usage: quiet.sh --pack | quiet.sh OUT [REPS]}
reps=${2:-5}
if [ -x build/metis/gpmetis ]; then
  PATH=$PWD/build/metis:$PATH
  LD_LIBRARY_PATH=$PWD/build/metis${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
  export PATH LD_LIBRARY_PATH
fi
echo "cpus: $(nproc), load average: $(cut -d' ' -f1-3 /proc/loadavg)"
gpmetis -help >/dev/null
node dist/bench/partition/run.js --reps "$reps" --out "$out"
echo "load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
