// SPDX-License-Identifier: Apache-2.0
// The capture rules of docs/architecture.md §4.4 that need nothing but the request: each violation is one absl::Status
// whose code the rpc layer passes through as the gRPC code, with a message that names the field.
#pragma once

#include <cstdint>
#include <functional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "session/filter.h"

namespace netmon::session {

// StartCaptureRequest as plain C++.
struct CaptureRequest {
  std::string session_id;
  int32_t duration_seconds = 0;
  int32_t process_id = 0;
  int32_t port = 0;
  std::string source_ip;
  std::string destination_ip;
};

inline constexpr size_t kMaxSessionIdLength = 128;

// session_id: 1-128 characters of [A-Za-z0-9._:-]. INVALID_ARGUMENT otherwise.
absl::Status ValidateSessionId(std::string_view id);

// Every syntactic rule (INVALID_ARGUMENT): session_id, 1 <= duration_seconds <= max_duration_seconds,
// process_id >= 0, port in 0..65535, source_ip/destination_ip empty or an address or CIDR prefix.
absl::StatusOr<Filter> ValidateRequest(const CaptureRequest& req, int32_t max_duration_seconds);

// Whether `pid` names a running process (a thread group leader) in our PID namespace: OK, or NOT_FOUND with the
// reason (no such process / it is a thread of process N).
using PidChecker = std::function<absl::Status(uint32_t pid)>;
absl::Status CheckProcessExists(uint32_t pid);

}  // namespace netmon::session
