// SPDX-License-Identifier: Apache-2.0
#include "join/wall_clock.h"

#include <ctime>

namespace netmon::join {
namespace {

int64_t Read(clockid_t id) {
  timespec ts{};
  clock_gettime(id, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace

WallClock WallClock::Sample() {
  int64_t best_offset = 0;
  int64_t best_width = -1;
  // Three tries, keeping the narrowest bracket: a preemption between the reads only widens one of them.
  for (int i = 0; i < 3; ++i) {
    int64_t m1 = Read(CLOCK_MONOTONIC);
    int64_t wall = Read(CLOCK_REALTIME);
    int64_t m2 = Read(CLOCK_MONOTONIC);
    int64_t width = m2 - m1;
    if (best_width < 0 || width < best_width) {
      best_width = width;
      best_offset = wall - (m1 + width / 2);
    }
  }
  return WallClock(best_offset);
}

uint64_t MonotonicNowNs() {
  return static_cast<uint64_t>(Read(CLOCK_MONOTONIC));
}

}  // namespace netmon::join
