// SPDX-License-Identifier: Apache-2.0
#include "server/capabilities.h"

#include <linux/capability.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>

#include "common/status.h"
#include "common/str_cat.h"

#ifndef CAP_PERFMON
#define CAP_PERFMON 38
#endif
#ifndef CAP_BPF
#define CAP_BPF 39
#endif
#ifndef CAP_CHECKPOINT_RESTORE
#define CAP_CHECKPOINT_RESTORE 40
#endif

namespace netmon::server {
namespace {

constexpr int kMaxCap = 63;

bool GetCaps(__user_cap_data_struct data[2]) {
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  return syscall(SYS_capget, &hdr, data) == 0;
}

const char* CapName(int cap) {
  switch (cap) {
    case CAP_NET_BIND_SERVICE: return "cap_net_bind_service";
    case CAP_NET_ADMIN: return "cap_net_admin";
    case CAP_SYS_ADMIN: return "cap_sys_admin";
    case CAP_SYS_PTRACE: return "cap_sys_ptrace";
    case CAP_SYS_RESOURCE: return "cap_sys_resource";
    case CAP_DAC_READ_SEARCH: return "cap_dac_read_search";
    case CAP_PERFMON: return "cap_perfmon";
    case CAP_BPF: return "cap_bpf";
    default: return nullptr;
  }
}

}  // namespace

std::vector<int> ServerCapabilities(bool bind_privileged_port) {
  std::vector<int> keep = {CAP_BPF,        CAP_PERFMON,         CAP_NET_ADMIN,   CAP_SYS_ADMIN,
                           CAP_SYS_PTRACE, CAP_DAC_READ_SEARCH, CAP_SYS_RESOURCE};
  if (bind_privileged_port) keep.push_back(CAP_NET_BIND_SERVICE);
  return keep;
}

absl::Status KeepOnlyCapabilities(const std::vector<int>& keep) {
  auto kept = [&](int cap) { return std::find(keep.begin(), keep.end(), cap) != keep.end(); };
  // The bounding set first: dropping from it needs CAP_SETPCAP, which the capset below removes.
  for (int cap = 0; cap <= kMaxCap; ++cap) {
    if (kept(cap)) continue;
    if (prctl(PR_CAPBSET_READ, cap, 0, 0, 0) != 1) continue;  // not in the set, or unknown to this kernel
    if (prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0 && errno != EINVAL) {
      return ErrnoError("drop from the capability bounding set", StrCat("capability ", cap), errno);
    }
  }
  prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
  __user_cap_data_struct data[2] = {};
  if (!GetCaps(data)) return ErrnoError("capget", "", errno);
  __user_cap_data_struct out[2] = {};
  for (int cap = 0; cap <= kMaxCap; ++cap) {
    if (!kept(cap)) continue;
    int word = cap / 32;
    uint32_t bit = 1u << (cap % 32);
    out[word].permitted |= data[word].permitted & bit;
    out[word].effective |= data[word].permitted & bit;
  }
  __user_cap_header_struct hdr{_LINUX_CAPABILITY_VERSION_3, 0};
  if (syscall(SYS_capset, &hdr, out) != 0) return ErrnoError("capset", "", errno);
  if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0) return ErrnoError("prctl", "PR_SET_NO_NEW_PRIVS", errno);
  return absl::OkStatus();
}

std::string EffectiveCapabilities() {
  __user_cap_data_struct data[2] = {};
  if (!GetCaps(data)) return "?";
  std::string out;
  for (int cap = 0; cap <= kMaxCap; ++cap) {
    if ((data[cap / 32].effective & (1u << (cap % 32))) == 0) continue;
    if (!out.empty()) out += ",";
    const char* name = CapName(cap);
    out += name != nullptr ? std::string(name) : StrCat("cap_", cap);
  }
  return out;
}

}  // namespace netmon::server
