// SPDX-License-Identifier: Apache-2.0
#include "join/owner_resolver.h"

#include <cstring>
#include <utility>

#include "join/endpoint.h"

namespace netmon::join {

std::string_view ViaName(Via via) {
  switch (via) {
    case Via::kNone: return "none";
    case Via::kSkbCookie: return "skb_cookie";
    case Via::kSockEvent: return "sock_event";
    case Via::kCookie: return "cookie";
    case Via::kTuple: return "tuple";
    case Via::kTupleWildcard: return "tuple_wildcard";
    case Via::kDnsQuery: return "dns_query";
    case Via::kListener: return "listener";
  }
  return "none";
}

std::string_view OwnerSourceName(uint8_t source) {
  switch (source) {
    case NETMON_SRC_SOCK_CREATE: return "sock_create";
    case NETMON_SRC_CONNECT: return "connect";
    case NETMON_SRC_SENDMSG: return "sendmsg";
    case NETMON_SRC_RECVMSG: return "recvmsg";
    case NETMON_SRC_BIND: return "bind";
    case NETMON_SRC_ACCEPT: return "accept";
    case NETMON_SRC_SEND: return "send";
    case NETMON_SRC_RECV: return "recv";
    case NETMON_SRC_EXISTING: return "existing";
    default: return "none";
  }
}

std::string_view RoleName(uint8_t role) {
  switch (role) {
    case NETMON_ROLE_ACTIVE: return "active";
    case NETMON_ROLE_PASSIVE: return "passive";
    default: return "unknown";
  }
}

OwnerResolver::OwnerResolver(OwnerSource source, size_t max_cached)
    : source_(std::move(source)), max_cached_(max_cached < 2 ? 2 : max_cached) {}

std::optional<netmon_owner> OwnerResolver::Cached(uint64_t cookie) const {
  if (auto it = current_.find(cookie); it != current_.end()) return it->second;
  if (auto it = previous_.find(cookie); it != previous_.end()) return it->second;
  return std::nullopt;
}

void OwnerResolver::Remember(uint64_t cookie, const netmon_owner& owner) {
  if (cookie == 0 || owner.tgid == 0) return;
  if (current_.size() >= max_cached_ / 2) {
    previous_ = std::move(current_);
    current_.clear();
  }
  current_[cookie] = owner;
}

std::optional<netmon_owner> OwnerResolver::ByCookie(uint64_t cookie) {
  if (cookie == 0) return std::nullopt;
  if (auto it = current_.find(cookie); it != current_.end()) return it->second;
  if (auto it = previous_.find(cookie); it != previous_.end()) {
    netmon_owner owner = it->second;
    Remember(cookie, owner);  // promote
    return owner;
  }
  if (!source_.owner) return std::nullopt;
  ++kernel_lookups_;
  std::optional<netmon_owner> owner = source_.owner(cookie);
  if (!owner || owner->tgid == 0) return std::nullopt;
  Remember(cookie, *owner);
  return owner;
}

std::optional<uint64_t> OwnerResolver::CookieForTuple(const netmon_tuple& tuple, Via* via) {
  *via = Via::kNone;
  if (!source_.tuple_cookie) return std::nullopt;
  ++kernel_lookups_;
  if (auto c = source_.tuple_cookie(tuple); c && *c != 0) {
    *via = Via::kTuple;
    return c;
  }
  auto c = BoundCookieForTuple(tuple);
  if (c) *via = Via::kTupleWildcard;
  return c;
}

std::optional<uint64_t> OwnerResolver::BoundCookieForTuple(const netmon_tuple& tuple) {
  if (!source_.tuple_cookie) return std::nullopt;
  // A bound socket (UDP server, or TCP before the kernel hashed the connection) is keyed with the remote side
  // zero; one bound to the any-address has its local address zero too.
  netmon_tuple key = tuple;
  std::memset(key.remote_addr, 0, sizeof(key.remote_addr));
  key.remote_port = 0;
  ++kernel_lookups_;
  if (auto c = source_.tuple_cookie(key); c && *c != 0) return c;
  bool v4 = IsV4Mapped(tuple.local_addr);
  std::memset(key.local_addr, 0, sizeof(key.local_addr));
  ++kernel_lookups_;
  if (auto c = source_.tuple_cookie(key); c && *c != 0) return c;
  if (v4) {
    key.local_addr[10] = 0xff;
    key.local_addr[11] = 0xff;
    ++kernel_lookups_;
    if (auto c = source_.tuple_cookie(key); c && *c != 0) return c;
  }
  return std::nullopt;
}

void OwnerResolver::Clear() {
  current_.clear();
  previous_.clear();
}

}  // namespace netmon::join
