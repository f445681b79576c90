// SPDX-License-Identifier: Apache-2.0
#include "bpf/tc_attachment.h"

#include <bpf/bpf.h>
#include <fcntl.h>
#include <net/if.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <mutex>
#include <optional>
#include <utility>

#include "bpf/live_objects.h"
#include "common/log.h"
#include "common/netns.h"
#include "common/status.h"

namespace netmon::bpf {
namespace {

constexpr uint32_t kOurPriority = 0xC0DE;
constexpr uint32_t kOurHandle = 0xC0DE;

// Which clsact qdiscs we created and how many of our filters sit on each: a qdisc that existed before us is
// never removed, one we created goes when our last filter goes (or, with KeepCreatedClsact, at
// ReleaseKeptClsact).
struct HookKey {
  uint32_t netns;
  int ifindex;
  auto operator<=>(const HookKey&) const = default;
};
struct HookUse {
  int filters = 0;
  bool created_by_us = false;
  UniqueFd netns;  // of a qdisc we created: ReleaseKeptClsact runs outside any attachment
};
std::mutex g_hooks_mu;
std::map<HookKey, HookUse> g_hooks;
bool g_keep_created = false;

// Caller holds g_hooks_mu and is in the hook's namespace.
void DestroyOurClsact(int ifindex) {
  DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex,
                      .attach_point = static_cast<bpf_tc_attach_point>(BPF_TC_INGRESS | BPF_TC_EGRESS));
  bpf_tc_hook_destroy(&hook);
  CountDestroyed(ObjectKind::kTcHook);
}

bpf_tc_attach_point AttachPoint(TcDirection dir) {
  return dir == TcDirection::kIngress ? BPF_TC_INGRESS : BPF_TC_EGRESS;
}
const char* DirName(TcDirection dir) {
  return dir == TcDirection::kIngress ? "ingress" : "egress";
}

}  // namespace

struct TcAttachment::State {
  TcTarget target;
  UniqueFd netns;  // our own dup, so the caller may close theirs
  uint32_t netns_inode = 0;
  TcDirection dir = TcDirection::kIngress;
  uint32_t priority = kOurPriority;
  uint32_t handle = kOurHandle;
};

TcAttachment::TcAttachment() = default;
TcAttachment::~TcAttachment() {
  Reset();
}

TcAttachment::TcAttachment(TcAttachment&& other) noexcept : state_(std::move(other.state_)) {}

TcAttachment& TcAttachment::operator=(TcAttachment&& other) noexcept {
  if (this != &other) {
    Reset();
    state_ = std::move(other.state_);
  }
  return *this;
}

absl::StatusOr<TcAttachment> TcAttachment::Attach(const TcTarget& target, TcDirection dir, int prog_fd,
                                                  uint32_t priority, uint32_t handle) {
  auto state = std::make_unique<State>();
  state->target = target;
  state->dir = dir;
  state->priority = priority;
  state->handle = handle;
  NETMON_ASSIGN_OR_RETURN(state->netns,
                          OpenNetns(target.netns_fd >= 0 ? "/proc/self/fd/" + std::to_string(target.netns_fd)
                                                         : std::string("/proc/thread-self/ns/net")));
  NETMON_ASSIGN_OR_RETURN(state->netns_inode, NetnsInode(state->netns.get()));

  NetnsGuard in_ns(state->netns.get());
  if (!in_ns.ok()) return in_ns.status();
  int ifindex = target.ifindex;
  if (ifindex == 0) {
    ifindex = static_cast<int>(if_nametoindex(target.ifname.c_str()));
    if (ifindex == 0) return ErrnoError("find interface", target.ifname, errno);
  }
  state->target.ifindex = ifindex;
  const std::string what = target.ifname + " " + DirName(dir);

  std::lock_guard<std::mutex> lock(g_hooks_mu);
  HookKey key{state->netns_inode, ifindex};
  HookUse& use = g_hooks[key];
  DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = ifindex, .attach_point = AttachPoint(dir));
  int err = bpf_tc_hook_create(&hook);
  if (err == 0) {
    // Already ours and kept: somebody else deleted it meanwhile, and this is its successor.
    if (use.created_by_us) CountDestroyed(ObjectKind::kTcHook);
    use.created_by_us = true;
    use.netns = UniqueFd(fcntl(state->netns.get(), F_DUPFD_CLOEXEC, 0));
    CountCreated(ObjectKind::kTcHook);
  } else if (err != -EEXIST) {
    if (use.filters == 0) g_hooks.erase(key);
    return ErrnoError("create clsact qdisc on", target.ifname, err);
  }
  DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .prog_fd = prog_fd, .flags = BPF_TC_F_REPLACE, .handle = handle,
                      .priority = priority);
  err = bpf_tc_attach(&hook, &opts);
  if (err != 0) {
    if (use.filters == 0 && !(use.created_by_us && g_keep_created)) {
      if (use.created_by_us) DestroyOurClsact(ifindex);
      g_hooks.erase(key);
    }
    return ErrnoError("attach TC filter to", what, err);
  }
  ++use.filters;
  CountCreated(ObjectKind::kTcFilter);
  NETMON_LOG(kDebug, "tc", "attached filter to ", what, " (ifindex ", ifindex, ")");
  TcAttachment out;
  out.state_ = std::move(state);
  return out;
}

void TcAttachment::Reset() {
  if (!state_) return;
  std::unique_ptr<State> state = std::move(state_);
  NetnsGuard in_ns(state->netns.get());
  if (!in_ns.ok()) {
    // The namespace handle we hold keeps it alive, so this means setns itself was refused: nothing we can do
    // from here, and the filter disappears with the namespace or the interface.
    NETMON_LOG(kError, "tc", "cannot enter namespace to detach from ", state->target.ifname, ": ",
               in_ns.status().message());
    CountDestroyed(ObjectKind::kTcFilter);
    return;
  }
  DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = state->target.ifindex, .attach_point = AttachPoint(state->dir));
  DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = state->handle, .priority = state->priority);
  int err = bpf_tc_detach(&hook, &opts);
  // ENOENT/ENODEV: the interface or qdisc went away with our filter on it, which is the outcome we wanted.
  if (err != 0 && err != -ENOENT && err != -ENODEV && err != -EINVAL) {
    NETMON_LOG(kWarn, "tc", "detach from ", state->target.ifname, " failed: ", strerror(-err));
  }
  CountDestroyed(ObjectKind::kTcFilter);

  std::lock_guard<std::mutex> lock(g_hooks_mu);
  HookKey key{state->netns_inode, state->target.ifindex};
  auto it = g_hooks.find(key);
  if (it == g_hooks.end()) return;
  if (--it->second.filters > 0) return;
  if (it->second.created_by_us) {
    if (g_keep_created) return;  // empty, until ReleaseKeptClsact
    DestroyOurClsact(state->target.ifindex);
  }
  g_hooks.erase(it);
}

void KeepCreatedClsact(bool keep) {
  std::lock_guard<std::mutex> lock(g_hooks_mu);
  g_keep_created = keep;
}

int ReleaseKeptClsact() {
  std::lock_guard<std::mutex> lock(g_hooks_mu);
  int removed = 0;
  for (auto it = g_hooks.begin(); it != g_hooks.end();) {
    if (it->second.filters > 0 || !it->second.created_by_us) {
      ++it;
      continue;
    }
    NetnsGuard in_ns(it->second.netns.get());
    if (in_ns.ok()) {
      DestroyOurClsact(it->first.ifindex);
      ++removed;
    } else {
      NETMON_LOG(kWarn, "tc", "cannot enter namespace to remove our clsact qdisc: ", in_ns.status().message());
      CountDestroyed(ObjectKind::kTcHook);
    }
    it = g_hooks.erase(it);
  }
  return removed;
}

namespace {

std::optional<std::string> ProgName(uint32_t prog_id) {
  int fd = bpf_prog_get_fd_by_id(prog_id);
  if (fd < 0) return std::nullopt;
  UniqueFd owned(fd);
  bpf_prog_info info{};
  uint32_t len = sizeof(info);
  if (bpf_obj_get_info_by_fd(fd, &info, &len) != 0) return std::nullopt;
  return std::string(info.name);
}

}  // namespace

int SweepStaleTcFilters() {
  int removed = 0;
  struct if_nameindex* ifs = if_nameindex();
  if (ifs == nullptr) return 0;
  for (struct if_nameindex* i = ifs; i->if_index != 0; ++i) {
    for (TcDirection dir : {TcDirection::kIngress, TcDirection::kEgress}) {
      DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = static_cast<int>(i->if_index),
                          .attach_point = AttachPoint(dir));
      DECLARE_LIBBPF_OPTS(bpf_tc_opts, opts, .handle = kOurHandle, .priority = kOurPriority);
      if (bpf_tc_query(&hook, &opts) != 0) continue;
      auto name = ProgName(opts.prog_id);
      if (!name || name->rfind("netmon_", 0) != 0) continue;
      DECLARE_LIBBPF_OPTS(bpf_tc_opts, del, .handle = kOurHandle, .priority = kOurPriority);
      if (bpf_tc_detach(&hook, &del) == 0) {
        ++removed;
        NETMON_LOG(kWarn, "tc", "removed stale filter ", *name, " from ", i->if_name, " ", DirName(dir));
      }
    }
  }
  if_freenameindex(ifs);
  return removed;
}

}  // namespace netmon::bpf
