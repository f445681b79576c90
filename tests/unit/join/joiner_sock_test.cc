// SPDX-License-Identifier: Apache-2.0
// Lifecycle events: CONNECT (initiator = this process), ACCEPT (initiator = the peer), CLOSE (direction from
// the role or the flow, with totals), and where their PID comes from.
#include <gtest/gtest.h>

#include "join/joiner.h"
#include "join_test_util.h"

namespace netmon::join {
namespace {

using namespace testing;

constexpr int64_t kOffset = 1'600'000'000'000'000'000;

class JoinSock : public ::testing::Test {
 protected:
  JoinSock() : joiner_(kernel_.Source()) { joiner_.SetClock(WallClock(kOffset)); }
  std::vector<Event> Sock(const netmon_sock_event& ev) {
    std::vector<Event> out;
    joiner_.OnSockEvent(ev, &out);
    return out;
  }
  FakeKernel kernel_;
  Joiner joiner_;
};

TEST_F(JoinSock, ConnectIsFromThisProcessToThePeerWithOutcomeAndLatency) {
  netmon_tuple t = Tuple("10.0.0.1", 40000, "10.0.0.2", 80);
  auto ev = SockEvent(NETMON_SOCK_CONNECT, t, 5, 1000, Owner(42, "curl", NETMON_SRC_CONNECT, NETMON_ROLE_ACTIVE));
  ev.outcome = NETMON_CONNECT_ESTABLISHED;
  ev.latency_ns = 250'000;
  auto out = Sock(ev);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].type, EventType::kConnect);
  EXPECT_EQ(out[0].pid, 42u);
  EXPECT_EQ(out[0].process_name, "curl");
  EXPECT_EQ(out[0].source_addr, "10.0.0.1:40000");
  EXPECT_EQ(out[0].dest_addr, "10.0.0.2:80");
  EXPECT_EQ(out[0].timestamp_ns, kOffset + 1000);
  EXPECT_EQ(out[0].bytes_sent, 0);
  auto x = Extra(out[0].extra_info);
  EXPECT_EQ(x["outcome"], "established");
  EXPECT_EQ(x["latency_us"], 250);
  EXPECT_FALSE(x.contains("error"));
  EXPECT_EQ(x["attribution"]["via"], "sock_event");
  EXPECT_EQ(x["attribution"]["hook"], "connect");
}

TEST_F(JoinSock, RefusedConnectCarriesTheError) {
  auto ev = SockEvent(NETMON_SOCK_CONNECT, Tuple("10.0.0.1", 40001, "10.0.0.2", 81), 6, 1, Owner(42, "curl"));
  ev.outcome = NETMON_CONNECT_REFUSED;
  ev.err = 111;
  auto x = Extra(Sock(ev)[0].extra_info);
  EXPECT_EQ(x["outcome"], "refused");
  EXPECT_EQ(x["error"], 111);
}

TEST_F(JoinSock, AcceptIsFromThePeerToThisProcess) {
  netmon_tuple t = Tuple("10.0.0.2", 80, "10.0.0.1", 40000);
  auto out = Sock(SockEvent(NETMON_SOCK_ACCEPT, t, 9, 10, Owner(7, "nginx", NETMON_SRC_ACCEPT, NETMON_ROLE_PASSIVE)));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].type, EventType::kAccept);
  EXPECT_EQ(out[0].source_addr, "10.0.0.1:40000");
  EXPECT_EQ(out[0].dest_addr, "10.0.0.2:80");
  EXPECT_EQ(out[0].src.port, 40000);
  EXPECT_EQ(out[0].pid, 7u);
}

TEST_F(JoinSock, OwnerEventsOnlyTeachTheCache) {
  netmon_tuple t = Tuple("10.0.0.1", 40000, "10.0.0.2", 80);
  EXPECT_TRUE(Sock(SockEvent(NETMON_SOCK_OWNER, t, 77, 1, Owner(77, "early"))).empty());
  // A later flow with that cookie resolves although the kernel map no longer has it.
  std::vector<Event> out;
  std::vector<flow::FlowSample> s = {Sample(t, 77, 1, 1, 1, 1, 1, 2)};
  joiner_.OnFlows(s, &out);
  EXPECT_EQ(out[0].pid, 77u);
  EXPECT_EQ(kernel_.owner_lookups, 0);
}

TEST_F(JoinSock, EventWithoutOwnerLooksUpTheCookieThenTheFlow) {
  netmon_tuple t = Tuple("10.0.0.1", 40000, "10.0.0.2", 80);
  kernel_.owners[5] = Owner(55, "bycookie");
  auto out = Sock(SockEvent(NETMON_SOCK_CONNECT, t, 5, 1));
  EXPECT_EQ(out[0].pid, 55u);
  EXPECT_EQ(Extra(out[0].extra_info)["attribution"]["via"], "cookie");

  // CLOSE with no owner and an unknown cookie: the flow's earlier attribution names the process.
  kernel_.owners.clear();
  joiner_.Reset(0);
  kernel_.owners[6] = Owner(66, "byflow");
  std::vector<Event> evs;
  std::vector<flow::FlowSample> s = {Sample(t, 6, 1, 1, 1, 1, 1, 2)};
  joiner_.OnFlows(s, &evs);
  kernel_.owners.clear();
  auto close = Sock(SockEvent(NETMON_SOCK_CLOSE, t, 0, 3));
  EXPECT_EQ(close[0].pid, 66u);
}

TEST_F(JoinSock, CloseDirectionFromRoleAndTotals) {
  netmon_tuple t = Tuple("10.0.0.2", 80, "10.0.0.1", 40000);
  kernel_.owners[9] = Owner(7, "nginx", NETMON_SRC_ACCEPT, NETMON_ROLE_PASSIVE);
  std::vector<Event> evs;
  std::vector<flow::FlowSample> s = {Sample(t, 9, 5000, 300, 5, 3, 1, 2, NETMON_DIR_INGRESS),
                                     Sample(t, 9, 1000, 100, 1, 1, 1, 3, NETMON_DIR_INGRESS)};
  joiner_.OnFlows(std::span(s).subspan(0, 1), &evs);
  joiner_.OnFlows(std::span(s).subspan(1, 1), &evs);
  auto ev = SockEvent(NETMON_SOCK_CLOSE, t, 9, 4000, Owner(7, "nginx", NETMON_SRC_ACCEPT, NETMON_ROLE_PASSIVE));
  ev.role = NETMON_ROLE_PASSIVE;
  ev.latency_ns = 2'500'000'000;
  ev.bytes_sent = 5800;
  ev.bytes_received = 200;
  auto out = Sock(ev);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].type, EventType::kClose);
  EXPECT_EQ(out[0].source_addr, "10.0.0.1:40000");
  EXPECT_EQ(out[0].dest_addr, "10.0.0.2:80");
  EXPECT_EQ(out[0].bytes_sent, 5800);
  EXPECT_EQ(out[0].bytes_received, 200);
  auto x = Extra(out[0].extra_info);
  EXPECT_EQ(x["duration_ms"], 2500);
  EXPECT_EQ(x["l3_bytes_sent"], 6000);
  EXPECT_EQ(x["l3_bytes_received"], 400);
  EXPECT_EQ(x["packets_sent"], 6);
  EXPECT_EQ(x["packets_received"], 4);
}

TEST_F(JoinSock, CloseWithoutRoleUsesTheFlowsDirection) {
  netmon_tuple t = Tuple("10.0.0.1", 6000, "10.0.0.2", 7000);
  Sock(SockEvent(NETMON_SOCK_ACCEPT, t, 1, 1, Owner(1, "srv")));
  auto out = Sock(SockEvent(NETMON_SOCK_CLOSE, t, 1, 2, Owner(1, "srv")));
  EXPECT_EQ(out[0].source_addr, "10.0.0.2:7000");
}

TEST_F(JoinSock, ConnectFixesTheDirectionOfLaterData) {
  // A connect to a high port from a low one: the ports would guess wrong, the CONNECT knows.
  netmon_tuple t = Tuple("10.0.0.1", 80, "10.0.0.2", 50000);
  Sock(SockEvent(NETMON_SOCK_CONNECT, t, 1, 1, Owner(1, "odd")));
  std::vector<Event> evs;
  std::vector<flow::FlowSample> s = {Sample(t, 1, 1, 1, 1, 1, 1, 2, NETMON_DIR_INGRESS)};
  joiner_.OnFlows(s, &evs);
  EXPECT_EQ(evs[0].source_addr, "10.0.0.1:80");
  EXPECT_EQ(Extra(evs[0].extra_info)["initiator"], "role");
}

TEST_F(JoinSock, UnattributedLifecycleEventsAreKeptAndCounted) {
  auto out = Sock(SockEvent(NETMON_SOCK_CONNECT, Tuple("10.0.0.1", 1, "10.0.0.2", 2), 0, 1));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(out[0].pid, 0u);
  EXPECT_EQ(out[0].process_name, "");
  EXPECT_EQ(joiner_.stats().unattributed_events, 1u);
  EXPECT_EQ(joiner_.stats().lifecycle_events, 1u);
}

TEST_F(JoinSock, UnknownEventTypesAreIgnored) {
  EXPECT_TRUE(Sock(SockEvent(200, Tuple("10.0.0.1", 1, "10.0.0.2", 2), 0, 1)).empty());
}

}  // namespace
}  // namespace netmon::join
