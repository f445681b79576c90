// SPDX-License-Identifier: Apache-2.0
// Addresses and tuple keys as the socket layer stores them (bpf/include/netmon/abi.h): 16-byte addresses with
// IPv4 as IPv4-mapped IPv6, the any-address all-zero in both families. Pure functions, no kernel: the join reuses
// them to print and to look up ingress flows.
#pragma once

#include <sys/socket.h>

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "netmon/abi.h"

namespace netmon::sock {

using Addr = std::array<uint8_t, NETMON_ADDR_LEN>;

// IPv4 (network byte order) -> ::ffff:a.b.c.d; 0.0.0.0 -> all-zero.
Addr AddrFromV4(uint32_t addr_be);
// IPv6 as stored: v4-mapped stays mapped (a dual-stack socket's IPv4 peer keys like IPv4 packets), ::ffff:0.0.0.0
// becomes all-zero.
Addr AddrFromV6(const uint8_t in[NETMON_ADDR_LEN]);
bool IsV4Mapped(const uint8_t addr[NETMON_ADDR_LEN]);

// "192.0.2.1:443" for v4-mapped, "[2001:db8::1]:443" for IPv6, "[::]:53" for the any-address.
std::string FormatAddr(const uint8_t addr[NETMON_ADDR_LEN], uint16_t port);

// Parses "192.0.2.1:443", "[2001:db8::1]:443" or "[::ffff:192.0.2.1]:443" (stored as v4-mapped).
bool ParseAddrPort(std::string_view text, Addr* addr, uint16_t* port);

// A sockaddr_in / sockaddr_in6 -> stored address and host-order port; false for other families.
bool FromSockaddr(const struct sockaddr* sa, socklen_t len, Addr* addr, uint16_t* port);

// The tuple of a connection from this host's point of view.
netmon_tuple MakeTuple(const Addr& local, uint16_t local_port, const Addr& remote, uint16_t remote_port, uint8_t proto,
                       uint32_t netns);
// From getsockname()/getpeername()-style addresses; nullopt if either is not AF_INET/AF_INET6.
std::optional<netmon_tuple> TupleFromSockaddrs(const struct sockaddr* local, socklen_t local_len,
                                               const struct sockaddr* remote, socklen_t remote_len, uint8_t proto,
                                               uint32_t netns);

// The keys an ingress lookup tries, best first: the exact tuple, the bound address with the remote side zeroed,
// then the any-address on that port (as the kernel's socket demux falls back from connected to bound sockets).
std::vector<netmon_tuple> LookupKeys(const netmon_tuple& t);

// "tcp 10.0.0.1:5000 -> 10.0.0.2:80 netns 4026531840" for logs and test failures.
std::string FormatTuple(const netmon_tuple& t);

}  // namespace netmon::sock
