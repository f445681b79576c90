// SPDX-License-Identifier: Apache-2.0
// FlowReader's pure parts: folding per-CPU slots into one flow, and turning successive totals into deltas.
#include "flow/flow_reader.h"

#include <gtest/gtest.h>

#include <vector>

namespace netmon::flow {
namespace {

netmon_tuple T(uint16_t port) {
  netmon_tuple t{};
  t.local_port = port;
  t.proto = 17;
  return t;
}

netmon_flow_stats Slot(uint64_t cookie, uint64_t eb, uint64_t ep, uint64_t ib, uint64_t ip, uint64_t first,
                       uint64_t last, uint8_t first_dir = 0) {
  netmon_flow_stats s{};
  s.cookie = cookie;
  s.bytes[NETMON_DIR_EGRESS] = eb;
  s.packets[NETMON_DIR_EGRESS] = ep;
  s.bytes[NETMON_DIR_INGRESS] = ib;
  s.packets[NETMON_DIR_INGRESS] = ip;
  s.first_seen_ns = first;
  s.last_seen_ns = last;
  s.first_dir = first_dir;
  return s;
}

TEST(MergeSlots, SumsCountersAndPicksTimes) {
  std::vector<netmon_flow_stats> slots = {
      Slot(0, 100, 1, 0, 0, 50, 60, NETMON_DIR_EGRESS),
      netmon_flow_stats{},  // a CPU that never saw the flow
      Slot(9, 0, 0, 300, 2, 40, 90, NETMON_DIR_INGRESS),
  };
  slots[0].tcp_flags[NETMON_DIR_EGRESS] = 0x02;
  slots[2].tcp_flags[NETMON_DIR_INGRESS] = 0x12;
  slots[2].syn_dir = 1 + NETMON_DIR_INGRESS;
  FlowSample s = MergeSlots(T(1), slots);
  EXPECT_EQ(s.bytes[NETMON_DIR_EGRESS], 100u);
  EXPECT_EQ(s.bytes[NETMON_DIR_INGRESS], 300u);
  EXPECT_EQ(s.packets[NETMON_DIR_EGRESS], 1u);
  EXPECT_EQ(s.packets[NETMON_DIR_INGRESS], 2u);
  EXPECT_EQ(s.first_seen_ns, 40u);
  EXPECT_EQ(s.first_dir, NETMON_DIR_INGRESS);  // from the earliest slot
  EXPECT_EQ(s.last_seen_ns, 90u);
  EXPECT_EQ(s.cookie, 9u);
  EXPECT_EQ(s.tcp_flags[NETMON_DIR_EGRESS], 0x02);
  EXPECT_EQ(s.tcp_flags[NETMON_DIR_INGRESS], 0x12);
  EXPECT_EQ(s.syn_dir, 1 + NETMON_DIR_INGRESS);
}

TEST(MergeSlots, LatestAttributionWins) {
  std::vector<netmon_flow_stats> slots = {Slot(5, 1, 1, 0, 0, 10, 100), Slot(6, 1, 1, 0, 0, 20, 50),
                                          Slot(0, 1, 1, 0, 0, 30, 200)};
  EXPECT_EQ(MergeSlots(T(1), slots).cookie, 5u);  // the latest slot that knew a cookie
}

FlowSample Totals(uint16_t port, uint64_t eb, uint64_t ep, uint64_t first = 1) {
  std::vector<netmon_flow_stats> slots = {Slot(0, eb, ep, 0, 0, first, first + 1)};
  return MergeSlots(T(port), slots);
}

TEST(DeltaTracker, FirstReadReportsTotalsThenDeltas) {
  DeltaTracker d;
  FlowSample out;
  ASSERT_TRUE(d.Update(Totals(1, 100, 2), &out));
  EXPECT_EQ(out.bytes[NETMON_DIR_EGRESS], 100u);
  d.EndRound();
  EXPECT_FALSE(d.Update(Totals(1, 100, 2), &out)) << "no change, no sample";
  d.EndRound();
  ASSERT_TRUE(d.Update(Totals(1, 250, 5), &out));
  EXPECT_EQ(out.bytes[NETMON_DIR_EGRESS], 150u);
  EXPECT_EQ(out.packets[NETMON_DIR_EGRESS], 3u);
  d.EndRound();
}

TEST(DeltaTracker, ReincarnatedFlowReportsItsNewTotals) {
  DeltaTracker d;
  FlowSample out;
  ASSERT_TRUE(d.Update(Totals(1, 1000, 10), &out));
  d.EndRound();
  // Evicted and re-created between reads: smaller counters, new first_seen.
  ASSERT_TRUE(d.Update(Totals(1, 40, 1, 77), &out));
  EXPECT_EQ(out.bytes[NETMON_DIR_EGRESS], 40u);
  EXPECT_EQ(out.packets[NETMON_DIR_EGRESS], 1u);
}

TEST(DeltaTracker, ForgetsFlowsThatLeftTheMap) {
  DeltaTracker d;
  FlowSample out;
  d.Update(Totals(1, 10, 1), &out);
  d.Update(Totals(2, 10, 1), &out);
  d.EndRound();
  EXPECT_EQ(d.size(), 2u);
  d.Update(Totals(1, 10, 1), &out);
  d.EndRound();
  EXPECT_EQ(d.size(), 1u);
  // Flow 2 comes back: its totals are new again.
  ASSERT_TRUE(d.Update(Totals(2, 10, 1), &out));
  EXPECT_EQ(out.bytes[NETMON_DIR_EGRESS], 10u);
}

}  // namespace
}  // namespace netmon::flow
