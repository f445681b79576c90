// SPDX-License-Identifier: Apache-2.0
#include "correlate/log_window.h"

#include <algorithm>
#include <bit>
#include <string>

namespace netmon::correlate {
namespace {

// How much a reason says about the line being about this event.
int Score(uint32_t reasons) {
  int s = 0;
  if (reasons & kMatchEndpoint) s += 8;
  if (reasons & kLinkPid) s += 6;
  if (reasons & kLinkProcessName) s += 3;
  if (reasons & kMatchAddress) s += 2 * std::popcount(reasons & kMatchAddress);
  if (reasons & kMatchPort) s += 1;
  return s;
}

}  // namespace

uint32_t MatchMaskFromName(std::string_view name) {
  if (name == "address") return kMatchAddress;
  if (name == "endpoint") return kMatchEndpoint;
  if (name == "port") return kMatchPort;
  if (name == "pid") return kLinkPid;
  if (name == "process_name") return kLinkProcessName;
  return 0;
}

std::vector<std::string_view> LinkReasonNames(uint32_t reasons) {
  static constexpr std::pair<uint32_t, std::string_view> kNames[] = {{kLinkSourceAddress, "source_address"},
                                                                     {kLinkDestAddress, "dest_address"},
                                                                     {kLinkSourceEndpoint, "source_endpoint"},
                                                                     {kLinkDestEndpoint, "dest_endpoint"},
                                                                     {kLinkSourcePort, "source_port"},
                                                                     {kLinkDestPort, "dest_port"},
                                                                     {kLinkPid, "pid"},
                                                                     {kLinkProcessName, "process_name"}};
  std::vector<std::string_view> out;
  for (const auto& [bit, name] : kNames) {
    if (reasons & bit) out.push_back(name);
  }
  return out;
}

void LogWindow::Add(LogRecord rec) {
  // Tokens are extracted outside the lock: it is the expensive part, and it needs nothing shared.
  std::vector<LogToken> tokens = ExtractTokens(rec, options_.tokens);
  Entry entry;
  entry.received_ns = rec.received_ns;
  entry.record = std::make_shared<const LogRecord>(std::move(rec));
  entry.tokens.reserve(tokens.size());
  for (const auto& t : tokens) entry.tokens.push_back(TokenHash(t.kind, t.value));
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t id = ring_.Push(std::move(entry));
  for (uint64_t h : ring_.back().tokens) index_.Add(h, id);
  ++counters_.added;
  EvictLocked(ring_.back().received_ns);
}

void LogWindow::EvictLocked(int64_t now_ns) {
  while (ring_.size() > options_.max_records) {
    ring_.PopFront();
    ++counters_.evicted_full;
  }
  while (!ring_.empty() && options_.retention_ns > 0 && now_ns - ring_.front().received_ns > options_.retention_ns) {
    ring_.PopFront();
    ++counters_.evicted_age;
  }
  // A line carries up to max_tokens keys, so the index may hold that many entries per live line.
  index_.MaybeCompact(ring_.first_id(), ring_.size() * 8);
}

void LogWindow::ExpireOlderThan(int64_t now_ns) {
  std::lock_guard<std::mutex> lock(mu_);
  EvictLocked(now_ns);
}

LogWindowCounters LogWindow::counters() const {
  std::lock_guard<std::mutex> lock(mu_);
  LogWindowCounters c = counters_;
  c.size = ring_.size();
  return c;
}

std::vector<LogLink> LogWindow::Link(const Event& ev, const LinkOptions& options) const {
  struct Query {
    uint64_t hash;
    uint32_t reason;
    bool key;  // finds lines; otherwise only qualifies lines found by a key
  };
  std::vector<Query> queries;
  auto add = [&](TokenKind kind, const std::string& value, uint32_t reason, bool key) {
    if ((options.match_mask & reason) && !value.empty()) queries.push_back({TokenHash(kind, value), reason, key});
  };
  if (ev.src) {
    add(TokenKind::kAddress, ev.src->ip.ToString(), kLinkSourceAddress, true);
    add(TokenKind::kEndpoint, ev.src->ToString(), kLinkSourceEndpoint, true);
    if (ev.src->port != 0) add(TokenKind::kPort, std::to_string(ev.src->port), kLinkSourcePort, true);
  }
  if (ev.dst) {
    add(TokenKind::kAddress, ev.dst->ip.ToString(), kLinkDestAddress, true);
    add(TokenKind::kEndpoint, ev.dst->ToString(), kLinkDestEndpoint, true);
    if (ev.dst->port != 0) add(TokenKind::kPort, std::to_string(ev.dst->port), kLinkDestPort, false);
  }
  if (ev.process_id > 0) add(TokenKind::kPid, std::to_string(ev.process_id), kLinkPid, true);
  if (!ev.process_name.empty()) add(TokenKind::kName, ev.process_name.substr(0, 15), kLinkProcessName, true);
  if (queries.empty() || options.max_links == 0) return {};

  const int64_t from = ev.start_ns - options.window_ns;
  const int64_t to = ev.end_ns + options.window_ns;
  // (id, reason) pairs, merged per id after the scan: cheaper than a map for the usual handful, and still
  // O(n log n) when a popular token brings a thousand candidates.
  std::vector<std::pair<uint64_t, uint32_t>> hits;
  auto hit = [&](uint64_t id, uint32_t reason) { hits.emplace_back(id, reason); };
  std::vector<LogLink> links;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& q : queries) {
      if (!q.key) continue;
      size_t seen = 0;
      index_.ForEach(q.hash, ring_.first_id(), [&](uint64_t id) {
        const LogRecord& r = *ring_.Get(id).record;
        if (r.time_ns >= from && r.time_ns <= to) hit(id, q.reason);
        return ++seen < options_.max_candidates_per_token;
      });
    }
    std::sort(hits.begin(), hits.end());
    size_t merged = 0;
    for (size_t i = 0; i < hits.size(); ++i) {
      if (merged > 0 && hits[merged - 1].first == hits[i].first) {
        hits[merged - 1].second |= hits[i].second;
      } else {
        hits[merged++] = hits[i];
      }
    }
    hits.resize(merged);
    links.reserve(hits.size());
    for (auto& [id, reasons] : hits) {
      const Entry& e = ring_.Get(id);
      for (const auto& q : queries) {
        if (q.key || (reasons & q.reason)) continue;
        if (std::find(e.tokens.begin(), e.tokens.end(), q.hash) != e.tokens.end()) reasons |= q.reason;
      }
      const auto& rec = e.record;
      int64_t d = rec->time_ns < ev.start_ns ? ev.start_ns - rec->time_ns
                  : rec->time_ns > ev.end_ns ? rec->time_ns - ev.end_ns
                                             : 0;
      links.push_back(LogLink{rec, reasons, d});
    }
  }
  auto better = [](const LogLink& a, const LogLink& b) {
    int sa = Score(a.reasons), sb = Score(b.reasons);
    if (sa != sb) return sa > sb;
    if (a.distance_ns != b.distance_ns) return a.distance_ns < b.distance_ns;
    return a.record->time_ns > b.record->time_ns;
  };
  if (links.size() > options.max_links) {
    std::partial_sort(links.begin(), links.begin() + static_cast<std::ptrdiff_t>(options.max_links), links.end(),
                      better);
    links.resize(options.max_links);
  } else {
    std::sort(links.begin(), links.end(), better);
  }
  return links;
}

}  // namespace netmon::correlate
