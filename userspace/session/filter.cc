// SPDX-License-Identifier: Apache-2.0
#include "session/filter.h"

#include <arpa/inet.h>

#include <charconv>
#include <cstring>

#include "common/inet_pton.h"
#include "common/quote.h"
#include "common/str_cat.h"

namespace netmon::session {

bool IpPrefix::Contains(const std::array<uint8_t, 16>& a) const {
  uint8_t bits = length > 128 ? 128 : length;
  for (int i = 0; i < 16 && bits > 0; ++i) {
    uint8_t take = bits >= 8 ? 8 : bits;
    auto mask = static_cast<uint8_t>(0xff << (8 - take));
    if ((a[i] ^ addr[i]) & mask) return false;
    bits -= take;
  }
  return true;
}

std::string IpPrefix::ToString() const {
  char buf[INET6_ADDRSTRLEN];
  const char* text =
      v4 ? inet_ntop(AF_INET, addr.data() + 12, buf, sizeof(buf)) : inet_ntop(AF_INET6, addr.data(), buf, sizeof(buf));
  std::string out = text != nullptr ? text : "?";
  int family_len = v4 ? length - 96 : length;
  if (family_len != (v4 ? 32 : 128)) out += StrCat("/", family_len);
  return out;
}

absl::StatusOr<IpPrefix> ParseIpOrPrefix(std::string_view text) {
  std::string addr_part(text.substr(0, text.find('/')));
  std::optional<int> len;
  if (size_t slash = text.find('/'); slash != std::string_view::npos) {
    std::string_view digits = text.substr(slash + 1);
    int v = -1;
    auto res = std::from_chars(digits.data(), digits.data() + digits.size(), v);
    if (digits.empty() || res.ec != std::errc() || res.ptr != digits.data() + digits.size() || v < 0) {
      return absl::InvalidArgumentError(StrCat(QuoteUntrusted(text), ": bad prefix length"));
    }
    len = v;
  }
  IpPrefix p;
  in_addr v4{};
  if (InetPton(AF_INET, addr_part, &v4) == 1) {
    if (len && *len > 32)
      return absl::InvalidArgumentError(StrCat(QuoteUntrusted(text), ": IPv4 prefix longer than 32"));
    p.v4 = true;
    p.addr[10] = p.addr[11] = 0xff;
    std::memcpy(p.addr.data() + 12, &v4, 4);
    p.length = static_cast<uint8_t>(96 + (len ? *len : 32));
  } else if (InetPton(AF_INET6, addr_part, p.addr.data()) == 1) {
    if (len && *len > 128)
      return absl::InvalidArgumentError(StrCat(QuoteUntrusted(text), ": IPv6 prefix longer than 128"));
    p.length = static_cast<uint8_t>(len ? *len : 128);
    // An IPv4-mapped literal is that IPv4 address: events carry IPv4 that way.
    static constexpr uint8_t kMapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    p.v4 = std::memcmp(p.addr.data(), kMapped, 12) == 0 && p.length >= 96;
  } else {
    return absl::InvalidArgumentError(StrCat(QuoteUntrusted(text), " is not an IPv4/IPv6 address or CIDR prefix"));
  }
  // Clear host bits so equal prefixes compare equal.
  uint8_t bits = p.length;
  for (int i = 0; i < 16; ++i) {
    uint8_t take = bits >= 8 ? 8 : bits;
    p.addr[i] &= take == 0 ? 0 : static_cast<uint8_t>(0xff << (8 - take));
    bits -= take;
  }
  return p;
}

bool Filter::Matches(const join::Event& ev) const {
  if (pid != 0 && ev.pid != pid) return false;
  if (port != 0 && ev.src.port != port && ev.dst.port != port) return false;
  if (source && !source->Contains(ev.src.addr)) return false;
  if (destination && !destination->Contains(ev.dst.addr)) return false;
  return true;
}

netmon_filter Filter::ToKernel() const {
  netmon_filter f{};
  if (pid != 0) {
    f.flags |= NETMON_FILTER_PID;
    f.tgid = pid;
  }
  if (port != 0) {
    f.flags |= NETMON_FILTER_PORT;
    f.port = port;
  }
  if (source) {
    f.flags |= NETMON_FILTER_SRC;
    std::memcpy(f.src_addr, source->addr.data(), 16);
    f.src_prefix = source->length;
  }
  if (destination) {
    f.flags |= NETMON_FILTER_DST;
    std::memcpy(f.dst_addr, destination->addr.data(), 16);
    f.dst_prefix = destination->length;
  }
  return f;
}

bool Filter::operator==(const Filter& o) const {
  auto same = [](const std::optional<IpPrefix>& a, const std::optional<IpPrefix>& b) {
    if (a.has_value() != b.has_value()) return false;
    return !a || (a->addr == b->addr && a->length == b->length);
  };
  return pid == o.pid && port == o.port && same(source, o.source) && same(destination, o.destination);
}

std::vector<netmon_filter> KernelUnion(const std::vector<Filter>& filters) {
  std::vector<Filter> distinct;
  for (const Filter& f : filters) {
    if (f.MatchesAll()) return {netmon_filter{}};
    bool dup = false;
    for (const Filter& d : distinct) dup = dup || d == f;
    if (!dup) distinct.push_back(f);
  }
  if (distinct.size() > NETMON_MAX_FILTERS) return {netmon_filter{}};
  std::vector<netmon_filter> out;
  out.reserve(distinct.size());
  for (const Filter& f : distinct) out.push_back(f.ToKernel());
  return out;
}

}  // namespace netmon::session
