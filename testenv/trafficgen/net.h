// SPDX-License-Identifier: Apache-2.0
// Socket helpers for netmon-trafficgen. Every blocking step is bounded by the --timeout-ms budget, so a test
// never hangs on a generator; any failure goes through Fail() (an "error" line and exit status 2).
#pragma once

#include <netinet/in.h>
#include <sys/socket.h>

#include <cstdint>
#include <string>

namespace netmon::trafficgen {

struct Endpoint {
  sockaddr_storage addr{};
  socklen_t len = 0;
  int family() const { return addr.ss_family; }
  const sockaddr* sa() const { return reinterpret_cast<const sockaddr*>(&addr); }
};

// "10.0.0.1:80", "[fd00::1]:80"; with allow_no_port also "10.0.0.1", "fd00::1" (port 0).
bool ParseEndpoint(const std::string& text, bool allow_no_port, Endpoint* out);
std::string FormatEndpoint(const sockaddr* sa);
std::string LocalOf(int fd);
std::string RemoteOf(int fd);

// A socket of `family` and `type` with SO_RCVTIMEO/SO_SNDTIMEO set to timeout_ms.
int OpenSocket(int family, int type, int timeout_ms);
void SetIntOption(int fd, int level, int name, int value, const char* what);
void BindTo(int fd, const Endpoint& ep);
// Non-blocking connect bounded by timeout_ms; the socket is blocking again afterwards.
void ConnectWithin(int fd, const Endpoint& ep, int timeout_ms);
// accept4 bounded by timeout_ms.
// Until fd is readable (a listener: a connection is queued); fails the run after timeout_ms.
void WaitReadable(int fd, int timeout_ms);
int AcceptWithin(int listen_fd, int timeout_ms);

// Sends exactly n pattern bytes (MSG_NOSIGNAL: a peer's reset is an error line, not a silent SIGPIPE death).
void SendExact(int fd, int64_t n);
// Receives exactly n bytes; EOF or the timeout before that is an error.
void RecvExact(int fd, int64_t n);
// Waits up to timeout_ms for the line "go" on stdin.
void WaitForGo(int timeout_ms);
void SleepMs(int64_t ms);

// Deterministic payload, so a packet capture of a test shows recognisable bytes.
void FillPattern(char* buf, size_t n);

}  // namespace netmon::trafficgen
