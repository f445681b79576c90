// SPDX-License-Identifier: Apache-2.0
// The netmon-trafficgen program (testenv/trafficgen/) from the test's side: where it is, and its JSON-lines
// reports parsed into structs, so tests assert on fields rather than on text.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"

namespace netmon::testenv {

class Process;

// Absolute path of the netmon-trafficgen binary of this build tree.
std::string TrafficgenPath();

// One line of trafficgen output. Fields a line does not carry keep their defaults.
struct TrafficgenEvent {
  std::string event;  // listening | connected | accepted | child | done | error
  int pid = 0;        // the trafficgen process (for "child" and a child's "done": the parent that forked)
  int child_pid = 0;  // --accept-fork: the forked child that does the connection's I/O
  std::string local;  // "10.0.0.1:5000", "[fd00::1]:5000"
  std::string remote;
  int64_t sent = 0;  // payload bytes
  int64_t received = 0;
  int64_t datagrams = 0;  // UDP modes: datagrams sent/received
  std::string error;      // errno name, e.g. "ECONNREFUSED"
  std::string op;         // the call that failed, e.g. "connect"
  std::string raw;        // the line as printed
};

absl::StatusOr<TrafficgenEvent> ParseTrafficgenEvent(const std::string& line);

// Reads lines until one reports `event`. An "error" line (when not expected), EOF or the timeout is an error
// whose message carries the offending line.
absl::StatusOr<TrafficgenEvent> ExpectTrafficgenEvent(Process& process, const std::string& event, int timeout_ms);

}  // namespace netmon::testenv
