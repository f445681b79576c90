// SPDX-License-Identifier: Apache-2.0
#include "testenv/command.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>

#include "absl/strings/str_join.h"
#include "common/status.h"
#include "common/str_cat.h"
#include "common/unique_fd.h"
#include "testenv/netns.h"
#include "testenv/spawn.h"

namespace netmon::testenv {
namespace {

absl::Status MakePipe(UniqueFd* read_end, UniqueFd* write_end) {
  int fds[2];
  if (pipe2(fds, O_CLOEXEC) != 0) return ErrnoError("pipe2", "command output", errno);
  read_end->Reset(fds[0]);
  write_end->Reset(fds[1]);
  return absl::OkStatus();
}

}  // namespace

std::string JoinArgv(const std::vector<std::string>& argv) {
  return absl::StrJoin(argv, " ");
}

absl::StatusOr<CommandResult> RunCommand(const std::vector<std::string>& argv, const Netns* ns, int timeout_ms) {
  UniqueFd out_read, out_write, err_read, err_write;
  NETMON_RETURN_IF_ERROR(MakePipe(&out_read, &out_write));
  NETMON_RETURN_IF_ERROR(MakePipe(&err_read, &err_write));
  UniqueFd dev_null(open("/dev/null", O_RDONLY | O_CLOEXEC));
  if (!dev_null.valid()) return ErrnoError("open", "/dev/null", errno);

  NETMON_ASSIGN_OR_RETURN(pid_t pid, ForkExec(ns != nullptr ? ns->fd() : -1, argv,
                                              ChildStdio{dev_null.get(), out_write.get(), err_write.get()}));
  out_write.Reset();
  err_write.Reset();

  CommandResult result;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  bool timed_out = false;
  while (out_read.valid() || err_read.valid()) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    pollfd fds[2] = {{out_read.get(), POLLIN, 0}, {err_read.get(), POLLIN, 0}};  // fd -1 is ignored by poll
    int n = poll(fds, 2, static_cast<int>(left.count()));
    if (n < 0 && errno != EINTR) {
      kill(pid, SIGKILL);
      WaitPidFor(pid, 5000);
      return ErrnoError("poll", "command output", errno);
    }
    UniqueFd* ends[2] = {&out_read, &err_read};
    std::string* sinks[2] = {&result.out, &result.err};
    for (int i = 0; i < 2; ++i) {
      if (fds[i].revents == 0) continue;
      char buf[4096];
      ssize_t got = read(ends[i]->get(), buf, sizeof(buf));
      if (got > 0) {
        sinks[i]->append(buf, static_cast<size_t>(got));
      } else if (got == 0 || errno != EINTR) {
        ends[i]->Reset();
      }
    }
  }
  if (!timed_out) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    if (auto status = WaitPidFor(pid, std::max<int>(0, static_cast<int>(left.count())))) {
      result.exit_code = ExitCodeOf(*status);
      return result;
    }
  }
  kill(pid, SIGKILL);
  WaitPidFor(pid, 5000);
  return absl::DeadlineExceededError(
      StrCat("\"", JoinArgv(argv), "\" did not finish within ", timeout_ms, " ms; stderr so far: ", result.err));
}

absl::StatusOr<std::string> RunChecked(const std::vector<std::string>& argv, const Netns* ns, int timeout_ms) {
  NETMON_ASSIGN_OR_RETURN(CommandResult result, RunCommand(argv, ns, timeout_ms));
  if (result.exit_code != 0) {
    std::string err = result.err;
    while (!err.empty() && (err.back() == '\n' || err.back() == ' ')) err.pop_back();
    return absl::InternalError(StrCat("\"", JoinArgv(argv), "\"", ns != nullptr ? StrCat(" in ", ns->name()) : "",
                                      " failed with exit code ", result.exit_code, ": ", err));
  }
  return std::move(result.out);
}

}  // namespace netmon::testenv
