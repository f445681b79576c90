// SPDX-License-Identifier: Apache-2.0
#include "bpf/mounts.h"

#include <linux/magic.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>

#include <cerrno>
#include <fstream>
#include <sstream>

#include "common/log.h"
#include "common/status.h"

namespace netmon::bpf {
namespace {

bool HasMagic(const std::string& path, long magic) {
  struct statfs st {};
  return statfs(path.c_str(), &st) == 0 && static_cast<long>(st.f_type) == magic;
}

absl::StatusOr<MountResult> EnsureMounted(const std::string& path, const char* fstype, long magic) {
  if (HasMagic(path, magic)) return MountResult{path, false};
  if (mkdir(path.c_str(), 0700) != 0 && errno != EEXIST) return ErrnoError("create mount point", path, errno);
  if (mount(fstype, path.c_str(), fstype, 0, "mode=0700") != 0) {
    return ErrnoError(std::string("mount ") + fstype + " at", path, errno);
  }
  NETMON_LOG(kInfo, "mounts", "mounted ", fstype, " at ", path, " (it was not mounted)");
  return MountResult{path, true};
}

}  // namespace

absl::StatusOr<MountResult> EnsureBpffs(const std::string& path) {
  return EnsureMounted(path, "bpf", BPF_FS_MAGIC);
}

absl::StatusOr<MountResult> EnsureTracefs(const std::string& path) {
  return EnsureMounted(path, "tracefs", TRACEFS_MAGIC);
}

absl::StatusOr<std::string> FindCgroup2Mount(const std::string& mounts_file) {
  std::ifstream in(mounts_file);
  if (!in) return ErrnoError("read", mounts_file, errno);
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream fields(line);
    std::string device, mount_point, fstype;
    if (!(fields >> device >> mount_point >> fstype)) continue;
    if (fstype == "cgroup2") return mount_point;
  }
  return absl::NotFoundError(
      "no cgroup2 filesystem is mounted (cgroup socket hooks need one; mount it with "
      "`mount -t cgroup2 none /sys/fs/cgroup/unified`)");
}

}  // namespace netmon::bpf
