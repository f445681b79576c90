// SPDX-License-Identifier: Apache-2.0
// The socket layer (bpf/sock): which process owns each socket, and connection lifecycles (CONNECT / ACCEPT /
// CLOSE). Create() probes the kernel, picks one rung per hook (probe.h), opens the objects, points them at the
// shared maps and loads them; Attach() attaches every chosen program (all or nothing); Detach() and the
// destructor remove every attachment. The server attaches only while a capture runs.
//
// Threading: PollEvents on one thread; LookupOwner/LookupCookie/processes() from any thread.
#pragma once

#include <array>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "bpf/hook_info.h"
#include "bpf/program_load.h"
#include "bpf/shared_maps.h"
#include "netmon/abi.h"
#include "proc/process_cache.h"

struct bpf_object;

namespace netmon::sock {

struct SocketLayerConfig {
  std::string cgroup_path;  // empty = find the cgroup2 mount
  uint32_t ringbuf_bytes = NETMON_DEFAULT_RINGBUF_BYTES;
  uint64_t release_grace_ns = 2'000'000'000;
  // Extensions (defaults keep the contract above):
  // Rungs not to use: "kind" ("tracepoint", "cgroup" ...) or "hook:kind" ("sock.accept:tracepoint"). Tests use it
  // to exercise lower rungs; operators to steer around a misbehaving hook.
  std::vector<std::string> disabled_rungs;
  // A TCP socket released by its process but not yet CLOSEd (FIN_WAIT, LAST_ACK ...) keeps its owner past the
  // grace so its CLOSE is still attributed, up to this long.
  uint64_t tcp_linger_ns = 120'000'000'000;
  size_t process_cache_entries = 8192;
  // The UDP send/receive fast path (socket-local storage, bpf/sock/netmon_sock.bpf.c) off: every send and receive
  // takes the full path. For same-run A/B measurement of the fast path, and a way around it on a kernel where it
  // misbehaves.
  bool disable_io_fast_path = false;
  // Called with each object's name ("netmon_sock", "netmon_sock_iter" ...) once it is opened and configured, just
  // before it loads. A seam for tests (make one program fail verification); leave empty otherwise.
  std::function<void(const std::string& object, struct bpf_object* obj)> before_load;
};

struct SockStats {
  std::array<uint64_t, NETMON_SCTR_MAX> kernel{};  // enum netmon_sock_counter
  uint64_t owners_deleted = 0;                     // by SweepReleased
  uint64_t tuples_deleted = 0;
  // LRU evictions (the map was full: an owner was lost before its grace ran out), inferred at the last sweep as
  // inserted (NETMON_CTR_OWNERS_ADDED) - deleted - live. Non-zero means netmon_owners is too small.
  uint64_t owners_live = 0;
  uint64_t owners_evicted = 0;
  uint64_t records_read = 0;
  uint64_t records_malformed = 0;
};

class SocketLayer {
 public:
  // Probe, open, share maps, load; attaches nothing. `shared` must outlive the SocketLayer.
  static absl::StatusOr<std::unique_ptr<SocketLayer>> Create(const bpf::SharedMaps& shared,
                                                             const SocketLayerConfig& cfg);
  ~SocketLayer();
  SocketLayer(const SocketLayer&) = delete;
  SocketLayer& operator=(const SocketLayer&) = delete;

  absl::Status Attach();  // all-or-nothing
  void Detach();          // everything detached (destructor too)
  bool attached() const;

  // Sockets that predate the capture: owners + tuples, source NETMON_SRC_EXISTING. Owners captured live win.
  absl::Status SeedExistingSockets();
  // Waits up to timeout_ms, then delivers whatever is queued (the kernel wakes the reader per 64 KiB batch, not
  // per record, so a record waits at most one timeout). Records consumed or -errno. OWNER records (a socket got its
  // owner) are passed on too; their process metadata is already noted in processes() when the callback runs.
  int PollEvents(int timeout_ms, const std::function<void(const netmon_sock_event&)>& cb);
  // The lifecycle ring buffer, pollable: readable when records wait (what PollEvents waits for).
  int events_map_fd() const;
  // Deletes owners (and their tuples and state) released more than the grace ago.
  void SweepReleased(uint64_t now_monotonic_ns);
  std::vector<bpf::HookInfo> Hooks() const;
  // What each loaded program cost to load (verifier steps, time), in load order.
  std::vector<bpf::ProgramLoad> ProgramLoads() const;

  // The join's lookups: owner of a cookie; cookie of an ingress tuple (exact, then bound, then any-address key).
  std::optional<netmon_owner> LookupOwner(uint64_t cookie) const;
  std::optional<uint64_t> LookupCookie(const netmon_tuple& tuple) const;
  const proc::ProcessCache& processes() const;
  SockStats Stats() const;
  // Kernel ids of the programs attached right now (status reports; tests check they are gone after Detach).
  std::vector<uint32_t> AttachedProgramIds() const;

  struct Impl;

 private:
  explicit SocketLayer(std::unique_ptr<Impl> impl);
  absl::Status RunSeedIterator();  // one pass of netmon_seed over every task's files
  std::unique_ptr<Impl> impl_;
};

}  // namespace netmon::sock
