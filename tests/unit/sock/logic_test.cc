// SPDX-License-Identifier: Apache-2.0
// bpf/include/netmon/sock_logic.h compiled as C++: the rules the BPF programs apply, checked without a kernel.
#include <gtest/gtest.h>

#include "netmon/sock_logic.h"

namespace {

struct Transition {
  int oldstate, newstate, action;
};

TEST(SockLogic, TcpTransitionTable) {
  const Transition table[] = {
      // active open
      {NETMON_TCP_CLOSE, NETMON_TCP_SYN_SENT, NETMON_ACT_CONNECT_START},
      {NETMON_TCP_SYN_SENT, NETMON_TCP_ESTABLISHED, NETMON_ACT_CONNECT_DONE},
      {NETMON_TCP_SYN_SENT, NETMON_TCP_CLOSE, NETMON_ACT_CONNECT_FAILED},
      // passive open: clone of the listener, then the handshake completes (in softirq: no process)
      {NETMON_TCP_LISTEN, NETMON_TCP_SYN_RECV, NETMON_ACT_PASSIVE_CHILD},
      {NETMON_TCP_SYN_RECV, NETMON_TCP_ESTABLISHED, NETMON_ACT_PASSIVE_ESTABLISHED},
      // closes: every established socket ends in CLOSE, whichever side closed first or reset
      {NETMON_TCP_ESTABLISHED, NETMON_TCP_FIN_WAIT1, NETMON_ACT_NONE},
      {NETMON_TCP_FIN_WAIT1, NETMON_TCP_FIN_WAIT2, NETMON_ACT_NONE},
      {NETMON_TCP_FIN_WAIT2, NETMON_TCP_CLOSE, NETMON_ACT_CLOSE},
      {NETMON_TCP_CLOSING, NETMON_TCP_CLOSE, NETMON_ACT_CLOSE},
      {NETMON_TCP_ESTABLISHED, NETMON_TCP_CLOSE_WAIT, NETMON_ACT_NONE},
      {NETMON_TCP_CLOSE_WAIT, NETMON_TCP_LAST_ACK, NETMON_ACT_NONE},
      {NETMON_TCP_LAST_ACK, NETMON_TCP_CLOSE, NETMON_ACT_CLOSE},
      {NETMON_TCP_ESTABLISHED, NETMON_TCP_CLOSE, NETMON_ACT_CLOSE},  // reset
      {NETMON_TCP_FIN_WAIT1, NETMON_TCP_CLOSE, NETMON_ACT_CLOSE},
      {NETMON_TCP_CLOSE_WAIT, NETMON_TCP_CLOSE, NETMON_ACT_CLOSE},
      // not connections
      {NETMON_TCP_CLOSE, NETMON_TCP_LISTEN, NETMON_ACT_NONE},
      {NETMON_TCP_LISTEN, NETMON_TCP_CLOSE, NETMON_ACT_NONE},
      {NETMON_TCP_SYN_RECV, NETMON_TCP_CLOSE, NETMON_ACT_NONE},
      {NETMON_TCP_CLOSE, NETMON_TCP_CLOSE, NETMON_ACT_NONE},
  };
  for (const Transition& t : table) {
    EXPECT_EQ(netmon_tcp_transition(t.oldstate, t.newstate), t.action)
        << "transition " << t.oldstate << " -> " << t.newstate;
  }
}

TEST(SockLogic, ConnectOutcomeFromSkErr) {
  EXPECT_EQ(netmon_connect_outcome(NETMON_ECONNREFUSED), NETMON_CONNECT_REFUSED);
  EXPECT_EQ(netmon_connect_outcome(NETMON_ETIMEDOUT), NETMON_CONNECT_TIMEOUT);
  EXPECT_EQ(netmon_connect_outcome(113 /* EHOSTUNREACH */), NETMON_CONNECT_ERROR);
  EXPECT_EQ(netmon_connect_outcome(0), NETMON_CONNECT_ERROR);  // the caller gave up mid-handshake
}

TEST(SockLogic, TcpPayloadFromSequenceCounters) {
  // Active opener that sent 100 bytes and closed first: SYN + 100 + FIN acked.
  EXPECT_EQ(netmon_tcp_payload_acked(102, 1, 1), 100u);
  // Passive side: its SYN-ACK was acked before the child existed; 50 bytes + FIN.
  EXPECT_EQ(netmon_tcp_payload_acked(51, 0, 1), 50u);
  // Reset before our FIN: no FIN in the count.
  EXPECT_EQ(netmon_tcp_payload_acked(11, 1, 0), 10u);
  EXPECT_EQ(netmon_tcp_payload_acked(0, 1, 1), 0u);  // never underflows
  EXPECT_EQ(netmon_tcp_payload_received(51, 1), 50u);
  EXPECT_EQ(netmon_tcp_payload_received(50, 0), 50u);
  EXPECT_EQ(netmon_tcp_payload_received(0, 1), 0u);
}

TEST(SockLogic, FinSentOnlyFromStatesThatQueuedIt) {
  for (int s : {NETMON_TCP_FIN_WAIT1, NETMON_TCP_FIN_WAIT2, NETMON_TCP_CLOSING, NETMON_TCP_LAST_ACK})
    EXPECT_TRUE(netmon_tcp_fin_sent(s)) << s;
  // ESTABLISHED/CLOSE_WAIT -> CLOSE is a reset (received, or sent by a close() with unread data): no FIN.
  for (int s : {NETMON_TCP_ESTABLISHED, NETMON_TCP_CLOSE_WAIT, NETMON_TCP_SYN_SENT, NETMON_TCP_SYN_RECV})
    EXPECT_FALSE(netmon_tcp_fin_sent(s)) << s;
}

TEST(SockLogic, WildcardKeys) {
  netmon_tuple t{};
  netmon_addr_from_v4(t.local_addr, 0x0100000a);   // 10.0.0.1 in network order on little endian
  netmon_addr_from_v4(t.remote_addr, 0x0200000a);  // 10.0.0.2
  t.local_port = 80;
  t.remote_port = 40000;
  t.proto = NETMON_IPPROTO_TCP;
  t.netns = 4026531840u;

  netmon_tuple bound{};
  netmon_tuple_wildcard(&bound, &t, 0);
  EXPECT_EQ(memcmp(bound.local_addr, t.local_addr, NETMON_ADDR_LEN), 0);
  EXPECT_TRUE(netmon_addr_is_zero(bound.remote_addr));
  EXPECT_EQ(bound.remote_port, 0);
  EXPECT_EQ(bound.local_port, 80);
  EXPECT_EQ(bound.proto, NETMON_IPPROTO_TCP);
  EXPECT_EQ(bound.netns, t.netns);

  netmon_tuple any{};
  netmon_tuple_wildcard(&any, &t, 1);
  EXPECT_TRUE(netmon_addr_is_zero(any.local_addr));
  EXPECT_EQ(any.local_port, 80);
}

}  // namespace
