// SPDX-License-Identifier: Apache-2.0
// The hook table and the choice of rungs, with made-up availability: no kernel involved.
#include "sock/probe.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace netmon::sock
