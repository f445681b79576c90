// SPDX-License-Identifier: Apache-2.0
#include "testenv/spawn.h"

#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <thread>

#include "common/status.h"
#include "common/str_cat.h"
#include "common/unique_fd.h"

extern char** environ;

namespace netmon::testenv {
namespace {

// What the child reports through the error pipe when it cannot reach exec.
struct ChildFailure {
  int stage;  // index into kStageNames
  int err;
};
constexpr const char* kStageNames[] = {"set parent-death signal", "enter network namespace", "redirect stdio", "exec"};

// Only async-signal-safe calls from here on: the parent may have other threads holding malloc or stdio locks.
[[noreturn]] void ChildFail(int report_fd, int stage) {
  ChildFailure failure{stage, errno};
  ssize_t ignored = write(report_fd, &failure, sizeof(failure));
  (void)ignored;
  _exit(127);
}

bool MoveTo(int fd, int target) {
  if (fd < 0) return true;
  if (fd == target) {  // dup2 would be a no-op and leave O_CLOEXEC set
    int flags = fcntl(fd, F_GETFD);
    return flags >= 0 && fcntl(fd, F_SETFD, flags & ~FD_CLOEXEC) == 0;
  }
  return dup2(fd, target) == target;
}

[[noreturn]] void RunChild(pid_t parent, int report_fd, int netns_fd, const ChildStdio& stdio, const char* path,
                           char* const* argv) {
  if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0) ChildFail(report_fd, 0);
  if (getppid() != parent) _exit(127);  // the parent died before prctl took effect
  sigset_t none;
  sigemptyset(&none);
  sigprocmask(SIG_SETMASK, &none, nullptr);
  (void)signal(SIGPIPE, SIG_DFL);  // an ignored SIGPIPE survives exec and would change the program's behaviour
  if (netns_fd >= 0 && setns(netns_fd, CLONE_NEWNET) != 0) ChildFail(report_fd, 1);
  // Move stdio sources out of 0..2 first so one redirection cannot clobber another's source.
  int in = stdio.in >= 0 && stdio.in < 3 ? fcntl(stdio.in, F_DUPFD_CLOEXEC, 3) : stdio.in;
  int out = stdio.out >= 0 && stdio.out < 3 ? fcntl(stdio.out, F_DUPFD_CLOEXEC, 3) : stdio.out;
  int err = stdio.err >= 0 && stdio.err < 3 ? fcntl(stdio.err, F_DUPFD_CLOEXEC, 3) : stdio.err;
  if (!MoveTo(in, 0) || !MoveTo(out, 1) || !MoveTo(err, 2)) ChildFail(report_fd, 2);
  // Descriptors the test opened without O_CLOEXEC (sockets, BPF objects) must not leak into the program.
  close_range(3, ~0U, CLOSE_RANGE_CLOEXEC);
  execve(path, argv, environ);
  ChildFail(report_fd, 3);
}

}  // namespace

absl::StatusOr<std::string> ResolveExecutable(const std::string& name) {
  if (name.empty()) return absl::InvalidArgumentError("empty program name");
  if (name.find('/') != std::string::npos) {
    if (access(name.c_str(), X_OK) != 0) return ErrnoError("access", name, errno);
    return name;
  }
  const char* env_path = getenv("PATH");
  std::string path = env_path != nullptr && *env_path != '\0'
                         ? env_path
                         : "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";
  // Tests run as root, and root's PATH may lack the sbin directories where ip and dnsmasq live.
  path += ":/usr/sbin:/sbin";
  size_t start = 0;
  while (start <= path.size()) {
    size_t end = path.find(':', start);
    if (end == std::string::npos) end = path.size();
    std::string dir = path.substr(start, end - start);
    if (!dir.empty()) {
      std::string candidate = StrCat(dir, "/", name);
      if (access(candidate.c_str(), X_OK) == 0) return candidate;
    }
    start = end + 1;
  }
  return absl::NotFoundError(StrCat("program \"", name, "\" not found in PATH (", path, ")"));
}

absl::StatusOr<pid_t> ForkExec(int netns_fd, const std::vector<std::string>& argv, const ChildStdio& stdio) {
  if (argv.empty()) return absl::InvalidArgumentError("ForkExec: empty argv");
  NETMON_ASSIGN_OR_RETURN(std::string path, ResolveExecutable(argv[0]));
  std::vector<char*> cargv;
  cargv.reserve(argv.size() + 1);
  for (const std::string& arg : argv) cargv.push_back(const_cast<char*>(arg.c_str()));
  cargv.push_back(nullptr);

  int report[2];
  if (pipe2(report, O_CLOEXEC) != 0) return ErrnoError("pipe2", "exec report pipe", errno);
  UniqueFd report_read(report[0]);
  UniqueFd report_write(report[1]);

  pid_t parent = getpid();
  pid_t pid = fork();
  if (pid < 0) return ErrnoError("fork", argv[0], errno);
  if (pid == 0) RunChild(parent, report_write.get(), netns_fd, stdio, path.c_str(), cargv.data());

  report_write.Reset();
  ChildFailure failure{};
  ssize_t n;
  do {
    n = read(report_read.get(), &failure, sizeof(failure));
  } while (n < 0 && errno == EINTR);
  if (n == 0) return pid;  // the pipe closed at exec: the program runs
  int status = 0;
  while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (n != static_cast<ssize_t>(sizeof(failure)) || failure.stage < 0 || failure.stage > 3) {
    return absl::InternalError(
        StrCat("starting ", path, ": child failed before exec (exit code ", ExitCodeOf(status), ")"));
  }
  return ErrnoError(StrCat("starting ", path, ": ", kStageNames[failure.stage]), "", failure.err);
}

std::optional<int> WaitPidFor(pid_t pid, int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  auto step = std::chrono::microseconds(200);
  while (true) {
    int status = 0;
    pid_t r = waitpid(pid, &status, WNOHANG);
    if (r == pid) return status;
    if (r < 0 && errno != EINTR) return 0;  // not our child any more (reaped elsewhere): report a clean exit
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(step);
    step = std::min(step * 2, std::chrono::microseconds(10000));
  }
}

int ExitCodeOf(int wait_status) {
  if (WIFEXITED(wait_status)) return WEXITSTATUS(wait_status);
  if (WIFSIGNALED(wait_status)) return 128 + WTERMSIG(wait_status);
  return -1;
}

}  // namespace netmon::testenv
