// SPDX-License-Identifier: Apache-2.0
// Helpers shared by the socket-layer kernel tests: an event log fed by PollEvents, endpoint comparison that
// treats "10.0.0.1:80" and "[::ffff:10.0.0.1]:80" alike, and bpftool queries.
#pragma once

#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "netmon/abi.h"
#include "sock/socket_layer.h"

namespace netmon::sock::testing {

// Records of one SocketLayer, read continuously by a background thread as the server reads them (so the ring
// never fills while a test waits for its processes), kept if they concern one of the namespaces the test
// registered (the hooks see every socket of the host). Also sweeps released sockets every second. One EventLog
// per layer at a time: a ring buffer has one reader.
class EventLog {
 public:
  explicit EventLog(SocketLayer* layer);
  ~EventLog();
  EventLog(const EventLog&) = delete;
  EventLog& operator=(const EventLog&) = delete;

  void KeepNetns(uint32_t netns_inode);
  // The first event `match` accepts, waiting up to timeout_ms for more.
  std::optional<netmon_sock_event> WaitFor(const std::function<bool(const netmon_sock_event&)>& match, int timeout_ms);
  // Everything matching, after waiting `settle_ms` more.
  std::vector<netmon_sock_event> All(const std::function<bool(const netmon_sock_event&)>& match, int settle_ms);
  // Returns once everything queued in the ring so far has been read.
  void Drain();

 private:
  void Run();

  SocketLayer* layer_;
  std::mutex mu_;
  std::set<uint32_t> netns_;
  std::vector<netmon_sock_event> events_;
  uint64_t polls_ = 0;
  std::atomic<bool> stop_{false};
  std::thread reader_;
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
