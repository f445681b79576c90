// SPDX-License-Identifier: Apache-2.0
// A real program started for a test, optionally inside a Netns, with its stdin and stdout piped to the test.
// Every wait is bounded, so a misbehaving program fails the test instead of hanging it; the destructor SIGKILLs
// and reaps whatever is still running. stderr is inherited (it lands in the test log).
//
// The child gets PR_SET_PDEATHSIG=SIGKILL, tied to the *thread* that spawned it: spawn from a thread that outlives
// the Process (the test's main thread), not from a short-lived worker. A program that changes its uid or gid loses
// it (kernel rule), so keep such programs on root (dnsmasq: --user=root --group=root); the next run's sweep is the
// fallback.
#pragma once

#include <sys/types.h>

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/unique_fd.h"

namespace netmon::testenv {

class Netns;

class Process {
 public:
  // fork; in the child setns into `ns` (nullptr: stay in the caller's namespace) and exec argv (PATH lookup).
  // Returns after exec succeeded; a missing program or a failed setns is an error here.
  static absl::StatusOr<Process> Spawn(const Netns* ns, const std::vector<std::string>& argv);

  Process(Process&& other) noexcept;
  Process& operator=(Process&& other) noexcept;
  Process(const Process&) = delete;
  Process& operator=(const Process&) = delete;
  ~Process();

  pid_t pid() const { return pid_; }

  // Writes `line` plus '\n' to the program's stdin. An error (not SIGPIPE) if the program closed it.
  absl::Status WriteLine(const std::string& line);
  // Closes the program's stdin (it sees EOF).
  void CloseStdin();
  // The next line of stdout without its '\n'. DeadlineExceeded after timeout_ms; OutOfRange at EOF (a last line
  // without '\n' is still returned first).
  absl::StatusOr<std::string> ReadLine(int timeout_ms);
  // Everything up to EOF (whatever ReadLine has not consumed yet). DeadlineExceeded after timeout_ms.
  absl::StatusOr<std::string> ReadAll(int timeout_ms);

  // Exit code (or 128 + signal). If the program has not exited within timeout_ms it is SIGKILLed and reaped, and
  // DeadlineExceeded returned. Repeated calls after the exit return the same code.
  absl::StatusOr<int> Wait(int timeout_ms);
  // The exit code if the program has exited (reaping it), nullopt if it still runs. Never blocks or kills.
  std::optional<int> TryWait();
  // Sends a signal (e.g. SIGTERM to test a clean shutdown). FailedPrecondition if already reaped.
  absl::Status Signal(int signo);
  // SIGKILL and reap. Wait() then reports 137.
  void Kill();

  // Processes spawned by this test binary and not yet reaped (a leak check for tests).
  static int LiveCount();

 private:
  Process() = default;
  void Reap(int wait_status);

  pid_t pid_ = -1;
  bool reaped_ = true;
  int exit_code_ = -1;
  UniqueFd stdin_;
  UniqueFd stdout_;
  std::string buffered_;  // stdout read but not yet returned
  bool eof_ = false;
};

}  // namespace netmon::testenv
