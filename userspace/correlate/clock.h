// SPDX-License-Identifier: Apache-2.0
// The two clocks the correlator uses: wall clock (event, NetFlow and log times are wall clock) and monotonic
// (pacing: timers, rebuild intervals, hold delays; immune to clock steps).
#pragma once

#include <time.h>

#include <cstdint>

namespace netmon::correlate {

inline int64_t WallNowNs() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

inline int64_t MonoNowNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace netmon::correlate
