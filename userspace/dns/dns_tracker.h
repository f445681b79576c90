// SPDX-License-Identifier: Apache-2.0
// Pairs DNS queries with their responses to give each response its latency, and reports queries that were never
// answered. Pure logic: the caller passes every time in (the kernel's monotonic nanoseconds), so tests drive it
// without clocks and replayed captures behave as they did live.
//
// A query and its response share the key (netns, client addr/port, server addr/port, transport, DNS id); the
// caller builds it from the query's source and destination, and from the response's destination and source.
// The pending table is bounded: when full, the oldest query is evicted and counted, never reported as a timeout
// (it may well have been answered).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

namespace netmon::dns {

enum class Transport : uint8_t { kTcp = 6, kUdp = 17 };  // IPPROTO_* values, as in netmon_tuple.proto

struct QueryKey {
  uint32_t netns = 0;                     // network namespace inode
  std::array<uint8_t, 16> client_addr{};  // network byte order, IPv4 as ::ffff:a.b.c.d (as in netmon_tuple)
  std::array<uint8_t, 16> server_addr{};
  uint16_t client_port = 0;  // host byte order
  uint16_t server_port = 0;
  Transport transport = Transport::kUdp;
  uint16_t id = 0;  // DNS header id

  bool operator==(const QueryKey&) const = default;
};

// What the caller wants back when the query is answered or times out.
struct QueryInfo {
  std::string name;  // first question's name
  uint16_t qtype = 0;
  // Socket of the querying process, if known. A response seen at ingress often has no socket yet; the query's
  // owner is its owner.
  uint64_t cookie = 0;
};

struct AnsweredQuery {
  QueryInfo query;
  uint64_t query_ns = 0;
  uint64_t latency_us = 0;  // response time - first query time; 0 if the response was timestamped earlier
};

struct TimedOutQuery {
  QueryKey key;
  QueryInfo query;
  uint64_t query_ns = 0;
};

class DnsTracker {
 public:
  struct Options {
    uint64_t timeout_ns = 5'000'000'000;
    size_t max_pending = 65536;
    // Seed of the key hash; 0 = random. Keys are attacker-influenced (ids, ports), so the hash must not be
    // predictable, or crafted traffic could degrade the table to a list.
    uint64_t hash_seed = 0;
  };

  struct Stats {
    uint64_t queries = 0;              // distinct queries tracked
    uint64_t retransmits = 0;          // same key and question again while pending: first time kept
    uint64_t superseded = 0;           // same key, different question while pending: old one dropped
    uint64_t answered = 0;             // responses matched to a pending query
    uint64_t unmatched_responses = 0;  // responses with no pending query (late, duplicate, or query unseen)
    uint64_t timeouts = 0;             // reported by Expire()
    uint64_t evicted = 0;              // dropped because the table was full
  };

  DnsTracker();
  explicit DnsTracker(Options options);

  // A query was sent at `now_ns`. A retransmission (same key, same name and type) keeps the first send time, so
  // latency is what the application waited.
  void OnQuery(const QueryKey& key, uint64_t now_ns, QueryInfo info);
  // A response arrived at `now_ns`: the matching query, removed from the table, or nullopt. A response that
  // arrives after the timeout but before Expire() ran still matches.
  std::optional<AnsweredQuery> OnResponse(const QueryKey& key, uint64_t now_ns);
  // Removes and returns the queries sent at or before `now_ns - timeout_ns`, oldest first.
  std::vector<TimedOutQuery> Expire(uint64_t now_ns);

  size_t pending() const { return table_.size(); }
  const Stats& stats() const { return stats_; }
  const Options& options() const { return options_; }

 private:
  struct KeyHash {
    uint64_t seed;
    size_t operator()(const QueryKey& key) const;
  };
  using ByTime = std::multimap<uint64_t, QueryKey>;  // query time -> key: expiry and eviction order
  struct Entry {
    QueryInfo info;
    uint64_t query_ns;
    ByTime::iterator by_time;
  };

  void Erase(std::unordered_map<QueryKey, Entry, KeyHash>::iterator it);

  Options options_;
  std::unordered_map<QueryKey, Entry, KeyHash> table_;
  ByTime by_time_;
  Stats stats_;
};

}  // namespace netmon::dns
