// SPDX-License-Identifier: Apache-2.0
#include "correlate/event.h"

#include <gtest/gtest.h>
#include <netinet/in.h>

#include "correlate/event_index.h"
#include "correlate/json_in.h"

namespace netmon::correlate {
namespace {

constexpr char kData[] = R"({"timestamp_ns":1700000000000000000,"process_id":4242,"process_name":"curl",
  "source_addr":"10.0.0.5:51234","dest_addr":"10.1.1.1:443","bytes_sent":5000,"bytes_received":20000,
  "event_type":"DATA","extra_info":"{\"protocol\":\"tcp\",\"interval_start_ns\":1699999995000000000,\"interval_end_ns\":1700000000000000000}",
  "agent_id":"agent-1","session_id":"cap-1","sequence":7,"some_future_field":{"x":[1,2]}})";

TEST(EventCodec, DecodesEveryFieldAndIgnoresUnknownKeys) {
  auto ev = DecodeEvent(kData);
  ASSERT_TRUE(ev.ok()) << ev.status();
  EXPECT_EQ(ev->timestamp_ns, 1700000000000000000);
  EXPECT_EQ(ev->process_id, 4242);
  EXPECT_EQ(ev->process_name, "curl");
  EXPECT_EQ(ev->kind, EventKind::kData);
  EXPECT_EQ(ev->protocol, IPPROTO_TCP);
  ASSERT_TRUE(ev->src && ev->dst);
  EXPECT_EQ(ev->src->ToString(), "10.0.0.5:51234");
  EXPECT_EQ(ev->dst->port, 443);
  EXPECT_EQ(ev->start_ns, 1699999995000000000);
  EXPECT_EQ(ev->end_ns, 1700000000000000000);
  EXPECT_EQ(ev->agent_id, "agent-1");
  EXPECT_EQ(ev->session_id, "cap-1");
  EXPECT_EQ(ev->sequence, 7u);
  EXPECT_EQ(EventMessageId(*ev), "agent-1/cap-1/7");
}

TEST(EventCodec, RoundTripsThroughEncode) {
  auto ev = DecodeEvent(kData);
  ASSERT_TRUE(ev.ok());
  std::string text = EncodeEvent(*ev);
  auto again = DecodeEvent(text);
  ASSERT_TRUE(again.ok()) << again.status() << " " << text;
  EXPECT_EQ(again->extra_info, ev->extra_info);
  EXPECT_EQ(again->start_ns, ev->start_ns);
  EXPECT_EQ(again->sequence, 7u);
  auto doc = ParseJson(text, 1 << 20);
  ASSERT_TRUE(doc.ok());
  EXPECT_TRUE((*doc)["extra_info"].is_string());  // written back the way it came
}

TEST(EventCodec, AcceptsProto3JsonIntegersAndObjectExtraInfo) {
  auto ev = DecodeEvent(R"({"timestamp_ns":"1700000000000000000","event_type":"CLOSE","process_id":1,
      "source_addr":"[2001:db8::5]:40000","dest_addr":"[2001:db8::1]:443","bytes_sent":"10",
      "extra_info":{"duration_ms":2500}})");
  ASSERT_TRUE(ev.ok()) << ev.status();
  EXPECT_EQ(ev->bytes_sent, 10);
  EXPECT_EQ(ev->protocol, IPPROTO_TCP);  // CLOSE is a TCP connection's end
  EXPECT_EQ(ev->end_ns - ev->start_ns, 2'500'000'000);
  EXPECT_TRUE(ev->extra_info_is_object);
  auto doc = ParseJson(EncodeEvent(*ev), 1 << 20);
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ((*doc)["extra_info"]["duration_ms"], 2500);
}

TEST(EventCodec, DnsResponseTupleIsTheClientsFlow) {
  auto ev = DecodeEvent(R"({"timestamp_ns":1,"event_type":"DNS_RESPONSE","source_addr":"10.0.0.53:53",
      "dest_addr":"10.0.0.5:40000","extra_info":"{\"protocol\":\"udp\"}"})");
  ASSERT_TRUE(ev.ok());
  auto t = EventTuple(*ev);
  ASSERT_TRUE(t);
  EXPECT_EQ(t->src.ToString(), "10.0.0.5");
  EXPECT_EQ(t->dst_port, 53);
  EXPECT_EQ(t->protocol, IPPROTO_UDP);
}

TEST(EventCodec, RefusesWhatItCannotTrust) {
  const char* bad[] = {
      "[]",
      "{}",
      R"({"event_type":"DATA"})",                                   // no timestamp
      R"({"timestamp_ns":-1,"event_type":"DATA"})",                 // negative time
      R"({"timestamp_ns":1.5,"event_type":"DATA"})",                // not an integer
      R"({"timestamp_ns":1,"event_type":"data"})",                  // not an upper-case token
      R"({"timestamp_ns":1,"event_type":"DATA","process_id":-4})",  // negative PID
      R"({"timestamp_ns":1,"event_type":"DATA","process_id":4294967296})",
      R"({"timestamp_ns":1,"event_type":"DATA","source_addr":"10.0.0.1"})",  // no port
      R"({"timestamp_ns":1,"event_type":"DATA","dest_addr":"host:80"})",
      R"({"timestamp_ns":1,"event_type":"DATA","bytes_sent":-1})",
      R"({"timestamp_ns":1,"event_type":"DATA","session_id":"bad id"})",
      R"({"timestamp_ns":1,"event_type":"DATA","extra_info":"not json"})",
      R"({"timestamp_ns":1,"event_type":"DATA","extra_info":"[1]"})",
      R"({"timestamp_ns":1,"event_type":"DATA","extra_info":5})",
      R"({"timestamp_ns":1,"event_type":"DATA","process_name":7})",
      R"({"timestamp_ns":1,"event_type":"DATA","sequence":-1})",
  };
  for (const char* text : bad) EXPECT_FALSE(DecodeEvent(text).ok()) << text;
  // Nesting is bounded before parsing.
  std::string deep(1000, '[');
  EXPECT_FALSE(DecodeEvent(deep).ok());
}

TEST(EventCodec, SubjectTokensAreSafe) {
  EXPECT_EQ(SubjectToken("agent-1"), "agent-1");
  EXPECT_EQ(SubjectToken("a.b*c>d e"), "a_b_c_d_e");
  EXPECT_EQ(SubjectToken(""), "_");
}

}  // namespace
}  // namespace netmon::correlate
