// SPDX-License-Identifier: Apache-2.0
// What the agent service tells about the captures it triggers, for a component that wants every event of them
// independently of polls (the NATS forwarder, nats_forwarder.h). An interface, so the service (and netmon_agent)
// does not depend on libnats.
#pragma once

#include <string>

#include "absl/status/status.h"
#include "nlohmann/json.hpp"

namespace netmon::agent {

class CaptureObserver {
 public:
  virtual ~CaptureObserver() = default;
  // Called before StartCapture. An error (RESOURCE_EXHAUSTED when every follower is busy, UNAVAILABLE when
  // shutting down) fails the trigger before anything is started: a capture whose events would not all be published
  // is never started silently. On OK the caller must call exactly one of Started or Unreserve.
  virtual absl::Status Reserve() = 0;
  virtual void Unreserve() = 0;
  // The capture `session_id` was started on netmon-server; consumes the reservation.
  virtual void Started(const std::string& session_id) = 0;
  // Counters for GetStatus's JSON.
  virtual nlohmann::json StatusJson() const = 0;
};

}  // namespace netmon::agent
