// SPDX-License-Identifier: Apache-2.0
// What the engine needs from the kernel side: the socket layer and the packet layer behind one interface, so the
// engine's sequencing (attach on the first capture, flush on an interval, at close and at the end, detach after
// the last) is testable with a fake, and the kernel implementation stays a thin adapter (kernel_backend.h).
// The engine serialises every call; implementations need not be thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <span>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "bpf/hook_info.h"
#include "bpf/program_load.h"
#include "flow/flow_sample.h"
#include "join/owner_resolver.h"
#include "netmon/abi.h"

namespace netmon::server {

class CaptureBackend {
 public:
  virtual ~CaptureBackend() = default;

  // Attaches every program (socket hooks, packet hooks on the configured interfaces).
  virtual absl::Status Attach() = 0;
  // Detaches everything; idempotent.
  virtual void Detach() = 0;
  virtual bool attached() const = 0;
  // Attributes sockets that existed before the capture (called right after Attach).
  virtual absl::Status SeedExistingSockets() = 0;
  // Replaces the kernel filter (the union of the live captures).
  virtual absl::Status SetFilters(const std::vector<netmon_filter>& filters) = 0;

  // Lifecycle records; waits up to timeout_ms for the first lifecycle or DNS record. Returns how many lifecycle
  // records were handled.
  virtual int PollSockEvents(int timeout_ms, const std::function<void(const netmon_sock_event&)>& cb) = 0;
  // DNS records, without waiting.
  virtual int PollDnsEvents(const std::function<void(const netmon_dns_event&)>& cb) = 0;
  // Per-flow deltas since the previous call.
  virtual absl::Status ReadFlows(std::vector<flow::FlowSample>* out) = 0;
  // The last deltas of flows whose socket closed, by exact tuple; the kernel forgets them (a later packet of
  // the tuple counts from zero). Tuples without a flow are skipped.
  virtual absl::Status TakeClosedFlows(std::span<const netmon_tuple> keys, std::vector<flow::FlowSample>* out) = 0;
  // Deletes owners of sockets released more than the grace period ago.
  virtual void SweepReleased(uint64_t now_monotonic_ns) = 0;

  // The kernel's socket-owner maps, for the join.
  virtual join::OwnerSource Owners() = 0;
  virtual std::vector<bpf::HookInfo> Hooks() const = 0;
  // Interfaces the last attach could not attach to (name -> reason); a capture's final statistics report them.
  virtual std::map<std::string, std::string> InterfacesNotAttached() const { return {}; }
  // What each BPF program cost to load, in load order (none for backends without a kernel).
  virtual std::vector<bpf::ProgramLoad> ProgramLoads() const { return {}; }
  // Loss and bail-out counters by name ("kernel.dns_ringbuf_full" ...), totals since start.
  virtual std::map<std::string, uint64_t> Counters() = 0;
};

}  // namespace netmon::server
