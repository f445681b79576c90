#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Every benchmark of netmon in one run (docs/architecture.md §8), as root, after `bash scripts/install-deps.sh`:
#   bash bench/run.sh                  # the full run (~12 min): bench/results/<date>/{results.json,table.md,plot.png}
#   bash bench/run.sh --smoke          # every benchmark for a moment (what the bench-smoke test runs)
#   bash bench/run.sh --only overhead --reps 3 --out /tmp/x     # see --help
# Builds what it needs first (NETMON_BUILD_DIR, default ./build), then runs bench/netmon_bench.py with the system
# python (matplotlib comes from Debian's python3-matplotlib).
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
build=${NETMON_BUILD_DIR:-$top/build}

if [[ $(id -u) -ne 0 ]]; then
  echo "bench/run.sh: run as root (BPF programs and network namespaces need it)" >&2
  exit 1
fi
for a in "$@"; do
  if [[ $a == -h || $a == --help ]]; then exec /usr/bin/python3 "$top/bench/netmon_bench.py" --help; fi
done
if [[ ! -f $build/CMakeCache.txt ]]; then
  cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo
fi
cmake --build "$build" -j"$(nproc)" --target netmon-bench
exec /usr/bin/python3 "$top/bench/netmon_bench.py" --build-dir "$build" "$@"
