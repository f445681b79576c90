// SPDX-License-Identifier: Apache-2.0
#include "correlate/event_publisher.h"

#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>

#include "common/log.h"
#include "common/str_cat.h"
#include "correlate/json_out.h"

namespace netmon::correlate {

absl::StatusOr<std::unique_ptr<EventPublisher>> EventPublisher::Start(EventPublisherOptions options) {
  if (options.nats.urls.empty()) return absl::InvalidArgumentError("event publisher: no NATS url");
  if (options.batch_size == 0 || options.max_buffer_events == 0) {
    return absl::InvalidArgumentError("event publisher: batch_size and max_buffer_events must be positive");
  }
  auto p = std::make_unique<EventPublisher>(std::move(options));
  p->thread_ = std::thread([raw = p.get()] { raw->Run(); });
  return p;
}

EventPublisher::EventPublisher(EventPublisherOptions options) : options_(std::move(options)) {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  // Generated ids must not collide with another process's (or an earlier run's) inside the duplicate window.
  instance_ = StrCat("netmon-", getpid(), "-", ts.tv_sec, ".", ts.tv_nsec, "-");
}

EventPublisher::~EventPublisher() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  drained_.notify_all();
  if (thread_.joinable()) thread_.join();
  std::lock_guard<std::mutex> lock(mu_);
  if (!queue_.empty()) {
    counters_.dropped_shutdown += queue_.size();
    NETMON_LOG(kWarn, "publisher", queue_.size(), " event(s) still buffered at shutdown were not published");
  }
  publisher_.reset();
  conn_.reset();
}

bool EventPublisher::Publish(std::string subject, std::string json, std::string msg_id) {
  std::lock_guard<std::mutex> lock(mu_);
  if (queue_.size() >= options_.max_buffer_events || queued_bytes_ + json.size() > options_.max_buffer_bytes) {
    ++counters_.dropped_buffer_full;
    return false;
  }
  if (msg_id.empty()) msg_id = StrCat(instance_, next_id_++);
  queued_bytes_ += json.size();
  ++counters_.enqueued;
  queue_.push_back(Item{OutMsg{std::move(subject), std::move(json), std::move(msg_id)}, 0});
  cv_.notify_one();
  return true;
}

bool EventPublisher::PublishEvent(const Event& ev) {
  return Publish(StrCat(options_.subject_prefix, ".", SubjectToken(ev.agent_id)), EncodeEvent(ev), EventMessageId(ev));
}

bool EventPublisher::PublishEventJson(std::string_view agent_id, std::string_view session_id, uint64_t sequence,
                                      std::string event_json) {
  while (!event_json.empty() && (event_json.back() == '\n' || event_json.back() == ' ')) event_json.pop_back();
  if (event_json.size() < 2 || event_json.front() != '{' || event_json.back() != '}') return false;
  event_json.pop_back();
  // The comma: an empty object "{}" takes the members without one.
  if (event_json.find_first_not_of(" \t\r\n", 1) != std::string::npos) event_json.push_back(',');
  event_json += "\"agent_id\":";
  AppendJsonString(&event_json, agent_id);
  event_json += ",\"session_id\":";
  AppendJsonString(&event_json, session_id);
  event_json.push_back('}');
  std::string msg_id = sequence == 0 ? "" : StrCat(agent_id, "/", session_id, "/", sequence);
  return Publish(StrCat(options_.subject_prefix, ".", SubjectToken(agent_id)), std::move(event_json),
                 std::move(msg_id));
}

absl::Status EventPublisher::Flush(int64_t timeout_ms) {
  std::unique_lock<std::mutex> lock(mu_);
  bool done = drained_.wait_for(lock, std::chrono::milliseconds(timeout_ms),
                                [&] { return (queue_.empty() && in_flight_ == 0) || stop_; });
  if (done && queue_.empty() && in_flight_ == 0) return absl::OkStatus();
  return absl::DeadlineExceededError(StrCat("event publisher: ", queue_.size() + in_flight_,
                                            " event(s) not yet acknowledged after ", timeout_ms, " ms"));
}

EventPublisherCounters EventPublisher::counters() const {
  std::lock_guard<std::mutex> lock(mu_);
  EventPublisherCounters c = counters_;
  c.buffered = queue_.size() + in_flight_;
  c.buffered_bytes = queued_bytes_;
  if (conn_) {
    c.connected = conn_->connected();
    c.disconnects = conn_->disconnects();
  }
  return c;
}

bool EventPublisher::WaitFor(int64_t ms) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, std::chrono::milliseconds(ms), [&] { return stop_; });
  return !stop_;
}

bool EventPublisher::EnsureConnected() {
  if (publisher_) return true;
  auto conn = NatsConnection::Connect(options_.nats);
  if (!conn.ok()) {
    std::lock_guard<std::mutex> lock(mu_);
    if (counters_.connect_failures++ % 30 == 0) {
      NETMON_LOG(kWarn, "publisher", conn.status().message(), "; events are buffered, retrying");
    }
    return false;
  }
  if (options_.ensure_stream) {
    auto js = MakeJetStream(conn->get(), 5000);
    absl::Status st =
        js.ok() ? EnsureStream(js->get(), options_.stream, options_.stream_subjects, options_.duplicate_window_ms)
                : js.status();
    if (!st.ok()) {
      NETMON_LOG(kWarn, "publisher", st.message(), "; retrying");
      std::lock_guard<std::mutex> lock(mu_);
      ++counters_.connect_failures;
      return false;
    }
  }
  auto pub = AckedPublisher::Create(conn->get(), static_cast<int64_t>(options_.batch_size) * 2);
  if (!pub.ok()) {
    NETMON_LOG(kWarn, "publisher", pub.status().message());
    return false;
  }
  std::lock_guard<std::mutex> lock(mu_);
  conn_ = std::move(*conn);
  publisher_ = std::move(*pub);
  ++counters_.connects;
  NETMON_LOG(kInfo, "publisher", "connected to NATS");
  return true;
}

void EventPublisher::Run() {
  int64_t backoff = options_.retry_backoff_ms;
  std::vector<Item> batch;
  std::vector<const OutMsg*> msgs;
  while (true) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (stop_) return;
    }
    if (!EnsureConnected()) {
      if (!WaitFor(backoff)) return;
      backoff = std::min(backoff * 2, options_.retry_backoff_max_ms);
      continue;
    }
    if (!conn_->connected()) {
      // libnats is reconnecting; publishing now would only fill its reconnect buffer with copies to retry later.
      if (!WaitFor(std::min<int64_t>(100, options_.retry_backoff_max_ms))) return;
      continue;
    }
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait_for(lock, std::chrono::milliseconds(200), [&] { return stop_ || !queue_.empty(); });
      if (stop_) return;
      size_t n = std::min(options_.batch_size, queue_.size());
      batch.clear();
      for (size_t i = 0; i < n; ++i) {
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      in_flight_ = n;
    }
    if (batch.empty()) continue;
    msgs.clear();
    for (const Item& it : batch) msgs.push_back(&it.msg);
    AckedPublisher::Result res = publisher_->PublishBatch(msgs, options_.ack_timeout_ms);

    size_t failed = 0;
    {
      std::lock_guard<std::mutex> lock(mu_);
      counters_.duplicates += res.duplicates;
      // Failed messages go back to the front, in their original order, ahead of newer ones.
      for (size_t i = batch.size(); i-- > 0;) {
        Item& it = batch[i];
        if (res.acked[i]) {
          ++counters_.published;
          queued_bytes_ -= it.msg.data.size();
          continue;
        }
        ++failed;
        ++it.attempts;
        if (options_.max_attempts != 0 && it.attempts >= options_.max_attempts) {
          ++counters_.dropped_max_attempts;
          queued_bytes_ -= it.msg.data.size();
          continue;
        }
        ++counters_.retries;
        queue_.push_front(std::move(it));
      }
      in_flight_ = 0;
      if (queue_.empty()) drained_.notify_all();
    }
    if (failed > 0) {
      NETMON_LOG(kDebug, "publisher", failed, " of ", batch.size(), " not acknowledged (",
                 res.first_error.empty() ? "timeout" : res.first_error, "); retrying in ", backoff, " ms");
      if (!WaitFor(backoff)) return;
      backoff = std::min(backoff * 2, options_.retry_backoff_max_ms);
    } else {
      backoff = options_.retry_backoff_ms;
    }
  }
}

}  // namespace netmon::correlate
