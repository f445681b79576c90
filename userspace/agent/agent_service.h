// SPDX-License-Identifier: Apache-2.0
// monitoring.AgentService for service_type "network_capture" (docs/architecture.md §4.2), over a MonitorClient:
//   TriggerNetworkCapture -> validate, generate a UUID session id, StartCapture on netmon-server.
//   StreamResults / GetResults -> one SNAPSHOT read of the session after last_sequence, turned into
//     self-contained JSON chunks (chunker.h). The read is bounded in time (poll_timeout, and the caller's own
//     deadline) and size (max_events_per_poll); a poll cut short says "has_more" and the next one resumes.
//   GetStatus -> JSON: netmon-server reachable?, its capabilities, live sessions.
// Every other service type is UNIMPLEMENTED with a message that says what this agent serves.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "agent/capture_observer.h"
#include "agent/chunker.h"
#include "agent/monitor_client.h"
#include "monitoring.grpc.pb.h"
#include "rpc/client_identity.h"

namespace netmon::agent {

struct AgentOptions {
  std::string agent_id;
  size_t max_chunk_bytes = 1'000'000;
  size_t max_events_per_poll = 250'000;
  std::chrono::milliseconds poll_timeout{10000};
  rpc::ClientAllowList allow;
  // Optional, not owned: told about every capture this agent triggers (the NATS forwarder); its counters go into
  // GetStatus's JSON under "nats".
  CaptureObserver* observer = nullptr;
};

// One poll's answer.
struct PollResult {
  std::string session_id;
  std::vector<Chunk> chunks;  // at least one; the last is final
  CaptureSummary summary;
  size_t events = 0;
};

class AgentServiceImpl final : public monitoring::AgentService::Service {
 public:
  AgentServiceImpl(MonitorClient* monitor, AgentOptions options);

  grpc::Status GetStatus(grpc::ServerContext* context, const monitoring::StatusRequest* request,
                         monitoring::StatusResponse* response) override;
  grpc::Status GetResults(grpc::ServerContext* context, const monitoring::ResultsRequest* request,
                          monitoring::ResultsResponse* response) override;
  grpc::Status StreamResults(grpc::ServerContext* context, const monitoring::ResultsRequest* request,
                             grpc::ServerWriter<monitoring::ResultsChunk>* writer) override;
  grpc::Status TriggerNetworkCapture(grpc::ServerContext* context,
                                     const monitoring::TriggerNetworkCaptureRequest* request,
                                     monitoring::TriggerNetworkCaptureResponse* response) override;

  // The poll behind both result RPCs. `deadline` is when the answer must be ready; max_chunks 0 = unlimited.
  absl::StatusOr<PollResult> Poll(const monitoring::ResultsRequest& request,
                                  std::chrono::system_clock::time_point deadline, size_t max_chunks);
  // The GetStatus JSON document (and whether netmon-server answered).
  std::string StatusJson(bool* reachable);

 private:
  // Finds the capture's statistics when the poll did not read up to the server's final chunk.
  void FillStatsFromList(const std::string& session_id, CaptureSummary* summary);

  MonitorClient* const monitor_;
  const AgentOptions options_;
};

// Whether a request is for this agent's service; UNIMPLEMENTED with the reason otherwise.
absl::Status CheckServiceType(const std::string& service_type, const std::string& service_name);

}  // namespace netmon::agent
