// SPDX-License-Identifier: Apache-2.0
// DATA events: attribution by every path, initiator-as-source by every basis, process point-of-view bytes,
// interval bounds, deltas that sum to the flow total, and unattributed traffic counted, never dropped.
#include <gtest/gtest.h>

#include "join/joiner.h"
#include "join_test_util.h"

namespace netmon::join {
namespace {

using namespace testing;

constexpr int64_t kOffset = 1'700'000'000'000'000'000;

class JoinData : public ::testing::Test {
 protected:
  JoinData() : joiner_(kernel_.Source()) { joiner_.SetClock(WallClock(kOffset)); }

  std::vector<Event> Flows(std::vector<flow::FlowSample> samples) {
    std::vector<Event> out;
    joiner_.OnFlows(samples, &out);
    return out;
  }

  FakeKernel kernel_;
  Joiner joiner_;
};

TEST_F(JoinData, SkbCookieAttributesAndBytesFollowTheProcessPointOfView) {
  netmon_tuple t = Tuple("10.0.0.1", 40000, "10.0.0.2", 80);
  kernel_.owners[7] = Owner(1234, "curl", NETMON_SRC_CONNECT, NETMON_ROLE_ACTIVE);
  auto evs = Flows({Sample(t, 7, 1500, 90000, 10, 60, 1000, 5000)});
  ASSERT_EQ(evs.size(), 1u);
  const Event& e = evs[0];
  EXPECT_EQ(e.type, EventType::kData);
  EXPECT_EQ(e.pid, 1234u);
  EXPECT_EQ(e.process_name, "curl");
  EXPECT_EQ(e.source_addr, "10.0.0.1:40000");
  EXPECT_EQ(e.dest_addr, "10.0.0.2:80");
  EXPECT_EQ(e.bytes_sent, 1500);
  EXPECT_EQ(e.bytes_received, 90000);
  EXPECT_EQ(e.packets, 70u);
  EXPECT_EQ(e.timestamp_ns, kOffset + 5000);
  auto x = Extra(e.extra_info);
  EXPECT_EQ(x["protocol"], "tcp");
  EXPECT_EQ(x["packets_sent"], 10);
  EXPECT_EQ(x["packets_received"], 60);
  EXPECT_EQ(x["interval_start_ns"], kOffset + 1000);
  EXPECT_EQ(x["interval_end_ns"], kOffset + 5000);
  EXPECT_EQ(x["initiator"], "role");
  EXPECT_EQ(x["attribution"]["via"], "skb_cookie");
  EXPECT_EQ(x["attribution"]["hook"], "connect");
  EXPECT_EQ(joiner_.stats().data_events, 1u);
  EXPECT_EQ(joiner_.stats().unattributed_events, 0u);
}

TEST_F(JoinData, PassiveOwnerMakesTheRemoteTheSourceButBytesStayProcessPov) {
  // A server: the remote side initiated; the process still *sent* the egress bytes.
  netmon_tuple t = Tuple("10.0.0.2", 80, "10.0.0.1", 40000);
  kernel_.owners[9] = Owner(99, "nginx", NETMON_SRC_ACCEPT, NETMON_ROLE_PASSIVE);
  auto evs = Flows({Sample(t, 9, 90000, 1500, 60, 10, 1000, 5000, NETMON_DIR_INGRESS)});
  ASSERT_EQ(evs.size(), 1u);
  EXPECT_EQ(evs[0].source_addr, "10.0.0.1:40000");
  EXPECT_EQ(evs[0].dest_addr, "10.0.0.2:80");
  EXPECT_EQ(evs[0].bytes_sent, 90000);
  EXPECT_EQ(evs[0].bytes_received, 1500);
  // The filter view matches the wire view for DATA.
  EXPECT_EQ(evs[0].src.port, 40000);
  EXPECT_EQ(evs[0].dst.port, 80);
}

TEST_F(JoinData, InitiatorFromSynDirectionWhenTheRoleIsUnknown) {
  kernel_.owners[1] = Owner(5, "a", NETMON_SRC_SEND);
  netmon_tuple out_t = Tuple("10.0.0.1", 5555, "10.0.0.2", 6666);
  netmon_tuple in_t = Tuple("10.0.0.1", 7777, "10.0.0.3", 8888);
  auto evs = Flows({Sample(out_t, 1, 1, 1, 1, 1, 1, 2, NETMON_DIR_INGRESS, 1 + NETMON_DIR_EGRESS),
                    Sample(in_t, 1, 1, 1, 1, 1, 1, 2, NETMON_DIR_EGRESS, 1 + NETMON_DIR_INGRESS)});
  ASSERT_EQ(evs.size(), 2u);
  EXPECT_EQ(evs[0].source_addr, "10.0.0.1:5555");
  EXPECT_EQ(Extra(evs[0].extra_info)["initiator"], "syn");
  EXPECT_EQ(evs[1].source_addr, "10.0.0.3:8888");
}

TEST_F(JoinData, UdpInitiatorIsTheFirstPacketsSender) {
  netmon_tuple a = Tuple("10.0.0.1", 5000, "10.0.0.2", 5001, IPPROTO_UDP);
  netmon_tuple b = Tuple("10.0.0.1", 5002, "10.0.0.2", 5003, IPPROTO_UDP);
  auto evs = Flows(
      {Sample(a, 0, 100, 0, 1, 0, 1, 2, NETMON_DIR_EGRESS), Sample(b, 0, 0, 100, 0, 1, 1, 2, NETMON_DIR_INGRESS)});
  ASSERT_EQ(evs.size(), 2u);
  EXPECT_EQ(evs[0].source_addr, "10.0.0.1:5000");
  EXPECT_EQ(evs[1].source_addr, "10.0.0.2:5003");
  EXPECT_EQ(Extra(evs[1].extra_info)["initiator"], "first_packet");
  EXPECT_EQ(Extra(evs[1].extra_info)["protocol"], "udp");
}

TEST_F(JoinData, TcpWithoutSynOrRoleUsesThePorts) {
  netmon_tuple wk = Tuple("10.0.0.1", 22, "10.0.0.9", 50000);     // we are the ssh server
  netmon_tuple eph = Tuple("10.0.0.1", 45000, "10.0.0.9", 8080);  // we are the client on an ephemeral port
  auto evs =
      Flows({Sample(wk, 0, 1, 1, 1, 1, 1, 2, NETMON_DIR_EGRESS), Sample(eph, 0, 1, 1, 1, 1, 1, 2, NETMON_DIR_INGRESS)});
  ASSERT_EQ(evs.size(), 2u);
  EXPECT_EQ(evs[0].source_addr, "10.0.0.9:50000");
  EXPECT_EQ(evs[1].source_addr, "10.0.0.1:45000");
  EXPECT_EQ(Extra(evs[0].extra_info)["initiator"], "ports");
}

TEST_F(JoinData, TupleLookupsExactThenWildcards) {
  netmon_tuple exact = Tuple("10.0.0.1", 1000, "10.0.0.2", 2000, IPPROTO_UDP);
  kernel_.tuples[exact] = 11;
  kernel_.owners[11] = Owner(11, "exact");

  netmon_tuple served = Tuple("10.0.0.1", 53, "10.0.0.7", 3333, IPPROTO_UDP);
  netmon_tuple bound = Tuple("10.0.0.1", 53, "::", 0, IPPROTO_UDP);  // remote any
  kernel_.tuples[bound] = 12;
  kernel_.owners[12] = Owner(12, "dnsmasq", NETMON_SRC_BIND, NETMON_ROLE_PASSIVE);

  netmon_tuple any_local = Tuple("10.0.0.1", 8125, "10.0.0.8", 4444, IPPROTO_UDP);
  netmon_tuple any_key = Tuple("::", 8125, "::", 0, IPPROTO_UDP);  // bound to the any address (all zero)
  kernel_.tuples[any_key] = 13;
  kernel_.owners[13] = Owner(13, "statsd");

  netmon_tuple mapped_local = Tuple("10.0.0.1", 9999, "10.0.0.8", 4444, IPPROTO_UDP);
  netmon_tuple mapped_key = Tuple("0.0.0.0", 9999, "::", 0, IPPROTO_UDP);  // ::ffff:0.0.0.0
  kernel_.tuples[mapped_key] = 14;
  kernel_.owners[14] = Owner(14, "mapped");

  auto evs = Flows({Sample(exact, 0, 1, 0, 1, 0, 1, 2), Sample(served, 0, 0, 1, 0, 1, 1, 2, NETMON_DIR_INGRESS),
                    Sample(any_local, 0, 0, 1, 0, 1, 1, 2, NETMON_DIR_INGRESS),
                    Sample(mapped_local, 0, 0, 1, 0, 1, 1, 2, NETMON_DIR_INGRESS)});
  ASSERT_EQ(evs.size(), 4u);
  EXPECT_EQ(evs[0].pid, 11u);
  EXPECT_EQ(Extra(evs[0].extra_info)["attribution"]["via"], "tuple");
  EXPECT_EQ(evs[1].pid, 12u);
  EXPECT_EQ(evs[1].process_name, "dnsmasq");
  EXPECT_EQ(Extra(evs[1].extra_info)["attribution"]["via"], "tuple_wildcard");
  EXPECT_EQ(Extra(evs[1].extra_info)["attribution"]["hook"], "bind");
  EXPECT_EQ(evs[1].source_addr, "10.0.0.7:3333");  // passive owner: the remote asked
  EXPECT_EQ(evs[2].pid, 13u);
  EXPECT_EQ(evs[3].pid, 14u);
}

TEST_F(JoinData, UnattributedTrafficIsEmittedWithPidZeroAndCounted) {
  netmon_tuple t = Tuple("10.0.0.1", 1000, "10.0.0.2", 2000);
  auto evs = Flows({Sample(t, 0, 300, 700, 3, 7, 1, 2, NETMON_DIR_EGRESS, 1 + NETMON_DIR_EGRESS)});
  ASSERT_EQ(evs.size(), 1u);
  EXPECT_EQ(evs[0].pid, 0u);
  EXPECT_EQ(evs[0].process_name, "");
  EXPECT_EQ(Extra(evs[0].extra_info)["attribution"]["via"], "none");
  EXPECT_FALSE(Extra(evs[0].extra_info)["attribution"].contains("hook"));
  EXPECT_EQ(joiner_.stats().unattributed_events, 1u);
  EXPECT_EQ(joiner_.stats().unattributed_bytes, 1000u);
  EXPECT_EQ(joiner_.stats().unattributed_packets, 10u);
}

TEST_F(JoinData, CookieWithoutOwnerFallsBackToTheTuple) {
  netmon_tuple t = Tuple("10.0.0.1", 1000, "10.0.0.2", 2000);
  kernel_.tuples[t] = 21;
  kernel_.owners[21] = Owner(21, "viatuple");
  auto evs = Flows({Sample(t, 999 /* unknown cookie */, 1, 0, 1, 0, 1, 2)});
  ASSERT_EQ(evs.size(), 1u);
  EXPECT_EQ(evs[0].pid, 21u);
  EXPECT_EQ(Extra(evs[0].extra_info)["attribution"]["via"], "tuple");
}

TEST_F(JoinData, DeltasChainIntervalsAndSumToTheFlowTotal) {
  netmon_tuple t = Tuple("10.0.0.1", 40000, "10.0.0.2", 80);
  kernel_.owners[7] = Owner(1234, "curl", NETMON_SRC_CONNECT, NETMON_ROLE_ACTIVE);
  std::vector<Event> all;
  uint64_t sent = 0, recv = 0;
  for (int i = 0; i < 5; ++i) {
    auto evs = Flows({Sample(t, 7, 100 * (i + 1), 1000 * (i + 1), 1, 2, 1000, 2000 * (i + 1))});
    ASSERT_EQ(evs.size(), 1u);
    sent += 100 * (i + 1);
    recv += 1000 * (i + 1);
    all.push_back(evs[0]);
  }
  int64_t s = 0, r = 0;
  for (const Event& e : all) {
    s += e.bytes_sent;
    r += e.bytes_received;
  }
  EXPECT_EQ(static_cast<uint64_t>(s), sent);
  EXPECT_EQ(static_cast<uint64_t>(r), recv);
  // Each interval starts where the previous one ended.
  for (size_t i = 1; i < all.size(); ++i) {
    EXPECT_EQ(Extra(all[i].extra_info)["interval_start_ns"], Extra(all[i - 1].extra_info)["interval_end_ns"]);
  }
  EXPECT_EQ(Extra(all[0].extra_info)["interval_start_ns"], kOffset + 1000);
}

TEST_F(JoinData, EmptySamplesProduceNothing) {
  netmon_tuple t = Tuple("10.0.0.1", 40000, "10.0.0.2", 80);
  EXPECT_TRUE(Flows({Sample(t, 0, 0, 0, 0, 0, 1, 2)}).empty());
}

TEST_F(JoinData, OwnersAreRememberedAfterTheKernelForgetsThem) {
  netmon_tuple t = Tuple("10.0.0.1", 40000, "10.0.0.2", 80);
  kernel_.owners[7] = Owner(1234, "curl", NETMON_SRC_CONNECT, NETMON_ROLE_ACTIVE);
  Flows({Sample(t, 7, 1, 1, 1, 1, 1, 2)});
  kernel_.owners.clear();  // the socket was released and the grace period passed
  netmon_tuple t2 = Tuple("10.0.0.1", 40001, "10.0.0.2", 80);
  auto evs = Flows({Sample(t, 7, 1, 1, 1, 1, 1, 3), Sample(t2, 7, 1, 1, 1, 1, 1, 3)});
  ASSERT_EQ(evs.size(), 2u);
  EXPECT_EQ(evs[0].pid, 1234u);  // flow state
  EXPECT_EQ(evs[1].pid, 1234u);  // owner cache by cookie
}

TEST_F(JoinData, AReusedTupleWithANewSocketIsReattributed) {
  netmon_tuple t = Tuple("10.0.0.1", 40000, "10.0.0.2", 80);
  kernel_.owners[7] = Owner(1, "first");
  kernel_.owners[8] = Owner(2, "second");
  EXPECT_EQ(Flows({Sample(t, 7, 1, 1, 1, 1, 1, 2)})[0].pid, 1u);
  EXPECT_EQ(Flows({Sample(t, 8, 1, 1, 1, 1, 1, 3)})[0].pid, 2u);
}

TEST_F(JoinData, LateAttributionAppliesToLaterIntervals) {
  netmon_tuple t = Tuple("10.0.0.1", 40000, "10.0.0.2", 80);
  EXPECT_EQ(Flows({Sample(t, 0, 1, 1, 1, 1, 1, 2)})[0].pid, 0u);
  kernel_.tuples[t] = 5;
  kernel_.owners[5] = Owner(55, "late");
  EXPECT_EQ(Flows({Sample(t, 0, 1, 1, 1, 1, 1, 3)})[0].pid, 55u);
}

TEST_F(JoinData, ResetStartsIntervalsAtTheNewEpochAndForgetsState) {
  netmon_tuple t = Tuple("10.0.0.1", 40000, "10.0.0.2", 80);
  kernel_.owners[7] = Owner(1234, "curl");
  Flows({Sample(t, 7, 1, 1, 1, 1, 100, 200)});
  EXPECT_EQ(joiner_.flow_count(), 1u);
  joiner_.Reset(5000);
  EXPECT_EQ(joiner_.flow_count(), 0u);
  auto evs = Flows({Sample(t, 7, 1, 1, 1, 1, 100, 6000)});
  EXPECT_EQ(Extra(evs[0].extra_info)["interval_start_ns"], kOffset + 5000);
}

TEST_F(JoinData, SegmentsOfOffloadedPacketsAreReportedBesidePackets) {
  netmon_tuple t = Tuple("10.0.0.1", 40000, "10.0.0.2", 80);
  kernel_.owners[7] = Owner(1234, "curl");
  flow::FlowSample s = Sample(t, 7, 64000, 600, 2, 10, 100, 200);
  s.segments[NETMON_DIR_EGRESS] = 44;  // two GSO super-packets of 22 segments each
  s.segments[NETMON_DIR_INGRESS] = 10;
  auto evs = Flows({s});
  ASSERT_EQ(evs.size(), 1u);
  auto x = Extra(evs[0].extra_info);
  EXPECT_EQ(x["packets_sent"], 2);
  EXPECT_EQ(x["segments_sent"], 44);
  EXPECT_EQ(x["segments_received"], 10);
  EXPECT_EQ(evs[0].bytes_sent, 64000);  // bytes stay the L3 bytes the host saw
}

// Data that arrives while the connection waits in the accept queue: its socket has no owner yet, so the
// listener's owner (the process that will accept it) stands in, and the accepted socket's owner takes over once
// known.
TEST_F(JoinData, ConnectionNotAcceptedYetBelongsToItsListenersOwner) {
  netmon_tuple conn = Tuple("10.0.0.2", 8080, "10.0.0.1", 40000);  // local = the server side
  netmon_tuple bound = Tuple("10.0.0.2", 8080, "0.0.0.0", 0);
  std::memset(bound.remote_addr, 0, sizeof(bound.remote_addr));
  kernel_.tuples[bound] = 50;  // the listener
  kernel_.owners[50] = Owner(4242, "server");
  kernel_.tuples[conn] = 51;  // the connection's socket, not accepted yet: no owner
  auto early = Flows({Sample(conn, 51, 0, 50000, 0, 40, 100, 200, NETMON_DIR_INGRESS)});
  ASSERT_EQ(early.size(), 1u);
  EXPECT_EQ(early[0].pid, 4242u);
  EXPECT_EQ(Extra(early[0].extra_info)["attribution"]["via"], "listener");
  // accept() by another process of the same program (a pre-forked worker): its owner replaces the listener's.
  kernel_.owners[51] = Owner(4243, "worker");
  auto later = Flows({Sample(conn, 51, 20000, 50000, 20, 40, 100, 300, NETMON_DIR_INGRESS)});
  ASSERT_EQ(later.size(), 1u);
  EXPECT_EQ(later[0].pid, 4243u);
  EXPECT_EQ(Extra(later[0].extra_info)["attribution"]["via"], "skb_cookie");
}

TEST_F(JoinData, ExpireForgetsIdleFlowsOnly) {
  JoinOptions opt;
  opt.flow_idle_ns = 1000;
  Joiner j(kernel_.Source(), opt);
  std::vector<Event> out;
  std::vector<flow::FlowSample> samples = {Sample(Tuple("10.0.0.1", 1, "10.0.0.2", 2), 0, 1, 0, 1, 0, 1, 100),
                                           Sample(Tuple("10.0.0.1", 3, "10.0.0.2", 4), 0, 1, 0, 1, 0, 1, 5000)};
  j.OnFlows(samples, &out);
  EXPECT_EQ(j.flow_count(), 2u);
  j.Expire(5500);
  EXPECT_EQ(j.flow_count(), 1u);
}

TEST_F(JoinData, FlowStateIsBoundedAndEvictionsCounted) {
  JoinOptions opt;
  opt.max_flows = 4;
  Joiner j(kernel_.Source(), opt);
  std::vector<Event> out;
  std::vector<flow::FlowSample> samples;
  for (uint16_t p = 1; p <= 10; ++p)
    samples.push_back(Sample(Tuple("10.0.0.1", p, "10.0.0.2", 9), 0, 1, 0, 1, 0, 1, 2));
  j.OnFlows(samples, &out);
  EXPECT_EQ(out.size(), 10u);  // every sample still becomes an event
  EXPECT_LE(j.flow_count(), 4u);
  EXPECT_EQ(j.stats().flow_state_evicted, 6u);
}

TEST_F(JoinData, Ipv6FlowsFormatWithBrackets) {
  netmon_tuple t = Tuple("fd00::1", 40000, "fd00::2", 443);
  kernel_.owners[3] = Owner(3, "v6", NETMON_SRC_CONNECT, NETMON_ROLE_ACTIVE);
  auto evs = Flows({Sample(t, 3, 1, 1, 1, 1, 1, 2)});
  EXPECT_EQ(evs[0].source_addr, "[fd00::1]:40000");
  EXPECT_EQ(evs[0].dest_addr, "[fd00::2]:443");
}

TEST_F(JoinData, HostileCommIsSanitised) {
  netmon_tuple t = Tuple("10.0.0.1", 40000, "10.0.0.2", 80);
  netmon_owner o = Owner(3, "x");
  const char raw[] = "\xff\xfe\"evil\n";
  std::memcpy(o.comm, raw, sizeof(raw));
  kernel_.owners[3] = o;
  auto evs = Flows({Sample(t, 3, 1, 1, 1, 1, 1, 2)});
  EXPECT_EQ(evs[0].process_name, "??\"evil?");
}

}  // namespace
}  // namespace netmon::join
