// SPDX-License-Identifier: Apache-2.0
#include "correlate/ip.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

#include "common/inet_pton.h"

namespace netmon::correlate {
namespace {

constexpr uint8_t kV4MappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

bool ParsePort(std::string_view text, uint16_t* out) {
  if (text.empty() || text.size() > 5) return false;
  unsigned value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || ptr != text.data() + text.size() || value > 65535) return false;
  *out = static_cast<uint16_t>(value);
  return true;
}

}  // namespace

bool IpAddr::IsV4() const {
  return std::memcmp(bytes.data(), kV4MappedPrefix, 12) == 0;
}

bool IpAddr::IsUnspecified() const {
  for (size_t i = 0; i < 16; ++i) {
    if (i >= 12 && IsV4()) return bytes[12] == 0 && bytes[13] == 0 && bytes[14] == 0 && bytes[15] == 0;
    if (bytes[i] != 0) return false;
  }
  return true;
}

IpAddr IpAddr::FromV4(uint32_t host_order) {
  IpAddr a;
  std::memcpy(a.bytes.data(), kV4MappedPrefix, 12);
  a.bytes[12] = static_cast<uint8_t>(host_order >> 24);
  a.bytes[13] = static_cast<uint8_t>(host_order >> 16);
  a.bytes[14] = static_cast<uint8_t>(host_order >> 8);
  a.bytes[15] = static_cast<uint8_t>(host_order);
  return a;
}

IpAddr IpAddr::FromV4Bytes(const uint8_t b[4]) {
  IpAddr a;
  std::memcpy(a.bytes.data(), kV4MappedPrefix, 12);
  std::memcpy(a.bytes.data() + 12, b, 4);
  return a;
}

IpAddr IpAddr::FromV6Bytes(const uint8_t b[16]) {
  IpAddr a;
  std::memcpy(a.bytes.data(), b, 16);
  return a;
}

std::string IpAddr::ToString() const {
  char buf[INET6_ADDRSTRLEN];
  if (IsV4()) {
    inet_ntop(AF_INET, bytes.data() + 12, buf, sizeof(buf));
  } else {
    inet_ntop(AF_INET6, bytes.data(), buf, sizeof(buf));
  }
  return buf;
}

size_t IpHash::operator()(const IpAddr& a) const {
  uint64_t hi, lo;
  std::memcpy(&hi, a.bytes.data(), 8);
  std::memcpy(&lo, a.bytes.data() + 8, 8);
  // splitmix-style mixing: the low half carries all of an IPv4 address, so it must reach every output bit.
  uint64_t x = lo ^ (hi * 0x9e3779b97f4a7c15ULL);
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return static_cast<size_t>(x);
}

std::optional<IpAddr> ParseIp(std::string_view text) {
  // The longest IPv6 literal (with an embedded IPv4 tail) is 45 characters.
  if (text.empty()) return std::nullopt;
  IpAddr a;
  uint8_t v4[4];
  if (InetPton(AF_INET, text, v4) == 1) return IpAddr::FromV4Bytes(v4);
  if (InetPton(AF_INET6, text, a.bytes.data()) == 1) return a;
  return std::nullopt;
}

std::string Endpoint::ToString() const {
  std::string out;
  if (ip.IsV4()) {
    out = ip.ToString();
  } else {
    // Appended, not "[" + ...: GCC 12 at -O3 reports a false -Wrestrict inside libstdc++'s operator+ (GCC bug
    // 105329).
    out = '[';
    out += ip.ToString();
    out += ']';
  }
  out += ':';
  out += std::to_string(port);
  return out;
}

std::optional<Endpoint> ParseEndpoint(std::string_view text) {
  Endpoint ep;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') return std::nullopt;
    auto ip = ParseIp(text.substr(1, close - 1));
    // Brackets are for IPv6 only; "[10.0.0.1]:80" is not how §4.3 writes an address.
    if (!ip || ip->IsV4()) return std::nullopt;
    if (!ParsePort(text.substr(close + 2), &ep.port)) return std::nullopt;
    ep.ip = *ip;
    return ep;
  }
  size_t colon = text.rfind(':');
  if (colon == std::string_view::npos) return std::nullopt;
  auto host = text.substr(0, colon);
  if (host.find(':') != std::string_view::npos) return std::nullopt;  // IPv6 without brackets is ambiguous
  auto ip = ParseIp(host);
  if (!ip || !ip->IsV4()) return std::nullopt;
  if (!ParsePort(text.substr(colon + 1), &ep.port)) return std::nullopt;
  ep.ip = *ip;
  return ep;
}

IpAddr MaskAddr(const IpAddr& a, int length) {
  IpAddr out = a;
  if (length < 0) length = 0;
  if (length > 128) length = 128;
  for (int i = 0; i < 16; ++i) {
    int bits = length - i * 8;
    if (bits >= 8) continue;
    if (bits <= 0) {
      out.bytes[i] = 0;
    } else {
      out.bytes[i] &= static_cast<uint8_t>(0xff << (8 - bits));
    }
  }
  return out;
}

std::optional<Prefix> ParsePrefix(std::string_view text) {
  size_t slash = text.find('/');
  auto ip = ParseIp(text.substr(0, slash));
  if (!ip) return std::nullopt;
  int max_len = ip->IsV4() ? 32 : 128;
  int length = max_len;
  if (slash != std::string_view::npos) {
    auto len_text = text.substr(slash + 1);
    if (len_text.empty() || len_text.size() > 3) return std::nullopt;
    auto [ptr, ec] = std::from_chars(len_text.data(), len_text.data() + len_text.size(), length);
    if (ec != std::errc() || ptr != len_text.data() + len_text.size() || length < 0 || length > max_len) {
      return std::nullopt;
    }
  }
  if (ip->IsV4()) length += 96;
  return Prefix{MaskAddr(*ip, length), length};
}

}  // namespace netmon::correlate
