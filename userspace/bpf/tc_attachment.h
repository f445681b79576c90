// SPDX-License-Identifier: Apache-2.0
// Move-only owner of one TC clsact filter (ingress or egress) on one interface, in the interface's network
// namespace. It adds a clsact qdisc only if there is none, never touches other filters, and on destruction
// removes its own filter and — only if it created the qdisc and no other netmon filter on that qdisc remains —
// the qdisc too (unless KeepCreatedClsact is on, below).
#pragma once

#include <bpf/libbpf.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"
#include "common/unique_fd.h"

namespace netmon::bpf {

enum class TcDirection { kIngress, kEgress };

struct TcTarget {
  std::string ifname;
  int ifindex = 0;
  // Network namespace of the interface (an nsfs fd); -1 = the caller's current namespace.
  int netns_fd = -1;
};

class TcAttachment {
 public:
  // Out of line: State is complete only in the .cc, and unique_ptr<State> needs it wherever these are emitted.
  TcAttachment();
  ~TcAttachment();
  TcAttachment(TcAttachment&& other) noexcept;
  TcAttachment& operator=(TcAttachment&& other) noexcept;
  TcAttachment(const TcAttachment&) = delete;
  TcAttachment& operator=(const TcAttachment&) = delete;

  // Attaches `prog_fd` as a direct-action filter. `priority` and `handle` identify our filter among others.
  static absl::StatusOr<TcAttachment> Attach(const TcTarget& target, TcDirection dir, int prog_fd,
                                             uint32_t priority = 0xC0DE, uint32_t handle = 0xC0DE);

  bool attached() const { return state_ != nullptr; }
  void Reset();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Adding or deleting a clsact qdisc loses the packet in flight on that interface at that moment (measured on
// 6.18: a connect() started then waited for the SYN retransmit, 1 s; plain `tc qdisc add/del clsact` does the
// same, while adding and removing filters on a standing qdisc does not). A long-running attacher that attaches
// and detaches repeatedly (netmon-server: per capture) keeps the qdiscs it created, empty, once its last filter
// is gone, and removes them with ReleaseKeptClsact() (at exit). Off by default: a one-shot owner cleans up
// behind itself.
void KeepCreatedClsact(bool keep);
// Removes the kept (created by us, now filterless) clsact qdiscs. Returns how many.
int ReleaseKeptClsact();

// Removes every TC filter at netmon's priority and handle whose BPF program name starts with "netmon_" from the
// interfaces of the current network namespace: leftovers of a crashed run (XDP: SweepStaleXdp). Returns how many
// were removed.
int SweepStaleTcFilters();

}  // namespace netmon::bpf
