// SPDX-License-Identifier: Apache-2.0
// netmon-trafficgen's output: one JSON object per line on stdout, flushed at once, so a test reading the pipe sees
// each step as it happens. "pid" is always the process the test started; a child forked by --accept-fork adds
// "child_pid" to everything it prints.
#pragma once

#include <cstdint>
#include <string>

namespace netmon::trafficgen {

struct Report {
  std::string event;
  std::string local;
  std::string remote;
  int64_t sent = -1;  // -1: not printed
  int64_t received = -1;
  int64_t datagrams = -1;
  std::string error;
  std::string op;
  std::string message;
};

// Call once at start-up, before any fork.
void InitReporting();
// In a forked child: from now on every line carries "child_pid".
void MarkForkedChild();
void Emit(const Report& report);

// Prints an "error" line (errno name, failing call) and exits with status 2.
[[noreturn]] void Fail(const std::string& op, int err);
[[noreturn]] void FailWith(const std::string& op, const std::string& error, const std::string& message);

}  // namespace netmon::trafficgen
