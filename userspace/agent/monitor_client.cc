// SPDX-License-Identifier: Apache-2.0
#include "agent/monitor_client.h"

#include "common/status.h"
#include "common/str_cat.h"
#include "rpc/credentials.h"

namespace netmon::agent {

absl::StatusOr<std::unique_ptr<MonitorClient>> MonitorClient::Create(const MonitorConfig& config) {
  grpc::ChannelArguments args;
  args.SetInt(GRPC_ARG_INITIAL_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MIN_RECONNECT_BACKOFF_MS, 100);
  args.SetInt(GRPC_ARG_MAX_RECONNECT_BACKOFF_MS, 1000);
  // Chunks from netmon-server are about 1 MiB; leave gRPC's 4 MiB limit as the ceiling.
  auto channel = rpc::CreateChannel(config.address, config.security, args);
  if (!channel.ok()) {
    return absl::Status(channel.status().code(),
                        StrCat("network_monitor (", config.address, "): ", channel.status().message()));
  }
  // Private constructor (Create is the only way in); owned by the unique_ptr at once.
  return std::unique_ptr<MonitorClient>(new MonitorClient(config.address, *channel, config.call_timeout));
}

MonitorClient::MonitorClient(std::string address, std::shared_ptr<grpc::Channel> channel,
                             std::chrono::milliseconds timeout)
    : address_(std::move(address)),
      channel_(std::move(channel)),
      stub_(network_monitor::NetworkMonitorService::NewStub(channel_)),
      timeout_(timeout) {}

void MonitorClient::SetDeadline(grpc::ClientContext* context) const {
  context->set_deadline(std::chrono::system_clock::now() + timeout_);
}

absl::Status MonitorClient::Translate(const grpc::Status& status) const {
  if (status.ok()) return absl::OkStatus();
  const std::string& msg = status.error_message();
  switch (status.error_code()) {
    case grpc::StatusCode::UNAVAILABLE:
      return absl::UnavailableError(StrCat("netmon-server at ", address_, " is unreachable: ", msg));
    case grpc::StatusCode::DEADLINE_EXCEEDED:
      // Never connected: the server is down or black-holed, which is "unreachable" for the caller.
      if (channel_->GetState(false) != GRPC_CHANNEL_READY) {
        return absl::UnavailableError(
            StrCat("netmon-server at ", address_, " is unreachable: no connection within the deadline"));
      }
      return absl::DeadlineExceededError(StrCat("netmon-server at ", address_, " did not answer in time: ", msg));
    default:
      // The server's verdict keeps its code; its message already says what was wrong.
      return absl::Status(static_cast<absl::StatusCode>(status.error_code()), StrCat("netmon-server: ", msg));
  }
}

absl::Status MonitorClient::StartCapture(const network_monitor::StartCaptureRequest& request) {
  grpc::ClientContext ctx;
  SetDeadline(&ctx);
  network_monitor::StartCaptureResponse resp;
  grpc::Status s = stub_->StartCapture(&ctx, request, &resp);
  if (!s.ok()) return Translate(s);
  if (!resp.success()) {
    return absl::InternalError(StrCat("netmon-server did not start the capture: ", resp.message()));
  }
  return absl::OkStatus();
}

void CallCanceller::Cancel() {
  std::lock_guard<std::mutex> lock(mu_);
  cancelled_ = true;
  if (context_ != nullptr) context_->TryCancel();
}

bool CallCanceller::cancelled() const {
  std::lock_guard<std::mutex> lock(mu_);
  return cancelled_;
}

bool CallCanceller::Attach(grpc::ClientContext* context) {
  std::lock_guard<std::mutex> lock(mu_);
  if (cancelled_) return false;
  context_ = context;
  return true;
}

void CallCanceller::Detach() {
  std::lock_guard<std::mutex> lock(mu_);
  context_ = nullptr;
}

absl::StatusOr<MonitorClient::Snapshot> MonitorClient::ReadSnapshot(const std::string& session_id,
                                                                    uint64_t after_sequence,
                                                                    std::chrono::system_clock::time_point deadline,
                                                                    const EventSink& on_event) {
  return Read(network_monitor::RESULTS_MODE_SNAPSHOT, session_id, after_sequence, deadline, nullptr, on_event);
}

absl::StatusOr<MonitorClient::Snapshot> MonitorClient::ReadFollow(const std::string& session_id,
                                                                  uint64_t after_sequence,
                                                                  std::chrono::system_clock::time_point deadline,
                                                                  CallCanceller* canceller, const EventSink& on_event) {
  return Read(network_monitor::RESULTS_MODE_FOLLOW, session_id, after_sequence, deadline, canceller, on_event);
}

absl::StatusOr<MonitorClient::Snapshot> MonitorClient::Read(network_monitor::ResultsMode mode,
                                                            const std::string& session_id, uint64_t after_sequence,
                                                            std::chrono::system_clock::time_point deadline,
                                                            CallCanceller* canceller, const EventSink& on_event) {
  grpc::ClientContext ctx;
  ctx.set_deadline(deadline);
  network_monitor::GetCaptureResultsRequest req;
  req.set_session_id(session_id);
  req.set_after_sequence(after_sequence);
  req.set_mode(mode);
  if (canceller != nullptr && !canceller->Attach(&ctx)) return absl::CancelledError("the read was cancelled");
  // Detached on every way out, before ctx goes away, so Cancel() never touches a dead context.
  struct Detach {
    CallCanceller* c;
    ~Detach() {
      if (c != nullptr) c->Detach();
    }
  } detach{canceller};
  auto reader = stub_->GetCaptureResults(&ctx, req);
  Snapshot snap;
  network_monitor::NetworkCaptureChunk chunk;
  bool stopped = false;
  while (!stopped && reader->Read(&chunk)) {
    for (network_monitor::NetworkEvent& ev : *chunk.mutable_events()) {
      ++snap.events;
      if (!on_event(std::move(ev))) {
        stopped = true;
        break;
      }
    }
    if (!stopped && chunk.is_final()) {
      snap.final_seen = true;
      snap.stats = chunk.stats();
    }
  }
  if (stopped) ctx.TryCancel();
  grpc::Status s = reader->Finish();
  if (snap.final_seen || stopped) return snap;
  // Partial results are still results: the caller reports them and the rest comes with the next poll.
  if (snap.events > 0) {
    snap.interruption = s.ok() ? absl::InternalError("stream ended without a final chunk") : Translate(s);
    return snap;
  }
  if (s.ok())
    return absl::InternalError(StrCat("netmon-server at ", address_, " ended the stream without a final chunk"));
  return Translate(s);
}

absl::StatusOr<network_monitor::GetStatusResponse> MonitorClient::GetStatus() {
  grpc::ClientContext ctx;
  SetDeadline(&ctx);
  network_monitor::GetStatusResponse resp;
  grpc::Status s = stub_->GetStatus(&ctx, network_monitor::GetStatusRequest(), &resp);
  if (!s.ok()) return Translate(s);
  return resp;
}

absl::StatusOr<network_monitor::ListCapturesResponse> MonitorClient::ListCaptures() {
  grpc::ClientContext ctx;
  SetDeadline(&ctx);
  network_monitor::ListCapturesResponse resp;
  grpc::Status s = stub_->ListCaptures(&ctx, network_monitor::ListCapturesRequest(), &resp);
  if (!s.ok()) return Translate(s);
  return resp;
}

}  // namespace netmon::agent
