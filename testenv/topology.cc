// SPDX-License-Identifier: Apache-2.0
#include "testenv/topology.h"

#include <net/if.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>

#include "common/netns.h"
#include "common/status.h"
#include "common/str_cat.h"
#include "testenv/command.h"
#include "testenv/names.h"

namespace netmon::testenv {
namespace {

std::string Mac(int a, int b, int host) {
  char buf[18];
  (void)snprintf(buf, sizeof(buf), "02:6e:6d:%02x:%02x:%02x", a & 0xff, b & 0xff, host & 0xff);
  return buf;
}

absl::StatusOr<int> IfindexIn(const Netns& ns, const std::string& ifname) {
  NetnsGuard guard(ns.fd());
  if (!guard.ok()) return guard.status();
  unsigned index = if_nametoindex(ifname.c_str());
  if (index == 0) return ErrnoError("if_nametoindex", StrCat(ifname, " in ", ns.name()), errno);
  return static_cast<int>(index);
}

absl::Status Ip(const Netns& ns, std::vector<std::string> args) {
  args.insert(args.begin(), {"ip", "-n", ns.name()});
  return RunChecked(args).status();
}

// Addresses, link state, neighbour entry for the peer, default routes via the peer.
absl::Status ConfigureEnd(const Netns& ns, const VethEnd& self, const VethEnd& peer) {
  NETMON_RETURN_IF_ERROR(Ip(ns, {"addr", "add", self.ipv4 + "/24", "dev", self.ifname}));
  NETMON_RETURN_IF_ERROR(Ip(ns, {"-6", "addr", "add", self.ipv6 + "/64", "dev", self.ifname, "nodad"}));
  NETMON_RETURN_IF_ERROR(Ip(ns, {"link", "set", self.ifname, "up"}));
  for (const std::string* addr : {&peer.ipv4, &peer.ipv6}) {
    NETMON_RETURN_IF_ERROR(
        Ip(ns, {"neigh", "replace", *addr, "lladdr", peer.mac, "dev", self.ifname, "nud", "permanent"}));
  }
  NETMON_RETURN_IF_ERROR(Ip(ns, {"route", "replace", "default", "via", peer.ipv4, "dev", self.ifname}));
  NETMON_RETURN_IF_ERROR(Ip(ns, {"-6", "route", "replace", "default", "via", peer.ipv6, "dev", self.ifname}));
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Topology> Topology::Create() {
  // Addresses exist only inside these two namespaces; deriving them from pid and counter still keeps concurrent
  // binaries apart in case a test ever joins topologies or prints addresses into shared logs.
  const int a = 200 + getpid() % 50;
  const int b = static_cast<int>(NextCounter() % 250) + 1;
  NETMON_ASSIGN_OR_RETURN(Netns client, Netns::Create("client"));
  NETMON_ASSIGN_OR_RETURN(Netns server, Netns::Create("server"));
  Topology topo(std::move(client), std::move(server));

  topo.client_end_ =
      VethEnd{"nm-client", 0, StrCat("10.", a, ".", b, ".1"), StrCat("fd00:6e6d:", a, ":", b, "::1"), Mac(a, b, 1)};
  topo.server_end_ =
      VethEnd{"nm-server", 0, StrCat("10.", a, ".", b, ".2"), StrCat("fd00:6e6d:", a, ":", b, "::2"), Mac(a, b, 2)};
  VethEnd& c = topo.client_end_;
  VethEnd& s = topo.server_end_;

  // `ip -n client link add X netns client … peer Y netns server`: both ends are born in their namespaces.
  NETMON_RETURN_IF_ERROR(Ip(topo.client_, {"link", "add", c.ifname, "address", c.mac, "type", "veth", "peer", "name",
                                           s.ifname, "address", s.mac, "netns", topo.server_.name()}));
  NETMON_RETURN_IF_ERROR(ConfigureEnd(topo.client_, c, s));
  NETMON_RETURN_IF_ERROR(ConfigureEnd(topo.server_, s, c));
  NETMON_ASSIGN_OR_RETURN(c.ifindex, IfindexIn(topo.client_, c.ifname));
  NETMON_ASSIGN_OR_RETURN(s.ifindex, IfindexIn(topo.server_, s.ifname));
  return topo;
}

}  // namespace netmon::testenv
