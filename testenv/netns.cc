// SPDX-License-Identifier: Apache-2.0
#include "testenv/netns.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <unistd.h>

#include <cerrno>
#include <utility>

#include "common/log.h"
#include "common/netns.h"
#include "common/status.h"
#include "common/str_cat.h"
#include "testenv/command.h"
#include "testenv/names.h"

namespace netmon::testenv {
namespace {

bool ValidRole(const std::string& role) {
  if (role.empty() || role.size() > 16) return false;
  for (char c : role) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) return false;
  }
  return true;
}

// Defaults for every interface created later in the namespace: no duplicate address detection (addresses are
// usable at once and no DAD probes appear on the wire) and no router solicitations (less noise for byte counts).
absl::Status QuietIpv6(const Netns& ns) {
  for (const char* scope : {"all", "default"}) {
    NETMON_RETURN_IF_ERROR(WriteNetSysctl(ns, StrCat("ipv6/conf/", scope, "/accept_dad"), "0"));
    NETMON_RETURN_IF_ERROR(WriteNetSysctl(ns, StrCat("ipv6/conf/", scope, "/router_solicitations"), "0"));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<Netns> Netns::Create(const std::string& role) {
  if (!ValidRole(role)) {
    return absl::InvalidArgumentError(StrCat("netns role \"", role, "\" must be 1-16 characters of [a-z0-9]"));
  }
  Netns ns;
  std::string name = MakeNetnsName(role, NextCounter());
  // Registered before it exists, so a concurrent sweep in this process never mistakes it for a leftover.
  RegisterOwnedNetns(name);
  if (auto added = RunChecked({"ip", "netns", "add", name}); !added.ok()) {
    UnregisterOwnedNetns(name);
    return added.status();
  }
  ns.name_ = std::move(name);  // from here on the destructor deletes it
  auto fd = OpenNetns(ns.path());
  if (!fd.ok()) return fd.status();
  ns.fd_ = std::move(*fd);
  NETMON_ASSIGN_OR_RETURN(ns.inode_, NetnsInode(ns.fd_.get()));
  NETMON_RETURN_IF_ERROR(QuietIpv6(ns));
  auto lo = RunChecked({"ip", "-n", ns.name_, "link", "set", "lo", "up"});
  if (!lo.ok()) return lo.status();
  return ns;
}

Netns::Netns(Netns&& other) noexcept
    : name_(std::exchange(other.name_, std::string())),
      fd_(std::move(other.fd_)),
      inode_(std::exchange(other.inode_, 0)) {}

Netns& Netns::operator=(Netns&& other) noexcept {
  if (this != &other) {
    Destroy();
    name_ = std::exchange(other.name_, std::string());
    fd_ = std::move(other.fd_);
    inode_ = std::exchange(other.inode_, 0);
  }
  return *this;
}

Netns::~Netns() {
  Destroy();
}

std::string Netns::path() const {
  return StrCat(kNetnsDir, "/", name_);
}

void Netns::Destroy() {
  if (name_.empty()) return;  // moved from
  fd_.Reset();
  if (absl::Status deleted = DeleteNamedNetns(name_); !deleted.ok()) {
    NETMON_LOG(kWarn, "testenv", "deleting network namespace ", name_, ": ", deleted.message());
  }
  UnregisterOwnedNetns(name_);
  name_.clear();
}

absl::Status DeleteNamedNetns(const std::string& name) {
  std::string path = StrCat(kNetnsDir, "/", name);
  // MNT_DETACH: a process that still has the mount open (e.g. in its cwd) must not make deletion fail.
  if (umount2(path.c_str(), MNT_DETACH) != 0 && errno != EINVAL && errno != ENOENT) {
    return ErrnoError("umount", path, errno);
  }
  if (unlink(path.c_str()) != 0) return ErrnoError("unlink", path, errno);
  return absl::OkStatus();
}

absl::Status WriteNetSysctl(const Netns& ns, const std::string& key, const std::string& value) {
  // /proc/sys/net shows the namespace of whoever opens the file, so only the open needs to happen inside.
  std::string path = StrCat("/proc/sys/net/", key);
  UniqueFd fd;
  int open_errno = 0;
  {
    NetnsGuard guard(ns.fd());
    if (!guard.ok()) return guard.status();
    fd.Reset(open(path.c_str(), O_WRONLY | O_CLOEXEC));
    open_errno = errno;
  }
  if (!fd.valid()) return ErrnoError("open", StrCat(path, " in ", ns.name()), open_errno);
  if (write(fd.get(), value.data(), value.size()) != static_cast<ssize_t>(value.size())) {
    return ErrnoError("write", StrCat(path, " in ", ns.name()), errno);
  }
  return absl::OkStatus();
}

}  // namespace netmon::testenv
