// SPDX-License-Identifier: Apache-2.0
// Start-up cleanup after a crashed run: netmon_ TC filters and XDP programs on the interfaces (host namespace and
// each configured interface namespace), netmon_ programs attached to the cgroup v2 root the old way
// (BPF_PROG_ATTACH survives its process; bpf_link attachments do not), and netmon_ pins in bpffs.
// Only one netmon-server may sweep: another running instance's attachments are not leftovers. The caller holds
// an InstanceLock while it sweeps.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/unique_fd.h"

namespace netmon::server {

// An exclusive flock on /run/lock/netmon-server.lock (or `path`) for the lifetime of the object.
class InstanceLock {
 public:
  // NOT_FOUND-free: UNAVAILABLE if another process holds it.
  static absl::StatusOr<InstanceLock> Acquire(const std::string& path = "/run/lock/netmon-server.lock");

 private:
  explicit InstanceLock(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

struct SweepReport {
  int tc_xdp = 0;  // TC filters and XDP programs removed
  int cgroup = 0;  // cgroup attachments removed
  int pins = 0;    // bpffs pins removed
};

// `netns_paths`: namespaces of configured interfaces (the host namespace is always swept).
SweepReport SweepStale(const std::string& cgroup_root, const std::string& bpffs,
                       const std::vector<std::string>& netns_paths);

}  // namespace netmon::server
