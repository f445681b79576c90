// SPDX-License-Identifier: Apache-2.0
// EventPublisher: how a netmon agent (or server) puts its NetworkEvents on ServiceRadar's NATS JetStream bus.
//
//   auto pub = EventPublisher::Start(options);          // never fails because NATS is down: it connects in the back
//   pub->PublishEvent(event);                           // non-blocking; false (counted) if the buffer is full
//   pub->Flush(5000);                                   // before exit: wait until everything buffered is acked
//
// Each event goes to <subject_prefix>.<agent_id> as one JSON object (the NetworkEvent field names plus agent_id,
// session_id, sequence) with Nats-Msg-Id "<agent_id>/<session_id>/<sequence>", so a retry after a lost ack is
// de-duplicated by the stream. While NATS is away, events wait in a bounded buffer (max_buffer_events /
// max_buffer_bytes); what does not fit is refused and counted, never dropped silently. A message leaves the buffer
// only when JetStream acknowledged it (or after max_attempts, counted).
#pragma once

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "correlate/event.h"
#include "correlate/nats_client.h"

namespace netmon::correlate {

struct EventPublisherOptions {
  NatsConnectOptions nats;
  std::string stream = "events";
  bool ensure_stream = true;
  std::vector<std::string> stream_subjects{"events.>"};
  int64_t duplicate_window_ms = 120000;
  std::string subject_prefix = "events.netmon";
  size_t max_buffer_events = 100000;
  size_t max_buffer_bytes = 64u << 20;
  size_t batch_size = 256;
  int64_t ack_timeout_ms = 5000;
  int64_t retry_backoff_ms = 100;  // first retry; doubles up to retry_backoff_max_ms
  int64_t retry_backoff_max_ms = 5000;
  uint32_t max_attempts = 0;  // 0 = retry until acknowledged (the buffer bound is the only limit)
};

struct EventPublisherCounters {
  uint64_t enqueued = 0;
  uint64_t published = 0;   // acknowledged by JetStream
  uint64_t duplicates = 0;  // ... of which the stream already had (a retry)
  uint64_t retries = 0;     // messages sent again after a failed or missing acknowledgement
  uint64_t dropped_buffer_full = 0;
  uint64_t dropped_max_attempts = 0;
  uint64_t dropped_shutdown = 0;  // still buffered when the publisher was destroyed
  uint64_t buffered = 0;          // now
  uint64_t buffered_bytes = 0;    // now
  uint64_t connects = 0;
  uint64_t connect_failures = 0;
  uint64_t disconnects = 0;
  bool connected = false;
};

class EventPublisher {
 public:
  static absl::StatusOr<std::unique_ptr<EventPublisher>> Start(EventPublisherOptions options);
  explicit EventPublisher(EventPublisherOptions options);  // use Start()
  ~EventPublisher();
  EventPublisher(const EventPublisher&) = delete;
  EventPublisher& operator=(const EventPublisher&) = delete;

  // Queues one message. False if the buffer is full (counted as dropped_buffer_full). An empty msg_id gets a
  // unique one.
  bool Publish(std::string subject, std::string json, std::string msg_id);
  // Queues an event as JSON on <subject_prefix>.<agent_id>.
  bool PublishEvent(const Event& ev);
  // Queues an event the caller already wrote as a JSON object (the agent's own event JSON, which has the
  // NetworkEvent fields but no provenance): "agent_id" and "session_id" are added before its closing brace (the
  // object must not hold them already), the subject and Nats-Msg-Id are made as for PublishEvent. False if the
  // buffer is full or `event_json` is not an object's text.
  bool PublishEventJson(std::string_view agent_id, std::string_view session_id, uint64_t sequence,
                        std::string event_json);

  // Waits until the buffer is empty (everything acknowledged) or timeout_ms passes.
  absl::Status Flush(int64_t timeout_ms);
  EventPublisherCounters counters() const;

 private:
  struct Item {
    OutMsg msg;
    uint32_t attempts = 0;
  };
  void Run();
  bool WaitFor(int64_t ms);  // false if stopping
  bool EnsureConnected();

  EventPublisherOptions options_;
  mutable std::mutex mu_;
  std::condition_variable cv_;       // queue has items / stop
  std::condition_variable drained_;  // queue and in-flight empty
  std::deque<Item> queue_;
  size_t queued_bytes_ = 0;
  size_t in_flight_ = 0;
  bool stop_ = false;
  EventPublisherCounters counters_;
  uint64_t next_id_ = 0;
  std::string instance_;  // prefix of generated message ids

  std::unique_ptr<NatsConnection> conn_;
  std::unique_ptr<AckedPublisher> publisher_;
  std::thread thread_;
};

}  // namespace netmon::correlate
