// SPDX-License-Identifier: Apache-2.0
// The socket layer's programs against this kernel: what the probe picks, that every rung that can load passes
// the verifier (and that the others fail the way this kernel is known to refuse them), and that Detach leaves
// nothing attached. The expectations follow the kernel the test runs on (KernelFacts below), because the suite
// runs on two: the CI host (docs/architecture.md §6: cgroup hooks, tp_btf including sock_send_length/sock_recv_length,
// syscall tracepoints, raw_tp and the task_file iterator work; fentry loads fail with EPERM; kprobe programs load
// but cannot attach, CONFIG_KPROBES being off) and the kernel-matrix guest (Debian 12's 6.1: no
// sock_*_length tracepoints, fentry and kprobes work).
#include <bpf/libbpf.h>
#include <gtest/gtest.h>
#include <unistd.h>

#include <algorithm>
#include <map>
#include <string>

#include "bpf/libbpf_log.h"
#include "bpf/live_objects.h"
#include "bpf/skeleton.h"
#include "common/status.h"
#include "common/str_cat.h"
#include "netmon_sock.skel.h"
#include "netmon_sock_fentry.skel.h"
#include "netmon_sock_iter.skel.h"
#include "netmon_sock_kprobe.skel.h"
#include "sock/probe.h"
#include "sock/socket_layer.h"
#include "sock_test_util.h"

namespace netmon::sock {
namespace {

using testing::BpftoolAttachedProgIds;
using testing::BpftoolAttachedProgs;

std::map<std::string, bpf::HookInfo> ByName(const std::vector<bpf::HookInfo>& hooks) {
  std::map<std::string, bpf::HookInfo> out;
  for (const auto& h : hooks) out[h.name] = h;
  return out;
}

// Loads every program of one object. OK, or the kernel's refusal.
template <typename Skel>
absl::Status LoadEverything(const char* name) {
  auto shared = bpf::SharedMaps::Create();
  if (!shared.ok()) return shared.status();
  NETMON_ASSIGN_OR_RETURN(Skel skel, Skel::Open(name));
  NETMON_RETURN_IF_ERROR(shared->ReuseIn(skel->obj));
  return skel.Load();
}

// What the kernel under test offers the lower rungs, found the way the socket layer finds it.
struct KernelFacts {
  bool send_recv_tracepoints = false;  // v6.3+: btf_trace_sock_send_length / btf_trace_sock_recv_length
  bool task_file_iter = false;         // v5.8+ with BTF: bpf_iter__task_file (the iterator's context type)
  bool fentry = false;                 // the fentry object loads (this CI host: EPERM)
  bool kprobe = false;                 // kprobe PMU (this CI host: CONFIG_KPROBES off)

  static const KernelFacts& Get() {
    static const KernelFacts facts = [] {
      KernelFacts f;
      Features features = ProbeFeatures("");
      f.send_recv_tracepoints = features.has_btf_type && features.has_btf_type("btf_trace_sock_send_length") &&
                                features.has_btf_type("btf_trace_sock_recv_length");
      f.task_file_iter = features.has_btf_type && features.has_btf_type("bpf_iter__task_file");
      f.fentry = LoadEverything<NETMON_SKELETON(netmon_sock_fentry)>("netmon_sock_fentry").ok();
      f.kprobe = features.kprobe_pmu;
      GTEST_LOG_(INFO) << "kernel facts: sock_*_length tracepoints " << f.send_recv_tracepoints
                       << ", task_file iterator " << f.task_file_iter << ", fentry " << f.fentry << ", kprobe "
                       << f.kprobe;
      return f;
    }();
    return facts;
  }
  // The rung the ladder must reach for a hook whose better rungs are missing: fentry, then kprobe, then `last`.
  std::string Fallback(const std::string& last = "") const { return fentry ? "fentry" : kprobe ? "kprobe" : last; }
};

// Programs the chosen rungs attach (the iterator and userspace rungs attach nothing): the chosen rung is the one
// of its kind whose description starts the hook's detail.
size_t AttachedProgramsExpected(const std::vector<bpf::HookInfo>& hooks) {
  size_t n = 0;
  for (const bpf::HookInfo& h : hooks) {
    for (const HookSpec& spec : HookTable()) {
      if (spec.hook != h.name) continue;
      for (const RungSpec& r : spec.rungs) {
        if (h.rung == RungName(r.kind) && h.detail.rfind(r.covers, 0) == 0 && r.kind != RungKind::kIter) {
          n += r.programs.size();
          break;
        }
      }
    }
  }
  return n;
}

TEST(SockLoad, ProbePicksTheBestRungsHere) {
  auto shared = bpf::SharedMaps::Create();
  ASSERT_TRUE(shared.ok()) << shared.status();
  auto layer = SocketLayer::Create(*shared, {});
  ASSERT_TRUE(layer.ok()) << layer.status();
  auto hooks = ByName((*layer)->Hooks());
  const KernelFacts& k = KernelFacts::Get();
  // Before v6.3 (the 6.1 guest) send/receive have no tracepoint: fentry/fexit (or kprobe) take over, degraded.
  const std::string io = k.send_recv_tracepoints ? "tp_btf" : k.Fallback();
  // The iterator reads its sockets by CO-RE, which every kernel with its context type allows (whatever trust the
  // build gives `sock->sk`): where bpf_iter__task_file exists, refusing it is a bug, not a kernel fact.
  const std::string existing = k.task_file_iter ? "iter" : "sock_diag";
  const std::map<std::string, std::string> want = {
      {"sock.create", "cgroup"}, {"sock.connect", "cgroup"}, {"sock.state", "tp_btf"},    {"sock.accept", "tracepoint"},
      {"sock.send", io},         {"sock.recv", io},          {"sock.udp_send", "cgroup"}, {"sock.udp_recv", "cgroup"},
      {"sock.bind", "cgroup"},   {"sock.release", "cgroup"}, {"sock.existing", existing},
  };
  for (const auto& [hook, rung] : want) {
    ASSERT_EQ(hooks.count(hook), 1u) << hook;
    EXPECT_EQ(hooks[hook].rung, rung) << hook << ": " << hooks[hook].detail;
    const bool io_hook = hook == "sock.send" || hook == "sock.recv";
    const bool degraded = (io_hook && !k.send_recv_tracepoints) || (hook == "sock.existing" && !k.task_file_iter);
    EXPECT_EQ(hooks[hook].degraded, degraded) << hook;
    EXPECT_FALSE(hooks[hook].active) << hook << ": nothing is attached before Attach()";
  }
  if (!k.send_recv_tracepoints && k.fentry) {
    // The exact-byte-count fexit rung, not the LSM fallback.
    EXPECT_EQ(hooks["sock.send"].detail.rfind("inet_sendmsg/inet6_sendmsg return", 0), 0u) << hooks["sock.send"].detail;
    EXPECT_EQ(hooks["sock.recv"].detail.rfind("inet_recvmsg/inet6_recvmsg return", 0), 0u) << hooks["sock.recv"].detail;
  }
}

TEST(SockLoad, LowerRungsAreChosenWhenBetterOnesAreOff) {
  auto shared = bpf::SharedMaps::Create();
  ASSERT_TRUE(shared.ok()) << shared.status();
  SocketLayerConfig cfg;
  cfg.disabled_rungs = {"sock.accept:tracepoint",     "sock.existing:iter",  "sock.release:cgroup",
                        "sock.release:cgroup_notask", "sock.connect:cgroup", "sock.connect:cgroup_notask"};
  auto layer = SocketLayer::Create(*shared, cfg);
  ASSERT_TRUE(layer.ok()) << layer.status();
  auto hooks = ByName((*layer)->Hooks());
  EXPECT_EQ(hooks["sock.accept"].rung, "raw_tp");
  EXPECT_TRUE(hooks["sock.accept"].degraded);
  EXPECT_EQ(hooks["sock.existing"].rung, "sock_diag");
  // connect without cgroup: fentry, else kprobe. On this CI host fentry is refused (EPERM) and kprobe has no
  // PMU, so connect has no hook at all; on the 6.1 guest fentry serves.
  const KernelFacts& k = KernelFacts::Get();
  EXPECT_EQ(hooks["sock.connect"].rung, k.Fallback()) << hooks["sock.connect"].detail;
  if (!k.fentry) {
    EXPECT_NE(hooks["sock.connect"].detail.find("fentry: load failed"), std::string::npos)
        << hooks["sock.connect"].detail;
  }
  if (!k.fentry && !k.kprobe) {
    EXPECT_NE(hooks["sock.connect"].detail.find("kprobe: no kprobe PMU"), std::string::npos)
        << hooks["sock.connect"].detail;
  }
  // release: fentry, else kprobe, else the TCP-only tracepoint (this CI host).
  EXPECT_EQ(hooks["sock.release"].rung, k.Fallback("tp_btf")) << hooks["sock.release"].detail;
  ASSERT_TRUE((*layer)->Attach().ok());
  EXPECT_TRUE(ByName((*layer)->Hooks())["sock.accept"].active);
  (*layer)->Detach();
}

// Kernels whose cgroup programs may not read the task get the task-less twins (here forced by configuration).
TEST(SockLoad, TasklessCgroupTwinsServeWhenTheFullOnesCannot) {
  auto shared = bpf::SharedMaps::Create();
  ASSERT_TRUE(shared.ok()) << shared.status();
  SocketLayerConfig cfg;
  cfg.disabled_rungs = {"cgroup"};
  auto layer = SocketLayer::Create(*shared, cfg);
  ASSERT_TRUE(layer.ok()) << layer.status();
  auto hooks = ByName((*layer)->Hooks());
  for (const char* hook :
       {"sock.create", "sock.connect", "sock.udp_send", "sock.udp_recv", "sock.bind", "sock.release"}) {
    EXPECT_EQ(hooks[hook].rung, "cgroup_notask") << hook << ": " << hooks[hook].detail;
    EXPECT_TRUE(hooks[hook].degraded) << hook;
  }
  ASSERT_TRUE((*layer)->Attach().ok());
  EXPECT_EQ((*layer)->AttachedProgramIds().size(), AttachedProgramsExpected((*layer)->Hooks()));
}

// Every program whose attach point this kernel has: on the CI host all of them; before v6.3 (the 6.1 guest) all
// but the tp_btf programs of the tracepoints the kernel does not have yet (sock_send_length, sock_recv_length).
TEST(SockLoad, MainObjectPassesTheVerifierWithEveryProgram) {
  using Skel = NETMON_SKELETON(netmon_sock);
  const Features features = ProbeFeatures("");
  auto shared = bpf::SharedMaps::Create();
  ASSERT_TRUE(shared.ok()) << shared.status();
  auto skel = Skel::Open("netmon_sock");
  ASSERT_TRUE(skel.ok()) << skel.status();
  ASSERT_TRUE(shared->ReuseIn((*skel)->obj).ok());
  std::vector<std::string> absent;
  struct bpf_program* prog;
  bpf_object__for_each_program(prog, (*skel)->obj) {
    const std::string sec = bpf_program__section_name(prog);
    if (sec.rfind("tp_btf/", 0) != 0) continue;
    if (!features.has_btf_type(StrCat("btf_trace_", sec.substr(7)))) {
      absent.push_back(sec);
      bpf_program__set_autoload(prog, false);
    }
  }
  if (KernelFacts::Get().send_recv_tracepoints) {
    EXPECT_TRUE(absent.empty()) << absent.front();
  } else {
    EXPECT_EQ(absent, (std::vector<std::string>{"tp_btf/sock_send_length", "tp_btf/sock_recv_length"}));
  }
  absl::Status st = skel->Load();
  EXPECT_TRUE(st.ok()) << st;
}

TEST(SockLoad, IteratorObjectPassesTheVerifier) {
  if (!KernelFacts::Get().task_file_iter) GTEST_SKIP() << "kernel BTF has no bpf_iter__task_file (before v5.8)";
  absl::Status st = LoadEverything<NETMON_SKELETON(netmon_sock_iter)>("netmon_sock_iter");
  EXPECT_TRUE(st.ok()) << st;
}

// One optional program the verifier refuses costs only its own rung. The iterator is made to fail verification
// for real (its map's value made larger than what the program passes): the main object still
// loads once, sock.existing falls back to sock_diag, degraded, with the verifier's verdict in its detail, and the
// layer attaches and seeds.
TEST(SockLoad, ARefusedOptionalProgramCostsOnlyItsRung) {
  if (!KernelFacts::Get().task_file_iter) GTEST_SKIP() << "kernel BTF has no bpf_iter__task_file (before v5.8)";
  auto shared = bpf::SharedMaps::Create();
  ASSERT_TRUE(shared.ok()) << shared.status();
  SocketLayerConfig cfg;
  std::map<std::string, int> loads;
  cfg.before_load = [&loads](const std::string& object, struct bpf_object* obj) {
    ++loads[object];
    if (object != "netmon_sock_iter") return;
    // netmon_seed hands bpf_map_update_elem a 4-byte stack value; a 64-byte value size makes that an
    // out-of-bounds stack read, which the verifier refuses.
    struct bpf_map* netns = bpf_object__find_map_by_name(obj, NETMON_MAP_SEED_NETNS);
    ASSERT_NE(netns, nullptr);
    ASSERT_EQ(bpf_map__set_value_size(netns, 64), 0);
  };
  auto layer = SocketLayer::Create(*shared, cfg);
  ASSERT_TRUE(layer.ok()) << layer.status();
  EXPECT_EQ(loads["netmon_sock"], 1) << "the main object is verified once";
  EXPECT_EQ(loads["netmon_sock_iter"], 1) << "a refused object is tried once";
  auto hooks = ByName((*layer)->Hooks());
  const bpf::HookInfo& existing = hooks["sock.existing"];
  EXPECT_EQ(existing.rung, "sock_diag");
  EXPECT_TRUE(existing.degraded);
  EXPECT_NE(existing.detail.find("iter: load failed: netmon_seed: "), std::string::npos) << existing.detail;
  // The verifier's own words, not libbpf's errno.
  EXPECT_NE(existing.detail.find("invalid"), std::string::npos) << existing.detail;
  EXPECT_EQ(existing.detail.find("errno"), std::string::npos) << existing.detail;
  for (const auto& [name, h] : hooks) {
    if (name != "sock.existing") {
      EXPECT_FALSE(h.rung.empty()) << name;
    }
  }
  ASSERT_TRUE((*layer)->Attach().ok());
  EXPECT_EQ((*layer)->AttachedProgramIds().size(), AttachedProgramsExpected((*layer)->Hooks()));
  EXPECT_TRUE((*layer)->SeedExistingSockets().ok());
  (*layer)->Detach();
}

// The verifier's verdict is the last line of its log that is not a statistic.
TEST(SockLoad, VerifierVerdictIsTheLastLineBeforeTheStatistics) {
  EXPECT_EQ(bpf::VerifierVerdict("0: (b7) r0 = 0\nR1 type=untrusted_ptr_sock expected=sock_common\nprocessed 29 insns "
                                 "(limit 1000000) max_states_per_insn 0\n"),
            "R1 type=untrusted_ptr_sock expected=sock_common");
  EXPECT_EQ(bpf::VerifierVerdict(""), "");
}

TEST(SockLoad, FentryRungPassesTheVerifierOrIsRefusedWithEperm) {
  absl::Status st = LoadEverything<NETMON_SKELETON(netmon_sock_fentry)>("netmon_sock_fentry");
  if (st.ok()) {
    GTEST_LOG_(INFO) << "fentry programs load on this kernel";
    return;
  }
  // This CI kernel refuses fentry/fexit attachment targets at load time (docs/architecture.md §6). Any other refusal is a
  // verifier rejection: a bug.
  EXPECT_EQ(ErrnoOf(st), EPERM) << st;
}

TEST(SockLoad, KprobeRungPassesTheVerifier) {
  absl::Status st = LoadEverything<NETMON_SKELETON(netmon_sock_kprobe)>("netmon_sock_kprobe");
  EXPECT_TRUE(st.ok()) << st;
}

TEST(SockLoad, AttachThenDetachLeavesNothing) {
  {
    auto shared = bpf::SharedMaps::Create();
    ASSERT_TRUE(shared.ok()) << shared.status();
    auto layer = SocketLayer::Create(*shared, {});
    ASSERT_TRUE(layer.ok()) << layer.status();
    ASSERT_TRUE((*layer)->Attach().ok());
    EXPECT_TRUE((*layer)->attached());
    std::vector<uint32_t> ours = (*layer)->AttachedProgramIds();
    // Every program of the chosen rungs except the iterator: 15 on this CI host, more where send/recv use the
    // fexit pairs (inet + inet6).
    EXPECT_EQ(ours.size(), AttachedProgramsExpected((*layer)->Hooks()));
    EXPECT_GE(ours.size(), 15u);
    std::vector<uint32_t> listed = BpftoolAttachedProgIds();
    for (uint32_t id : ours) {
      EXPECT_NE(std::find(listed.begin(), listed.end(), id), listed.end()) << "prog " << id << " not in bpftool";
    }
    std::vector<uint32_t> held = testing::ProgIdsHeldByThisProcess();
    for (uint32_t id : ours) {
      EXPECT_NE(std::find(held.begin(), held.end(), id), held.end()) << "prog " << id << " not held by this process";
    }
    for (const auto& h : (*layer)->Hooks()) {
      if (h.name != "sock.existing") {
        EXPECT_TRUE(h.active) << h.name;
      }
    }
    (*layer)->Detach();
    EXPECT_FALSE((*layer)->attached());
    listed = BpftoolAttachedProgIds();
    for (uint32_t id : ours) {
      EXPECT_EQ(std::find(listed.begin(), listed.end(), id), listed.end()) << "prog " << id << " still attached";
    }
    ASSERT_TRUE((*layer)->Attach().ok()) << "attach again after detach";
    (*layer)->Detach();
  }
  EXPECT_EQ(bpf::LiveTotal(), 0);
  // Nothing of this program set remains attached, and this process holds no BPF program any more. (Names are
  // not proof: other processes, e.g. netmon-server in end-to-end tests running alongside, attach the same
  // program set; this bpftool build does not report which process holds a program, so ids decide.)
  EXPECT_TRUE(testing::ProgIdsHeldByThisProcess().empty());
  for (const auto& prog : BpftoolAttachedProgs()) {
    for (int pid : prog.pids) EXPECT_NE(pid, getpid()) << prog.name << " (id " << prog.id << ") is still attached";
  }
}

}  // namespace
}  // namespace netmon::sock
