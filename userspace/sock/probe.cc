// SPDX-License-Identifier: Apache-2.0
#include "sock/probe.h"

#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <unistd.h>

#include <algorithm>
#include <memory>

#include "bpf/mounts.h"
#include "common/str_cat.h"

namespace netmon::sock {

const char* RungName(RungKind kind) {
  switch (kind) {
    case RungKind::kCgroup: return "cgroup";
    case RungKind::kCgroupNoTask: return "cgroup_notask";
    case RungKind::kTpBtf: return "tp_btf";
    case RungKind::kTracepoint: return "tracepoint";
    case RungKind::kRawTp: return "raw_tp";
    case RungKind::kFentry: return "fentry";
    case RungKind::kKprobe: return "kprobe";
    case RungKind::kIter: return "iter";
    case RungKind::kSockDiag: return "sock_diag";
  }
  return "?";
}

// Kernels whose cgroup socket programs may not call bpf_get_current_task_btf(): the `_nt` twins.
#define NETMON_NOTASK_NOTE "; task-less twin: thread comm, start time and netns completed at first I/O"

const std::vector<HookSpec>& HookTable() {
  using K = RungKind;
  using O = ObjectId;
  // Best first: cheapest and most precise rung first. Evidence for the order: cgroup hooks and BTF tracepoints
  // run only for the events they name, with typed arguments; raw_tp/sys_exit runs on every syscall of the host;
  // fentry costs a trampoline per call, kprobe an int3 trap, and kprobe programs cannot even make a cookie.
  static const std::vector<HookSpec> table = {
      {"sock.create",
       {{K::kCgroup, O::kMain, {"netmon_sk_create"}, "", "socket() caller"},
        {K::kCgroupNoTask, O::kMain, {"netmon_sk_create_nt"}, "", "socket() caller" NETMON_NOTASK_NOTE}}},
      {"sock.connect",
       {{K::kCgroup, O::kMain, {"netmon_connect4", "netmon_connect6"}, "", "connect() caller, before the SYN"},
        {K::kCgroupNoTask,
         O::kMain,
         {"netmon_connect4_nt", "netmon_connect6_nt"},
         "",
         "connect() caller, before the SYN" NETMON_NOTASK_NOTE},
        {K::kFentry, O::kFentry, {"netmon_fe_connect"}, "", "tcp_connect() in connect()'s context"},
        {K::kKprobe, O::kKprobe, {"netmon_kp_connect"}, "", "tcp_connect() in connect()'s context"}}},
      {"sock.state",
       {{K::kTpBtf,
         O::kMain,
         {"netmon_set_state"},
         "btf_trace_inet_sock_set_state",
         "TCP state changes: CONNECT outcome/latency, CLOSE, tuples, connect start in process context"}}},
      {"sock.accept",
       {{K::kTracepoint,
         O::kMain,
         {"netmon_accept4_exit", "netmon_accept_exit"},
         "",
         "accept()/accept4() return, only those syscalls"},
        {K::kRawTp, O::kMain, {"netmon_sys_exit"}, "", "every syscall's return, filtered to accept/accept4"},
        {K::kFentry, O::kFentry, {"netmon_fx_accept"}, "", "inet_csk_accept() return"},
        {K::kKprobe, O::kKprobe, {"netmon_kr_accept"}, "", "inet_csk_accept() return"}}},
      {"sock.send",
       {{K::kTpBtf, O::kMain, {"netmon_send_len"}, "btf_trace_sock_send_length", "every sendmsg with its socket"},
        {K::kFentry,
         O::kFentry,
         {"netmon_fx_inet_send", "netmon_fx_inet6_send"},
         "",
         "inet_sendmsg/inet6_sendmsg return: every TCP/UDP sendmsg with its byte count"},
        {K::kFentry, O::kFentry, {"netmon_fe_sec_send"}, "", "security_socket_sendmsg (no UDP byte counts)"},
        {K::kKprobe,
         O::kKprobe,
         {"netmon_kp_inet_send", "netmon_kr_inet_send", "netmon_kp_inet6_send", "netmon_kr_inet6_send"},
         "",
         "inet_sendmsg/inet6_sendmsg entry+return: every TCP/UDP sendmsg with its byte count"},
        {K::kKprobe, O::kKprobe, {"netmon_kp_sec_send"}, "", "security_socket_sendmsg (no UDP byte counts)"}}},
      {"sock.recv",
       {{K::kTpBtf, O::kMain, {"netmon_recv_len"}, "btf_trace_sock_recv_length", "every recvmsg with its socket"},
        {K::kFentry,
         O::kFentry,
         {"netmon_fx_inet_recv", "netmon_fx_inet6_recv"},
         "",
         "inet_recvmsg/inet6_recvmsg return: every TCP/UDP recvmsg with its byte count"},
        {K::kFentry, O::kFentry, {"netmon_fe_sec_recv"}, "", "security_socket_recvmsg (no UDP byte counts)"},
        {K::kKprobe,
         O::kKprobe,
         {"netmon_kp_inet_recv", "netmon_kr_inet_recv", "netmon_kp_inet6_recv", "netmon_kr_inet6_recv"},
         "",
         "inet_recvmsg/inet6_recvmsg entry+return: every TCP/UDP recvmsg with its byte count"},
        {K::kKprobe, O::kKprobe, {"netmon_kp_sec_recv"}, "", "security_socket_recvmsg (no UDP byte counts)"}}},
      {"sock.udp_send",
       {{K::kCgroup, O::kMain, {"netmon_sendmsg4", "netmon_sendmsg6"}, "", "unconnected UDP sendmsg"},
        {K::kCgroupNoTask,
         O::kMain,
         {"netmon_sendmsg4_nt", "netmon_sendmsg6_nt"},
         "",
         "unconnected UDP sendmsg" NETMON_NOTASK_NOTE}}},
      {"sock.udp_recv",
       {{K::kCgroup, O::kMain, {"netmon_recvmsg4", "netmon_recvmsg6"}, "", "unconnected UDP recvmsg"},
        {K::kCgroupNoTask,
         O::kMain,
         {"netmon_recvmsg4_nt", "netmon_recvmsg6_nt"},
         "",
         "unconnected UDP recvmsg" NETMON_NOTASK_NOTE}}},
      {"sock.bind",
       {{K::kCgroup, O::kMain, {"netmon_post_bind4", "netmon_post_bind6"}, "", "bind(): server keys"},
        {K::kCgroupNoTask,
         O::kMain,
         {"netmon_post_bind4_nt", "netmon_post_bind6_nt"},
         "",
         "bind() caller; no server keys (netns unknown without the task)" NETMON_NOTASK_NOTE}}},
      {"sock.release",
       {{K::kCgroup, O::kMain, {"netmon_sk_release"}, "", "close()/exit of TCP and UDP sockets"},
        {K::kCgroupNoTask, O::kMain, {"netmon_sk_release_nt"}, "", "close()/exit of TCP and UDP sockets"},
        {K::kFentry, O::kFentry, {"netmon_fe_tcp_close", "netmon_fe_release"}, "", "tcp_close/inet_release"},
        {K::kKprobe, O::kKprobe, {"netmon_kp_tcp_close", "netmon_kp_release"}, "", "tcp_close/inet_release"},
        {K::kTpBtf,
         O::kMain,
         {"netmon_tcp_destroy"},
         "btf_trace_tcp_destroy_sock",
         "TCP socket destruction only (no UDP CLOSE)"}}},
      {"sock.existing",
       {{K::kIter, O::kIter, {"netmon_seed"}, "bpf_iter__task_file", "one kernel pass over every task's files"},
        {K::kSockDiag, O::kUserspace, {}, "", "/proc/<pid>/fd + NETLINK_SOCK_DIAG per network namespace"}}},
  };
  return table;
}
#undef NETMON_NOTASK_NOTE

std::vector<HookChoice> ChooseRungs(const std::vector<HookSpec>& table, const Unavailable& unavailable) {
  std::vector<HookChoice> out;
  for (const HookSpec& hook : table) {
    HookChoice choice;
    choice.hook = hook.hook;
    for (size_t i = 0; i < hook.rungs.size(); ++i) {
      auto why = unavailable(hook, hook.rungs[i]);
      if (!why) {
        choice.rung = static_cast<int>(i);
        break;
      }
      if (!choice.skipped.empty()) choice.skipped += "; ";
      choice.skipped += StrCat(RungName(hook.rungs[i].kind), ": ", *why);
    }
    out.push_back(std::move(choice));
  }
  return out;
}

Features ProbeFeatures(const std::string& cgroup_path) {
  Features f;
  if (!cgroup_path.empty()) {
    if (access(cgroup_path.c_str(), R_OK) == 0) {
      f.cgroup_path = cgroup_path;
    } else {
      f.cgroup_error = StrCat("cannot open ", cgroup_path);
    }
  } else if (auto mount = bpf::FindCgroup2Mount(); mount.ok()) {
    f.cgroup_path = *mount;
  } else {
    f.cgroup_error = std::string(mount.status().message());
  }
  if (auto tracefs = bpf::EnsureTracefs(); tracefs.ok()) {
    f.syscall_tracepoints = access((tracefs->path + "/events/syscalls/sys_exit_accept4/id").c_str(), R_OK) == 0;
    if (!f.syscall_tracepoints) f.tracefs_error = "no syscalls/sys_exit_accept4 tracepoint (CONFIG_FTRACE_SYSCALLS)";
  } else {
    f.tracefs_error = std::string(tracefs.status().message());
  }
  f.kprobe_pmu = access("/sys/bus/event_source/devices/kprobe/type", R_OK) == 0;
  std::shared_ptr<struct btf> btf(btf__load_vmlinux_btf(), [](struct btf* b) { btf__free(b); });
  if (libbpf_get_error(btf.get()) != 0) btf.reset();
  f.has_btf_type = [btf](const std::string& name) {
    if (!btf) return false;
    return btf__find_by_name(btf.get(), name.c_str()) >= 0;
  };
  return f;
}

std::optional<std::string> StaticUnavailable(const Features& features, const std::vector<std::string>& disabled,
                                             const HookSpec& hook, const RungSpec& rung) {
  const std::string kind = RungName(rung.kind);
  for (const std::string& d : disabled) {
    if (d == kind || d == hook.hook + ":" + kind) return std::string("disabled by configuration");
  }
  if (!rung.btf_type.empty() && !(features.has_btf_type && features.has_btf_type(rung.btf_type))) {
    return StrCat("kernel BTF has no ", rung.btf_type);
  }
  switch (rung.kind) {
    case RungKind::kCgroup:
    case RungKind::kCgroupNoTask:
      if (features.cgroup_path.empty()) return StrCat("no cgroup v2: ", features.cgroup_error);
      break;
    case RungKind::kTracepoint:
      if (!features.syscall_tracepoints) return StrCat("no syscall tracepoints: ", features.tracefs_error);
      break;
    case RungKind::kKprobe:
      if (!features.kprobe_pmu) return std::string("no kprobe PMU (CONFIG_KPROBES off?)");
      break;
    default: break;
  }
  return std::nullopt;
}

std::vector<bpf::HookInfo> DescribeChoices(const std::vector<HookSpec>& table, const std::vector<HookChoice>& choices,
                                           bool attached) {
  std::vector<bpf::HookInfo> out;
  for (size_t h = 0; h < table.size() && h < choices.size(); ++h) {
    const HookChoice& c = choices[h];
    bpf::HookInfo info;
    info.name = c.hook;
    if (c.rung >= 0) {
      const RungSpec& r = table[h].rungs[static_cast<size_t>(c.rung)];
      info.rung = RungName(r.kind);
      // Userspace rungs and the iterator run on demand (SeedExistingSockets), never stay attached.
      info.active = attached && r.object != ObjectId::kUserspace && r.kind != RungKind::kIter;
      info.detail = r.covers;
    }
    info.degraded = c.rung != 0;
    if (!c.skipped.empty()) info.detail += (info.detail.empty() ? "" : "; ") + std::string("skipped ") + c.skipped;
    out.push_back(std::move(info));
  }
  return out;
}

}  // namespace netmon::sock
