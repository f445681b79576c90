// SPDX-License-Identifier: Apache-2.0
// Time for capture sessions, injectable so tests drive durations and retention without sleeping.
#pragma once

#include <atomic>
#include <cstdint>

namespace netmon::session {

class Clock {
 public:
  virtual ~Clock() = default;
  // CLOCK_MONOTONIC nanoseconds: durations, deadlines, retention.
  virtual int64_t MonotonicNs() const = 0;
  // Unix epoch nanoseconds: what clients see (started_ns / ended_ns).
  virtual int64_t WallNs() const = 0;
};

class SystemClock final : public Clock {
 public:
  int64_t MonotonicNs() const override;
  int64_t WallNs() const override;
  static SystemClock* Get();
};

// A clock that moves only when told to (tests).
class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t mono = 1'000'000'000, int64_t wall = 1'700'000'000'000'000'000)
      : mono_(mono), wall_(wall) {}
  int64_t MonotonicNs() const override { return mono_.load(); }
  int64_t WallNs() const override { return wall_.load(); }
  void Advance(int64_t ns) {
    mono_ += ns;
    wall_ += ns;
  }

 private:
  std::atomic<int64_t> mono_, wall_;
};

}  // namespace netmon::session
