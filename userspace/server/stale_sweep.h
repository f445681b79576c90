// SPDX-License-Identifier: Apache-2.0
// Start-up cleanup after a crashed run: netmon_ TC filters and XDP programs on the interfaces (host namespace and
// each configured interface namespace), netmon_ programs attached to the cgroup v2 root the old way
// (BPF_PROG_ATTACH survives its process; bpf_link attachments do not), and netmon_ pins in bpffs.
// Another running netmon-server's attachments are not leftovers, so a server sweeps only when it is the only one:
// every server holds a shared lock on one file for its lifetime, and the sweep needs it exclusively.
#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "common/unique_fd.h"

namespace netmon::server {

inline constexpr const char* kInstanceLockPath = "/run/netmon/netmon-server.lock";

// A flock on kInstanceLockPath (or `path`) for the lifetime of the object: exclusive if no other server runs (then
// sole() is true and the caller may sweep, then Share()), shared otherwise. The lock decides whether a root
// process removes programs from every interface, so it lives in a directory only its owner may write: the
// directory is created 0750 if missing, and refused if it is a symlink, writable by group or others, or owned by
// anyone but root or the caller; the lock file is opened with O_NOFOLLOW.
class InstanceLock {
 public:
  static absl::StatusOr<InstanceLock> Acquire(const std::string& path = kInstanceLockPath);
  bool sole() const { return sole_; }
  // Exclusive -> shared, once the sweep is done, so later servers start (without sweeping).
  absl::Status Share();

 private:
  InstanceLock(UniqueFd fd, bool sole) : fd_(std::move(fd)), sole_(sole) {}
  UniqueFd fd_;
  bool sole_;
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
