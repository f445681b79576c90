// SPDX-License-Identifier: Apache-2.0
#include "server/stale_sweep.h"

#include <bpf/bpf.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>

#include "bpf/tc_attachment.h"
#include "bpf/xdp_attachment.h"
#include "common/log.h"
#include "common/netns.h"
#include "common/status.h"
#include "common/str_cat.h"

namespace netmon::server {
namespace {

bool IsNetmonProg(int prog_fd) {
  bpf_prog_info info{};
  uint32_t len = sizeof(info);
  if (bpf_obj_get_info_by_fd(prog_fd, &info, &len) != 0) return false;
  return std::strncmp(info.name, "netmon_", 7) == 0;
}

int SweepCgroup(const std::string& root) {
  UniqueFd cg(open(root.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
  if (!cg.valid()) return 0;
  static constexpr bpf_attach_type kTypes[] = {
      BPF_CGROUP_INET_INGRESS,      BPF_CGROUP_INET_EGRESS,       BPF_CGROUP_INET_SOCK_CREATE,
      BPF_CGROUP_INET_SOCK_RELEASE, BPF_CGROUP_SOCK_OPS,          BPF_CGROUP_INET4_BIND,
      BPF_CGROUP_INET6_BIND,        BPF_CGROUP_INET4_CONNECT,     BPF_CGROUP_INET6_CONNECT,
      BPF_CGROUP_INET4_POST_BIND,   BPF_CGROUP_INET6_POST_BIND,   BPF_CGROUP_UDP4_SENDMSG,
      BPF_CGROUP_UDP6_SENDMSG,      BPF_CGROUP_UDP4_RECVMSG,      BPF_CGROUP_UDP6_RECVMSG,
      BPF_CGROUP_INET4_GETPEERNAME, BPF_CGROUP_INET6_GETPEERNAME, BPF_CGROUP_INET4_GETSOCKNAME,
      BPF_CGROUP_INET6_GETSOCKNAME, BPF_CGROUP_SETSOCKOPT,        BPF_CGROUP_GETSOCKOPT,
  };
  int removed = 0;
  for (bpf_attach_type type : kTypes) {
    uint32_t ids[64];
    uint32_t count = 64;
    uint32_t flags = 0;
    if (bpf_prog_query(cg.get(), type, 0, &flags, ids, &count) != 0) continue;
    for (uint32_t i = 0; i < count; ++i) {
      UniqueFd prog(bpf_prog_get_fd_by_id(ids[i]));
      if (!prog.valid() || !IsNetmonProg(prog.get())) continue;
      // Fails for bpf_link attachments (EINVAL/EPERM): those are held by a live process, not leftovers.
      if (bpf_prog_detach2(prog.get(), cg.get(), type) == 0) ++removed;
    }
  }
  return removed;
}

int SweepPins(const std::string& bpffs) {
  int removed = 0;
  std::error_code ec;
  for (const auto& entry : std::filesystem::directory_iterator(bpffs, ec)) {
    if (entry.path().filename().string().rfind("netmon_", 0) != 0) continue;
    removed += static_cast<int>(std::filesystem::remove_all(entry.path(), ec));
  }
  return removed;
}

}  // namespace

absl::StatusOr<InstanceLock> InstanceLock::Acquire(const std::string& path) {
  const std::string dir = std::filesystem::path(path).parent_path().string();
  if (mkdir(dir.c_str(), 0750) != 0 && errno != EEXIST) return ErrnoError("create lock directory", dir, errno);
  struct stat st {};
  if (lstat(dir.c_str(), &st) != 0) return ErrnoError("inspect lock directory", dir, errno);
  if (!S_ISDIR(st.st_mode)) {
    return absl::FailedPreconditionError(StrCat("lock directory ", dir, " is not a directory (a symlink?)"));
  }
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof(mode), "%04o", static_cast<unsigned>(st.st_mode & 07777));
    return absl::FailedPreconditionError(StrCat("lock directory ", dir, " is writable by group or others (mode ", mode,
                                                "): anyone could take the lock"));
  }
  if (st.st_uid != 0 && st.st_uid != geteuid()) {
    return absl::FailedPreconditionError(StrCat("lock directory ", dir, " is owned by uid ", st.st_uid));
  }
  UniqueFd fd(open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600));
  if (!fd.valid()) return ErrnoError("open lock file", path, errno);
  if (flock(fd.get(), LOCK_EX | LOCK_NB) == 0) return InstanceLock(std::move(fd), true);
  if (errno != EWOULDBLOCK) return ErrnoError("lock", path, errno);
  // Another server runs (or is sweeping right now: then this waits for it to finish).
  if (flock(fd.get(), LOCK_SH) != 0) return ErrnoError("lock", path, errno);
  return InstanceLock(std::move(fd), false);
}

absl::Status InstanceLock::Share() {
  if (!sole_) return absl::OkStatus();
  if (flock(fd_.get(), LOCK_SH) != 0) return ErrnoError("lock (shared)", "instance lock", errno);
  sole_ = false;
  return absl::OkStatus();
}

SweepReport SweepStale(const std::string& cgroup_root, const std::string& bpffs,
                       const std::vector<std::string>& netns_paths) {
  SweepReport r;
  // XDP too: libxdp's pinned dispatcher links keep a crashed run's netmon_* programs attached.
  auto sweep_interfaces = [] { return bpf::SweepStaleTcFilters() + bpf::SweepStaleXdp(); };
  r.tc_xdp = sweep_interfaces();
  for (const std::string& path : netns_paths) {
    auto fd = OpenNetns(path);
    if (!fd.ok()) {
      NETMON_LOG(kWarn, "sweep", "cannot open ", path, ": ", fd.status().message());
      continue;
    }
    NetnsGuard guard(fd->get());
    if (!guard.ok()) {
      NETMON_LOG(kWarn, "sweep", "cannot enter ", path, ": ", guard.status().message());
      continue;
    }
    r.tc_xdp += sweep_interfaces();
  }
  if (!cgroup_root.empty()) r.cgroup = SweepCgroup(cgroup_root);
  if (!bpffs.empty()) r.pins = SweepPins(bpffs);
  return r;
}

}  // namespace netmon::server
