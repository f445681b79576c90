// SPDX-License-Identifier: Apache-2.0
// tcp-connect and tcp-serve.
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <vector>

#include "testenv/trafficgen/modes.h"
#include "testenv/trafficgen/net.h"
#include "testenv/trafficgen/report.h"

namespace netmon::trafficgen {
namespace {

// One accepted connection: read exactly n, send exactly m, close, report.
void ServeConnection(int fd, int64_t recv_bytes, int64_t send_bytes) {
  Report done;
  done.event = "done";
  done.local = LocalOf(fd);
  done.remote = RemoteOf(fd);
  RecvExact(fd, recv_bytes);
  SendExact(fd, send_bytes);
  close(fd);
  done.sent = send_bytes;
  done.received = recv_bytes;
  Emit(done);
}

// Reaps the forked children; true if all of them exited 0 in time (stragglers are killed).
bool ReapChildren(std::vector<pid_t>& children, int timeout_ms) {
  bool all_ok = true;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!children.empty()) {
    for (auto it = children.begin(); it != children.end();) {
      int status = 0;
      pid_t r = waitpid(*it, &status, WNOHANG);
      if (r == 0) {
        ++it;
        continue;
      }
      if (r < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0) all_ok = false;
      it = children.erase(it);
    }
    if (children.empty()) break;
    if (std::chrono::steady_clock::now() >= deadline) {
      for (pid_t child : children) {
        kill(child, SIGKILL);
        waitpid(child, nullptr, 0);
      }
      FailWith("wait for children", "ETIMEDOUT", std::to_string(children.size()) + " child(ren) still running");
    }
    SleepMs(5);
  }
  return all_ok;
}

}  // namespace

int TcpConnect(const Options& opts, const Common& common) {
  Endpoint to = RequireEndpoint(opts, "to", false);
  int64_t send_bytes = IntOption(opts, "send", 0);
  int64_t recv_bytes = IntOption(opts, "recv", 0);
  int64_t hold_ms = IntOption(opts, "hold-ms", 0);

  int fd = OpenSocket(to.family(), SOCK_STREAM, common.timeout_ms);
  if (opts.Has("bind")) {
    Endpoint local = RequireEndpoint(opts, "bind", true);
    SetIntOption(fd, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR");  // fixed source ports across test repeats
    BindTo(fd, local);
  }
  ConnectWithin(fd, to, common.timeout_ms);
  Report connected;
  connected.event = "connected";
  connected.local = LocalOf(fd);
  connected.remote = RemoteOf(fd);
  Emit(connected);

  if (opts.Has("wait-go")) WaitForGo(common.timeout_ms);
  SendExact(fd, send_bytes);
  RecvExact(fd, recv_bytes);
  if (hold_ms > 0) SleepMs(hold_ms);
  close(fd);

  Report done = connected;
  done.event = "done";
  done.sent = send_bytes;
  done.received = recv_bytes;
  Emit(done);
  return 0;
}

int TcpServe(const Options& opts, const Common& common) {
  Endpoint listen_on = RequireEndpoint(opts, "listen", false);
  int64_t recv_bytes = IntOption(opts, "recv", 0);
  int64_t send_bytes = IntOption(opts, "send", 0);
  int64_t count = IntOption(opts, "count", 1);
  bool fork_per_connection = opts.Has("accept-fork");
  // Holds each accept() back: the peer's data then arrives while the connection sits in the accept queue.
  int64_t accept_delay_ms = IntOption(opts, "accept-delay-ms", 0);

  int listen_fd = OpenSocket(listen_on.family(), SOCK_STREAM, common.timeout_ms);
  SetIntOption(listen_fd, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR");
  if (opts.Has("reuseport")) SetIntOption(listen_fd, SOL_SOCKET, SO_REUSEPORT, 1, "SO_REUSEPORT");
  BindTo(listen_fd, listen_on);
  if (listen(listen_fd, 128) != 0) Fail("listen", errno);
  Report listening;
  listening.event = "listening";
  listening.local = LocalOf(listen_fd);
  Emit(listening);

  std::vector<pid_t> children;
  for (int64_t i = 0; i < count; ++i) {
    if (accept_delay_ms > 0) {
      WaitReadable(listen_fd, common.timeout_ms);  // a connection is queued
      SleepMs(accept_delay_ms);
    }
    int fd = AcceptWithin(listen_fd, common.timeout_ms);
    Report accepted;
    accepted.event = "accepted";
    accepted.local = LocalOf(fd);
    accepted.remote = RemoteOf(fd);
    Emit(accepted);
    if (!fork_per_connection) {
      ServeConnection(fd, recv_bytes, send_bytes);
      continue;
    }
    pid_t child = fork();
    if (child < 0) Fail("fork", errno);
    if (child == 0) {
      close(listen_fd);
      MarkForkedChild();
      Report forked = accepted;
      forked.event = "child";
      Emit(forked);
      ServeConnection(fd, recv_bytes, send_bytes);
      _exit(0);  // stdout is flushed after every line; skip the parent's atexit work
    }
    close(fd);
    children.push_back(child);
  }
  close(listen_fd);
  return ReapChildren(children, common.timeout_ms) ? 0 : 2;
}

}  // namespace netmon::trafficgen
