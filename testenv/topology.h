// SPDX-License-Identifier: Apache-2.0
// Two throwaway hosts, "client" and "server", joined by one veth pair, addressed and reachable over IPv4 and IPv6
// the moment Create() returns: no DAD, permanent neighbour entries both ways (no ARP/ND on the wire), default
// routes via the peer. The veth ends are created directly inside the namespaces, so their names never exist in
// the host namespace and concurrent test binaries cannot collide.
#pragma once

#include <string>

#include "absl/status/statusor.h"
#include "testenv/netns.h"

namespace netmon::testenv {

struct VethEnd {
  std::string ifname;  // inside its namespace: "nm-client" / "nm-server"
  int ifindex = 0;     // inside its namespace
  std::string ipv4;    // literal, no prefix length (/24)
  std::string ipv6;    // literal, no prefix length (/64)
  std::string mac;     // "02:6e:6d:…", lower case
};

class Topology {
 public:
  // Client .1 / ::1, server .2 / ::2 in 10.<200 + pid % 50>.<counter % 250 + 1>.0/24 and
  // fd00:6e6d:<same two numbers>::/64.
  static absl::StatusOr<Topology> Create();

  Topology(Topology&&) noexcept = default;
  Topology& operator=(Topology&&) noexcept = default;
  Topology(const Topology&) = delete;
  Topology& operator=(const Topology&) = delete;
  ~Topology() = default;  // the namespaces go, and the veth pair with them

  Netns& client() { return client_; }
  Netns& server() { return server_; }
  const Netns& client() const { return client_; }
  const Netns& server() const { return server_; }
  const VethEnd& client_end() const { return client_end_; }
  const VethEnd& server_end() const { return server_end_; }

 private:
  Topology(Netns client, Netns server) : client_(std::move(client)), server_(std::move(server)) {}

  Netns client_;
  Netns server_;
  VethEnd client_end_;
  VethEnd server_end_;
};

}  // namespace netmon::testenv
