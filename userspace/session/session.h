// SPDX-License-Identifier: Apache-2.0
// One capture: its request and filter, the events it kept (sequence n is the n-th kept event, from 1, so a
// resume cursor is an index), what it lost and why, and its lifecycle. Readers (GetCaptureResults) and the
// single writer (the engine, through SessionManager::Route) meet under the session's own mutex; a reader that
// waits for more is woken by the condition variable.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <span>
#include <string>
#include <vector>

#include "join/event.h"
#include "session/filter.h"
#include "session/validation.h"

namespace netmon::session {

enum class State { kRunning, kCompleted, kStopped, kFailed };
std::string_view StateName(State state);

using EventPtr = std::shared_ptr<const join::Event>;

struct SessionStats {
  uint64_t events_total = 0;     // events that matched the filter
  uint64_t events_retained = 0;  // kept for replay (= last_sequence)
  uint64_t events_dropped = 0;   // matched but not kept (per-session bound, memory bound)
  uint64_t unattributed_bytes = 0;
  uint64_t unattributed_packets = 0;
  std::map<std::string, uint64_t> drops;  // by reason; "kernel.*" / "join.*" are host-wide during the capture
  int64_t started_ns = 0;                 // wall clock
  int64_t ended_ns = 0;                   // wall clock, 0 while running
  State state = State::kRunning;
  uint64_t last_sequence = 0;
};

// Host-wide loss counters (kernel + join) by name; a session reports how much each grew while it ran.
using CounterSource = std::function<std::map<std::string, uint64_t>()>;

// The memory all sessions' retained events may use together.
class RetainedBudget {
 public:
  explicit RetainedBudget(uint64_t limit_bytes) : limit_(limit_bytes) {}
  bool TryTake(uint64_t bytes);
  void Give(uint64_t bytes);
  uint64_t used() const;
  uint64_t limit() const { return limit_; }

 private:
  mutable std::mutex mu_;
  uint64_t used_ = 0;
  uint64_t limit_;
};

// Approximate heap cost of keeping one event (event, control block, out-of-line strings, queue slot).
uint64_t RetainedCost(const join::Event& ev);

class Session {
 public:
  Session(CaptureRequest request, Filter filter, int64_t started_mono, int64_t started_wall, uint64_t max_events,
          RetainedBudget* budget, std::map<std::string, uint64_t> counter_baseline);
  ~Session();
  Session(const Session&) = delete;
  Session& operator=(const Session&) = delete;

  const std::string& id() const { return request_.session_id; }
  const CaptureRequest& request() const { return request_; }
  const Filter& filter() const { return filter_; }
  int64_t deadline_mono() const { return deadline_mono_; }

  // Writer side: events that matched this session's filter, in order. Ignored once finished.
  void Append(std::span<const EventPtr> events);

  // Up to `max_events` events with sequence > `after` (the first has sequence after + 1).
  struct Batch {
    std::vector<EventPtr> events;
    uint64_t first_sequence = 0;
    bool finished = false;       // the session had ended when this was read
    uint64_t last_sequence = 0;  // highest sequence at the time of the read
  };
  Batch Read(uint64_t after, size_t max_events) const;
  // Blocks until an event with sequence > `after` exists, the session ends, or `deadline` passes.
  void WaitForMore(uint64_t after, std::chrono::steady_clock::time_point deadline) const;
  // Blocks until the session ends or `deadline` passes; true if it ended.
  bool WaitFinished(std::chrono::steady_clock::time_point deadline) const;

  SessionStats Stats(const CounterSource& counters) const;
  bool finished() const;
  State state() const;

  // Lifecycle, driven by SessionManager.
  void SetDeadline(int64_t mono) { deadline_mono_ = mono; }
  bool stop_requested() const;
  void RequestStop();
  bool ending() const { return ending_; }
  void MarkEnding() { ending_ = true; }
  // Ends the session; `counters_now` freezes the host-wide counters' growth.
  void Finish(State state, int64_t ended_wall, int64_t expires_mono, std::map<std::string, uint64_t> counters_now);
  int64_t expires_mono() const;

 private:
  const CaptureRequest request_;
  const Filter filter_;
  const uint64_t max_events_;
  RetainedBudget* const budget_;
  const std::map<std::string, uint64_t> counter_baseline_;
  int64_t deadline_mono_ = 0;
  bool ending_ = false;  // only touched by the engine thread

  mutable std::mutex mu_;
  mutable std::condition_variable cv_;
  std::deque<EventPtr> events_;
  uint64_t retained_bytes_ = 0;
  SessionStats stats_;
  std::map<std::string, uint64_t> counter_final_;  // set at Finish
  bool stop_requested_ = false;
  int64_t expires_mono_ = 0;
};

}  // namespace netmon::session
