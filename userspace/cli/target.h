// SPDX-License-Identifier: Apache-2.0
// What netmonctl talks to: a netmon-agent (monitoring.AgentService, polling with last_sequence exactly as
// ServiceRadar's poller does) or a netmon-server directly (network_monitor.NetworkMonitorService, following the
// stream). Errors keep the gRPC code (main maps it to the exit status) and say who answered what.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cli/console.h"
#include "cli/model.h"
#include "cli/options.h"
#include "nlohmann/json.hpp"
#include "rpc/security_config.h"

namespace netmon::cli {

class Target {
 public:
  virtual ~Target() = default;
  // "the agent at 127.0.0.1:50051" / "netmon-server at unix:/run/netmon.sock".
  virtual std::string Describe() const = 0;
  // Starts a capture with the options' filters and duration; returns its session id.
  virtual absl::StatusOr<std::string> StartCapture(const CliOptions& options) = 0;
  // Prints the session's events after `since` through `console`. follow: until the capture has ended and
  // everything was delivered; otherwise: what the capture holds now. Progress goes to console->Update.
  virtual absl::Status Read(const std::string& session, uint64_t since, bool follow, Console* console) = 0;
  virtual absl::StatusOr<std::vector<SessionInfo>> Sessions() = 0;
  // The status as JSON (the agent's GetStatus document; for a server, the same shape as its "monitor" part).
  virtual absl::StatusOr<nlohmann::json> Status() = 0;
  virtual absl::Status Stop(const std::string& session) = 0;
};

absl::StatusOr<std::unique_ptr<Target>> MakeAgentTarget(const CliOptions& options, const rpc::SecurityConfig& security);
absl::StatusOr<std::unique_ptr<Target>> MakeServerTarget(const CliOptions& options,
                                                         const rpc::SecurityConfig& security);

// A failed call -> status with the same code and a message that says whether `who` could not be reached or
// answered with an error.
absl::Status CallError(const grpc::Status& status, grpc::Channel& channel, const std::string& who);

}  // namespace netmon::cli
