// SPDX-License-Identifier: Apache-2.0
// The packet layer (docs/architecture.md §3): TC clsact programs (bpf/tc) on each configured interface, ingress and
// egress, or XDP (bpf/xdp, through libxdp's dispatcher) for ingress where asked. They count L3 bytes/packets
// per flow and direction, attribute flows to sockets through the shared maps and hand DNS messages to
// userspace. This class owns the loaded objects and every attachment (RAII): Detach() or the destructor
// leaves nothing of ours on any interface.
//
// Interfaces are told apart in the kernel by ifindex (netmon_ifaces: ifindex -> namespace inode, the netns
// part of every flow key). Two monitored interfaces in different namespaces with the same ifindex cannot be
// told apart there, so Attach refuses that combination; use two PacketLayers (each has its own maps) if it is
// ever needed.
//
// Threads: Create/Attach/Detach on one thread (the owner). ReadFlows and PollDns touch disjoint state and may
// each run on its own thread, concurrently with each other but not with Attach/Detach/destruction.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "bpf/hook_info.h"
#include "bpf/program_load.h"
#include "bpf/shared_maps.h"
#include "flow/flow_sample.h"
#include "netmon/abi.h"

namespace netmon::flow {

struct InterfaceSpec {
  std::string name;
  bool xdp_ingress = false;  // ingress by XDP (libxdp dispatcher) instead of TC; egress is always TC
  int netns_fd = -1;         // nsfs fd of the interface's namespace; -1 = current netns
};

struct PacketLayerConfig {
  uint32_t flow_entries = NETMON_DEFAULT_FLOWS;           // netmon_flows max entries (LRU beyond that)
  uint32_t ringbuf_bytes = NETMON_DEFAULT_RINGBUF_BYTES;  // netmon_dns_ev size: a power of two, >= page size
  std::vector<uint16_t> dns_ports = {53};                 // up to NETMON_MAX_DNS_PORTS; empty = no DNS
};

class PacketLayer {
 public:
  // Opens both objects, applies cfg, points them at `shared` (which must outlive this object) and loads the
  // TC programs. The XDP program is configured here but loaded by libxdp at its first XDP attach (see
  // bpf/xdp_attachment.h). Attaches nothing.
  static absl::StatusOr<std::unique_ptr<PacketLayer>> Create(const bpf::SharedMaps& shared,
                                                             const PacketLayerConfig& cfg);
  ~PacketLayer();
  PacketLayer(const PacketLayer&) = delete;
  PacketLayer& operator=(const PacketLayer&) = delete;

  // Attaches to every interface: TC egress, and TC or XDP ingress. All or nothing: on failure nothing stays
  // attached. FailedPrecondition if already attached (Detach first).
  absl::Status Attach(const std::vector<InterfaceSpec>& ifaces);
  // Attaches to each interface it can, keeping what it attached; an interface attached already is left as it is,
  // one that cannot be attached is logged and kept in Refused() with the reason. Returns how many it attached.
  size_t AttachEach(const std::vector<InterfaceSpec>& ifaces);
  // Detaches one interface (gone, or no longer wanted); false if it was not attached.
  bool DetachInterface(int ifindex);
  // Interfaces AttachEach could not attach, with the reason (an interface attached later leaves the list). Kept
  // after Detach, so a capture's final report still has them; ForgetRefused() starts a new attach afresh.
  std::map<std::string, std::string> Refused() const;
  void ForgetRefused();
  // Removes every attachment (also run by the destructor). Flow counters stay readable.
  void Detach();
  bool attached() const;

  // Appends the flows that changed since the previous call, as deltas (flows with no change are omitted).
  absl::Status ReadFlows(std::vector<FlowSample>* out);
  // The last counters of these closed flows, removed from the map (see FlowReader::TakeClosed).
  absl::Status TakeClosedFlows(std::span<const netmon_tuple> keys, std::vector<FlowSample>* out);
  // Waits up to timeout_ms for DNS records and calls cb for each; returns how many were consumed, or -errno. The
  // kernel wakes the reader per batch (an eighth of the ring), not per record: whatever is queued when the wait
  // ends is delivered.
  int PollDns(int timeout_ms, const std::function<void(const netmon_dns_event&)>& cb);

  // One entry per hook and interface ("tc.ingress", "tc.egress", "xdp.ingress"); with nothing attached, the
  // hooks this layer can serve, inactive.
  std::vector<bpf::HookInfo> Hooks() const;
  // What the TC programs cost to load (the XDP program loads through libxdp at attach).
  std::vector<bpf::ProgramLoad> ProgramLoads() const;

  int flows_map_fd() const;
  int prog_fd_tc_ingress() const;
  int prog_fd_tc_egress() const;
  // The XDP program as libxdp loaded it (a dispatcher extension); -1 before the first XDP attach.
  int prog_fd_xdp() const;
  // For tests and tools that load the XDP object themselves (test-run needs a plain XDP program).
  int dns_map_fd() const;
  int ifaces_map_fd() const;

 private:
  struct Impl;
  absl::StatusOr<std::unique_ptr<struct AttachedIface>> AttachOne(const InterfaceSpec& spec);
  explicit PacketLayer(std::unique_ptr<Impl> impl);
  std::unique_ptr<Impl> impl_;
};

}  // namespace netmon::flow
