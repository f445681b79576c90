// SPDX-License-Identifier: Apache-2.0
#include "session/clock.h"

#include <ctime>

namespace netmon::session {
namespace {

int64_t Read(clockid_t id) {
  timespec ts{};
  clock_gettime(id, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace

int64_t SystemClock::MonotonicNs() const {
  return Read(CLOCK_MONOTONIC);
}
int64_t SystemClock::WallNs() const {
  return Read(CLOCK_REALTIME);
}

SystemClock* SystemClock::Get() {
  static SystemClock clock;
  return &clock;
}

}  // namespace netmon::session
