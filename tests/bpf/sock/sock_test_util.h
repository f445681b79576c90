// SPDX-License-Identifier: Apache-2.0
// Helpers shared by the socket-layer kernel tests: an event log fed by PollEvents, endpoint comparison that
// treats "10.0.0.1:80" and "[::ffff:10.0.0.1]:80" alike, and bpftool queries.
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "netmon/abi.h"
#include "sock/socket_layer.h"

namespace netmon::sock::testing {

// Every record the layer delivered, so tests can look for theirs among the host's other sockets.
class EventLog {
 public:
  explicit EventLog(SocketLayer* layer) : layer_(layer) {}
  // The first event `match` accepts, polling up to timeout_ms for more.
  std::optional<netmon_sock_event> WaitFor(const std::function<bool(const netmon_sock_event&)>& match, int timeout_ms);
  // Everything matching, after polling for `settle_ms` more.
  std::vector<netmon_sock_event> All(const std::function<bool(const netmon_sock_event&)>& match, int settle_ms);
  void Drain();
  size_t size() const { return events_.size(); }

 private:
  SocketLayer* layer_;
  std::vector<netmon_sock_event> events_;
};

std::string Comm(const netmon_owner& o);
std::string Local(const netmon_sock_event& e);   // FormatAddr of the local side
std::string Remote(const netmon_sock_event& e);  // FormatAddr of the remote side
// "10.0.0.1:80" vs stored address and port; accepts any form ParseAddrPort accepts.
bool SameEndpoint(const uint8_t addr[NETMON_ADDR_LEN], uint16_t port, const std::string& text);
bool LocalIs(const netmon_sock_event& e, const std::string& text);
bool RemoteIs(const netmon_sock_event& e, const std::string& text);
// The tuple a packet arriving at `local` from `remote` in namespace `netns` is keyed by (what the packet layer
// looks up for ingress: local = the packet's destination).
netmon_tuple IngressTuple(const std::string& local, const std::string& remote, uint8_t proto, uint32_t netns);
const char* EventName(uint8_t type);
std::string Describe(const netmon_sock_event& e);

// Output of a command (stdout), empty on failure.
std::string RunOutput(const std::string& command);
// Program ids attached anywhere according to `bpftool link` and `bpftool cgroup tree` (JSON).
std::vector<uint32_t> BpftoolAttachedProgIds();
// Programs attached according to bpftool, with the processes holding them (bpftool's "pids").
struct AttachedProg {
  uint32_t id = 0;
  std::string name;
  std::vector<int> pids;
};
std::vector<AttachedProg> BpftoolAttachedProgs();
// Ids of the BPF programs this process holds a file descriptor to (/proc/self/fdinfo "prog_id:").
std::vector<uint32_t> ProgIdsHeldByThisProcess();

}  // namespace netmon::sock::testing
