// SPDX-License-Identifier: Apache-2.0
// udp-send and udp-serve.
#include <arpa/inet.h>
#include <unistd.h>

#include <cerrno>
#include <vector>

#include "testenv/trafficgen/modes.h"
#include "testenv/trafficgen/net.h"
#include "testenv/trafficgen/report.h"

namespace netmon::trafficgen {
namespace {

constexpr size_t kMaxDatagram = 65535;

// recvfrom bounded by SO_RCVTIMEO; returns the datagram size.
ssize_t RecvDatagram(int fd, std::vector<char>& buf, Endpoint* from) {
  while (true) {
    from->len = sizeof(from->addr);
    ssize_t got = recvfrom(fd, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from->addr), &from->len);
    if (got >= 0) return got;
    if (errno == EINTR) continue;
    Fail("recvfrom", errno == EAGAIN ? ETIMEDOUT : errno);
  }
}

// The address the datagrams carried: the socket's own, or for a wildcard-bound socket the source address the
// routing table picks for `to` (asked with a throwaway connected socket) plus the socket's port.
std::string SourceEndpoint(int fd, const Endpoint& to) {
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return "";
  auto* sin = reinterpret_cast<sockaddr_in*>(&ss);
  auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
  bool wildcard =
      ss.ss_family == AF_INET ? sin->sin_addr.s_addr == htonl(INADDR_ANY) : IN6_IS_ADDR_UNSPECIFIED(&sin6->sin6_addr);
  if (wildcard) {
    int probe = socket(to.family(), SOCK_DGRAM | SOCK_CLOEXEC, 0);
    sockaddr_storage src{};
    socklen_t src_len = sizeof(src);
    if (probe >= 0 && connect(probe, to.sa(), to.len) == 0 &&
        getsockname(probe, reinterpret_cast<sockaddr*>(&src), &src_len) == 0) {
      if (ss.ss_family == AF_INET) {
        sin->sin_addr = reinterpret_cast<sockaddr_in*>(&src)->sin_addr;
      } else {
        sin6->sin6_addr = reinterpret_cast<sockaddr_in6*>(&src)->sin6_addr;
      }
    }
    if (probe >= 0) close(probe);
  }
  return FormatEndpoint(reinterpret_cast<sockaddr*>(&ss));
}

}  // namespace

int UdpSend(const Options& opts, const Common& common) {
  Endpoint to = RequireEndpoint(opts, "to", false);
  int64_t bytes = IntOption(opts, "bytes", 0);
  int64_t count = IntOption(opts, "count", 1);
  int64_t interval_ms = IntOption(opts, "interval-ms", 0);
  bool connected_mode = opts.Has("connect");
  bool want_reply = opts.Has("recv-reply");
  if (bytes > static_cast<int64_t>(kMaxDatagram) - 48) FailWith("options", "EMSGSIZE", "--bytes too large for UDP");

  int fd = OpenSocket(to.family(), SOCK_DGRAM, common.timeout_ms);
  if (opts.Has("bind")) BindTo(fd, RequireEndpoint(opts, "bind", true));
  Report report;
  report.remote = FormatEndpoint(to.sa());
  if (connected_mode) {
    if (connect(fd, to.sa(), to.len) != 0) Fail("connect", errno);
    report.event = "connected";
    report.local = LocalOf(fd);
    Emit(report);
  }
  if (opts.Has("wait-go")) WaitForGo(common.timeout_ms);

  std::vector<char> payload(static_cast<size_t>(bytes));
  FillPattern(payload.data(), payload.size());
  std::vector<char> reply(kMaxDatagram);
  int64_t sent = 0, received = 0;
  for (int64_t i = 0; i < count; ++i) {
    if (i > 0 && interval_ms > 0) SleepMs(interval_ms);
    ssize_t n = connected_mode ? send(fd, payload.data(), payload.size(), 0)
                               : sendto(fd, payload.data(), payload.size(), 0, to.sa(), to.len);
    if (n < 0) Fail(connected_mode ? "send" : "sendto", errno);
    sent += n;
    if (want_reply) {
      Endpoint from;
      received += RecvDatagram(fd, reply, &from);
    }
  }
  report.event = "done";
  report.local = SourceEndpoint(fd, to);
  report.sent = sent;
  report.received = received;
  report.datagrams = count;
  close(fd);
  Emit(report);
  return 0;
}

int UdpServe(const Options& opts, const Common& common) {
  Endpoint listen_on = RequireEndpoint(opts, "listen", false);
  int64_t count = IntOption(opts, "count", 1);
  bool reply = opts.Has("reply");
  int64_t reply_bytes = IntOption(opts, "reply", 0);
  if (reply_bytes > static_cast<int64_t>(kMaxDatagram) - 48) FailWith("options", "EMSGSIZE", "--reply too large");

  int fd = OpenSocket(listen_on.family(), SOCK_DGRAM, common.timeout_ms);
  SetIntOption(fd, SOL_SOCKET, SO_REUSEADDR, 1, "SO_REUSEADDR");
  if (opts.Has("reuseport")) SetIntOption(fd, SOL_SOCKET, SO_REUSEPORT, 1, "SO_REUSEPORT");
  BindTo(fd, listen_on);
  Report report;
  report.event = "listening";
  report.local = LocalOf(fd);
  Emit(report);

  std::vector<char> buf(kMaxDatagram);
  std::vector<char> answer(static_cast<size_t>(reply_bytes));
  FillPattern(answer.data(), answer.size());
  int64_t sent = 0, received = 0;
  Endpoint from;
  for (int64_t i = 0; i < count; ++i) {
    received += RecvDatagram(fd, buf, &from);
    if (reply) {
      ssize_t n = sendto(fd, answer.data(), answer.size(), 0, from.sa(), from.len);
      if (n < 0) Fail("sendto", errno);
      sent += n;
    }
  }
  report.event = "done";
  report.remote = FormatEndpoint(from.sa());
  report.sent = sent;
  report.received = received;
  report.datagrams = count;
  close(fd);
  Emit(report);
  return 0;
}

}  // namespace netmon::trafficgen
