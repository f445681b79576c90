// SPDX-License-Identifier: Apache-2.0
// All capture sessions of one server (docs/architecture.md §4.4): admission with the exact status codes, the kernel
// filter union, routing of joined events to every session whose filter matches, duration expiry, retention
// after the end, and the memory bound.
//
// Threads: RPC handlers call Start/Stop/Find/List; the engine thread calls Route, TakeEnding, Finish and
// Collect. Two locks: `change_mu_` serialises changes of the live set together with the kernel update they
// imply (attach, filter, detach), and `mu_` guards the maps for short critical sections. Route takes only
// `mu_`, so the engine keeps routing while an RPC thread waits for an attach.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "join/event.h"
#include "netmon/abi.h"
#include "session/clock.h"
#include "session/session.h"
#include "session/validation.h"

namespace netmon::session {

struct ManagerOptions {
  int32_t max_sessions = 8;  // live at once
  int32_t max_duration_seconds = 3600;
  int64_t result_ttl_seconds = 600;  // kept for replay after the end
  uint64_t max_events_per_session = 1'000'000;
  uint64_t max_retained_bytes = 1ull << 30;  // all sessions together
};

// Applies a new live set to the kernel: the union of the live filters (empty = no session), and how many
// sessions are live (0 = detach everything). An error refuses the Start that caused it.
using KernelApply = std::function<absl::Status(const std::vector<netmon_filter>& filters, size_t live_sessions)>;

class SessionManager {
 public:
  SessionManager(ManagerOptions options, const Clock* clock, KernelApply apply = {},
                 PidChecker pid_checker = CheckProcessExists, CounterSource counters = {});
  ~SessionManager();
  SessionManager(const SessionManager&) = delete;
  SessionManager& operator=(const SessionManager&) = delete;

  // Validates and starts a capture. INVALID_ARGUMENT (bad field), ALREADY_EXISTS (live or retained id),
  // RESOURCE_EXHAUSTED (max_sessions live), NOT_FOUND (process_id names no process), or the kernel's error.
  absl::Status Start(const CaptureRequest& request);
  // Asks a running capture to end early; the engine flushes it and finishes it as STOPPED. NOT_FOUND if unknown.
  // A capture that already ended is not an error.
  absl::StatusOr<std::shared_ptr<Session>> Stop(const std::string& id);
  // A live or retained session; NOT_FOUND if unknown or past its retention.
  absl::StatusOr<std::shared_ptr<Session>> Find(const std::string& id);
  std::vector<std::shared_ptr<Session>> List();
  size_t live_count() const;
  size_t retained_count() const;

  // Engine side.
  // Hands each event to every live session whose filter matches it.
  void Route(std::vector<join::Event>&& events);
  // Sessions whose duration has passed or that were asked to stop, each handed out once. They keep receiving
  // events until Finish, so the engine can flush their last interval into them.
  std::vector<std::shared_ptr<Session>> TakeEnding();
  // Ends a session (COMPLETED if its time ran out, STOPPED if asked to), updates the kernel, wakes readers.
  void Finish(const std::shared_ptr<Session>& session);
  // Ends a session as FAILED (the engine could not keep capturing).
  void Fail(const std::shared_ptr<Session>& session);
  // Asks every live session to stop (server shutdown).
  void StopAll();
  // Forgets sessions past their retention.
  void Collect();
  // Called when a session is asked to stop, so the engine need not wait for its next tick.
  void SetWakeup(std::function<void()> wakeup);

  const ManagerOptions& options() const { return options_; }
  const CounterSource& counters() const { return counters_; }
  uint64_t retained_bytes() const { return budget_.used(); }

 private:
  void End(const std::shared_ptr<Session>& session, State state);
  std::vector<Filter> LiveFiltersLocked() const;
  void CollectLocked(int64_t now);

  const ManagerOptions options_;
  const Clock* const clock_;
  const KernelApply apply_;
  const PidChecker pid_checker_;
  const CounterSource counters_;
  RetainedBudget budget_;

  std::mutex change_mu_;  // held across a live-set change and its kernel update; taken before mu_
  mutable std::mutex mu_;
  std::map<std::string, std::shared_ptr<Session>> sessions_;  // live and retained
  std::vector<std::shared_ptr<Session>> live_;                // routing targets (running, incl. ending)
  std::function<void()> wakeup_;
};

}  // namespace netmon::session
