// SPDX-License-Identifier: Apache-2.0
#include "testenv/trafficgen/net.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <poll.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <ctime>
#include <vector>

#include "testenv/trafficgen/report.h"

namespace netmon::trafficgen {

bool ParseEndpoint(const std::string& text, bool allow_no_port, Endpoint* out) {
  std::string host = text;
  std::string port;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string::npos) return false;
    host = text.substr(1, close - 1);
    if (close + 1 < text.size()) {
      if (text[close + 1] != ':') return false;
      port = text.substr(close + 2);
    }
  } else if (size_t colon = text.rfind(':'); colon != std::string::npos && text.find(':') == colon) {
    host = text.substr(0, colon);  // exactly one colon: IPv4 with port
    port = text.substr(colon + 1);
  }
  unsigned port_num = 0;
  if (port.empty()) {
    if (!allow_no_port) return false;
  } else {
    auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), port_num);
    if (ec != std::errc() || end != port.data() + port.size() || port_num > 65535) return false;
  }
  *out = Endpoint{};
  auto* sin = reinterpret_cast<sockaddr_in*>(&out->addr);
  auto* sin6 = reinterpret_cast<sockaddr_in6*>(&out->addr);
  if (inet_pton(AF_INET, host.c_str(), &sin->sin_addr) == 1) {
    sin->sin_family = AF_INET;
    sin->sin_port = htons(static_cast<uint16_t>(port_num));
    out->len = sizeof(sockaddr_in);
    return true;
  }
  *out = Endpoint{};
  if (inet_pton(AF_INET6, host.c_str(), &sin6->sin6_addr) == 1) {
    sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(static_cast<uint16_t>(port_num));
    out->len = sizeof(sockaddr_in6);
    return true;
  }
  return false;
}

std::string FormatEndpoint(const sockaddr* sa) {
  // Formatted into a buffer, not by std::string operator+: GCC 12 at -O3 reports a false -Wrestrict inside
  // libstdc++'s basic_string concatenation (GCC bug 105329).
  char ip[INET6_ADDRSTRLEN] = "";
  char out[INET6_ADDRSTRLEN + sizeof("[]:65535")] = "";
  if (sa->sa_family == AF_INET) {
    auto* sin = reinterpret_cast<const sockaddr_in*>(sa);
    inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
    snprintf(out, sizeof(out), "%s:%u", ip, static_cast<unsigned>(ntohs(sin->sin_port)));
  } else if (sa->sa_family == AF_INET6) {
    auto* sin6 = reinterpret_cast<const sockaddr_in6*>(sa);
    inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof(ip));
    snprintf(out, sizeof(out), "[%s]:%u", ip, static_cast<unsigned>(ntohs(sin6->sin6_port)));
  }
  return out;
}

std::string LocalOf(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  if (getsockname(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return "";
  return FormatEndpoint(reinterpret_cast<sockaddr*>(&ss));
}

std::string RemoteOf(int fd) {
  sockaddr_storage ss{};
  socklen_t len = sizeof(ss);
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&ss), &len) != 0) return "";
  return FormatEndpoint(reinterpret_cast<sockaddr*>(&ss));
}

void SetIntOption(int fd, int level, int name, int value, const char* what) {
  if (setsockopt(fd, level, name, &value, sizeof(value)) != 0) Fail(std::string("setsockopt ") + what, errno);
}

int OpenSocket(int family, int type, int timeout_ms) {
  int fd = socket(family, type | SOCK_CLOEXEC, 0);
  if (fd < 0) Fail("socket", errno);
  timeval tv{timeout_ms / 1000, static_cast<suseconds_t>(timeout_ms % 1000) * 1000};
  if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) != 0) Fail("setsockopt SO_RCVTIMEO", errno);
  if (setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) != 0) Fail("setsockopt SO_SNDTIMEO", errno);
  // An IPv6 socket must see only IPv6, or a v6 test could silently carry v4-mapped traffic.
  if (family == AF_INET6) SetIntOption(fd, IPPROTO_IPV6, IPV6_V6ONLY, 1, "IPV6_V6ONLY");
  return fd;
}

void BindTo(int fd, const Endpoint& ep) {
  if (bind(fd, ep.sa(), ep.len) != 0) Fail("bind", errno);
}

void ConnectWithin(int fd, const Endpoint& ep, int timeout_ms) {
  int flags = fcntl(fd, F_GETFL);
  fcntl(fd, F_SETFL, flags | O_NONBLOCK);
  if (connect(fd, ep.sa(), ep.len) != 0) {
    if (errno != EINPROGRESS) Fail("connect", errno);
    pollfd pfd{fd, POLLOUT, 0};
    int n;
    do {
      n = poll(&pfd, 1, timeout_ms);
    } while (n < 0 && errno == EINTR);
    if (n == 0) Fail("connect", ETIMEDOUT);
    if (n < 0) Fail("poll", errno);
    int err = 0;
    socklen_t len = sizeof(err);
    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) Fail("connect", err);
  }
  fcntl(fd, F_SETFL, flags);
}

void WaitReadable(int fd, int timeout_ms) {
  pollfd pfd{fd, POLLIN, 0};
  int n;
  do {
    n = poll(&pfd, 1, timeout_ms);
  } while (n < 0 && errno == EINTR);
  if (n == 0) Fail("accept", ETIMEDOUT);
  if (n < 0) Fail("poll", errno);
}

int AcceptWithin(int listen_fd, int timeout_ms) {
  WaitReadable(listen_fd, timeout_ms);
  int fd = accept4(listen_fd, nullptr, nullptr, SOCK_CLOEXEC);
  if (fd < 0) Fail("accept", errno);
  return fd;
}

constexpr size_t kChunk = size_t{64} * 1024;  // per send/recv call

void FillPattern(char* buf, size_t n) {
  for (size_t i = 0; i < n; ++i) buf[i] = static_cast<char>('a' + i % 26);
}

void SendExact(int fd, int64_t n) {
  std::vector<char> buf(kChunk);
  FillPattern(buf.data(), buf.size());
  int64_t done = 0;
  while (done < n) {
    size_t chunk = static_cast<size_t>(std::min<int64_t>(n - done, static_cast<int64_t>(buf.size())));
    ssize_t sent = send(fd, buf.data(), chunk, MSG_NOSIGNAL);
    if (sent < 0) {
      if (errno == EINTR) continue;
      Fail("send", errno == EAGAIN ? ETIMEDOUT : errno);
    }
    done += sent;
  }
}

void RecvExact(int fd, int64_t n) {
  std::vector<char> buf(kChunk);
  int64_t done = 0;
  while (done < n) {
    size_t want = static_cast<size_t>(std::min<int64_t>(n - done, static_cast<int64_t>(buf.size())));
    ssize_t got = recv(fd, buf.data(), want, 0);
    if (got < 0) {
      if (errno == EINTR) continue;
      Fail("recv", errno == EAGAIN ? ETIMEDOUT : errno);
    }
    if (got == 0) {
      FailWith("recv", "EOF", "peer closed after " + std::to_string(done) + " of " + std::to_string(n) + " bytes");
    }
    done += got;
  }
}

void WaitForGo(int timeout_ms) {
  std::string line;
  while (true) {
    pollfd pfd{STDIN_FILENO, POLLIN, 0};
    int n = poll(&pfd, 1, timeout_ms);
    if (n == 0) Fail("wait for go", ETIMEDOUT);
    if (n < 0) {
      if (errno == EINTR) continue;
      Fail("poll stdin", errno);
    }
    char c;
    ssize_t got = read(STDIN_FILENO, &c, 1);
    if (got < 0 && errno == EINTR) continue;
    if (got <= 0) FailWith("wait for go", "EOF", "stdin closed before \"go\"");
    if (c != '\n') {
      line += c;
      continue;
    }
    if (line == "go") return;
    FailWith("wait for go", "EINVAL", "expected \"go\" on stdin, got \"" + line + "\"");
  }
}

void SleepMs(int64_t ms) {
  timespec ts{static_cast<time_t>(ms / 1000), static_cast<long>((ms % 1000) * 1000000)};
  while (nanosleep(&ts, &ts) != 0 && errno == EINTR) {
  }
}

}  // namespace netmon::trafficgen
