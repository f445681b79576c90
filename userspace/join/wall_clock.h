// SPDX-License-Identifier: Apache-2.0
// Kernel timestamps are CLOCK_MONOTONIC (bpf_ktime_get_ns); events carry Unix epoch nanoseconds (§4.3). The
// offset between the two clocks moves when NTP steps or slews the wall clock, so the owner re-samples it on
// every flush rather than once at start-up.
#pragma once

#include <cstdint>

namespace netmon::join {

class WallClock {
 public:
  // A fixed offset (tests): wall = monotonic + offset_ns.
  explicit WallClock(int64_t offset_ns = 0) : offset_ns_(offset_ns) {}
  // Reads both clocks now. The realtime read is bracketed by two monotonic reads and paired with their midpoint,
  // so the error is at most half the bracket (well under a microsecond).
  static WallClock Sample();

  int64_t ToWall(uint64_t monotonic_ns) const { return static_cast<int64_t>(monotonic_ns) + offset_ns_; }
  int64_t offset_ns() const { return offset_ns_; }

 private:
  int64_t offset_ns_;
};

// CLOCK_MONOTONIC now, in nanoseconds (the kernel's bpf_ktime_get_ns clock).
uint64_t MonotonicNowNs();

}  // namespace netmon::join
