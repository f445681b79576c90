// SPDX-License-Identifier: Apache-2.0
#include "agent/agent_service.h"

#include <algorithm>
#include <limits>
#include <utility>

#include "agent/results_request.h"
#include "agent/session_id.h"
#include "common/log.h"
#include "common/quote.h"
#include "common/str_cat.h"
#include "nlohmann/json.hpp"
#include "rpc/convert.h"
#include "session/validation.h"

namespace netmon::agent {
namespace {

using Clock = std::chrono::system_clock;

// What the poller's 30 s leaves after our answer is ready: time to write the chunks and for the network.
constexpr auto kAnswerMargin = std::chrono::seconds(2);
// GetStatus lists at most this many sessions (StatusResponse must stay far below 4 MiB).
constexpr size_t kMaxStatusSessions = 256;

int64_t NowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
}

int64_t NowUnixSeconds() {
  return std::chrono::duration_cast<std::chrono::seconds>(Clock::now().time_since_epoch()).count();
}

// The poll must be ready by the earlier of poll_timeout and the caller's own deadline minus a margin.
Clock::time_point PollDeadline(const grpc::ServerContext& context, std::chrono::milliseconds poll_timeout) {
  Clock::time_point now = Clock::now();
  Clock::time_point d = now + poll_timeout;
  Clock::time_point caller = context.deadline();
  if (caller != Clock::time_point::max() && caller - kAnswerMargin < d) {
    d = std::max(caller - kAnswerMargin, now + std::chrono::milliseconds(100));
  }
  return d;
}

monitoring::SweepCompletionStatus::Status CompletionStatus(const CaptureSummary& s, bool complete) {
  if (!s.stats_known) return monitoring::SweepCompletionStatus::UNKNOWN;
  if (s.stats.state() == network_monitor::CAPTURE_STATE_FAILED) return monitoring::SweepCompletionStatus::FAILED;
  return complete ? monitoring::SweepCompletionStatus::COMPLETED : monitoring::SweepCompletionStatus::IN_PROGRESS;
}

nlohmann::json FilterJson(const network_monitor::CaptureFilter& f) {
  return {{"process_id", f.process_id()},
          {"port", f.port()},
          {"source_ip", f.source_ip()},
          {"destination_ip", f.destination_ip()}};
}

}  // namespace

absl::Status CheckServiceType(const std::string& service_type, const std::string& service_name) {
  if (service_type == kNetworkCaptureServiceType) return absl::OkStatus();
  return absl::UnimplementedError(StrCat("netmon-agent serves only service_type \"", kNetworkCaptureServiceType,
                                         "\"; service ", QuoteUntrusted(service_name), " has type ",
                                         QuoteUntrusted(service_type)));
}

AgentServiceImpl::AgentServiceImpl(MonitorClient* monitor, AgentOptions options)
    : monitor_(monitor), options_(std::move(options)) {}

grpc::Status AgentServiceImpl::TriggerNetworkCapture(grpc::ServerContext* context,
                                                     const monitoring::TriggerNetworkCaptureRequest* request,
                                                     monitoring::TriggerNetworkCaptureResponse* response) {
  if (absl::Status s = options_.allow.Check(*context); !s.ok()) return rpc::ToGrpc(s);
  // Checked here so bad input never reaches netmon-server; its maximum duration and the PID's existence are
  // its to judge, and its verdict comes back with the same codes.
  if (request->duration_seconds() < 1) {
    return rpc::ToGrpc(absl::InvalidArgumentError(
        StrCat("duration_seconds is ", request->duration_seconds(), "; it must be at least 1")));
  }
  auto id = NewSessionId();
  if (!id.ok()) return rpc::ToGrpc(id.status());
  session::CaptureRequest req;
  req.session_id = *id;
  req.duration_seconds = request->duration_seconds();
  req.process_id = request->process_id();
  req.port = request->port();
  req.source_ip = request->source_ip();
  req.destination_ip = request->destination_ip();
  if (auto f = session::ValidateRequest(req, std::numeric_limits<int32_t>::max()); !f.ok()) {
    return rpc::ToGrpc(f.status());
  }
  network_monitor::StartCaptureRequest start;
  start.set_session_id(req.session_id);
  start.set_duration_seconds(req.duration_seconds);
  rpc::ToProto(req, start.mutable_filter());
  if (options_.observer != nullptr) {
    if (absl::Status s = options_.observer->Reserve(); !s.ok()) {
      NETMON_LOG(kWarn, "agent", "TriggerNetworkCapture from ", context->peer(), ": ", s.message());
      return rpc::ToGrpc(s);
    }
  }
  if (absl::Status s = monitor_->StartCapture(start); !s.ok()) {
    if (options_.observer != nullptr) options_.observer->Unreserve();
    NETMON_LOG(kWarn, "agent", "TriggerNetworkCapture from ", context->peer(), ": ", s.message());
    return rpc::ToGrpc(s);
  }
  if (options_.observer != nullptr) options_.observer->Started(req.session_id);
  NETMON_LOG(kInfo, "agent", "capture ", req.session_id, " started for ", req.duration_seconds, " s (pid ",
             req.process_id, ", port ", req.port, ") for ", context->peer());
  response->set_success(true);
  response->set_session_id(req.session_id);
  response->set_message(StrCat("capture ", req.session_id, " started on netmon-server at ", monitor_->address(),
                               " for ", req.duration_seconds, " s"));
  return grpc::Status::OK;
}

void AgentServiceImpl::FillStatsFromList(const std::string& session_id, CaptureSummary* summary) {
  auto list = monitor_->ListCaptures();
  if (!list.ok()) return;
  for (const auto& c : list->captures()) {
    if (c.session_id() == session_id) {
      summary->stats_known = true;
      summary->stats = c.stats();
      return;
    }
  }
}

absl::StatusOr<PollResult> AgentServiceImpl::Poll(const monitoring::ResultsRequest& request, Clock::time_point deadline,
                                                  size_t max_chunks) {
  if (absl::Status s = CheckServiceType(request.service_type(), request.service_name()); !s.ok()) return s;
  PollResult out;
  auto id = SessionIdFromDetails(request.details());
  if (!id.ok()) return id.status();
  out.session_id = *id;
  auto after = ParseLastSequence(request.last_sequence());
  if (!after.ok()) return after.status();

  ChunkerOptions copts;
  copts.max_chunk_bytes = options_.max_chunk_bytes;
  copts.max_chunks = max_chunks;
  ResultsChunker chunker(out.session_id, *after, copts);
  bool capped = false;
  auto snap = monitor_->ReadSnapshot(out.session_id, *after, deadline, [&](network_monitor::NetworkEvent&& ev) {
    if (chunker.events() >= options_.max_events_per_poll || !chunker.Add(ev)) {
      capped = true;
      return false;
    }
    return true;
  });
  if (!snap.ok()) return snap.status();

  CaptureSummary& sum = out.summary;
  if (snap->final_seen) {
    sum.stats_known = true;
    sum.stats = snap->stats;
  } else {
    sum.has_more = true;
    if (capped) {
      sum.note = "this poll's limit was reached; poll again for the rest";
    } else if (!snap->interruption.ok()) {
      sum.note = std::string(snap->interruption.message());
    } else {
      sum.note = "netmon-server did not send everything before the poll deadline; poll again for the rest";
    }
    FillStatsFromList(out.session_id, &sum);
  }
  out.events = chunker.events();
  out.chunks = chunker.Finish(sum);
  return out;
}

grpc::Status AgentServiceImpl::StreamResults(grpc::ServerContext* context, const monitoring::ResultsRequest* request,
                                             grpc::ServerWriter<monitoring::ResultsChunk>* writer) {
  if (absl::Status s = options_.allow.Check(*context); !s.ok()) return rpc::ToGrpc(s);
  auto poll = Poll(*request, PollDeadline(*context, options_.poll_timeout), /*max_chunks=*/0);
  if (!poll.ok()) return rpc::ToGrpc(poll.status());
  const int64_t ts = NowUnixSeconds();
  monitoring::ResultsChunk msg;
  for (Chunk& c : poll->chunks) {
    msg.set_data(std::move(c.data));
    msg.set_is_final(c.is_final);
    msg.set_chunk_index(c.chunk_index);
    msg.set_total_chunks(c.total_chunks);
    msg.set_current_sequence(std::to_string(c.current_sequence));
    msg.set_timestamp(ts);
    if (!writer->Write(msg)) return grpc::Status(grpc::StatusCode::CANCELLED, "the poller closed the stream");
  }
  NETMON_LOG(kDebug, "agent", "StreamResults ", poll->session_id, " after ", request->last_sequence(), ": ",
             poll->events, " events in ", poll->chunks.size(), " chunks");
  return grpc::Status::OK;
}

grpc::Status AgentServiceImpl::GetResults(grpc::ServerContext* context, const monitoring::ResultsRequest* request,
                                          monitoring::ResultsResponse* response) {
  if (absl::Status s = options_.allow.Check(*context); !s.ok()) return rpc::ToGrpc(s);
  const int64_t start = NowNs();
  // One document per answer; has_more tells the caller to ask again.
  auto poll = Poll(*request, PollDeadline(*context, options_.poll_timeout), /*max_chunks=*/1);
  if (!poll.ok()) return rpc::ToGrpc(poll.status());
  Chunk& c = poll->chunks.front();
  const CaptureSummary& sum = poll->summary;
  bool ended = sum.stats_known && sum.stats.state() != network_monitor::CAPTURE_STATE_RUNNING &&
               sum.stats.state() != network_monitor::CAPTURE_STATE_UNSPECIFIED;
  bool complete = ended && !sum.has_more && c.current_sequence >= sum.stats.last_sequence();
  response->set_available(true);
  response->set_data(std::move(c.data));
  response->set_service_name(request->service_name());
  response->set_service_type(request->service_type());
  response->set_agent_id(options_.agent_id);
  response->set_poller_id(request->poller_id());
  response->set_timestamp(NowUnixSeconds());
  response->set_current_sequence(std::to_string(c.current_sequence));
  response->set_has_new_data(poll->events > 0);
  auto* sc = response->mutable_sweep_completion();
  sc->set_status(CompletionStatus(sum, complete));
  if (sum.stats_known) {
    sc->set_completion_time(sum.stats.ended_ns() / 1'000'000'000);
    sc->set_target_sequence(std::to_string(sum.stats.last_sequence()));
  }
  response->set_response_time(NowNs() - start);
  return grpc::Status::OK;
}

std::string AgentServiceImpl::StatusJson(bool* reachable) {
  nlohmann::json j;
  j["agent_id"] = options_.agent_id;
  j["service_type"] = kNetworkCaptureServiceType;
  nlohmann::json mon;
  mon["address"] = monitor_->address();
  auto st = monitor_->GetStatus();
  *reachable = st.ok();
  mon["reachable"] = st.ok();
  if (!st.ok()) {
    mon["error"] = std::string(st.status().message());
  } else {
    mon["version"] = st->version();
    mon["kernel"] = st->kernel();
    mon["live_sessions"] = st->live_sessions();
    mon["retained_sessions"] = st->retained_sessions();
    mon["interfaces"] = nlohmann::json::array();
    for (const auto& i : st->interfaces()) mon["interfaces"].push_back(i);
    nlohmann::json hooks = nlohmann::json::array();
    int degraded = 0;
    for (const auto& h : st->hooks()) {
      hooks.push_back({{"name", h.name()},
                       {"rung", h.rung()},
                       {"active", h.active()},
                       {"degraded", h.degraded()},
                       {"detail", h.detail()}});
      degraded += h.degraded() ? 1 : 0;
    }
    mon["hooks"] = std::move(hooks);
    mon["degraded_hooks"] = degraded;
    auto list = monitor_->ListCaptures();
    nlohmann::json sessions = nlohmann::json::array();
    if (list.ok()) {
      for (const auto& c : list->captures()) {
        if (sessions.size() >= kMaxStatusSessions) {
          j["sessions_truncated"] = true;
          break;
        }
        const auto& s = c.stats();
        sessions.push_back({{"session_id", c.session_id()},
                            {"state", CaptureStateName(s.state())},
                            {"duration_seconds", c.duration_seconds()},
                            {"filter", FilterJson(c.filter())},
                            {"events_total", s.events_total()},
                            {"events_dropped", s.events_dropped()},
                            {"last_sequence", s.last_sequence()},
                            {"started_ns", s.started_ns()},
                            {"ended_ns", s.ended_ns()}});
      }
    } else {
      j["sessions_error"] = std::string(list.status().message());
    }
    j["sessions"] = std::move(sessions);
  }
  j["monitor"] = std::move(mon);
  if (options_.observer != nullptr) j["nats"] = options_.observer->StatusJson();
  // Strings from the server are UTF-8 by protobuf's rules; anything else is replaced rather than thrown on.
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

grpc::Status AgentServiceImpl::GetStatus(grpc::ServerContext* context, const monitoring::StatusRequest* request,
                                         monitoring::StatusResponse* response) {
  if (absl::Status s = options_.allow.Check(*context); !s.ok()) return rpc::ToGrpc(s);
  if (absl::Status s = CheckServiceType(request->service_type(), request->service_name()); !s.ok()) {
    return rpc::ToGrpc(s);
  }
  const int64_t start = NowNs();
  bool reachable = false;
  response->set_message(StatusJson(&reachable));
  response->set_available(reachable);
  response->set_service_name(request->service_name());
  response->set_service_type(request->service_type());
  response->set_agent_id(options_.agent_id);
  response->set_poller_id(request->poller_id());
  response->set_response_time(NowNs() - start);
  return grpc::Status::OK;
}

}  // namespace netmon::agent
