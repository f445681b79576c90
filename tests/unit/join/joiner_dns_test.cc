// SPDX-License-Identifier: Apache-2.0
// DNS events: direction follows the packet, the filter view stays client -> server, answers and CNAME chains,
// latency from the matched query, a response's PID from its query's socket, and hostile messages.
#include <gtest/gtest.h>

#include "join/joiner.h"
#include "join_test_util.h"

namespace netmon::join {
namespace {

using namespace testing;

constexpr int64_t kOffset = 1'650'000'000'000'000'000;

class JoinDns : public ::testing::Test {
 protected:
  JoinDns() : joiner_(kernel_.Source()) { joiner_.SetClock(WallClock(kOffset)); }
  std::vector<Event> Dns(const netmon_dns_event& ev) {
    std::vector<Event> out;
    joiner_.OnDnsEvent(ev, &out);
    return out;
  }
  FakeKernel kernel_;
  Joiner joiner_;
  netmon_tuple t_ = Tuple("10.0.0.1", 33333, "10.0.0.53", 53, IPPROTO_UDP);
};

TEST_F(JoinDns, QueryAndAnsweredResponse) {
  kernel_.owners[4] = Owner(400, "dig", NETMON_SRC_SENDMSG, NETMON_ROLE_ACTIVE);
  auto q = DnsBuilder(0x1234, 0x0100, 1, 0).Question("www.example.com", 1).bytes;
  auto qo = Dns(DnsEvent(t_, NETMON_DIR_EGRESS, 4, 1'000'000, q));
  ASSERT_EQ(qo.size(), 1u);
  EXPECT_EQ(qo[0].type, EventType::kDnsQuery);
  EXPECT_EQ(qo[0].pid, 400u);
  EXPECT_EQ(qo[0].source_addr, "10.0.0.1:33333");
  EXPECT_EQ(qo[0].dest_addr, "10.0.0.53:53");
  EXPECT_EQ(qo[0].bytes_sent, static_cast<int64_t>(q.size()));
  EXPECT_EQ(qo[0].bytes_received, 0);
  auto qx = Extra(qo[0].extra_info);
  EXPECT_EQ(qx["id"], 0x1234);
  EXPECT_EQ(qx["name"], "www.example.com");
  EXPECT_EQ(qx["type"], "A");
  EXPECT_FALSE(qx.contains("rcode"));

  auto r = DnsBuilder(0x1234, 0x8180, 1, 2)
               .Question("www.example.com", 1)
               .Cname("www.example.com", "edge.example.net", 60)
               .A("edge.example.net", "192.0.2.7", 30)
               .bytes;
  // The response arrives at ingress with no socket on the packet: the query's socket names the process.
  auto ro = Dns(DnsEvent(t_, NETMON_DIR_INGRESS, 0, 1'750'000, r));
  ASSERT_EQ(ro.size(), 1u);
  EXPECT_EQ(ro[0].type, EventType::kDnsResponse);
  EXPECT_EQ(ro[0].pid, 400u);
  EXPECT_EQ(ro[0].process_name, "dig");
  EXPECT_EQ(ro[0].source_addr, "10.0.0.53:53");  // follows the packet
  EXPECT_EQ(ro[0].dest_addr, "10.0.0.1:33333");
  EXPECT_EQ(ro[0].src.port, 33333);  // filter view: client -> server
  EXPECT_EQ(ro[0].dst.port, 53);
  EXPECT_EQ(ro[0].bytes_received, static_cast<int64_t>(r.size()));
  EXPECT_EQ(ro[0].timestamp_ns, kOffset + 1'750'000);
  auto rx = Extra(ro[0].extra_info);
  EXPECT_EQ(rx["rcode"], "NOERROR");
  EXPECT_EQ(rx["latency_us"], 750);
  ASSERT_EQ(rx["answers"].size(), 2u);
  EXPECT_EQ(rx["answers"][0]["type"], "CNAME");
  EXPECT_EQ(rx["answers"][0]["data"], "edge.example.net");
  EXPECT_EQ(rx["answers"][1]["type"], "A");
  EXPECT_EQ(rx["answers"][1]["data"], "192.0.2.7");
  EXPECT_EQ(rx["answers"][1]["ttl"], 30);
  EXPECT_EQ(rx["attribution"]["via"], "dns_query");
}

TEST_F(JoinDns, NxdomainWithoutMatchingQueryHasNoLatency) {
  auto r = DnsBuilder(7, 0x8183, 1, 0).Question("nope.invalid", 28).bytes;
  auto ro = Dns(DnsEvent(t_, NETMON_DIR_INGRESS, 0, 5, r));
  ASSERT_EQ(ro.size(), 1u);
  auto rx = Extra(ro[0].extra_info);
  EXPECT_EQ(rx["rcode"], "NXDOMAIN");
  EXPECT_EQ(rx["type"], "AAAA");
  EXPECT_TRUE(rx["answers"].empty());
  EXPECT_FALSE(rx.contains("latency_us"));
  EXPECT_EQ(ro[0].pid, 0u);
}

TEST_F(JoinDns, ServerSideQueryArrivesAtIngressFromTheClient) {
  // We are the DNS server: the query comes in from the remote client.
  netmon_tuple st = Tuple("10.0.0.53", 53, "10.0.0.1", 33333, IPPROTO_UDP);
  netmon_tuple bound = Tuple("10.0.0.53", 53, "::", 0, IPPROTO_UDP);
  kernel_.tuples[bound] = 8;
  kernel_.owners[8] = Owner(800, "dnsmasq", NETMON_SRC_BIND, NETMON_ROLE_PASSIVE);
  auto q = DnsBuilder(1, 0x0100, 1, 0).Question("a.test", 1).bytes;
  auto out = Dns(DnsEvent(st, NETMON_DIR_INGRESS, 0, 1, q));
  EXPECT_EQ(out[0].source_addr, "10.0.0.1:33333");
  EXPECT_EQ(out[0].dest_addr, "10.0.0.53:53");
  EXPECT_EQ(out[0].pid, 800u);
  EXPECT_EQ(out[0].bytes_received, static_cast<int64_t>(q.size()));
}

TEST_F(JoinDns, MalformedMessageIsStillReportedWithItsHeader) {
  auto q = DnsBuilder(9, 0x0100, 1, 0).bytes;
  q.push_back(0xc0);  // a compression pointer into the header, cut short
  q.push_back(0x03);
  auto out = Dns(DnsEvent(t_, NETMON_DIR_EGRESS, 0, 1, q));
  ASSERT_EQ(out.size(), 1u);
  auto x = Extra(out[0].extra_info);
  EXPECT_EQ(x["id"], 9);
  EXPECT_TRUE(x.contains("decode_error"));
  EXPECT_EQ(x["name"], "");  // no question could be decoded: no name is made up
  EXPECT_EQ(joiner_.stats().dns_decode_errors, 1u);
}

TEST_F(JoinDns, PartialCaptureIsMarkedTruncated) {
  DnsBuilder b(3, 0x8180, 1, 40);
  b.Question("big.example", 1);
  for (int i = 0; i < 40; ++i) b.A("big.example", "10.1.1." + std::to_string(i), 5);
  ASSERT_GT(b.bytes.size(), static_cast<size_t>(NETMON_DNS_MAX_PAYLOAD));
  auto out = Dns(DnsEvent(t_, NETMON_DIR_INGRESS, 0, 1, b.bytes, b.bytes.size()));
  auto x = Extra(out[0].extra_info);
  EXPECT_EQ(x["truncated"], true);
  EXPECT_GT(x["answers"].size(), 0u);
  EXPECT_LT(x["answers"].size(), 40u);
  EXPECT_EQ(out[0].bytes_received, static_cast<int64_t>(b.bytes.size()));
}

TEST_F(JoinDns, TcpTransportAndIpv6) {
  netmon_tuple t6 = Tuple("fd00::1", 40000, "fd00::53", 53, IPPROTO_TCP);
  auto q = DnsBuilder(5, 0x0100, 1, 0).Question("v6.test", 28).bytes;
  auto out = Dns(DnsEvent(t6, NETMON_DIR_EGRESS, 0, 1, q));
  EXPECT_EQ(out[0].source_addr, "[fd00::1]:40000");
  EXPECT_EQ(out[0].dest_addr, "[fd00::53]:53");
  EXPECT_EQ(Extra(out[0].extra_info)["protocol"], "tcp");
}

// A TCP segment record as the packet layer sends it: raw payload, header fields only when it starts a message.
netmon_dns_event TcpSegment(const netmon_tuple& t, uint8_t dir, uint64_t ts, const std::vector<uint8_t>& payload,
                            uint16_t starts_msg_len) {
  netmon_dns_event ev{};
  ev.ts_ns = ts;
  ev.tuple = t;
  ev.dir = dir;
  ev.is_tcp = 1;
  ev.msg_len = starts_msg_len;
  if (starts_msg_len != 0 && payload.size() >= 14) {
    ev.id = static_cast<uint16_t>(payload[2] << 8 | payload[3]);
    ev.flags = static_cast<uint16_t>(payload[4] << 8 | payload[5]);
  }
  ev.cap_len = static_cast<uint16_t>(std::min<size_t>(payload.size(), NETMON_DNS_MAX_PAYLOAD));
  std::memcpy(ev.payload, payload.data(), ev.cap_len);
  return ev;
}

std::vector<uint8_t> Framed(const std::vector<uint8_t>& msg) {
  std::vector<uint8_t> out(msg.size() + 2);
  out[0] = static_cast<uint8_t>(msg.size() >> 8);
  out[1] = static_cast<uint8_t>(msg.size());
  std::copy(msg.begin(), msg.end(), out.begin() + 2);
  return out;
}

TEST_F(JoinDns, TcpMessagesAreReassembledAcrossSegmentsAndSplitWithinOne) {
  netmon_tuple t = Tuple("10.0.0.1", 40000, "10.0.0.53", 53, IPPROTO_TCP);
  auto q1 = Framed(DnsBuilder(11, 0x0100, 1, 0).Question("one.test", 1).bytes);
  auto q2 = Framed(DnsBuilder(12, 0x0100, 1, 0).Question("two.test", 1).bytes);
  // q1 split over two segments.
  std::vector<uint8_t> a(q1.begin(), q1.begin() + 7), b(q1.begin() + 7, q1.end());
  EXPECT_TRUE(Dns(TcpSegment(t, NETMON_DIR_EGRESS, 1, a, static_cast<uint16_t>(q1.size() - 2))).empty());
  auto out = Dns(TcpSegment(t, NETMON_DIR_EGRESS, 2, b, 0));
  ASSERT_EQ(out.size(), 1u);
  EXPECT_EQ(Extra(out[0].extra_info)["name"], "one.test");
  EXPECT_EQ(Extra(out[0].extra_info)["protocol"], "tcp");
  EXPECT_EQ(out[0].bytes_sent, static_cast<int64_t>(q1.size() - 2));
  // Two messages in one segment.
  std::vector<uint8_t> both = q1;
  both.insert(both.end(), q2.begin(), q2.end());
  out = Dns(TcpSegment(t, NETMON_DIR_EGRESS, 3, both, static_cast<uint16_t>(q1.size() - 2)));
  ASSERT_EQ(out.size(), 2u);
  EXPECT_EQ(Extra(out[0].extra_info)["id"], 11);
  EXPECT_EQ(Extra(out[1].extra_info)["id"], 12);
  EXPECT_EQ(Extra(out[1].extra_info)["name"], "two.test");
}

TEST_F(JoinDns, TcpMessageCutByTheKernelCopyIsDecodedAsFarAsItGoes) {
  netmon_tuple t = Tuple("10.0.0.1", 40000, "10.0.0.53", 53, IPPROTO_TCP);
  DnsBuilder big(21, 0x8180, 1, 60);
  big.Question("big.test", 1);
  for (int i = 0; i < 60; ++i) big.A("big.test", "10.2.0." + std::to_string(i), 9);
  auto framed = Framed(big.bytes);
  auto out = Dns(TcpSegment(t, NETMON_DIR_INGRESS, 1, framed, static_cast<uint16_t>(big.bytes.size())));
  ASSERT_EQ(out.size(), 1u);
  auto x = Extra(out[0].extra_info);
  EXPECT_EQ(x["truncated"], true);
  EXPECT_EQ(out[0].bytes_received, static_cast<int64_t>(big.bytes.size()));
  // The rest of that message arrives as continuation segments: skipped, not misread as new messages.
  std::vector<uint8_t> rest(framed.begin() + NETMON_DNS_MAX_PAYLOAD, framed.end());
  std::vector<Event> more;
  joiner_.OnDnsEvent(TcpSegment(t, NETMON_DIR_INGRESS, 2, rest, 0), &more);
  // Garbage to the reassembler: at most a reset, never a crash; and the next message starts cleanly.
  auto q = Framed(DnsBuilder(22, 0x0100, 1, 0).Question("after.test", 1).bytes);
  auto next = Dns(TcpSegment(t, NETMON_DIR_INGRESS, 3, q, static_cast<uint16_t>(q.size() - 2)));
  ASSERT_EQ(next.size(), 1u);
  EXPECT_EQ(Extra(next[0].extra_info)["name"], "after.test");
}

TEST_F(JoinDns, UnansweredQueriesTimeOut) {
  JoinOptions opt;
  opt.dns.timeout_ns = 1000;
  Joiner j(kernel_.Source(), opt);
  std::vector<Event> out;
  j.OnDnsEvent(DnsEvent(t_, NETMON_DIR_EGRESS, 0, 10, DnsBuilder(1, 0x0100, 1, 0).Question("x.test", 1).bytes), &out);
  j.Expire(5000);
  EXPECT_EQ(j.stats().dns_timeouts, 1u);
}

}  // namespace
}  // namespace netmon::join
