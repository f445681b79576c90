// SPDX-License-Identifier: Apache-2.0
#include "join/endpoint.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

namespace netmon::join {

bool IsV4Mapped(const uint8_t addr[16]) {
  static constexpr uint8_t kPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
  return std::memcmp(addr, kPrefix, sizeof(kPrefix)) == 0;
}

std::string FormatIp(const uint8_t addr[16]) {
  char buf[INET6_ADDRSTRLEN];
  const char* text =
      IsV4Mapped(addr) ? inet_ntop(AF_INET, addr + 12, buf, sizeof(buf)) : inet_ntop(AF_INET6, addr, buf, sizeof(buf));
  return text != nullptr ? std::string(text) : std::string("?");
}

std::string FormatEndpoint(const uint8_t addr[16], uint16_t port) {
  char buf[INET6_ADDRSTRLEN + 9];
  size_t n = 0;
  bool v4 = IsV4Mapped(addr);
  if (!v4) buf[n++] = '[';
  const char* text = v4 ? inet_ntop(AF_INET, addr + 12, buf + n, sizeof(buf) - n)
                        : inet_ntop(AF_INET6, addr, buf + n, sizeof(buf) - n);
  if (text == nullptr) return "?";
  n += std::strlen(buf + n);
  if (!v4) buf[n++] = ']';
  buf[n++] = ':';
  auto res = std::to_chars(buf + n, buf + sizeof(buf), port);
  return std::string(buf, res.ptr);
}

Endpoint LocalOf(const netmon_tuple& t) {
  Endpoint ep;
  std::memcpy(ep.addr.data(), t.local_addr, 16);
  ep.port = t.local_port;
  return ep;
}

Endpoint RemoteOf(const netmon_tuple& t) {
  Endpoint ep;
  std::memcpy(ep.addr.data(), t.remote_addr, 16);
  ep.port = t.remote_port;
  return ep;
}

std::string SanitizeComm(const char* comm, size_t max_len) {
  std::string out;
  for (size_t i = 0; i < max_len && comm[i] != '\0'; ++i) {
    auto c = static_cast<unsigned char>(comm[i]);
    out.push_back(c >= 0x20 && c < 0x7f ? static_cast<char>(c) : '?');
  }
  return out;
}

}  // namespace netmon::join
