// SPDX-License-Identifier: Apache-2.0
#include "sock/addr.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>

#include "common/inet_pton.h"
#include "common/str_cat.h"
#include "netmon/sock_logic.h"

namespace netmon::sock {

Addr AddrFromV4(uint32_t addr_be) {
  Addr out{};
  netmon_addr_from_v4(out.data(), addr_be);
  return out;
}

Addr AddrFromV6(const uint8_t in[NETMON_ADDR_LEN]) {
  Addr out{};
  netmon_addr_from_v6(out.data(), in);
  return out;
}

bool IsV4Mapped(const uint8_t addr[NETMON_ADDR_LEN]) {
  return netmon_addr_is_v4mapped(addr) != 0;
}

std::string FormatAddr(const uint8_t addr[NETMON_ADDR_LEN], uint16_t port) {
  char buf[INET6_ADDRSTRLEN];
  if (IsV4Mapped(addr)) {
    inet_ntop(AF_INET, addr + 12, buf, sizeof(buf));
    return StrCat(buf, ":", port);
  }
  inet_ntop(AF_INET6, addr, buf, sizeof(buf));
  return StrCat("[", buf, "]:", port);
}

bool ParseAddrPort(std::string_view text, Addr* addr, uint16_t* port) {
  std::string host;
  std::string_view port_text;
  if (!text.empty() && text.front() == '[') {
    size_t close = text.find(']');
    if (close == std::string_view::npos || close + 1 >= text.size() || text[close + 1] != ':') return false;
    host = std::string(text.substr(1, close - 1));
    port_text = text.substr(close + 2);
  } else {
    size_t colon = text.rfind(':');
    if (colon == std::string_view::npos) return false;
    host = std::string(text.substr(0, colon));
    port_text = text.substr(colon + 1);
  }
  if (port_text.empty() || port_text.size() > 5) return false;
  uint32_t p = 0;
  for (char c : port_text) {
    if (c < '0' || c > '9') return false;
    p = p * 10 + static_cast<uint32_t>(c - '0');
  }
  if (p > 65535) return false;
  in_addr v4{};
  in6_addr v6{};
  if (InetPton(AF_INET, host, &v4) == 1) {
    *addr = AddrFromV4(v4.s_addr);
  } else if (InetPton(AF_INET6, host, &v6) == 1) {
    *addr = AddrFromV6(v6.s6_addr);
  } else {
    return false;
  }
  *port = static_cast<uint16_t>(p);
  return true;
}

bool FromSockaddr(const struct sockaddr* sa, socklen_t len, Addr* addr, uint16_t* port) {
  if (sa == nullptr) return false;
  if (sa->sa_family == AF_INET && len >= static_cast<socklen_t>(sizeof(sockaddr_in))) {
    sockaddr_in sin;
    memcpy(&sin, sa, sizeof(sin));
    *addr = AddrFromV4(sin.sin_addr.s_addr);
    *port = ntohs(sin.sin_port);
    return true;
  }
  if (sa->sa_family == AF_INET6 && len >= static_cast<socklen_t>(sizeof(sockaddr_in6))) {
    sockaddr_in6 sin6;
    memcpy(&sin6, sa, sizeof(sin6));
    *addr = AddrFromV6(sin6.sin6_addr.s6_addr);
    *port = ntohs(sin6.sin6_port);
    return true;
  }
  return false;
}

netmon_tuple MakeTuple(const Addr& local, uint16_t local_port, const Addr& remote, uint16_t remote_port, uint8_t proto,
                       uint32_t netns) {
  netmon_tuple t{};
  memcpy(t.local_addr, local.data(), NETMON_ADDR_LEN);
  memcpy(t.remote_addr, remote.data(), NETMON_ADDR_LEN);
  t.local_port = local_port;
  t.remote_port = remote_port;
  t.proto = proto;
  t.netns = netns;
  return t;
}

std::optional<netmon_tuple> TupleFromSockaddrs(const struct sockaddr* local, socklen_t local_len,
                                               const struct sockaddr* remote, socklen_t remote_len, uint8_t proto,
                                               uint32_t netns) {
  Addr la{}, ra{};
  uint16_t lp = 0, rp = 0;
  if (!FromSockaddr(local, local_len, &la, &lp)) return std::nullopt;
  if (remote != nullptr && !FromSockaddr(remote, remote_len, &ra, &rp)) return std::nullopt;
  return MakeTuple(la, lp, ra, rp, proto, netns);
}

std::vector<netmon_tuple> LookupKeys(const netmon_tuple& t) {
  std::vector<netmon_tuple> keys;
  keys.push_back(t);
  netmon_tuple bound{};
  netmon_tuple_wildcard(&bound, &t, 0);
  if (memcmp(&bound, &t, sizeof(t)) != 0) keys.push_back(bound);
  netmon_tuple any{};
  netmon_tuple_wildcard(&any, &t, 1);
  if (memcmp(&any, &keys.back(), sizeof(any)) != 0) keys.push_back(any);
  return keys;
}

std::string FormatTuple(const netmon_tuple& t) {
  const char* proto = t.proto == IPPROTO_TCP ? "tcp" : t.proto == IPPROTO_UDP ? "udp" : "ip";
  return StrCat(proto, " ", FormatAddr(t.local_addr, t.local_port), " -> ", FormatAddr(t.remote_addr, t.remote_port),
                " netns ", t.netns);
}

}  // namespace netmon::sock
