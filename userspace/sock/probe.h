// SPDX-License-Identifier: Apache-2.0
// The socket layer's hooks as a table of alternatives, best first, and the start-up probe that picks one rung per
// hook. Rungs are chosen by cheap static checks (BTF types, mounts, PMUs); the loader then verifies the choice by
// loading each object once, and marks a rung whose programs the kernel refuses as unavailable (with the verifier's
// verdict) before choosing again (socket_layer.cc). The choice is logged and reported as bpf::HookInfo.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "bpf/hook_info.h"

namespace netmon::sock {

enum class RungKind { kCgroup, kCgroupNoTask, kTpBtf, kTracepoint, kRawTp, kFentry, kKprobe, kIter, kSockDiag };
enum class ObjectId { kMain, kIter, kFentry, kKprobe, kUserspace };

const char* RungName(RungKind kind);

struct RungSpec {
  RungKind kind;
  ObjectId object;
  std::vector<std::string> programs;  // BPF program names in `object`; empty for userspace rungs
  std::string btf_type;               // a vmlinux BTF type the rung needs ("" = none), e.g. btf_trace_sock_send_length
  std::string covers;                 // what it observes, in an operator's words
};

struct HookSpec {
  std::string hook;  // "sock.connect" ...
  std::vector<RungSpec> rungs;
};

// The table (static, in the order the loader attaches).
const std::vector<HookSpec>& HookTable();

struct HookChoice {
  std::string hook;
  int rung = -1;        // index into the hook's rungs; -1 = none available
  std::string skipped;  // why better rungs were passed over ("fentry: load failed: EPERM; ...")
};

// Why (hook, rung) cannot be used here, or nullopt if it can (as far as is known without loading).
using Unavailable = std::function<std::optional<std::string>(const HookSpec&, const RungSpec&)>;

// Picks, for every hook, the first rung `unavailable` does not refuse. Pure: unit-tested without a kernel.
std::vector<HookChoice> ChooseRungs(const std::vector<HookSpec>& table, const Unavailable& unavailable);

// Static facts about this kernel and host, probed once.
struct Features {
  std::string cgroup_path;  // cgroup2 mount (or the configured cgroup); empty = none
  std::string cgroup_error;
  bool syscall_tracepoints = false;  // tracefs mounted (mounted now if needed) with syscalls/sys_exit_accept4
  std::string tracefs_error;
  bool kprobe_pmu = false;  // /sys/bus/event_source/devices/kprobe: what libbpf attaches kprobes through
  std::function<bool(const std::string&)> has_btf_type;  // vmlinux BTF lookup
};

// Probes the host. `cgroup_path` empty = find the cgroup2 mount.
Features ProbeFeatures(const std::string& cgroup_path);

// Static availability of a rung under `features` and the operator's `disabled` list ("kind" or "hook:kind").
std::optional<std::string> StaticUnavailable(const Features& features, const std::vector<std::string>& disabled,
                                             const HookSpec& hook, const RungSpec& rung);

// Hook reports for the chosen rungs.
std::vector<bpf::HookInfo> DescribeChoices(const std::vector<HookSpec>& table, const std::vector<HookChoice>& choices,
                                           bool attached);

}  // namespace netmon::sock
