// SPDX-License-Identifier: Apache-2.0
// Text forms of addresses as §4.3 writes them: "192.0.2.1:443" for IPv4 (and IPv4-mapped IPv6),
// "[2001:db8::1]:443" for IPv6.
#pragma once

#include <cstdint>
#include <string>

#include "join/event.h"
#include "netmon/abi.h"

namespace netmon::join {

bool IsV4Mapped(const uint8_t addr[16]);
// "192.0.2.1" / "2001:db8::1" (no port, no brackets).
std::string FormatIp(const uint8_t addr[16]);
// "192.0.2.1:443" / "[2001:db8::1]:443".
std::string FormatEndpoint(const uint8_t addr[16], uint16_t port);
inline std::string FormatEndpoint(const Endpoint& ep) {
  return FormatEndpoint(ep.addr.data(), ep.port);
}

// The local and remote side of a tuple as Endpoints.
Endpoint LocalOf(const netmon_tuple& t);
Endpoint RemoteOf(const netmon_tuple& t);

// A kernel comm as process_name: up to NETMON_COMM_LEN bytes, cut at the first NUL, every byte outside printable
// ASCII replaced by '?' (comm is set by the process itself, and proto3 strings must be valid UTF-8).
std::string SanitizeComm(const char* comm, size_t max_len = NETMON_COMM_LEN);

}  // namespace netmon::join
