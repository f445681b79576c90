// SPDX-License-Identifier: Apache-2.0
// NatsForwarder: with the agent's "nats" section, every NetworkEvent of every capture this agent triggered is
// published to NATS JetStream once, whether or not a poller ever polls for it.
//
// Why follow instead of publishing what polls deliver: the agent sees events only when a poller polls, so a capture
// nobody polls would never reach NATS. Instead, each capture TriggerNetworkCapture starts gets a follower thread
// that reads it from netmon-server in FOLLOW mode (retained events, then live ones until the final chunk) over
// the forwarder's own channel, resuming after the last sequence it handed on whenever the stream breaks (server
// restart, deadline), so each sequence is queued once; the publisher's Nats-Msg-Id "<agent_id>/<session_id>/
// <sequence>" lets the stream drop a re-send after a lost acknowledgement. Polls are unaffected (they keep their
// own cursor). Followers are bounded (max_followers); a trigger beyond the bound is refused with
// RESOURCE_EXHAUSTED before anything starts, so no capture runs unpublished without the caller knowing.
//
// While NATS is away the events wait in the publisher's bounded buffer (max_buffer_events / max_buffer_bytes);
// what does not fit is refused and counted (events_refused here, dropped_buffer_full in the publisher), never
// dropped silently. Stop() ends the followers and waits (bounded by flush_timeout_ms) for the buffer to drain.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <list>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "agent/capture_observer.h"
#include "agent/config.h"
#include "agent/monitor_client.h"
#include "correlate/event_publisher.h"

namespace netmon::agent {

struct NatsForwarderCounters {
  uint64_t sessions_followed = 0;   // followers started
  uint64_t sessions_completed = 0;  // ... that read up to the capture's final chunk
  uint64_t sessions_lost = 0;       // ... whose capture netmon-server no longer knew (NOT_FOUND)
  uint64_t sessions_stopped = 0;    // ... ended by shutdown before the capture ended
  uint64_t followers_refused = 0;   // triggers refused because max_followers were busy
  uint64_t follow_reconnects = 0;   // reads resumed after an error
  uint64_t events_seen = 0;         // distinct events read from netmon-server
  uint64_t events_queued = 0;       // ... accepted by the publisher's buffer
  uint64_t events_refused = 0;      // ... refused because the buffer was full (counted, not published)
  uint64_t events_truncated = 0;    // published as the truncated stand-in (JSON above the NATS payload limit)
  uint64_t followers_active = 0;
  correlate::EventPublisherCounters publisher;
};

class NatsForwarder final : public CaptureObserver {
 public:
  // Opens its own channel to netmon-server (`monitor`) and starts the publisher (which connects in the background:
  // NATS being down is not an error here). Errors: a configuration the publisher cannot use.
  static absl::StatusOr<std::unique_ptr<NatsForwarder>> Start(const MonitorConfig& monitor, std::string agent_id,
                                                              const NatsPublishConfig& config);
  NatsForwarder(std::unique_ptr<MonitorClient> monitor, std::unique_ptr<correlate::EventPublisher> publisher,
                std::string agent_id, const NatsPublishConfig& config, std::string subject);  // use Start()
  ~NatsForwarder() override;
  NatsForwarder(const NatsForwarder&) = delete;
  NatsForwarder& operator=(const NatsForwarder&) = delete;

  absl::Status Reserve() override;
  void Unreserve() override;
  void Started(const std::string& session_id) override;
  nlohmann::json StatusJson() const override;

  // Ends every follower (captures still running are no longer followed; counted), then waits at most
  // flush_timeout_ms until JetStream acknowledged everything buffered. Logs the counters. Idempotent.
  absl::Status Stop();
  NatsForwarderCounters counters() const;
  const std::string& subject() const { return subject_; }
  // Waits until no follower is active, at most `timeout` (tests, and nothing else depends on it).
  bool WaitIdle(std::chrono::milliseconds timeout);

 private:
  struct Follower {
    std::string session_id;
    CallCanceller canceller;
    std::thread thread;
    bool done = false;  // under mu_
  };
  void Follow(Follower* f);
  // Queues one event; false if the buffer refused it.
  bool Publish(const std::string& session_id, const network_monitor::NetworkEvent& ev);
  // Joins followers that have finished (outside the lock).
  void Reap();
  // Sleeps up to `ms`; false if stopping.
  bool Sleep(int64_t ms);

  const std::unique_ptr<MonitorClient> monitor_;
  const std::string agent_id_;
  const NatsPublishConfig config_;
  const std::string subject_;
  std::unique_ptr<correlate::EventPublisher> publisher_;

  mutable std::mutex mu_;
  std::condition_variable cv_;  // stopping_, a follower finished
  bool stopping_ = false;
  bool stopped_ = false;
  absl::Status stop_status_;
  size_t reserved_ = 0;
  size_t live_ = 0;
  std::list<std::unique_ptr<Follower>> followers_;
  NatsForwarderCounters counters_;
};

}  // namespace netmon::agent
