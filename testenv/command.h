// SPDX-License-Identifier: Apache-2.0
// Runs a short-lived helper (ip, sysctl, openssl …) to completion with its output captured and a bounded wait.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace netmon::testenv {

class Netns;

struct CommandResult {
  int exit_code = -1;  // exit status, or 128 + signal
  std::string out;
  std::string err;
};

// Runs argv (PATH lookup) inside `ns` (nullptr: the caller's namespace), stdin from /dev/null. The program is
// SIGKILLed and DeadlineExceeded returned if it has not finished within timeout_ms.
absl::StatusOr<CommandResult> RunCommand(const std::vector<std::string>& argv, const Netns* ns = nullptr,
                                         int timeout_ms = 10000);

// Like RunCommand, but any non-zero exit is an error whose message holds the command line and its stderr.
// Returns stdout.
absl::StatusOr<std::string> RunChecked(const std::vector<std::string>& argv, const Netns* ns = nullptr,
                                       int timeout_ms = 10000);

// "ip -n foo link add …" as one string, for error messages.
std::string JoinArgv(const std::vector<std::string>& argv);

}  // namespace netmon::testenv
