// SPDX-License-Identifier: Apache-2.0
#include "dns/dns_tracker.h"

#include <gtest/gtest.h>

#include <string>

namespace netmon::dns {
namespace {

constexpr uint64_t kMs = 1'000'000;
constexpr uint64_t kSec = 1'000 * kMs;

QueryKey Key(uint16_t id, uint16_t client_port = 40000) {
  QueryKey k;
  k.netns = 4026531840u;
  k.client_addr = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 1};
  k.server_addr = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 0, 0, 53};
  k.client_port = client_port;
  k.server_port = 53;
  k.transport = Transport::kUdp;
  k.id = id;
  return k;
}

QueryInfo Info(std::string name, uint64_t cookie = 0) {
  return QueryInfo{std::move(name), 1, cookie};
}

TEST(DnsTracker, PairsQueryAndResponseWithLatency) {
  DnsTracker t;
  t.OnQuery(Key(1), 10 * kSec, Info("example.com", 77));
  EXPECT_EQ(t.pending(), 1u);
  auto answered = t.OnResponse(Key(1), 10 * kSec + 1234567);
  ASSERT_TRUE(answered.has_value());
  EXPECT_EQ(answered->latency_us, 1234u);
  EXPECT_EQ(answered->query_ns, 10 * kSec);
  EXPECT_EQ(answered->query.name, "example.com");
  EXPECT_EQ(answered->query.qtype, 1);
  EXPECT_EQ(answered->query.cookie, 77u);
  EXPECT_EQ(t.pending(), 0u);
  EXPECT_EQ(t.stats().answered, 1u);
  // A duplicate response finds nothing.
  EXPECT_FALSE(t.OnResponse(Key(1), 11 * kSec).has_value());
  EXPECT_EQ(t.stats().unmatched_responses, 1u);
}

TEST(DnsTracker, EveryKeyFieldMatters) {
  DnsTracker t;
  const QueryKey base = Key(5);
  t.OnQuery(base, 0, Info("a"));
  QueryKey other[7] = {base, base, base, base, base, base, base};
  other[0].id = 6;
  other[1].client_port = 40001;
  other[2].server_port = 5353;
  other[3].netns = 1;
  other[4].transport = Transport::kTcp;
  other[5].client_addr[15] = 2;
  other[6].server_addr[15] = 54;
  for (const auto& k : other) EXPECT_FALSE(t.OnResponse(k, 1).has_value());
  EXPECT_EQ(t.stats().unmatched_responses, 7u);
  EXPECT_TRUE(t.OnResponse(base, 1).has_value());
}

TEST(DnsTracker, TimesOutAfterTheDefaultFiveSeconds) {
  DnsTracker t;
  EXPECT_EQ(t.options().timeout_ns, 5 * kSec);
  t.OnQuery(Key(1), 100 * kSec, Info("slow.example"));
  t.OnQuery(Key(2), 101 * kSec, Info("later.example"));
  EXPECT_TRUE(t.Expire(105 * kSec - 1).empty());
  auto expired = t.Expire(105 * kSec);
  ASSERT_EQ(expired.size(), 1u);
  EXPECT_EQ(expired[0].key, Key(1));
  EXPECT_EQ(expired[0].query.name, "slow.example");
  EXPECT_EQ(expired[0].query_ns, 100 * kSec);
  EXPECT_EQ(t.pending(), 1u);
  EXPECT_EQ(t.stats().timeouts, 1u);
  // The timed-out query's late response no longer matches.
  EXPECT_FALSE(t.OnResponse(Key(1), 106 * kSec).has_value());
  // An answered query never times out.
  EXPECT_TRUE(t.OnResponse(Key(2), 102 * kSec).has_value());
  EXPECT_TRUE(t.Expire(1000 * kSec).empty());
}

TEST(DnsTracker, ConfigurableTimeoutAndOldestFirst) {
  DnsTracker t({.timeout_ns = 100 * kMs, .max_pending = 16, .hash_seed = 42});
  // Inserted out of time order: expiry follows query time, not insertion order.
  t.OnQuery(Key(3), 30 * kMs, Info("c"));
  t.OnQuery(Key(1), 10 * kMs, Info("a"));
  t.OnQuery(Key(2), 20 * kMs, Info("b"));
  auto expired = t.Expire(125 * kMs);
  ASSERT_EQ(expired.size(), 2u);
  EXPECT_EQ(expired[0].query.name, "a");
  EXPECT_EQ(expired[1].query.name, "b");
  EXPECT_EQ(t.pending(), 1u);
}

TEST(DnsTracker, ResponseAfterTimeoutButBeforeExpireStillMatches) {
  DnsTracker t;
  t.OnQuery(Key(1), 0, Info("a"));
  auto answered = t.OnResponse(Key(1), 7 * kSec);
  ASSERT_TRUE(answered.has_value());
  EXPECT_EQ(answered->latency_us, 7'000'000u);
}

TEST(DnsTracker, RetransmissionKeepsTheFirstSendTime) {
  DnsTracker t;
  t.OnQuery(Key(1), 1 * kSec, Info("a"));
  t.OnQuery(Key(1), 2 * kSec, Info("a", 99));
  EXPECT_EQ(t.stats().retransmits, 1u);
  EXPECT_EQ(t.stats().queries, 1u);
  auto answered = t.OnResponse(Key(1), 2 * kSec + 500 * kMs);
  ASSERT_TRUE(answered.has_value());
  EXPECT_EQ(answered->latency_us, 1'500'000u);
  EXPECT_EQ(answered->query.cookie, 99u);  // learnt from the retry
}

TEST(DnsTracker, ReusedIdForAnotherQuestionSupersedes) {
  DnsTracker t;
  t.OnQuery(Key(1), 1 * kSec, Info("a"));
  t.OnQuery(Key(1), 2 * kSec, Info("b"));
  EXPECT_EQ(t.stats().superseded, 1u);
  EXPECT_EQ(t.pending(), 1u);
  auto answered = t.OnResponse(Key(1), 3 * kSec);
  ASSERT_TRUE(answered.has_value());
  EXPECT_EQ(answered->query.name, "b");
  EXPECT_EQ(answered->latency_us, 1'000'000u);
}

TEST(DnsTracker, BoundedTableEvictsTheOldest) {
  DnsTracker t({.timeout_ns = 5 * kSec, .max_pending = 3, .hash_seed = 0});
  for (uint16_t id = 1; id <= 5; ++id) t.OnQuery(Key(id), id * kMs, Info(std::string("q").append(std::to_string(id))));
  EXPECT_EQ(t.pending(), 3u);
  EXPECT_EQ(t.stats().evicted, 2u);
  EXPECT_EQ(t.stats().queries, 5u);
  EXPECT_FALSE(t.OnResponse(Key(1), 10 * kMs).has_value());
  EXPECT_FALSE(t.OnResponse(Key(2), 10 * kMs).has_value());
  EXPECT_TRUE(t.OnResponse(Key(3), 10 * kMs).has_value());
  // Evicted queries are counted, never reported as timeouts.
  auto expired = t.Expire(100 * kSec);
  EXPECT_EQ(expired.size(), 2u);
  EXPECT_EQ(t.stats().timeouts, 2u);
}

TEST(DnsTracker, InvertedTimestampsGiveZeroLatency) {
  DnsTracker t;
  t.OnQuery(Key(1), 10 * kSec, Info("a"));
  auto answered = t.OnResponse(Key(1), 10 * kSec - 5);
  ASSERT_TRUE(answered.has_value());
  EXPECT_EQ(answered->latency_us, 0u);
}

TEST(DnsTracker, ManyQueriesAllMatch) {
  DnsTracker t;
  for (uint32_t i = 0; i < 20000; ++i) {
    t.OnQuery(Key(static_cast<uint16_t>(i), static_cast<uint16_t>(1024 + i / 65536)), i, Info("n"));
  }
  EXPECT_EQ(t.pending(), 20000u);
  for (uint32_t i = 0; i < 20000; ++i) {
    auto a = t.OnResponse(Key(static_cast<uint16_t>(i), static_cast<uint16_t>(1024 + i / 65536)), i + 1000);
    ASSERT_TRUE(a.has_value()) << i;
    EXPECT_EQ(a->latency_us, 1u);
  }
  EXPECT_EQ(t.pending(), 0u);
}

TEST(DnsTracker, ExpireEarlierThanTheTimeoutIsANoOp) {
  DnsTracker t;
  t.OnQuery(Key(1), 0, Info("a"));
  EXPECT_TRUE(t.Expire(1).empty());
  EXPECT_EQ(t.Expire(5 * kSec).size(), 1u);
}

}  // namespace
}  // namespace netmon::dns
