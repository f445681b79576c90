// SPDX-License-Identifier: Apache-2.0
#include "testenv/process.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <time.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <utility>

#include "common/status.h"
#include "common/str_cat.h"
#include "testenv/netns.h"
#include "testenv/spawn.h"

namespace netmon::testenv {
namespace {

std::atomic<int> g_live{0};

int MillisLeft(std::chrono::steady_clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
  return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

// write() to a closed pipe raises SIGPIPE, which would kill the whole test binary. Block it for this thread and
// swallow the pending signal instead of changing the process-wide disposition behind the test's back.
ssize_t WriteNoSigpipe(int fd, const char* data, size_t size) {
  sigset_t pipe_set, old_set;
  sigemptyset(&pipe_set);
  sigaddset(&pipe_set, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &pipe_set, &old_set);
  ssize_t n;
  do {
    n = write(fd, data, size);
  } while (n < 0 && errno == EINTR);
  int saved = errno;
  if (n < 0 && errno == EPIPE) {
    timespec zero{};
    sigtimedwait(&pipe_set, nullptr, &zero);
  }
  pthread_sigmask(SIG_SETMASK, &old_set, nullptr);
  errno = saved;
  return n;
}

}  // namespace

absl::StatusOr<Process> Process::Spawn(const Netns* ns, const std::vector<std::string>& argv) {
  int in[2], out[2];
  if (pipe2(in, O_CLOEXEC) != 0) return ErrnoError("pipe2", "child stdin", errno);
  UniqueFd in_read(in[0]), in_write(in[1]);
  if (pipe2(out, O_CLOEXEC) != 0) return ErrnoError("pipe2", "child stdout", errno);
  UniqueFd out_read(out[0]), out_write(out[1]);

  NETMON_ASSIGN_OR_RETURN(
      pid_t pid, ForkExec(ns != nullptr ? ns->fd() : -1, argv, ChildStdio{in_read.get(), out_write.get(), -1}));
  Process process;
  process.pid_ = pid;
  process.reaped_ = false;
  process.stdin_ = std::move(in_write);
  process.stdout_ = std::move(out_read);
  g_live.fetch_add(1);
  return process;
}

Process::Process(Process&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      reaped_(std::exchange(other.reaped_, true)),
      exit_code_(other.exit_code_),
      stdin_(std::move(other.stdin_)),
      stdout_(std::move(other.stdout_)),
      buffered_(std::exchange(other.buffered_, std::string())),
      eof_(other.eof_) {}

Process& Process::operator=(Process&& other) noexcept {
  if (this != &other) {
    Kill();
    pid_ = std::exchange(other.pid_, -1);
    reaped_ = std::exchange(other.reaped_, true);
    exit_code_ = other.exit_code_;
    stdin_ = std::move(other.stdin_);
    stdout_ = std::move(other.stdout_);
    buffered_ = std::exchange(other.buffered_, std::string());
    eof_ = other.eof_;
  }
  return *this;
}

Process::~Process() {
  Kill();
}

int Process::LiveCount() {
  return g_live.load();
}

void Process::Reap(int wait_status) {
  reaped_ = true;
  exit_code_ = ExitCodeOf(wait_status);
  g_live.fetch_sub(1);
}

absl::Status Process::WriteLine(const std::string& line) {
  if (!stdin_.valid()) return absl::FailedPreconditionError(StrCat("stdin of pid ", pid_, " is closed"));
  std::string data = line + "\n";
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = WriteNoSigpipe(stdin_.get(), data.data() + done, data.size() - done);
    if (n < 0) return ErrnoError("write", StrCat("stdin of pid ", pid_), errno);
    done += static_cast<size_t>(n);
  }
  return absl::OkStatus();
}

void Process::CloseStdin() {
  stdin_.Reset();
}

absl::StatusOr<std::string> Process::ReadLine(int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    size_t newline = buffered_.find('\n');
    if (newline != std::string::npos) {
      std::string line = buffered_.substr(0, newline);
      buffered_.erase(0, newline + 1);
      return line;
    }
    if (eof_ || !stdout_.valid()) {
      if (!buffered_.empty()) return std::exchange(buffered_, std::string());
      return absl::OutOfRangeError(StrCat("pid ", pid_, " closed its stdout"));
    }
    pollfd pfd{stdout_.get(), POLLIN, 0};
    int n = poll(&pfd, 1, MillisLeft(deadline));
    if (n < 0 && errno != EINTR) return ErrnoError("poll", StrCat("stdout of pid ", pid_), errno);
    if (n == 0) {
      return absl::DeadlineExceededError(
          StrCat("no line from pid ", pid_, " within ", timeout_ms, " ms (partial: \"", buffered_, "\")"));
    }
    if (n < 0) continue;
    char buf[4096];
    ssize_t got = read(stdout_.get(), buf, sizeof(buf));
    if (got > 0) {
      buffered_.append(buf, static_cast<size_t>(got));
    } else if (got == 0) {
      eof_ = true;
    } else if (errno != EINTR) {
      return ErrnoError("read", StrCat("stdout of pid ", pid_), errno);
    }
  }
}

absl::StatusOr<std::string> Process::ReadAll(int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  std::string all;
  while (true) {
    auto line = ReadLine(MillisLeft(deadline));
    if (absl::IsOutOfRange(line.status())) return all;
    if (!line.ok()) return line.status();
    all += *line;
    all += '\n';
  }
}

std::optional<int> Process::TryWait() {
  if (reaped_) return pid_ > 0 ? std::optional<int>(exit_code_) : std::nullopt;
  auto status = WaitPidFor(pid_, 0);
  if (!status) return std::nullopt;
  Reap(*status);
  return exit_code_;
}

absl::StatusOr<int> Process::Wait(int timeout_ms) {
  if (pid_ <= 0) return absl::FailedPreconditionError("Wait on an empty Process");
  if (reaped_) return exit_code_;
  if (auto status = WaitPidFor(pid_, timeout_ms)) {
    Reap(*status);
    return exit_code_;
  }
  Kill();
  return absl::DeadlineExceededError(StrCat("pid ", pid_, " did not exit within ", timeout_ms, " ms; killed"));
}

absl::Status Process::Signal(int signo) {
  if (reaped_) return absl::FailedPreconditionError(StrCat("pid ", pid_, " has already been reaped"));
  if (kill(pid_, signo) != 0) return ErrnoError("kill", StrCat("pid ", pid_), errno);
  return absl::OkStatus();
}

void Process::Kill() {
  if (reaped_) return;
  kill(pid_, SIGKILL);
  // SIGKILL cannot be caught; the bound only guards against a process stuck in uninterruptible sleep.
  if (auto status = WaitPidFor(pid_, 10000)) Reap(*status);
}

}  // namespace netmon::testenv
