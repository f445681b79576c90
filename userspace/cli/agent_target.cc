// SPDX-License-Identifier: Apache-2.0
// netmonctl through a netmon-agent: the poller's path. Results are polled with StreamResults and last_sequence,
// one poll per interval (at once again while the agent says has_more), until the capture is complete.
#include <algorithm>
#include <charconv>
#include <chrono>

#include "agent/results_request.h"
#include "cli/agent_chunk.h"
#include "cli/interrupt.h"
#include "cli/target.h"
#include "common/status.h"
#include "common/str_cat.h"
#include "monitoring.grpc.pb.h"
#include "rpc/credentials.h"

namespace netmon::cli {
namespace {

using nlohmann::json;

// Consecutive failed polls a follower tolerates (about ten seconds at the default interval).
constexpr int kMaxFailedPolls = 10;

absl::Status Interrupted() {
  return absl::CancelledError("interrupted");
}

class AgentTarget final : public Target {
 public:
  AgentTarget(const CliOptions& o, std::shared_ptr<grpc::Channel> channel)
      : address_(o.agent),
        timeout_(std::chrono::seconds(o.timeout_s)),
        interval_(o.interval_ms),
        channel_(std::move(channel)),
        stub_(monitoring::AgentService::NewStub(channel_)) {}

  std::string Describe() const override { return StrCat("the agent at ", address_); }

  absl::StatusOr<std::string> StartCapture(const CliOptions& o) override {
    monitoring::TriggerNetworkCaptureRequest req;
    req.set_poller_id("netmonctl");
    req.set_process_id(o.pid);
    req.set_port(o.port);
    req.set_duration_seconds(o.duration);
    req.set_source_ip(o.src);
    req.set_destination_ip(o.dst);
    grpc::ClientContext ctx;
    Deadline(&ctx);
    Interrupt::Guard guard(&ctx);
    monitoring::TriggerNetworkCaptureResponse resp;
    grpc::Status s = stub_->TriggerNetworkCapture(&ctx, req, &resp);
    if (!s.ok()) return Error(s);
    if (!resp.success()) return absl::InternalError(StrCat(Describe(), " did not start the capture: ", resp.message()));
    return resp.session_id();
  }

  absl::Status Read(const std::string& session, uint64_t since, bool follow, Console* console) override {
    CaptureProgress p;
    p.session_id = session;
    // The countdown needs the capture's duration, which only the agent's status document carries.
    if (auto list = Sessions(); list.ok()) {
      for (const SessionInfo& s : *list) {
        if (s.session_id == session) p.duration_seconds = s.duration_seconds;
      }
    }
    uint64_t last = since;
    int failures = 0;
    while (true) {
      if (Interrupt::Get().requested()) return Interrupted();
      bool has_more = false;
      bool complete = false;
      absl::Status s = PollOnce(session, &last, console, &p, &has_more, &complete);
      if (!s.ok()) {
        // A follower rides out a short outage (agent or server restarting): `last` keeps its place, so nothing
        // is lost or repeated when the polls succeed again.
        bool transient = s.code() == absl::StatusCode::kUnavailable || s.code() == absl::StatusCode::kDeadlineExceeded;
        if (!follow || !transient || ++failures >= kMaxFailedPolls) return s;
        console->Info(StrCat("netmonctl: ", s.message(), " (retrying)"));
        if (!Interrupt::Get().SleepFor(std::max(interval_, std::chrono::milliseconds(1000)))) return Interrupted();
        continue;
      }
      failures = 0;
      if (complete || (!follow && !has_more)) return absl::OkStatus();
      if (has_more) continue;
      if (!Interrupt::Get().SleepFor(interval_)) return Interrupted();
    }
  }

  absl::StatusOr<std::vector<SessionInfo>> Sessions() override {
    auto st = Status();
    if (!st.ok()) return st.status();
    const json& mon = (*st)["monitor"];
    if (!mon.value("reachable", false)) {
      return absl::UnavailableError(
          StrCat(Describe(), " cannot reach netmon-server: ", mon.value("error", std::string("(no reason given)"))));
    }
    std::vector<SessionInfo> out;
    for (const json& s : st->value("sessions", json::array())) {
      SessionInfo i;
      i.session_id = s.value("session_id", "");
      i.state = s.value("state", "UNKNOWN");
      i.duration_seconds = s.value("duration_seconds", 0);
      json f = s.value("filter", json::object());
      i.process_id = f.value("process_id", 0);
      i.port = f.value("port", 0);
      i.source_ip = f.value("source_ip", "");
      i.destination_ip = f.value("destination_ip", "");
      i.events_total = s.value("events_total", uint64_t{0});
      i.events_dropped = s.value("events_dropped", uint64_t{0});
      i.last_sequence = s.value("last_sequence", uint64_t{0});
      i.started_ns = s.value("started_ns", int64_t{0});
      i.ended_ns = s.value("ended_ns", int64_t{0});
      out.push_back(std::move(i));
    }
    return out;
  }

  absl::StatusOr<json> Status() override {
    monitoring::StatusRequest req;
    req.set_service_name(agent::kNetworkCaptureServiceType);
    req.set_service_type(agent::kNetworkCaptureServiceType);
    req.set_poller_id("netmonctl");
    grpc::ClientContext ctx;
    Deadline(&ctx);
    Interrupt::Guard guard(&ctx);
    monitoring::StatusResponse resp;
    grpc::Status s = stub_->GetStatus(&ctx, req, &resp);
    if (!s.ok()) return Error(s);
    json j = json::parse(resp.message(), nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded() || !j.is_object()) {
      return absl::InternalError(StrCat(Describe(), " sent a status message that is not JSON"));
    }
    j["agent_address"] = address_;
    j["available"] = resp.available();
    return j;
  }

  absl::Status Stop(const std::string&) override {
    return absl::UnimplementedError("ServiceRadar's AgentService cannot stop a capture; use --server");
  }

 private:
  void Deadline(grpc::ClientContext* ctx) const { ctx->set_deadline(std::chrono::system_clock::now() + timeout_); }
  absl::Status Error(const grpc::Status& s) const { return CallError(s, *channel_, Describe()); }

  // One poll: prints its events, moves `last` to the final chunk's current_sequence, updates the progress.
  absl::Status PollOnce(const std::string& session, uint64_t* last, Console* console, CaptureProgress* p,
                        bool* has_more, bool* complete) {
    monitoring::ResultsRequest req;
    req.set_service_name(agent::kNetworkCaptureServiceType);
    req.set_service_type(agent::kNetworkCaptureServiceType);
    req.set_poller_id("netmonctl");
    req.set_details(session);
    req.set_last_sequence(std::to_string(*last));
    grpc::ClientContext ctx;
    Deadline(&ctx);
    Interrupt::Guard guard(&ctx);
    auto reader = stub_->StreamResults(&ctx, req);
    monitoring::ResultsChunk chunk;
    bool final_seen = false;
    absl::Status bad;
    while (reader->Read(&chunk)) {
      auto parsed = ParseAgentChunk(chunk.data());
      if (!parsed.ok()) {
        bad = absl::DataLossError(StrCat(Describe(), ": chunk ", chunk.chunk_index(), ": ", parsed.status().message()));
        ctx.TryCancel();
        break;
      }
      for (const auto& ev : parsed->events) console->Event(ev);
      uint64_t cur = 0;
      const std::string& cs = chunk.current_sequence();
      if (std::from_chars(cs.data(), cs.data() + cs.size(), cur).ec == std::errc() && cur > *last) *last = cur;
      if (chunk.is_final()) {
        final_seen = true;
        *has_more = parsed->has_more;
        *complete = parsed->complete;
        p->state = parsed->state;
        p->complete = parsed->complete;
        p->events_total = parsed->events_total;
        p->events_dropped = parsed->events_dropped;
        if (parsed->started_ns != 0) p->started_ns = parsed->started_ns;
        console->Update(*p);
      }
    }
    grpc::Status s = reader->Finish();
    if (!bad.ok()) return bad;
    if (Interrupt::Get().requested()) return Interrupted();
    if (!s.ok()) return Error(s);
    if (!final_seen) return absl::DataLossError(StrCat(Describe(), " ended a poll without a final chunk"));
    return absl::OkStatus();
  }

  const std::string address_;
  const std::chrono::seconds timeout_;
  const std::chrono::milliseconds interval_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<monitoring::AgentService::Stub> stub_;
};

}  // namespace

absl::Status CallError(const grpc::Status& status, grpc::Channel& channel, const std::string& who) {
  auto code = static_cast<absl::StatusCode>(status.error_code());
  if (code == absl::StatusCode::kCancelled) {
    if (Interrupt::Get().requested()) return Interrupted();
    // Not ours: a server that shuts down cancels the calls in flight. For the caller that is an outage.
    return absl::UnavailableError(StrCat(who, " cancelled the call (shutting down?): ", status.error_message()));
  }
  bool connected = channel.GetState(false) == GRPC_CHANNEL_READY;
  if ((code == absl::StatusCode::kUnavailable || code == absl::StatusCode::kDeadlineExceeded) && !connected) {
    return absl::Status(code, StrCat("cannot reach ", who, ": ", status.error_message()));
  }
  return absl::Status(code, StrCat(who, ": ", status.error_message()));
}

absl::StatusOr<std::unique_ptr<Target>> MakeAgentTarget(const CliOptions& options,
                                                        const rpc::SecurityConfig& security) {
  auto ch = rpc::CreateChannel(options.agent, security);
  if (!ch.ok()) return absl::InvalidArgumentError(std::string(ch.status().message()));
  return std::make_unique<AgentTarget>(options, *ch);
}

}  // namespace netmon::cli
