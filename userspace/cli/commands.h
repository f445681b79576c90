// SPDX-License-Identifier: Apache-2.0
// netmonctl's commands over a Target, and the exit statuses: 0 done, 1 the agent/server refused or failed,
// 2 usage or local configuration, 3 agent/server unreachable, 130 interrupted. Errors are one line on stderr:
// "netmonctl: <command>: <what went wrong>".
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace netmon::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitUnreachable = 3;
inline constexpr int kExitInterrupted = 130;

int ExitCodeFor(const absl::Status& status);

// Runs netmonctl with `args` (argv without argv[0]); events on stdout, everything else on stderr.
// `terminal` says whether stdout and stderr are both terminals (the progress line's default).
int Run(const std::vector<std::string>& args, bool terminal, const char* env_security);

}  // namespace netmon::cli
