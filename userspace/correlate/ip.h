// SPDX-License-Identifier: Apache-2.0
// Addresses as the correlator compares them: every IPv4 address is held as IPv4-mapped IPv6 (::ffff:a.b.c.d), so an
// event written "10.1.1.1:443", a NetFlow v5 record and an IPFIX sourceIPv6Address of ::ffff:10.1.1.1 all compare
// equal. Parsing accepts only literals (inet_pton), never names: nothing here may block on DNS.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace netmon::correlate {

struct IpAddr {
  std::array<uint8_t, 16> bytes{};

  bool operator==(const IpAddr&) const = default;
  auto operator<=>(const IpAddr&) const = default;

  bool IsV4() const;
  bool IsUnspecified() const;
  static IpAddr FromV4(uint32_t host_order);
  static IpAddr FromV4Bytes(const uint8_t b[4]);
  static IpAddr FromV6Bytes(const uint8_t b[16]);
  // "10.1.1.1" or "2001:db8::1" (an IPv4-mapped address prints as IPv4).
  std::string ToString() const;
};

struct IpHash {
  size_t operator()(const IpAddr& a) const;
};

// A literal address, IPv4 or IPv6 (no brackets, no port, no zone). nullopt on anything else.
std::optional<IpAddr> ParseIp(std::string_view text);

struct Endpoint {
  IpAddr ip;
  uint16_t port = 0;
  bool operator==(const Endpoint&) const = default;
  auto operator<=>(const Endpoint&) const = default;
  // "10.1.1.1:443" / "[2001:db8::1]:443" as docs/architecture.md §4.3 writes them.
  std::string ToString() const;
};

// "IP:port" or "[IPv6]:port" (port 0..65535). nullopt otherwise.
std::optional<Endpoint> ParseEndpoint(std::string_view text);

struct Prefix {
  IpAddr network;  // host bits cleared
  int length = 0;  // 0..128 over the mapped form (an IPv4 /24 is stored as /120)
  bool operator==(const Prefix&) const = default;
};

// "10.1.1.0/24", "2001:db8::/32", or a bare address (a host prefix). The address may carry host bits
// ("10.1.1.1/24" is the interface address form); they are cleared in `network`.
std::optional<Prefix> ParsePrefix(std::string_view text);
IpAddr MaskAddr(const IpAddr& a, int length);

}  // namespace netmon::correlate
