// SPDX-License-Identifier: Apache-2.0
// Seeds the owner and tuple maps with sockets that predate the capture, without BPF iterators: /proc/<pid>/fd
// names each socket's inode and holder, NETLINK_SOCK_DIAG (one dump per network namespace) each inode's cookie
// and addresses. The fallback of the "sock.existing" hook.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "bpf/shared_maps.h"

namespace netmon::sock {

struct SeedResult {
  uint64_t sockets = 0;  // inet TCP/UDP sockets found held by a process
  uint64_t owners = 0;   // owners written (those a live hook already captured are kept)
  uint64_t tuples = 0;   // tuple keys written
  uint64_t netns = 0;    // namespaces dumped
};

absl::StatusOr<SeedResult> SeedFromSockDiag(const bpf::SharedMaps& shared, const std::string& cgroup_mount);

}  // namespace netmon::sock
