// SPDX-License-Identifier: Apache-2.0
#include "correlate/nats_pipeline.h"

#include <chrono>
#include <thread>
#include <vector>

#include "common/log.h"
#include "common/str_cat.h"
#include "correlate/clock.h"
#include "correlate/hold_queue.h"
#include "correlate/json_out.h"

namespace netmon::correlate {
namespace {

void Bump(std::atomic<uint64_t>& c, uint64_t n = 1) {
  c.fetch_add(n, std::memory_order_relaxed);
}

// Sleeps up to `ms` in small steps so a stop request is seen quickly.
bool SleepUnlessStopped(const std::atomic<bool>& stop, int64_t ms) {
  for (int64_t waited = 0; waited < ms && !stop.load(); waited += 50) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return !stop.load();
}

struct Held {
  NatsMsgPtr msg;
  Event event;
  std::string msg_id;
};

}  // namespace

std::string OutputSubject(const std::string& pattern, const std::string& agent_id) {
  std::string out = pattern;
  auto p = out.find("{agent_id}");
  if (p != std::string::npos) out.replace(p, 10, SubjectToken(agent_id));
  return out;
}

NatsPipeline::NatsPipeline(Service* service) : service_(service) {}

NatsPipelineCounters NatsPipeline::counters() const {
  auto r = [](const std::atomic<uint64_t>& a) { return a.load(std::memory_order_relaxed); };
  NatsPipelineCounters c;
  c.fetched = r(c_.fetched);
  c.events = r(c_.events);
  c.malformed = r(c_.malformed);
  c.published = r(c_.published);
  c.duplicates = r(c_.duplicates);
  c.publish_failures = r(c_.publish_failures);
  c.fetch_errors = r(c_.fetch_errors);
  c.released_early = r(c_.released_early);
  c.redelivered = r(c_.redelivered);
  return c;
}

void NatsPipeline::AppendCounters(std::string* out) const {
  NatsPipelineCounters c = counters();
  JsonOut w(out);
  w.BeginObject()
      .Field("mode", "nats")
      .FieldUint("fetched", c.fetched)
      .FieldUint("events", c.events)
      .FieldUint("malformed", c.malformed)
      .FieldUint("published", c.published)
      .FieldUint("duplicates", c.duplicates)
      .FieldUint("publish_failures", c.publish_failures)
      .FieldUint("fetch_errors", c.fetch_errors)
      .FieldUint("held", c_.held.load())
      .FieldUint("released_early", c.released_early)
      .FieldUint("redelivered", c.redelivered)
      .EndObject();
}

absl::Status NatsPipeline::Run(const std::atomic<bool>& stop) {
  const Config& cfg = service_->config();
  const NatsConfig& n = cfg.nats;
  if (SubjectMatches(n.input_subject, OutputSubject(n.output_subject, "x"))) {
    return absl::InvalidArgumentError(StrCat("nats.output_subject ", n.output_subject,
                                             " is matched by nats.input_subject ", n.input_subject,
                                             ": the correlator would consume its own output"));
  }
  NatsConnection* conn = service_->WaitForNats(stop);
  if (conn == nullptr) return absl::OkStatus();  // stopped before NATS came up

  // Stream and consumer set-up, retried: JetStream may still be starting (or recovering) when we connect.
  std::unique_ptr<PullConsumer> consumer;
  int64_t backoff = 250;
  while (!stop.load()) {
    absl::Status st = absl::OkStatus();
    if (n.ensure_stream) {
      auto js = MakeJetStream(conn, 5000);
      st = js.ok() ? EnsureStream(js->get(), n.stream, n.stream_subjects, n.duplicate_window_ms) : js.status();
    }
    if (st.ok()) {
      auto c = PullConsumer::Create(conn, {n.stream, n.durable, n.input_subject, n.ack_wait_ms, n.max_ack_pending});
      if (c.ok()) {
        consumer = std::move(*c);
        break;
      }
      if (c.status().code() == absl::StatusCode::kFailedPrecondition) return c.status();
      st = c.status();
    }
    NETMON_LOG(kWarn, "nats", st.message(), "; retrying");
    if (!SleepUnlessStopped(stop, backoff)) return absl::OkStatus();
    backoff = std::min<int64_t>(backoff * 2, 5000);
  }
  if (!consumer) return absl::OkStatus();
  auto publisher = AckedPublisher::Create(conn, n.fetch_batch * 2 + 64);
  if (!publisher.ok()) return publisher.status();
  NETMON_LOG(kInfo, "nats", "consuming ", n.input_subject, " from stream ", n.stream, " as ", n.durable,
             "; publishing to ", n.output_subject);

  HoldQueue<Held> hold(cfg.hold_ms * 1'000'000, cfg.max_held);
  std::vector<Held> ready;
  std::vector<OutMsg> out;
  std::vector<const OutMsg*> out_ptrs;
  EventDecodeLimits limits;
  limits.max_bytes = cfg.max_line_bytes;
  uint64_t fetch_errors_logged = 0;
  uint64_t publish_failures_logged = 0;

  // Publishes the enriched copies of `ready` and acknowledges each input once its copy is acknowledged. What fails
  // is retried here, with the same message ids (so a copy the stream did store is dropped as a duplicate), until it
  // succeeds or the pipeline stops: the inputs stay in this process meanwhile instead of relying on JetStream to
  // redeliver them, because a server that crashed may come back without the record of what it had delivered.
  auto publish_ready = [&]() {
    if (ready.empty()) return;
    out.clear();
    out.reserve(ready.size());
    for (Held& h : ready) {
      OutMsg m;
      m.subject = OutputSubject(n.output_subject, h.event.agent_id);
      service_->correlator().Enrich(h.event, WallNowNs(), MonoNowNs(), &m.data);
      m.msg_id = h.msg_id;
      out.push_back(std::move(m));
    }
    std::vector<size_t> todo(ready.size());
    for (size_t i = 0; i < todo.size(); ++i) todo[i] = i;
    int64_t backoff = 100;
    while (!todo.empty()) {
      out_ptrs.clear();
      for (size_t i : todo) out_ptrs.push_back(&out[i]);
      AckedPublisher::Result res = (*publisher)->PublishBatch(out_ptrs, n.publish_timeout_ms);
      Bump(c_.duplicates, res.duplicates);
      std::vector<size_t> failed;
      for (size_t k = 0; k < todo.size(); ++k) {
        Held& h = ready[todo[k]];
        if (res.acked[k]) {
          Bump(c_.published);
          natsMsg_Ack(h.msg.get(), nullptr);
        } else {
          failed.push_back(todo[k]);
          // Tells JetStream the input is still being worked on, so it is not redelivered to us meanwhile.
          natsMsg_InProgress(h.msg.get(), nullptr);
        }
      }
      if (!failed.empty()) {
        Bump(c_.publish_failures, failed.size());
        if (publish_failures_logged++ % 10 == 0) {
          NETMON_LOG(kWarn, "nats", failed.size(), " enriched event(s) not acknowledged (",
                     res.first_error.empty() ? "timeout" : res.first_error, "); retrying");
        }
        if (!SleepUnlessStopped(stop, backoff)) {
          // Stopping: these inputs stay unacknowledged and JetStream redelivers them to the next run.
          NETMON_LOG(kWarn, "nats", failed.size(), " event(s) left unacknowledged at stop, for redelivery");
          break;
        }
        backoff = std::min<int64_t>(backoff * 2, 2000);
      }
      todo = std::move(failed);
    }
    ready.clear();
  };

  while (!stop.load()) {
    int64_t timeout_ms = n.fetch_timeout_ms;
    if (!hold.empty()) {
      int64_t due_ms = (hold.NextDueNs() - MonoNowNs()) / 1'000'000 + 1;
      timeout_ms = std::max<int64_t>(1, std::min(timeout_ms, due_ms));
    }
    auto batch = consumer->Fetch(static_cast<int>(n.fetch_batch), timeout_ms);
    if (!batch.ok()) {
      Bump(c_.fetch_errors);
      // While NATS is away every fetch fails the same way; say so once in a while, not every half second.
      if (fetch_errors_logged++ % 20 == 0) NETMON_LOG(kWarn, "nats", batch.status().message(), "; retrying");
      SleepUnlessStopped(stop, 250);
    } else {
      for (NatsMsgPtr& msg : *batch) {
        Bump(c_.fetched);
        jsMsgMetaData* meta = nullptr;
        std::string msg_id;
        if (natsMsg_GetMetaData(&meta, msg.get()) == NATS_OK) {
          msg_id = StrCat("netmon-correlate/", meta->Stream, "/", meta->Sequence.Stream);
          if (meta->NumDelivered > 1) Bump(c_.redelivered);
          jsMsgMetaData_Destroy(meta);
        }
        std::string_view data(natsMsg_GetData(msg.get()), static_cast<size_t>(natsMsg_GetDataLength(msg.get())));
        auto ev = DecodeEvent(data, limits);
        if (!ev.ok() || msg_id.empty()) {
          Bump(c_.malformed);
          NETMON_LOG(kDebug, "nats", "input on ", natsMsg_GetSubject(msg.get()),
                     " terminated: ", ev.ok() ? "no JetStream metadata" : ev.status().message());
          natsMsg_Term(msg.get(), nullptr);
          continue;
        }
        Bump(c_.events);
        Held h{std::move(msg), std::move(*ev), std::move(msg_id)};
        if (!hold.enabled()) {
          ready.push_back(std::move(h));
          continue;
        }
        if (hold.full()) {
          size_t before = ready.size();
          hold.TakeOldest(&ready);
          Bump(c_.released_early, ready.size() - before);
        }
        hold.Push(std::move(h), MonoNowNs());
      }
    }
    hold.TakeDue(MonoNowNs(), /*all=*/false, &ready);
    c_.held.store(hold.size(), std::memory_order_relaxed);
    publish_ready();
  }
  // Held events stay unacknowledged: JetStream redelivers them to the next run.
  if (!hold.empty()) NETMON_LOG(kInfo, "nats", hold.size(), " held event(s) left for redelivery");
  return absl::OkStatus();
}

}  // namespace netmon::correlate
