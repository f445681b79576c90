// SPDX-License-Identifier: Apache-2.0
// A throwaway named network namespace ("nmt-<pid>-<n>-<role>" under /run/netns) with `lo` up. The destructor
// deletes it; processes still inside are not killed here (Process owns them) and keep the namespace alive
// anonymously until they exit.
#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "common/unique_fd.h"

namespace netmon::testenv {

class Netns {
 public:
  // role: 1-16 characters of [a-z0-9]; it ends the name so `ip netns list` shows what each namespace is for.
  static absl::StatusOr<Netns> Create(const std::string& role);

  Netns(Netns&& other) noexcept;
  Netns& operator=(Netns&& other) noexcept;
  Netns(const Netns&) = delete;
  Netns& operator=(const Netns&) = delete;
  ~Netns();

  const std::string& name() const { return name_; }
  // An nsfs handle (for setns / NetnsGuard); valid while this object lives.
  int fd() const { return fd_.get(); }
  // The namespace's inode number, as the kernel reports it in net->ns.inum and /proc/PID/ns/net.
  uint32_t inode() const { return inode_; }
  // "/run/netns/<name>".
  std::string path() const;

 private:
  Netns() = default;
  void Destroy();

  std::string name_;
  UniqueFd fd_;
  uint32_t inode_ = 0;
};

// Unmounts and removes /run/netns/<name> (what `ip netns del` does). NotFound if it does not exist.
absl::Status DeleteNamedNetns(const std::string& name);

// Writes a sysctl under /proc/sys/net as seen from inside `ns` (e.g. "ipv6/conf/default/accept_dad").
absl::Status WriteNetSysctl(const Netns& ns, const std::string& key, const std::string& value);

}  // namespace netmon::testenv
