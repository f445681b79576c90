// SPDX-License-Identifier: Apache-2.0
// The agent's ResultsChunk JSON documents (agent/chunker.h) read back into NetworkEvents, so netmonctl prints
// events from an agent and from a server through the same formatters. extra_info objects become their compact
// JSON text again; a stand-in for an event too large for a chunk keeps its sequence and counters and gets
// extra_info {"netmonctl_truncated": true, "original_bytes": N}.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "network_monitor.pb.h"
#include "nlohmann/json_fwd.hpp"

namespace netmon::cli {

struct AgentChunk {
  std::string session_id;
  std::vector<network_monitor::NetworkEvent> events;
  uint64_t current_sequence = 0;
  // From the final chunk's "capture" object.
  bool has_capture = false;
  std::string state = "UNKNOWN";
  bool complete = false;
  bool has_more = false;
  uint64_t events_total = 0;
  uint64_t events_dropped = 0;
  int64_t started_ns = 0;
  int64_t ended_ns = 0;
  std::string note;
};

absl::StatusOr<AgentChunk> ParseAgentChunk(std::string_view data);
absl::StatusOr<network_monitor::NetworkEvent> EventFromJson(const nlohmann::json& j);

}  // namespace netmon::cli
