// SPDX-License-Identifier: Apache-2.0
// The agent's side of network_monitor.NetworkMonitorService: one channel to netmon-server with the agent's client
// credentials, and calls whose failures say which address failed. gRPC's reconnect backoff is capped at one
// second, so a monitor that comes back is used again within about a second instead of gRPC's default of up to
// two minutes; while it is down, calls fail fast with UNAVAILABLE.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <string>

#include "absl/status/statusor.h"
#include "agent/config.h"
#include "network_monitor.grpc.pb.h"

namespace netmon::agent {

// Lets another thread end a long read (a FOLLOW that may last the whole capture): Cancel() cancels the call in
// progress and every later one. Used by the NATS forwarder at shutdown.
class CallCanceller {
 public:
  void Cancel();
  bool cancelled() const;

 private:
  friend class MonitorClient;
  // False if already cancelled (the call must not start).
  bool Attach(grpc::ClientContext* context);
  void Detach();

  mutable std::mutex mu_;
  grpc::ClientContext* context_ = nullptr;
  bool cancelled_ = false;
};

class MonitorClient {
 public:
  static absl::StatusOr<std::unique_ptr<MonitorClient>> Create(const MonitorConfig& config);

  const std::string& address() const { return address_; }

  // StartCapture. UNAVAILABLE (naming the address) if netmon-server cannot be reached; the server's own status
  // (INVALID_ARGUMENT, NOT_FOUND, ALREADY_EXISTS, RESOURCE_EXHAUSTED, ...) otherwise, its message kept.
  absl::Status StartCapture(const network_monitor::StartCaptureRequest& request);

  // A SNAPSHOT read of `session_id` after `after_sequence`: each event is handed to `on_event`, which returns
  // false to stop early (the call is then cancelled). Returns what the final chunk said, if it came.
  struct Snapshot {
    bool final_seen = false;              // the server sent its final chunk (everything available was read)
    network_monitor::CaptureStats stats;  // valid when final_seen
    size_t events = 0;
    absl::Status interruption;  // why a read that delivered events ended without the final chunk
  };
  using EventSink = std::function<bool(network_monitor::NetworkEvent&&)>;
  // `deadline` bounds the whole read. A read that stops early (on_event returned false, or the deadline passed
  // after some events arrived) is not an error: final_seen is false. Errors before any event are returned.
  absl::StatusOr<Snapshot> ReadSnapshot(const std::string& session_id, uint64_t after_sequence,
                                        std::chrono::system_clock::time_point deadline, const EventSink& on_event);

  // A FOLLOW read: what is retained after `after_sequence`, then events as they come until the capture ends (the
  // final chunk). Same results as ReadSnapshot; `canceller` (optional) ends it from another thread, which then
  // returns CANCELLED (or the partial snapshot).
  absl::StatusOr<Snapshot> ReadFollow(const std::string& session_id, uint64_t after_sequence,
                                      std::chrono::system_clock::time_point deadline, CallCanceller* canceller,
                                      const EventSink& on_event);

  absl::StatusOr<network_monitor::GetStatusResponse> GetStatus();
  absl::StatusOr<network_monitor::ListCapturesResponse> ListCaptures();

  // gRPC status of a call to netmon-server -> absl status whose message names the server and the address.
  absl::Status Translate(const grpc::Status& status) const;

 private:
  MonitorClient(std::string address, std::shared_ptr<grpc::Channel> channel, std::chrono::milliseconds timeout);
  void SetDeadline(grpc::ClientContext* context) const;
  absl::StatusOr<Snapshot> Read(network_monitor::ResultsMode mode, const std::string& session_id,
                                uint64_t after_sequence, std::chrono::system_clock::time_point deadline,
                                CallCanceller* canceller, const EventSink& on_event);

  const std::string address_;
  const std::shared_ptr<grpc::Channel> channel_;
  const std::unique_ptr<network_monitor::NetworkMonitorService::Stub> stub_;
  const std::chrono::milliseconds timeout_;
};

}  // namespace netmon::agent
