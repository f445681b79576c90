// SPDX-License-Identifier: Apache-2.0
// netmonctl straight to a netmon-server: StartCapture, and GetCaptureResults in FOLLOW mode (the server keeps
// the stream open and sends events as they come) or SNAPSHOT mode for `results`.
#include <chrono>

#include "agent/chunker.h"
#include "agent/session_id.h"
#include "cli/interrupt.h"
#include "cli/target.h"
#include "common/str_cat.h"
#include "network_monitor.grpc.pb.h"
#include "rpc/credentials.h"

namespace netmon::cli {
namespace {

using nlohmann::json;

SessionInfo FromProto(const network_monitor::CaptureInfo& c) {
  SessionInfo i;
  i.session_id = c.session_id();
  i.state = agent::CaptureStateName(c.stats().state());
  i.duration_seconds = c.duration_seconds();
  i.process_id = c.filter().process_id();
  i.port = c.filter().port();
  i.source_ip = c.filter().source_ip();
  i.destination_ip = c.filter().destination_ip();
  i.events_total = c.stats().events_total();
  i.events_dropped = c.stats().events_dropped();
  i.last_sequence = c.stats().last_sequence();
  i.started_ns = c.stats().started_ns();
  i.ended_ns = c.stats().ended_ns();
  return i;
}

class ServerTarget final : public Target {
 public:
  ServerTarget(const CliOptions& o, std::shared_ptr<grpc::Channel> channel)
      : address_(o.server),
        timeout_(std::chrono::seconds(o.timeout_s)),
        channel_(std::move(channel)),
        stub_(network_monitor::NetworkMonitorService::NewStub(channel_)) {}

  std::string Describe() const override { return StrCat("netmon-server at ", address_); }

  absl::StatusOr<std::string> StartCapture(const CliOptions& o) override {
    network_monitor::StartCaptureRequest req;
    std::string id = o.session_id;
    if (id.empty()) {
      auto made = agent::NewSessionId();
      if (!made.ok()) return made.status();
      id = *made;
    }
    req.set_session_id(id);
    req.set_duration_seconds(o.duration);
    req.mutable_filter()->set_process_id(o.pid);
    req.mutable_filter()->set_port(o.port);
    req.mutable_filter()->set_source_ip(o.src);
    req.mutable_filter()->set_destination_ip(o.dst);
    grpc::ClientContext ctx;
    Deadline(&ctx);
    Interrupt::Guard guard(&ctx);
    network_monitor::StartCaptureResponse resp;
    grpc::Status s = stub_->StartCapture(&ctx, req, &resp);
    if (!s.ok()) return Error(s);
    if (!resp.success()) return absl::InternalError(StrCat(Describe(), " did not start the capture: ", resp.message()));
    return id;
  }

  absl::Status Read(const std::string& session, uint64_t since, bool follow, Console* console) override {
    CaptureProgress p;
    p.session_id = session;
    if (auto list = Sessions(); list.ok()) {
      for (const SessionInfo& s : *list) {
        if (s.session_id != session) continue;
        p.duration_seconds = s.duration_seconds;
        p.started_ns = s.started_ns;
        p.state = s.state;
        p.events_total = s.events_total;
      }
    }
    console->Update(p);
    network_monitor::GetCaptureResultsRequest req;
    req.set_session_id(session);
    req.set_after_sequence(since);
    req.set_mode(follow ? network_monitor::RESULTS_MODE_FOLLOW : network_monitor::RESULTS_MODE_SNAPSHOT);
    grpc::ClientContext ctx;
    // A followed capture lasts as long as it lasts (up to the server's maximum); Ctrl-C cancels it.
    if (!follow) Deadline(&ctx);
    Interrupt::Guard guard(&ctx);
    auto reader = stub_->GetCaptureResults(&ctx, req);
    network_monitor::NetworkCaptureChunk chunk;
    bool final_seen = false;
    while (reader->Read(&chunk)) {
      for (const auto& ev : chunk.events()) console->Event(ev);
      if (chunk.is_final()) {
        final_seen = true;
        const auto& st = chunk.stats();
        p.state = agent::CaptureStateName(st.state());
        p.events_total = st.events_total();
        p.events_dropped = st.events_dropped();
        p.started_ns = st.started_ns();
        p.complete = st.state() != network_monitor::CAPTURE_STATE_RUNNING;
        console->Update(p);
      }
    }
    grpc::Status s = reader->Finish();
    if (!s.ok()) return Error(s);
    if (!final_seen) return absl::DataLossError(StrCat(Describe(), " ended the stream without a final chunk"));
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<SessionInfo>> Sessions() override {
    grpc::ClientContext ctx;
    Deadline(&ctx);
    Interrupt::Guard guard(&ctx);
    network_monitor::ListCapturesResponse resp;
    grpc::Status s = stub_->ListCaptures(&ctx, network_monitor::ListCapturesRequest(), &resp);
    if (!s.ok()) return Error(s);
    std::vector<SessionInfo> out;
    for (const auto& c : resp.captures()) out.push_back(FromProto(c));
    return out;
  }

  absl::StatusOr<json> Status() override {
    grpc::ClientContext ctx;
    Deadline(&ctx);
    Interrupt::Guard guard(&ctx);
    network_monitor::GetStatusResponse st;
    grpc::Status s = stub_->GetStatus(&ctx, network_monitor::GetStatusRequest(), &st);
    if (!s.ok()) return Error(s);
    json hooks = json::array();
    for (const auto& h : st.hooks()) {
      hooks.push_back({{"name", h.name()},
                       {"rung", h.rung()},
                       {"active", h.active()},
                       {"degraded", h.degraded()},
                       {"detail", h.detail()}});
    }
    json programs = json::array();
    for (const auto& p : st.programs()) {
      programs.push_back({{"object", p.object()},
                          {"name", p.name()},
                          {"verified_insns", p.verified_insns()},
                          {"load_ms", static_cast<double>(p.load_ns()) / 1e6}});
    }
    json mon = {{"address", address_},
                {"reachable", true},
                {"version", st.version()},
                {"kernel", st.kernel()},
                {"live_sessions", st.live_sessions()},
                {"retained_sessions", st.retained_sessions()},
                {"interfaces", std::vector<std::string>(st.interfaces().begin(), st.interfaces().end())},
                {"hooks", hooks},
                {"programs", programs}};
    json out = {{"monitor", mon}};
    if (auto list = Sessions(); list.ok()) {
      json sessions = json::array();
      for (const SessionInfo& i : *list) {
        sessions.push_back({{"session_id", i.session_id}, {"state", i.state}, {"events_total", i.events_total}});
      }
      out["sessions"] = sessions;
    }
    return out;
  }

  absl::Status Stop(const std::string& session) override {
    grpc::ClientContext ctx;
    Deadline(&ctx);
    Interrupt::Guard guard(&ctx);
    network_monitor::StopCaptureRequest req;
    req.set_session_id(session);
    network_monitor::StopCaptureResponse resp;
    grpc::Status s = stub_->StopCapture(&ctx, req, &resp);
    if (!s.ok()) return Error(s);
    if (!resp.success()) return absl::DeadlineExceededError(StrCat(Describe(), ": ", resp.message()));
    return absl::OkStatus();
  }

 private:
  void Deadline(grpc::ClientContext* ctx) const { ctx->set_deadline(std::chrono::system_clock::now() + timeout_); }
  absl::Status Error(const grpc::Status& s) const { return CallError(s, *channel_, Describe()); }

  const std::string address_;
  const std::chrono::seconds timeout_;
  std::shared_ptr<grpc::Channel> channel_;
  std::unique_ptr<network_monitor::NetworkMonitorService::Stub> stub_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Target>> MakeServerTarget(const CliOptions& options,
                                                         const rpc::SecurityConfig& security) {
  auto ch = rpc::CreateChannel(options.server, security);
  if (!ch.ok()) return absl::InvalidArgumentError(std::string(ch.status().message()));
  return std::make_unique<ServerTarget>(options, *ch);
}

}  // namespace netmon::cli
