// SPDX-License-Identifier: Apache-2.0
// What netmonctl knows about captures, independent of whether it came from an agent (JSON) or a server (proto).
// Events themselves are network_monitor::NetworkEvent in both cases.
#pragma once

#include <cstdint>
#include <string>

namespace netmon::cli {

struct SessionInfo {
  std::string session_id;
  std::string state;  // RUNNING, COMPLETED, STOPPED, FAILED, UNKNOWN
  int32_t duration_seconds = 0;
  int32_t process_id = 0;
  int32_t port = 0;
  std::string source_ip;
  std::string destination_ip;
  uint64_t events_total = 0;
  uint64_t events_dropped = 0;
  uint64_t last_sequence = 0;
  int64_t started_ns = 0;  // wall clock
  int64_t ended_ns = 0;    // 0 while running
};

// Where a capture being read stands (for the progress line and the closing summary).
struct CaptureProgress {
  std::string session_id;
  std::string state = "UNKNOWN";
  int32_t duration_seconds = 0;  // 0 = unknown
  int64_t started_ns = 0;        // 0 = unknown
  uint64_t events_seen = 0;      // delivered to this netmonctl
  uint64_t events_total = 0;     // produced by the capture (stats), 0 = unknown
  uint64_t events_dropped = 0;
  int64_t bytes_sent = 0;  // sums over the events seen
  int64_t bytes_received = 0;
  bool complete = false;  // the capture ended and everything was delivered
};

}  // namespace netmon::cli
