// SPDX-License-Identifier: Apache-2.0
// Seeds the owner and tuple maps with sockets that predate the capture, without BPF iterators: /proc/<pid>/fd
// names each socket's inode and holder, NETLINK_SOCK_DIAG (one dump per network namespace) each inode's cookie
// and addresses. The fallback of the "sock.existing" hook.
#pragma once

#include <cstdint>
#include <map>
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

// Makes the kernel assign a cookie to every TCP/UDP socket of each namespace (netns inode -> a tgid living in it):
// a sock_diag dump reports each socket's cookie, generating the ones not made yet. For the task_file iterator,
// which may read a cookie but not make one on kernels that type its socket pointers as untrusted. Returns the
// sockets reported; a namespace whose task exited meanwhile is skipped.
absl::StatusOr<uint64_t> AssignCookies(const std::map<uint32_t, uint32_t>& netns_tgid);

absl::StatusOr<SeedResult> SeedFromSockDiag(const bpf::SharedMaps& shared, const std::string& cgroup_mount);

}  // namespace netmon::sock
