// SPDX-License-Identifier: Apache-2.0
// network_monitor.NetworkMonitorService over a SessionManager: a thin translation between the wire and the
// sessions. GetCaptureResults streams chunks of at most `chunk_max_events` events and about `chunk_max_bytes`
// bytes, chunk_index from 0, and ends with exactly one is_final chunk that carries the capture's statistics.
// FOLLOW (default) keeps streaming a running capture until it ends; SNAPSHOT sends what exists now. The resume
// cursor `after_sequence` skips what the client already has.
#pragma once

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "bpf/hook_info.h"
#include "bpf/program_load.h"
#include "network_monitor.grpc.pb.h"
#include "rpc/client_identity.h"
#include "session/session_manager.h"

namespace netmon::rpc {

struct ServiceOptions {
  size_t chunk_max_events = 2000;
  // Under the ~1 MiB of ServiceRadar's convention, with room for the final chunk's statistics.
  size_t chunk_max_bytes = 1000 * 1024;
  // How often a follower that waits for events re-checks for cancellation and shutdown.
  std::chrono::milliseconds follow_poll{200};
  // A live follower woken by a few events waits up to this long for a fuller chunk: each Write costs the server
  // and the client tens of microseconds whatever it carries, and under a DNS load the engine hands over a few
  // hundred events at a time. Bounds how late a followed event arrives.
  std::chrono::milliseconds follow_linger{20};
  // How long StopCapture waits for the capture's final flush before answering.
  std::chrono::milliseconds stop_wait{10000};
};

// What GetStatus reports beyond the sessions.
struct StatusSource {
  std::function<std::vector<bpf::HookInfo>()> hooks;
  std::vector<std::string> interfaces;
  std::vector<bpf::ProgramLoad> programs;  // what each BPF program cost to load at start-up
  // Interfaces the packet layer could not attach to at the last attach (name -> reason).
  std::function<std::map<std::string, std::string>()> interfaces_not_attached;
};

class NetworkMonitorServiceImpl final : public network_monitor::NetworkMonitorService::Service {
 public:
  NetworkMonitorServiceImpl(session::SessionManager* sessions, ClientAllowList allow, StatusSource status,
                            ServiceOptions options = {});
  // A server still starting (loading its BPF programs): every call answers UNAVAILABLE, saying so, until Ready().
  explicit NetworkMonitorServiceImpl(ClientAllowList allow, ServiceOptions options = {});
  // Serve from now on. Once only; `sessions` must outlive the service.
  void Ready(session::SessionManager* sessions, StatusSource status);

  // Ends every follower's stream at its next check (server shutdown after the captures ended).
  void Shutdown() { shutting_down_ = true; }

  grpc::Status StartCapture(grpc::ServerContext* context, const network_monitor::StartCaptureRequest* request,
                            network_monitor::StartCaptureResponse* response) override;
  grpc::Status GetCaptureResults(grpc::ServerContext* context, const network_monitor::GetCaptureResultsRequest* request,
                                 grpc::ServerWriter<network_monitor::NetworkCaptureChunk>* writer) override;
  grpc::Status StopCapture(grpc::ServerContext* context, const network_monitor::StopCaptureRequest* request,
                           network_monitor::StopCaptureResponse* response) override;
  grpc::Status ListCaptures(grpc::ServerContext* context, const network_monitor::ListCapturesRequest* request,
                            network_monitor::ListCapturesResponse* response) override;
  grpc::Status GetStatus(grpc::ServerContext* context, const network_monitor::GetStatusRequest* request,
                         network_monitor::GetStatusResponse* response) override;

 private:
  // The caller's right to call, then the sessions: UNAVAILABLE while starting.
  absl::StatusOr<session::SessionManager*> Admit(const grpc::ServerContext& context) const;
  void AddInterfacesNotAttached(network_monitor::CaptureStats* stats) const;

  std::atomic<session::SessionManager*> sessions_{nullptr};  // null while starting; status_ is set before it
  const ClientAllowList allow_;
  StatusSource status_;
  const ServiceOptions options_;
  std::atomic<bool> shutting_down_{false};
};

}  // namespace netmon::rpc
