// SPDX-License-Identifier: Apache-2.0
// Who owns a socket or a flow, for the join. The kernel maps (socket cookie -> owner, tuple -> cookie) are the
// truth, reached through OwnerSource so tests supply fakes at exactly this seam. Owners seen once are cached:
// the socket layer deletes an owner a grace period after its socket is released, and a flow's last DATA, its
// CLOSE or a late DNS answer must still name the process.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string_view>

#include "absl/container/flat_hash_map.h"
#include "netmon/abi.h"

namespace netmon::join {

struct OwnerSource {
  // socket cookie -> owner (netmon_owners). Empty function = no kernel view.
  std::function<std::optional<netmon_owner>(uint64_t cookie)> owner;
  // exact tuple key -> socket cookie (netmon_tuples). The resolver builds the wildcard keys itself.
  std::function<std::optional<uint64_t>(const netmon_tuple& key)> tuple_cookie;
};

// How the join found a PID: reported in extra_info as attribution provenance.
enum class Via : uint8_t {
  kNone = 0,
  kSkbCookie,      // the packet layer read the socket cookie from the packet
  kSockEvent,      // the lifecycle event carried its owner
  kCookie,         // looked up by the event's socket cookie
  kTuple,          // exact 5-tuple -> socket
  kTupleWildcard,  // bound-socket wildcard (remote any, or local any too), as the kernel's own demux does
  kDnsQuery,       // a DNS response inherits the socket of the query it answers
  kListener,       // provisional: a connection not accept()ed yet is its listener's (the accepting process's)
};

std::string_view ViaName(Via via);
// enum netmon_owner_source as text: "sock_create", "connect", ..., "existing"; "none" for unknown values.
std::string_view OwnerSourceName(uint8_t source);
std::string_view RoleName(uint8_t role);

class OwnerResolver {
 public:
  explicit OwnerResolver(OwnerSource source, size_t max_cached = 65536);

  // The owner of a socket: cached if seen before, else from the kernel map. nullopt if unknown or tgid 0.
  std::optional<netmon_owner> ByCookie(uint64_t cookie);
  // The socket of a tuple: exact key first, then remote-any, then local-any too (both the all-zero and the
  // IPv4-mapped any address, so either convention of the socket layer resolves). *via says which matched.
  std::optional<uint64_t> CookieForTuple(const netmon_tuple& tuple, Via* via);
  // The bound socket of a tuple's local side (the wildcard keys only): for a connection still in its accept
  // queue, the listener.
  std::optional<uint64_t> BoundCookieForTuple(const netmon_tuple& tuple);
  // Records an owner seen in a lifecycle event.
  void Remember(uint64_t cookie, const netmon_owner& owner);
  void Clear();

  uint64_t kernel_lookups() const { return kernel_lookups_; }

 private:
  std::optional<netmon_owner> Cached(uint64_t cookie) const;

  OwnerSource source_;
  size_t max_cached_;
  // Two generations approximate an LRU without per-hit bookkeeping: when `current_` fills up it becomes
  // `previous_` and the oldest generation is dropped; a hit in `previous_` is promoted.
  // Open addressing: one probe per lookup on the join's hottest path (perf: the node-based map's misses were ~7%
  // of the server's CPU under connection churn).
  absl::flat_hash_map<uint64_t, netmon_owner> current_, previous_;
  uint64_t kernel_lookups_ = 0;
};

}  // namespace netmon::join
