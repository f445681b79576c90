// SPDX-License-Identifier: Apache-2.0
// A capture's filter (docs/architecture.md §4.4), validated from the request, matched exactly against each event in
// userspace, and turned into the kernel's over-approximating netmon_filter entries.
#pragma once

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "join/event.h"
#include "netmon/abi.h"

namespace netmon::session {

// An address or prefix over the 128-bit form (IPv4 as ::ffff:a.b.c.d, so an IPv4 /n is a /(96+n)).
struct IpPrefix {
  std::array<uint8_t, 16> addr{};  // host bits cleared
  uint8_t length = 128;
  bool v4 = false;

  bool Contains(const std::array<uint8_t, 16>& a) const;
  // "10.0.0.1", "10.0.0.0/8", "2001:db8::/32" (the prefix length in the family's own terms).
  std::string ToString() const;
};

// Parses an IPv4/IPv6 literal, or (extension) a CIDR prefix "addr/len".
absl::StatusOr<IpPrefix> ParseIpOrPrefix(std::string_view text);

struct Filter {
  uint32_t pid = 0;                     // 0 = any
  uint16_t port = 0;                    // 0 = any; local or remote
  std::optional<IpPrefix> source;       // the event's source (initiator)
  std::optional<IpPrefix> destination;  // the event's destination (responder)

  bool MatchesAll() const { return pid == 0 && port == 0 && !source && !destination; }
  // Every set field must match (AND). Unattributed events (pid 0) never match a PID filter.
  bool Matches(const join::Event& ev) const;
  // The kernel form. The kernel cannot tell initiator from responder per packet, so it checks addresses
  // against either side: a superset of what Matches() keeps.
  netmon_filter ToKernel() const;
  bool operator==(const Filter&) const;
};

// The union the kernel keeps: deduplicated; one match-all entry if any filter matches everything or there are
// more distinct filters than the kernel table holds (over-approximation is allowed, under- never).
std::vector<netmon_filter> KernelUnion(const std::vector<Filter>& filters);

}  // namespace netmon::session
