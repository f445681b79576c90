// SPDX-License-Identifier: Apache-2.0
// Matching events with NetFlow records (forward) and records with events (reverse), and the bounds of the stores.
#include <gtest/gtest.h>
#include <netinet/in.h>

#include "correlate/event.h"
#include "correlate/event_index.h"
#include "correlate/flow_matcher.h"
#include "correlate/tuple_store.h"

namespace netmon::correlate {
namespace {

constexpr int64_t kT = 1700000000LL * 1'000'000'000;
constexpr int64_t kSec = 1'000'000'000;

FlowRecord Rec(const char* src, uint16_t sport, const char* dst, uint16_t dport, uint64_t bytes, int64_t start,
               int64_t end, const char* exporter = "10.1.1.254", uint32_t sampling = 1) {
  FlowRecord r;
  r.tuple = {*ParseIp(src), *ParseIp(dst), sport, dport, IPPROTO_TCP};
  r.bytes = bytes;
  r.packets = bytes / 500;
  r.start_ns = start;
  r.end_ns = end;
  r.received_ns = end;
  r.exporter = *ParseIp(exporter);
  r.version = 9;
  r.input_if = 3;
  r.output_if = 5;
  r.sampling_interval = sampling;
  return r;
}

Event DataEvent(int64_t start, int64_t end, int64_t sent, int64_t received) {
  auto ev = DecodeEvent(R"({"timestamp_ns":1,"event_type":"DATA","process_id":4242,"process_name":"curl",
      "source_addr":"10.0.0.5:51234","dest_addr":"10.1.1.1:443","extra_info":"{\"protocol\":\"tcp\"}"})");
  Event e = *ev;
  e.start_ns = start;
  e.end_ns = end;
  e.timestamp_ns = end;
  e.bytes_sent = sent;
  e.bytes_received = received;
  return e;
}

TEST(FlowMatcher, MatchesBothDirectionsOfTheTupleThatOverlap) {
  FlowStore store;
  store.Add(Rec("10.0.0.5", 51234, "10.1.1.1", 443, 5000, kT - 5 * kSec, kT - 1 * kSec));  // forward
  FlowRecord reverse = Rec("10.1.1.1", 443, "10.0.0.5", 51234, 20000, kT - 5 * kSec, kT - 1 * kSec);
  reverse.input_if = 5;  // the answer enters where the request left
  reverse.output_if = 3;
  store.Add(reverse);
  store.Add(Rec("10.0.0.5", 51235, "10.1.1.1", 443, 777, kT - 5 * kSec, kT - 1 * kSec));      // other port
  store.Add(Rec("10.0.0.5", 51234, "10.1.1.1", 443, 999, kT - 900 * kSec, kT - 800 * kSec));  // long ago
  auto m = MatchEvent(store, DataEvent(kT - 5 * kSec, kT - 1 * kSec, 5000, 20000), MatchOptions{});
  ASSERT_TRUE(m);
  EXPECT_EQ(m->records, 2u);
  ASSERT_EQ(m->exporters.size(), 1u);
  const ExporterView& v = m->exporters[0];
  EXPECT_EQ(v.forward_bytes, 5000u);
  EXPECT_EQ(v.reverse_bytes, 20000u);
  EXPECT_EQ(v.input_if, 3u);
  EXPECT_EQ(v.output_if, 5u);
  EXPECT_DOUBLE_EQ(m->fabric_bytes, 25000);
  ASSERT_TRUE(m->ratio);
  EXPECT_DOUBLE_EQ(*m->ratio, 1.0);
  EXPECT_EQ(m->share, "large");
}

TEST(FlowMatcher, SamplingScalesAndTimeProportionsTheFabricView) {
  FlowStore store;
  // A 1-in-100 sampled record covering 100 s; the event covers 10 s of it: the fabric's estimate for those 10 s is
  // 1000 bytes * 100 * 10/100 = 10000.
  store.Add(Rec("10.0.0.5", 51234, "10.1.1.1", 443, 1000, kT - 100 * kSec, kT, "10.1.1.254", 100));
  auto m = MatchEvent(store, DataEvent(kT - 10 * kSec, kT, 500, 500), MatchOptions{});
  ASSERT_TRUE(m);
  EXPECT_DOUBLE_EQ(m->fabric_bytes, 10000);
  EXPECT_DOUBLE_EQ(*m->ratio, 0.1);
  EXPECT_EQ(m->share, "small");
  EXPECT_EQ(m->exporters[0].sampling_interval, 100u);
}

TEST(FlowMatcher, ExportersAreKeptApartAndTheLargestViewIsTheFabric) {
  FlowStore store;
  store.Add(Rec("10.0.0.5", 51234, "10.1.1.1", 443, 4000, kT - 5 * kSec, kT, "10.1.1.254"));
  store.Add(Rec("10.0.0.5", 51234, "10.1.1.1", 443, 6000, kT - 5 * kSec, kT, "10.9.0.1"));
  auto m = MatchEvent(store, DataEvent(kT - 5 * kSec, kT, 3000, 0), MatchOptions{});
  ASSERT_TRUE(m);
  ASSERT_EQ(m->exporters.size(), 2u);
  EXPECT_EQ(m->exporters[0].exporter.ToString(), "10.9.0.1");  // largest first
  EXPECT_DOUBLE_EQ(m->fabric_bytes, 6000);                     // not 10000: both saw the same packets
  EXPECT_EQ(m->share, "large");
}

TEST(FlowMatcher, OutsideTheWindowOrAnotherTupleIsNoMatch) {
  FlowStore store;
  store.Add(Rec("10.0.0.5", 51234, "10.1.1.1", 443, 5000, kT - 60 * kSec, kT - 50 * kSec));
  MatchOptions o;
  o.slack_ns = 2 * kSec;
  EXPECT_FALSE(MatchEvent(store, DataEvent(kT - 10 * kSec, kT, 1, 1), o));
  // Within the slack it matches.
  EXPECT_TRUE(MatchEvent(store, DataEvent(kT - 49 * kSec + kSec, kT, 1, 1), o));
  auto udp = DataEvent(kT - 55 * kSec, kT, 1, 1);
  udp.protocol = IPPROTO_UDP;
  EXPECT_FALSE(MatchEvent(store, udp, o));
  udp.protocol = 0;  // unknown protocol: either
  EXPECT_TRUE(MatchEvent(store, udp, o));
}

TEST(FlowMatcher, ReverseLookupFindsTheProcess) {
  EventIndex index;
  auto ev = DataEvent(kT - 5 * kSec, kT - 1 * kSec, 5000, 20000);
  ev.agent_id = "agent-1";
  ev.session_id = "cap-1";
  ev.sequence = 9;
  index.Add(*SummarizeEvent(ev, kT));
  auto other = ev;
  other.src->port = 40000;
  index.Add(*SummarizeEvent(other, kT));
  // The reverse record of the flow (server -> client) names the same process, as responder side.
  FlowRecord r = Rec("10.1.1.1", 443, "10.0.0.5", 51234, 20000, kT - 4 * kSec, kT - 2 * kSec);
  auto found = WhoProduced(index, r, MatchOptions{});
  ASSERT_EQ(found.size(), 1u);
  EXPECT_EQ(found[0].event.process_id, 4242);
  EXPECT_EQ(found[0].event.process_name, "curl");
  EXPECT_EQ(found[0].event.sequence, 9u);
  EXPECT_FALSE(found[0].same_direction);
  // A tuple and a window that do not overlap find nothing.
  EXPECT_TRUE(WhoProduced(index, r.tuple, kT + 100 * kSec, kT + 200 * kSec, MatchOptions{}).empty());
}

TEST(TupleStore, BoundedByCountAndAge) {
  FlowStore store({/*max_entries=*/3, /*retention_ns=*/100 * kSec});
  for (int i = 0; i < 5; ++i) store.Add(Rec("10.0.0.5", 51234, "10.1.1.1", 443, 100 + i, kT + i, kT + i));
  auto c = store.counters();
  EXPECT_EQ(c.size, 3u);
  EXPECT_EQ(c.evicted_full, 2u);
  FlowKey key = FlowKey::Of(Rec("10.0.0.5", 51234, "10.1.1.1", 443, 0, 0, 0).tuple);
  auto left = store.Query(key, 0, kT * 2, 10);
  ASSERT_EQ(left.size(), 3u);
  EXPECT_EQ(left[0].bytes, 104u);  // newest first
  store.ExpireOlderThan(kT + 1000 * kSec);
  EXPECT_EQ(store.counters().size, 0u);
  EXPECT_EQ(store.counters().evicted_age, 3u);
  EXPECT_TRUE(store.Query(key, 0, kT * 2, 10).empty());
}

TEST(TupleStore, IndexCompactionKeepsLookupsRight) {
  FlowStore store({/*max_entries=*/100, /*retention_ns=*/0});
  // Many distinct tuples pushed through a small store: the index sweeps its stale ids and still finds live ones.
  for (uint16_t p = 1; p < 20000; ++p) store.Add(Rec("10.0.0.5", p, "10.1.1.1", 443, p, kT, kT));
  FlowKey live = FlowKey::Of(Rec("10.0.0.5", 19999, "10.1.1.1", 443, 0, 0, 0).tuple);
  FlowKey gone = FlowKey::Of(Rec("10.0.0.5", 5, "10.1.1.1", 443, 0, 0, 0).tuple);
  EXPECT_EQ(store.Query(live, 0, kT * 2, 10).size(), 1u);
  EXPECT_TRUE(store.Query(gone, 0, kT * 2, 10).empty());
}

}  // namespace
}  // namespace netmon::correlate
