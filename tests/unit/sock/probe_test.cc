// SPDX-License-Identifier: Apache-2.0
// The hook table and the choice of rungs, with made-up availability: no kernel involved.
#include "sock/probe.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

namespace netmon::sock {
namespace {

TEST(Probe, TableNamesFollowTheConventions) {
  std::set<std::string> hooks;
  for (const HookSpec& h : HookTable()) {
    EXPECT_TRUE(hooks.insert(h.hook).second) << "duplicate hook " << h.hook;
    EXPECT_EQ(h.hook.rfind("sock.", 0), 0u) << h.hook;
    ASSERT_FALSE(h.rungs.empty()) << h.hook;
    for (const RungSpec& r : h.rungs) {
      EXPECT_EQ(r.programs.empty(), r.object == ObjectId::kUserspace) << h.hook;
      for (const std::string& p : r.programs) EXPECT_EQ(p.rfind("netmon_", 0), 0u) << p;
      EXPECT_FALSE(r.covers.empty()) << h.hook;
    }
  }
  for (const char* needed : {"sock.create", "sock.connect", "sock.state", "sock.accept", "sock.send", "sock.recv",
                             "sock.udp_send", "sock.udp_recv", "sock.bind", "sock.release", "sock.existing"}) {
    EXPECT_EQ(hooks.count(needed), 1u) << needed;
  }
}

TEST(Probe, ChoosesTheFirstAvailableRungAndSaysWhy) {
  std::vector<HookSpec> table = {
      {"sock.accept",
       {{RungKind::kTracepoint, ObjectId::kMain, {"netmon_a"}, "", "a"},
        {RungKind::kRawTp, ObjectId::kMain, {"netmon_b"}, "", "b"},
        {RungKind::kKprobe, ObjectId::kKprobe, {"netmon_c"}, "", "c"}}},
      {"sock.none", {{RungKind::kFentry, ObjectId::kFentry, {"netmon_d"}, "", "d"}}},
      {"sock.best", {{RungKind::kCgroup, ObjectId::kMain, {"netmon_e"}, "", "e"}}},
  };
  auto choices = ChooseRungs(table, [](const HookSpec&, const RungSpec& r) -> std::optional<std::string> {
    if (r.kind == RungKind::kTracepoint) return std::string("no tracefs");
    if (r.kind == RungKind::kFentry) return std::string("load failed: EPERM");
    return std::nullopt;
  });
  ASSERT_EQ(choices.size(), 3u);
  EXPECT_EQ(choices[0].rung, 1);
  EXPECT_EQ(choices[0].skipped, "tracepoint: no tracefs");
  EXPECT_EQ(choices[1].rung, -1);
  EXPECT_EQ(choices[1].skipped, "fentry: load failed: EPERM");
  EXPECT_EQ(choices[2].rung, 0);
  EXPECT_TRUE(choices[2].skipped.empty());

  auto info = DescribeChoices(table, choices, /*attached=*/true);
  ASSERT_EQ(info.size(), 3u);
  EXPECT_EQ(info[0].rung, "raw_tp");
  EXPECT_TRUE(info[0].degraded);
  EXPECT_TRUE(info[0].active);
  EXPECT_NE(info[0].detail.find("skipped tracepoint: no tracefs"), std::string::npos);
  EXPECT_EQ(info[1].rung, "");
  EXPECT_TRUE(info[1].degraded);
  EXPECT_FALSE(info[1].active);
  EXPECT_FALSE(info[2].degraded);
  EXPECT_FALSE(DescribeChoices(table, choices, /*attached=*/false)[2].active);
}

TEST(Probe, StaticChecks) {
  Features f;
  f.cgroup_path = "/sys/fs/cgroup";
  f.syscall_tracepoints = true;
  f.kprobe_pmu = false;
  f.has_btf_type = [](const std::string& name) { return name != "btf_trace_sock_send_length"; };
  const HookSpec hook{"sock.accept", {}};
  RungSpec tp{RungKind::kTracepoint, ObjectId::kMain, {"x"}, "", "x"};
  RungSpec kp{RungKind::kKprobe, ObjectId::kKprobe, {"x"}, "", "x"};
  RungSpec send{RungKind::kTpBtf, ObjectId::kMain, {"x"}, "btf_trace_sock_send_length", "x"};
  RungSpec cg{RungKind::kCgroup, ObjectId::kMain, {"x"}, "", "x"};
  EXPECT_FALSE(StaticUnavailable(f, {}, hook, tp));
  EXPECT_TRUE(StaticUnavailable(f, {"tracepoint"}, hook, tp));
  EXPECT_TRUE(StaticUnavailable(f, {"sock.accept:tracepoint"}, hook, tp));
  EXPECT_FALSE(StaticUnavailable(f, {"sock.connect:tracepoint"}, hook, tp));
  EXPECT_TRUE(StaticUnavailable(f, {}, hook, kp));
  EXPECT_TRUE(StaticUnavailable(f, {}, hook, send));
  EXPECT_FALSE(StaticUnavailable(f, {}, hook, cg));
  f.cgroup_path.clear();
  EXPECT_TRUE(StaticUnavailable(f, {}, hook, cg));
}

std::map<std::string, std::string> ChosenRungs(const Features& f, const std::vector<std::string>& disabled = {}) {
  auto choices = ChooseRungs(
      HookTable(), [&](const HookSpec& h, const RungSpec& r) { return StaticUnavailable(f, disabled, h, r); });
  std::map<std::string, std::string> out;
  for (size_t i = 0; i < choices.size(); ++i) {
    out[choices[i].hook] =
        choices[i].rung < 0 ? "" : RungName(HookTable()[i].rungs[static_cast<size_t>(choices[i].rung)].kind);
  }
  return out;
}

// What the static probe picks on kernels other than CI's (the load step may still refuse a rung and move on).
TEST(Probe, KernelWithoutSendRecvLengthTracepoints) {
  // v5.x/v6.1: BTF, cgroup v2, kprobes and fentry, but sock_send_length/sock_recv_length arrived in v6.3.
  Features f;
  f.cgroup_path = "/sys/fs/cgroup";
  f.syscall_tracepoints = true;
  f.kprobe_pmu = true;
  f.has_btf_type = [](const std::string& name) {
    return name != "btf_trace_sock_send_length" && name != "btf_trace_sock_recv_length";
  };
  auto rungs = ChosenRungs(f);
  EXPECT_EQ(rungs["sock.send"], "fentry");
  EXPECT_EQ(rungs["sock.recv"], "fentry");
  EXPECT_EQ(rungs["sock.state"], "tp_btf");
  EXPECT_EQ(rungs["sock.accept"], "tracepoint");
  EXPECT_EQ(rungs["sock.create"], "cgroup");
  // fentry refused too (as on this CI kernel): kprobes.
  rungs = ChosenRungs(f, {"fentry"});
  EXPECT_EQ(rungs["sock.send"], "kprobe");
  EXPECT_EQ(rungs["sock.recv"], "kprobe");
}

TEST(Probe, HostWithoutCgroup2OrTracefs) {
  Features f;
  f.syscall_tracepoints = false;
  f.kprobe_pmu = false;
  f.has_btf_type = [](const std::string&) { return true; };
  auto rungs = ChosenRungs(f);
  EXPECT_EQ(rungs["sock.create"], "");  // first I/O still names such sockets
  EXPECT_EQ(rungs["sock.connect"], "fentry");
  EXPECT_EQ(rungs["sock.accept"], "raw_tp");
  EXPECT_EQ(rungs["sock.release"], "fentry");
  EXPECT_EQ(rungs["sock.existing"], "iter");
}

}  // namespace
}  // namespace netmon::sock
