// SPDX-License-Identifier: Apache-2.0
#include "sock/seed_diag.h"

#include <dirent.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/sock_diag.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstring>
#include <ctime>
#include <fstream>
#include <map>
#include <sstream>

#include "common/log.h"
#include "common/netns.h"
#include "common/status.h"
#include "common/unique_fd.h"
#include "netmon/sock_logic.h"
#include "proc/process_cache.h"
#include "sock/addr.h"

namespace netmon::sock {
namespace {

struct Holder {
  uint32_t tgid = 0;
  uint32_t netns = 0;
};

struct ProcFacts {
  uint32_t uid = 0;
  uint64_t cgroup_id = 0;
  uint64_t start_ns = 0;
  std::string comm;
};

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

ProcFacts ReadFacts(uint32_t tgid, const std::string& cgroup_mount) {
  ProcFacts f;
  const std::string dir = "/proc/" + std::to_string(tgid);
  f.comm = Slurp(dir + "/comm");
  while (!f.comm.empty() && f.comm.back() == '\n') f.comm.pop_back();
  std::istringstream status(Slurp(dir + "/status"));
  for (std::string line; std::getline(status, line);) {
    if (line.rfind("Uid:", 0) == 0) f.uid = static_cast<uint32_t>(strtoul(line.c_str() + 4, nullptr, 10));
  }
  std::istringstream cgroups(Slurp(dir + "/cgroup"));
  for (std::string line; std::getline(cgroups, line);) {
    // cgroup v2 line: "0::/path"; its directory's inode number is the cgroup id the kernel reports.
    if (line.rfind("0::", 0) != 0 || cgroup_mount.empty()) continue;
    struct stat st {};
    if (stat((cgroup_mount + line.substr(3)).c_str(), &st) == 0) f.cgroup_id = st.st_ino;
  }
  f.start_ns = proc::ReadStartTimeNs(tgid).value_or(0);
  return f;
}

// inode -> first process holding it; one process per namespace to enter for the dump.
void WalkProc(std::map<uint64_t, Holder>* inodes, std::map<uint32_t, uint32_t>* netns_pid) {
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return;
  while (struct dirent* de = readdir(proc)) {
    char* end = nullptr;
    unsigned long pid = strtoul(de->d_name, &end, 10);
    if (end == de->d_name || *end != '\0') continue;
    const std::string dir = std::string("/proc/") + de->d_name;
    struct stat ns {};
    if (stat((dir + "/ns/net").c_str(), &ns) != 0) continue;
    const uint32_t netns = static_cast<uint32_t>(ns.st_ino);
    netns_pid->emplace(netns, static_cast<uint32_t>(pid));
    DIR* fds = opendir((dir + "/fd").c_str());
    if (fds == nullptr) continue;
    while (struct dirent* fd = readdir(fds)) {
      char target[64];
      ssize_t n = readlinkat(dirfd(fds), fd->d_name, target, sizeof(target) - 1);
      if (n <= 0) continue;
      target[n] = '\0';
      unsigned long long inode = 0;
      if (sscanf(target, "socket:[%llu]", &inode) != 1) continue;
      inodes->emplace(inode, Holder{static_cast<uint32_t>(pid), netns});
    }
    closedir(fds);
  }
  closedir(proc);
}

struct DiagSocket {
  netmon_tuple tuple{};
  uint64_t cookie = 0;
  uint64_t inode = 0;
  uint8_t family = 0;
  uint8_t state = 0;
};

// One NETLINK_SOCK_DIAG dump of (family, protocol) in the caller's current namespace.
absl::Status Dump(uint8_t family, uint8_t protocol, uint32_t netns, std::vector<DiagSocket>* out) {
  UniqueFd fd(socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG));
  if (!fd.valid()) return ErrnoError("open", "NETLINK_SOCK_DIAG socket", errno);
  struct {
    nlmsghdr nlh;
    inet_diag_req_v2 req;
  } msg{};
  msg.nlh.nlmsg_len = sizeof(msg);
  msg.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
  msg.nlh.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP;
  msg.req.sdiag_family = family;
  msg.req.sdiag_protocol = protocol;
  msg.req.idiag_states = ~0u;
  if (send(fd.get(), &msg, sizeof(msg), 0) < 0) return ErrnoError("send", "sock_diag dump request", errno);
  alignas(nlmsghdr) char buf[32768];
  for (;;) {
    ssize_t n = recv(fd.get(), buf, sizeof(buf), 0);
    if (n < 0) return ErrnoError("receive", "sock_diag dump", errno);
    if (n == 0) return absl::OkStatus();
    int len = static_cast<int>(n);
    for (auto* h = reinterpret_cast<nlmsghdr*>(buf); NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
      if (h->nlmsg_type == NLMSG_DONE) return absl::OkStatus();
      if (h->nlmsg_type == NLMSG_ERROR) return absl::InternalError("sock_diag dump failed");
      if (h->nlmsg_len < NLMSG_LENGTH(sizeof(inet_diag_msg))) continue;
      const auto* d = reinterpret_cast<const inet_diag_msg*>(NLMSG_DATA(h));
      DiagSocket s;
      s.family = d->idiag_family;
      s.state = d->idiag_state;
      s.inode = d->idiag_inode;
      s.cookie = static_cast<uint64_t>(d->id.idiag_cookie[1]) << 32 | d->id.idiag_cookie[0];
      Addr local{}, remote{};
      if (family == AF_INET) {
        local = AddrFromV4(d->id.idiag_src[0]);
        remote = AddrFromV4(d->id.idiag_dst[0]);
      } else {
        local = AddrFromV6(reinterpret_cast<const uint8_t*>(d->id.idiag_src));
        remote = AddrFromV6(reinterpret_cast<const uint8_t*>(d->id.idiag_dst));
      }
      s.tuple = MakeTuple(local, ntohs(d->id.idiag_sport), remote, ntohs(d->id.idiag_dport), protocol, netns);
      out->push_back(s);
    }
  }
}

uint64_t MonotonicNs() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}

// Every TCP/UDP socket of the namespace `netns`, entered through a process `pid` living in it. False (nothing
// dumped) if that process exited meanwhile.
absl::StatusOr<bool> DumpNamespace(uint32_t netns, uint32_t pid, std::vector<DiagSocket>* sockets) {
  auto ns_fd = OpenNetns("/proc/" + std::to_string(pid) + "/ns/net");
  if (!ns_fd.ok()) return false;
  NetnsGuard in_ns(ns_fd->get());
  if (!in_ns.ok()) return in_ns.status();
  for (uint8_t family : {AF_INET, AF_INET6}) {
    for (uint8_t protocol : {IPPROTO_TCP, IPPROTO_UDP}) {
      NETMON_RETURN_IF_ERROR(Dump(family, protocol, netns, sockets));
    }
  }
  return true;
}

}  // namespace

absl::StatusOr<uint64_t> AssignCookies(const std::map<uint32_t, uint32_t>& netns_tgid) {
  uint64_t reported = 0;
  for (const auto& [netns, tgid] : netns_tgid) {
    std::vector<DiagSocket> sockets;
    NETMON_RETURN_IF_ERROR(DumpNamespace(netns, tgid, &sockets).status());
    reported += sockets.size();
  }
  return reported;
}

absl::StatusOr<SeedResult> SeedFromSockDiag(const bpf::SharedMaps& shared, const std::string& cgroup_mount) {
  std::map<uint64_t, Holder> inodes;
  std::map<uint32_t, uint32_t> netns_pid;
  WalkProc(&inodes, &netns_pid);
  SeedResult result;
  std::map<uint32_t, ProcFacts> facts;
  for (const auto& [netns, pid] : netns_pid) {
    std::vector<DiagSocket> sockets;
    NETMON_ASSIGN_OR_RETURN(bool dumped, DumpNamespace(netns, pid, &sockets));
    if (!dumped) continue;  // the process exited meanwhile
    ++result.netns;
    for (DiagSocket& s : sockets) {
      auto holder = inodes.find(s.inode);
      if (holder == inodes.end() || s.cookie == 0) continue;  // kernel-held, timewait, or closed meanwhile
      ++result.sockets;
      const uint32_t tgid = holder->second.tgid;
      auto f = facts.find(tgid);
      if (f == facts.end()) f = facts.emplace(tgid, ReadFacts(tgid, cgroup_mount)).first;
      if (!shared.LookupOwner(s.cookie)) {
        netmon_owner o{};
        o.tgid = tgid;
        o.tid = tgid;
        o.uid = f->second.uid;
        o.netns = netns;
        o.cgroup_id = f->second.cgroup_id;
        o.start_time_ns = f->second.start_ns;
        o.seen_ns = MonotonicNs();
        strncpy(o.comm, f->second.comm.c_str(), sizeof(o.comm) - 1);
        o.source = NETMON_SRC_EXISTING;
        o.role =
            s.state == NETMON_TCP_LISTEN && s.tuple.proto == IPPROTO_TCP ? NETMON_ROLE_PASSIVE : NETMON_ROLE_UNKNOWN;
        o.family = s.family;
        o.proto = s.tuple.proto;
        if (shared.PutOwner(s.cookie, o).ok()) ++result.owners;
      }
      netmon_tuple key = s.tuple;
      if (s.state == NETMON_TCP_LISTEN && s.tuple.proto == IPPROTO_TCP) key.remote_port = 0;
      if (key.remote_port == 0) netmon_tuple_wildcard(&key, &s.tuple, netmon_addr_is_zero(s.tuple.local_addr));
      if (key.local_port == 0 || shared.LookupTuple(key)) continue;
      if (shared.PutTuple(key, netmon_tuple_owner{s.cookie, MonotonicNs()}).ok()) ++result.tuples;
    }
  }
  NETMON_LOG(kInfo, "sock", "seeded existing sockets from sock_diag: ", result.sockets, " sockets, ", result.owners,
             " owners, ", result.tuples, " tuples, ", result.netns, " network namespaces");
  return result;
}

}  // namespace netmon::sock
