// SPDX-License-Identifier: Apache-2.0
// Start-up helpers for the filesystems BPF needs (docs/architecture.md §6): bpffs for libxdp's dispatcher and pins,
// tracefs for syscall tracepoints, and the cgroup v2 mount for cgroup socket hooks.
#pragma once

#include <string>

#include "absl/status/statusor.h"

namespace netmon::bpf {

struct MountResult {
  std::string path;
  bool mounted_now = false;  // true if we mounted it (the caller logs that)
};

// Mounts bpffs at `path` (default /sys/fs/bpf) unless a bpffs is already there.
absl::StatusOr<MountResult> EnsureBpffs(const std::string& path = "/sys/fs/bpf");
// Mounts tracefs at `path` (default /sys/kernel/tracing) unless a tracefs is already there.
absl::StatusOr<MountResult> EnsureTracefs(const std::string& path = "/sys/kernel/tracing");
// The first cgroup2 mount point in `mounts_file` (default /proc/mounts); NotFound if there is none.
absl::StatusOr<std::string> FindCgroup2Mount(const std::string& mounts_file = "/proc/mounts");

}  // namespace netmon::bpf
