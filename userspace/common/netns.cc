// SPDX-License-Identifier: Apache-2.0
#include "common/netns.h"

#include <fcntl.h>
#include <sched.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstdlib>

#include "common/log.h"
#include "common/status.h"

namespace netmon {

absl::StatusOr<UniqueFd> OpenNetns(const std::string& path) {
  UniqueFd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (!fd.valid()) return ErrnoError("open network namespace", path, errno);
  return fd;
}

absl::StatusOr<uint32_t> NetnsInode(int netns_fd) {
  struct stat st {};
  if (fstat(netns_fd, &st) != 0) return ErrnoError("fstat", "network namespace", errno);
  return static_cast<uint32_t>(st.st_ino);
}

absl::StatusOr<uint32_t> CurrentNetnsInode() {
  NETMON_ASSIGN_OR_RETURN(UniqueFd fd, OpenNetns("/proc/thread-self/ns/net"));
  return NetnsInode(fd.get());
}

NetnsGuard::NetnsGuard(int target_fd) {
  auto original = OpenNetns("/proc/thread-self/ns/net");
  if (!original.ok()) {
    status_ = original.status();
    return;
  }
  original_ = std::move(*original);
  if (setns(target_fd, CLONE_NEWNET) != 0) {
    status_ = ErrnoError("setns", "network namespace", errno);
    return;
  }
  entered_ = true;
}

NetnsGuard::~NetnsGuard() {
  if (!entered_) return;
  if (setns(original_.get(), CLONE_NEWNET) != 0) {
    // Continuing in the wrong namespace would silently misdirect every later socket and netlink call.
    NETMON_LOG(kError, "netns", "cannot return to the original network namespace (errno ", errno, "); aborting");
    std::abort();
  }
}

}  // namespace netmon
