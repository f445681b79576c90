#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Sets up, builds and runs the whole test suite on a fresh Debian 12 machine, as root. This is what CI runs.
#   bash scripts/test.sh            # everything
#   bash scripts/test.sh -L unit    # extra arguments go to ctest (a label, -R NAME, ...)
set -euo pipefail
top=$(cd "$(dirname "$0")/.." && pwd)
cd "$top"

bash scripts/install-deps.sh
build=${NETMON_BUILD_DIR:-$top/build}
# Release with warnings as errors: the build a package ships, held to the developers' warning set.
cmake -S "$top" -B "$build" -DCMAKE_BUILD_TYPE=Release -DNETMON_WERROR=ON
cmake --build "$build" -j"$(nproc)"

# Tests share the machine's cgroup hooks and TC state, so they run one at a time.
cd "$build"
ctest --output-on-failure --timeout 900 "$@"
