// SPDX-License-Identifier: Apache-2.0
// fork + setns + exec, shared by Process and RunCommand. Everything that allocates happens before fork(), so the
// child only makes async-signal-safe calls and is safe to start from a multi-threaded test.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"

namespace netmon::testenv {

// Descriptors the child gets as 0, 1 and 2; -1 keeps the parent's. All other descriptors are closed at exec.
struct ChildStdio {
  int in = -1;
  int out = -1;
  int err = -1;
};

// "dig" -> "/usr/bin/dig" by PATH; a name containing '/' is used as is. NotFound if nothing executable matches.
absl::StatusOr<std::string> ResolveExecutable(const std::string& name);

// Starts argv (argv[0] resolved by PATH) inside the network namespace `netns_fd` (-1: the caller's). The child is
// SIGKILLed when the forking thread dies (PR_SET_PDEATHSIG), so a crashed test leaves no orphan behind. Returns
// once exec succeeded; a failed setns or exec comes back as an error and the child is reaped.
absl::StatusOr<pid_t> ForkExec(int netns_fd, const std::vector<std::string>& argv, const ChildStdio& stdio);

// Reaps `pid` if it exits within timeout_ms (0: just check). Returns the wait status, or nullopt if still running.
std::optional<int> WaitPidFor(pid_t pid, int timeout_ms);

// Exit code as shells report it: the exit status, or 128 + signal number.
int ExitCodeOf(int wait_status);

}  // namespace netmon::testenv
