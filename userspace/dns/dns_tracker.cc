// SPDX-License-Identifier: Apache-2.0
#include "dns/dns_tracker.h"

#include <algorithm>
#include <utility>

#include "common/hash.h"

namespace netmon::dns {

size_t DnsTracker::KeyHash::operator()(const QueryKey& k) const {
  uint64_t h = seed;
  for (const auto* addr : {&k.client_addr, &k.server_addr}) {
    h = HashMix(h ^ Load64(addr->data()));
    h = HashMix(h ^ Load64(addr->data() + 8));
  }
  h = HashMix(h ^ (static_cast<uint64_t>(k.netns) << 32 | static_cast<uint64_t>(k.client_port) << 16 | k.server_port));
  h = HashMix(h ^ (static_cast<uint64_t>(k.transport) << 16 | k.id));
  return static_cast<size_t>(h);
}

DnsTracker::DnsTracker() : DnsTracker(Options{}) {}

DnsTracker::DnsTracker(Options options)
    : options_(options), table_(0, KeyHash{options.hash_seed != 0 ? options.hash_seed : RandomHashSeed()}) {
  options_.max_pending = std::max<size_t>(options_.max_pending, 1);
}

void DnsTracker::Erase(std::unordered_map<QueryKey, Entry, KeyHash>::iterator it) {
  by_time_.erase(it->second.by_time);
  table_.erase(it);
}

void DnsTracker::OnQuery(const QueryKey& key, uint64_t now_ns, QueryInfo info) {
  auto found = table_.find(key);
  if (found != table_.end()) {
    Entry& e = found->second;
    if (e.info.name == info.name && e.info.qtype == info.qtype) {
      ++stats_.retransmits;
      // A socket learnt only on the retry is still better than none.
      if (e.info.cookie == 0) e.info.cookie = info.cookie;
      return;
    }
    // The id was reused for another question: the client has given up on the old one.
    ++stats_.superseded;
    Erase(found);
  }
  if (table_.size() >= options_.max_pending) {
    ++stats_.evicted;
    Erase(table_.find(by_time_.begin()->second));
  }
  ++stats_.queries;
  auto by_time = by_time_.emplace(now_ns, key);
  table_.emplace(key, Entry{std::move(info), now_ns, by_time});
}

std::optional<AnsweredQuery> DnsTracker::OnResponse(const QueryKey& key, uint64_t now_ns) {
  auto found = table_.find(key);
  if (found == table_.end()) {
    ++stats_.unmatched_responses;
    return std::nullopt;
  }
  ++stats_.answered;
  AnsweredQuery answered;
  answered.query = std::move(found->second.info);
  answered.query_ns = found->second.query_ns;
  // Events from different CPUs can carry slightly inverted timestamps; never report a wrapped-around latency.
  answered.latency_us = now_ns > answered.query_ns ? (now_ns - answered.query_ns) / 1000 : 0;
  Erase(found);
  return answered;
}

std::vector<TimedOutQuery> DnsTracker::Expire(uint64_t now_ns) {
  std::vector<TimedOutQuery> out;
  if (now_ns < options_.timeout_ns) return out;
  const uint64_t cutoff = now_ns - options_.timeout_ns;
  while (!by_time_.empty() && by_time_.begin()->first <= cutoff) {
    auto found = table_.find(by_time_.begin()->second);
    out.push_back(TimedOutQuery{found->first, std::move(found->second.info), found->second.query_ns});
    Erase(found);
  }
  stats_.timeouts += out.size();
  return out;
}

}  // namespace netmon::dns
