// SPDX-License-Identifier: Apache-2.0
#include "agent/nats_forwarder.h"

#include <algorithm>
#include <utility>
#include <vector>

#include "agent/event_json.h"
#include "common/log.h"
#include "common/str_cat.h"
#include "correlate/event.h"
#include "correlate/nats_client.h"

namespace netmon::agent {
namespace {

using Clock = std::chrono::system_clock;

// One FOLLOW read lasts at most this long, then resumes at its cursor: a server that vanished without closing the
// connection is noticed within this time, and a resumed read costs nothing.
constexpr auto kFollowWindow = std::chrono::seconds(60);
constexpr int64_t kBackoffFirstMs = 100;
constexpr int64_t kBackoffMaxMs = 5000;
// NATS refuses messages above its max_payload (1 MiB by default); an event whose JSON is larger goes as the
// truncated stand-in the chunker uses, so one huge extra_info cannot block the buffer forever.
constexpr size_t kMaxMessageBytes = 1'000'000;
constexpr size_t kTruncatedFieldBytes = 256;

}  // namespace

absl::StatusOr<std::unique_ptr<NatsForwarder>> NatsForwarder::Start(const MonitorConfig& monitor, std::string agent_id,
                                                                    const NatsPublishConfig& config) {
  if (!config.enabled || config.urls.empty()) return absl::InvalidArgumentError("nats: no url");
  std::string subject =
      config.subject.empty() ? StrCat("events.netmon.", correlate::SubjectToken(agent_id)) : config.subject;
  if (config.ensure_stream) {
    // Otherwise every publication would go unanswered and be retried forever.
    bool covered = std::any_of(config.stream_subjects.begin(), config.stream_subjects.end(),
                               [&](const std::string& f) { return correlate::SubjectMatches(f, subject); });
    if (!covered) {
      return absl::InvalidArgumentError(
          StrCat("nats: subject \"", subject, "\" is not covered by nats.stream_subjects"));
    }
  }
  auto client = MonitorClient::Create(monitor);
  if (!client.ok()) return client.status();

  correlate::EventPublisherOptions o;
  o.nats.urls = config.urls;
  o.nats.name = config.name;
  o.nats.user = config.user;
  o.nats.password = config.password;
  o.nats.token = config.token;
  o.nats.creds_file = config.creds_file;
  o.nats.tls_ca_file = config.tls_ca_file;
  o.nats.tls_cert_file = config.tls_cert_file;
  o.nats.tls_key_file = config.tls_key_file;
  o.nats.connect_timeout_ms = config.connect_timeout_ms;
  o.nats.reconnect_wait_ms = config.reconnect_wait_ms;
  o.stream = config.stream;
  o.ensure_stream = config.ensure_stream;
  o.stream_subjects = config.stream_subjects;
  o.duplicate_window_ms = config.duplicate_window_ms;
  o.max_buffer_events = config.max_buffer_events;
  o.max_buffer_bytes = config.max_buffer_bytes;
  o.ack_timeout_ms = config.ack_timeout_ms;
  auto publisher = correlate::EventPublisher::Start(std::move(o));
  if (!publisher.ok()) return publisher.status();
  NETMON_LOG(kInfo, "nats", "publishing the events of triggered captures to ", subject, " (stream ", config.stream,
             ") at ", config.urls.front());
  return std::make_unique<NatsForwarder>(std::move(*client), std::move(*publisher), std::move(agent_id), config,
                                         std::move(subject));
}

NatsForwarder::NatsForwarder(std::unique_ptr<MonitorClient> monitor,
                             std::unique_ptr<correlate::EventPublisher> publisher, std::string agent_id,
                             const NatsPublishConfig& config, std::string subject)
    : monitor_(std::move(monitor)),
      agent_id_(std::move(agent_id)),
      config_(config),
      subject_(std::move(subject)),
      publisher_(std::move(publisher)) {}

NatsForwarder::~NatsForwarder() {
  (void)Stop();
  // The publisher's destructor counts (and logs) what is still buffered.
  publisher_.reset();
}

absl::Status NatsForwarder::Reserve() {
  Reap();
  std::lock_guard<std::mutex> lock(mu_);
  if (stopping_) return absl::UnavailableError("netmon-agent is shutting down");
  if (reserved_ + live_ >= config_.max_followers) {
    ++counters_.followers_refused;
    return absl::ResourceExhaustedError(
        StrCat("publishing to NATS: all ", config_.max_followers,
               " capture followers are busy (nats.max_followers); no capture was started"));
  }
  ++reserved_;
  return absl::OkStatus();
}

void NatsForwarder::Unreserve() {
  std::lock_guard<std::mutex> lock(mu_);
  if (reserved_ > 0) --reserved_;
}

void NatsForwarder::Started(const std::string& session_id) {
  std::lock_guard<std::mutex> lock(mu_);
  if (reserved_ > 0) --reserved_;
  if (stopping_) {
    // Shutdown began between Reserve and now; the capture runs, but its events are not followed.
    ++counters_.sessions_stopped;
    NETMON_LOG(kWarn, "nats", "capture ", session_id, " started during shutdown is not published");
    return;
  }
  auto f = std::make_unique<Follower>();
  f->session_id = session_id;
  Follower* raw = f.get();
  followers_.push_back(std::move(f));
  ++live_;
  ++counters_.sessions_followed;
  raw->thread = std::thread([this, raw] { Follow(raw); });
}

void NatsForwarder::Reap() {
  std::vector<std::unique_ptr<Follower>> done;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = followers_.begin(); it != followers_.end();) {
      if ((*it)->done) {
        done.push_back(std::move(*it));
        it = followers_.erase(it);
      } else {
        ++it;
      }
    }
  }
  for (auto& f : done) f->thread.join();
}

bool NatsForwarder::Sleep(int64_t ms) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, std::chrono::milliseconds(ms), [&] { return stopping_; });
  return !stopping_;
}

bool NatsForwarder::Publish(const std::string& session_id, const network_monitor::NetworkEvent& ev) {
  std::string json;
  AppendEventJson(&json, ev);
  bool truncated = false;
  if (json.size() > kMaxMessageBytes) {
    size_t original = json.size();
    json.clear();
    AppendTruncatedEventJson(&json, ev, original, kTruncatedFieldBytes);
    truncated = true;
  }
  // The NetworkEvent's own object plus who and which capture: drop its closing brace and add the two members.
  json.pop_back();
  json += ",\"agent_id\":";
  AppendJsonString(&json, agent_id_);
  json += ",\"session_id\":";
  AppendJsonString(&json, session_id);
  json.push_back('}');
  bool ok = publisher_->Publish(subject_, std::move(json), StrCat(agent_id_, "/", session_id, "/", ev.sequence()));
  std::lock_guard<std::mutex> lock(mu_);
  ++counters_.events_seen;
  if (truncated) ++counters_.events_truncated;
  if (ok) {
    ++counters_.events_queued;
  } else {
    ++counters_.events_refused;
  }
  return ok;
}

void NatsForwarder::Follow(Follower* f) {
  const std::string& id = f->session_id;
  uint64_t cursor = 0;  // the last sequence handed to the publisher
  int64_t backoff = kBackoffFirstMs;
  uint64_t failures = 0;
  uint64_t refused = 0;
  enum class End { kCompleted, kLost, kStopped } end = End::kStopped;
  NETMON_LOG(kDebug, "nats", "following capture ", id);
  while (!f->canceller.cancelled()) {
    bool progressed = false;
    auto r = monitor_->ReadFollow(
        id, cursor, Clock::now() + kFollowWindow, &f->canceller, [&](network_monitor::NetworkEvent&& ev) {
          // A resumed read starts after the cursor; anything at or below it was queued.
          if (ev.sequence() <= cursor) return true;
          cursor = ev.sequence();
          progressed = true;
          if (!Publish(id, ev) && refused++ == 0) {
            NETMON_LOG(kWarn, "nats", "capture ", id, ": the publish buffer is full; events are refused and counted");
          }
          return true;
        });
    if (f->canceller.cancelled()) break;
    if (r.ok() && r->final_seen) {
      end = End::kCompleted;
      break;
    }
    absl::Status why = r.ok() ? r->interruption : r.status();
    if (why.code() == absl::StatusCode::kNotFound) {
      end = End::kLost;
      NETMON_LOG(kWarn, "nats", "capture ", id, " is gone from netmon-server after sequence ", cursor, ": ",
                 why.message());
      break;
    }
    if (why.code() == absl::StatusCode::kDeadlineExceeded) continue;  // the read window ended: resume at once
    {
      std::lock_guard<std::mutex> lock(mu_);
      ++counters_.follow_reconnects;
    }
    if (progressed) backoff = kBackoffFirstMs;
    if (failures++ % 30 == 0) {
      NETMON_LOG(kWarn, "nats", "following capture ", id, " after sequence ", cursor, ": ", why.message(),
                 "; resuming in ", backoff, " ms");
    }
    if (!Sleep(backoff)) break;
    backoff = std::min(backoff * 2, kBackoffMaxMs);
  }
  NETMON_LOG(kDebug, "nats", "capture ", id, " followed up to sequence ", cursor);
  std::lock_guard<std::mutex> lock(mu_);
  switch (end) {
    case End::kCompleted: ++counters_.sessions_completed; break;
    case End::kLost: ++counters_.sessions_lost; break;
    case End::kStopped: ++counters_.sessions_stopped; break;
  }
  --live_;
  f->done = true;
  cv_.notify_all();
}

bool NatsForwarder::WaitIdle(std::chrono::milliseconds timeout) {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_for(lock, timeout, [&] { return live_ == 0 && reserved_ == 0; });
}

absl::Status NatsForwarder::Stop() {
  std::list<std::unique_ptr<Follower>> all;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return stop_status_;  // a second call (the destructor after main's) has nothing to do
    stopping_ = true;
    all.swap(followers_);
  }
  cv_.notify_all();
  for (auto& f : all) f->canceller.Cancel();
  for (auto& f : all) f->thread.join();
  absl::Status st = publisher_->Flush(config_.flush_timeout_ms);
  NatsForwarderCounters c = counters();
  // Logged at exit whatever the level, as a warning when something did not reach NATS.
  bool clean = st.ok() && c.events_refused == 0 && c.publisher.dropped_max_attempts == 0;
  log::Write(clean ? log::Level::kInfo : log::Level::kWarn, "nats",
             StrCat("published ", c.publisher.published, " event(s) of ", c.sessions_followed, " capture(s) to ",
                    subject_, "; refused (buffer full) ", c.events_refused, ", not yet acknowledged ",
                    c.publisher.buffered, ", retries ", c.publisher.retries, ", captures still running when stopped ",
                    c.sessions_stopped, st.ok() ? std::string() : StrCat("; ", st.message())));
  std::lock_guard<std::mutex> lock(mu_);
  stopped_ = true;
  stop_status_ = st;
  return st;
}

NatsForwarderCounters NatsForwarder::counters() const {
  NatsForwarderCounters c;
  {
    std::lock_guard<std::mutex> lock(mu_);
    c = counters_;
    c.followers_active = live_;
  }
  c.publisher = publisher_->counters();
  return c;
}

nlohmann::json NatsForwarder::StatusJson() const {
  NatsForwarderCounters c = counters();
  const correlate::EventPublisherCounters& p = c.publisher;
  return {{"subject", subject_},
          {"stream", config_.stream},
          {"connected", p.connected},
          {"followers_active", c.followers_active},
          {"max_followers", config_.max_followers},
          {"sessions_followed", c.sessions_followed},
          {"sessions_completed", c.sessions_completed},
          {"sessions_lost", c.sessions_lost},
          {"sessions_stopped", c.sessions_stopped},
          {"followers_refused", c.followers_refused},
          {"follow_reconnects", c.follow_reconnects},
          {"events_seen", c.events_seen},
          {"events_queued", c.events_queued},
          {"events_refused", c.events_refused},
          {"events_truncated", c.events_truncated},
          {"published", p.published},
          {"duplicates", p.duplicates},
          {"retries", p.retries},
          {"dropped_buffer_full", p.dropped_buffer_full},
          {"dropped_max_attempts", p.dropped_max_attempts},
          {"buffered", p.buffered},
          {"buffered_bytes", p.buffered_bytes},
          {"max_buffer_events", config_.max_buffer_events},
          {"connects", p.connects},
          {"connect_failures", p.connect_failures},
          {"disconnects", p.disconnects}};
}

}  // namespace netmon::agent
