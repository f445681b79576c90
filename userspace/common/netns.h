// SPDX-License-Identifier: Apache-2.0
// Network-namespace helpers. setns() changes only the calling thread, so a NetnsGuard must be created and
// destroyed on the same thread; it returns the thread to its original namespace on every exit path.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "common/unique_fd.h"

namespace netmon {

// Opens a namespace handle: "/proc/self/ns/net", "/run/netns/<name>", or any nsfs path.
absl::StatusOr<UniqueFd> OpenNetns(const std::string& path);
// The namespace inode number (what the kernel reports as net->ns.inum) of an nsfs handle.
absl::StatusOr<uint32_t> NetnsInode(int netns_fd);
// The inode of the calling thread's current network namespace.
absl::StatusOr<uint32_t> CurrentNetnsInode();

class NetnsGuard {
 public:
  // Enters `target` (an nsfs fd) for the lifetime of the guard. Check ok() / status().
  explicit NetnsGuard(int target_fd);
  ~NetnsGuard();
  NetnsGuard(const NetnsGuard&) = delete;
  NetnsGuard& operator=(const NetnsGuard&) = delete;

  const absl::Status& status() const { return status_; }
  bool ok() const { return status_.ok(); }

 private:
  UniqueFd original_;
  absl::Status status_;
  bool entered_ = false;
};

}  // namespace netmon
