// SPDX-License-Identifier: Apache-2.0
// The engine: one thread that drives a CaptureBackend, feeds the join, and hands the joined events to the
// sessions. It implements the SessionManager's KernelApply, so programs attach when the first capture starts and
// detach after the last one ends (no capture => nothing attached), and the kernel filter is always the union of
// the live captures.
//
// Each turn of the loop: lifecycle records (waiting up to poll_ms for the first), DNS records, and when due the
// flow deltas; joined in the order non-CLOSE lifecycle events, DNS (both straight from their ring buffers), DATA,
// CLOSE, so a flow's last interval is
// reported before its CLOSE. DATA of every flow is due every flush_interval_ms and when a capture ends (its final
// flush), so the DATA events of a flow sum to its total. CLOSE records wait at most close_flush_min_ms, for the
// last deltas of their own flows only (taken by tuple, and removed from the kernel's map); a CLOSE of an
// unconnected socket (no remote to key its flows by) makes that flush a full one.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "join/joiner.h"
#include "server/capture_backend.h"
#include "session/session_manager.h"

namespace netmon::server {

struct EngineOptions {
  uint32_t flush_interval_ms = 2000;
  uint32_t close_flush_min_ms = 100;
  uint32_t poll_ms = 20;
  // Released sockets' owners are deleted by a walk of the whole owner map: at most this often, not every turn
  // (under connection churn every turn has work, and walking tens of thousands of owners per turn cost the host
  // more than the hooks; at 250 ms the walks were still a fifth of the server's CPU under churn, perf). An owner
  // then outlives its grace by at most this much.
  uint32_t sweep_interval_ms = 1000;
  join::JoinOptions join;
};

class Engine {
 public:
  Engine(CaptureBackend* backend, EngineOptions options);
  ~Engine();
  Engine(const Engine&) = delete;
  Engine& operator=(const Engine&) = delete;

  // The SessionManager's kernel hook: set the filter union, attach on the first live capture, detach after the
  // last. Called from RPC threads (Start) and from the engine thread (Finish).
  absl::Status Apply(const std::vector<netmon_filter>& filters, size_t live_sessions);

  // Starts the loop over `sessions` (which must outlive the engine or Stop()).
  void Start(session::SessionManager* sessions);
  // Ends every live capture (each with its final flush and final chunk), waits up to `grace` for that, then stops
  // the loop and detaches.
  void Stop(std::chrono::milliseconds grace);

  std::vector<bpf::HookInfo> Hooks() const;
  std::map<std::string, std::string> InterfacesNotAttached() const;
  // Backend counters plus the join's, by name: the sessions' CounterSource.
  std::map<std::string, uint64_t> Counters();
  bool attached() const;
  // Total events handed to the sessions (tests and benchmarks).
  uint64_t events_routed() const { return events_routed_.load(); }

 private:
  void Loop();
  // One turn; returns when it did something or waited poll_ms.
  void Turn(bool final_flush);
  void Wake();

  CaptureBackend* const backend_;
  const EngineOptions options_;
  session::SessionManager* sessions_ = nullptr;

  // Guards every backend call (the engine thread and RPC threads calling Apply).
  mutable std::mutex backend_mu_;
  // The join is touched only by the engine thread; Apply asks for a reset through this flag.
  join::Joiner joiner_;
  std::atomic<bool> reset_join_{false};
  mutable std::mutex join_stats_mu_;
  std::map<std::string, uint64_t> join_counters_;

  std::mutex wake_mu_;
  std::condition_variable wake_cv_;
  bool woken_ = false;
  std::atomic<bool> running_{false};
  std::atomic<uint64_t> events_routed_{0};
  std::chrono::steady_clock::time_point next_flush_{};
  std::chrono::steady_clock::time_point last_close_flush_{};
  std::chrono::steady_clock::time_point last_sweep_{};
  std::vector<netmon_sock_event> pending_closes_;
  std::vector<flow::FlowSample> flows_buf_;  // reused each turn: its capacity stays
  std::thread thread_;
};

}  // namespace netmon::server
