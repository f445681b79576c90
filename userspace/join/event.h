// SPDX-License-Identifier: Apache-2.0
// The join's output: one NetworkEvent (docs/architecture.md §4.3) as plain C++, plus what capture sessions need to filter
// it exactly. Kept free of protobuf and gRPC so the join and the sessions are testable without either; the rpc
// layer translates it field by field.
#pragma once

#include <array>
#include <cstdint>
#include <string>
#include <string_view>

namespace netmon::join {

enum class EventType : uint8_t {
  kConnect = 0,
  kAccept,
  kClose,
  kData,
  kDnsQuery,
  kDnsResponse,
};

// The wire names of §4.3: "CONNECT", "ACCEPT", "CLOSE", "DATA", "DNS_QUERY", "DNS_RESPONSE".
std::string_view EventTypeName(EventType type);

// An address (16 bytes, network order, IPv4 as ::ffff:a.b.c.d as in netmon_tuple) and a host-order port.
struct Endpoint {
  std::array<uint8_t, 16> addr{};
  uint16_t port = 0;
  bool operator==(const Endpoint&) const = default;
};

struct Event {
  int64_t timestamp_ns = 0;  // Unix epoch nanoseconds
  int64_t bytes_sent = 0;    // process point of view
  int64_t bytes_received = 0;
  // Packets the event covers (DATA: sent + received). Not on the wire as a field; sessions use it to count
  // unattributed packets.
  uint64_t packets = 0;
  uint32_t pid = 0;  // TGID in the host PID namespace; 0 = no process could be tied to it
  EventType type = EventType::kData;
  uint8_t proto = 0;  // IPPROTO_TCP / IPPROTO_UDP
  // Filter view, not sent: the initiator (source) and responder (dest) of the flow. Equal to source_addr /
  // dest_addr except for DNS responses, whose wire addresses follow the packet (server -> client) while the
  // filter view stays client -> server, so a session filtered on its client's address sees the answers too.
  Endpoint src;
  Endpoint dst;
  std::string process_name;  // comm, printable ASCII; "" when pid == 0
  std::string source_addr;   // "192.0.2.1:443" / "[2001:db8::1]:443"
  std::string dest_addr;
  std::string extra_info;  // JSON object
};

}  // namespace netmon::join
