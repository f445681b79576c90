// SPDX-License-Identifier: Apache-2.0
#include "correlate/log_window.h"

#include <algorithm>
#include <bit>
#include <string>
#include <unordered_map>

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
  std::lock_guard<std::mutex> lock(mu_);
  uint64_t id = ring_.Push(std::move(entry));
  for (const auto& t : tokens) index_.Add(TokenHash(t.kind, t.value), id);
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
    TokenKind kind;
    std::string value;
    uint32_t reason;
  };
  std::vector<Query> queries;
  auto add = [&](TokenKind kind, std::string value, uint32_t reason) {
    if ((options.match_mask & reason) && !value.empty()) queries.push_back({kind, std::move(value), reason});
  };
  if (ev.src) {
    add(TokenKind::kAddress, ev.src->ip.ToString(), kLinkSourceAddress);
    add(TokenKind::kEndpoint, ev.src->ToString(), kLinkSourceEndpoint);
    if (ev.src->port != 0) add(TokenKind::kPort, std::to_string(ev.src->port), kLinkSourcePort);
  }
  if (ev.dst) {
    add(TokenKind::kAddress, ev.dst->ip.ToString(), kLinkDestAddress);
    add(TokenKind::kEndpoint, ev.dst->ToString(), kLinkDestEndpoint);
    if (ev.dst->port != 0) add(TokenKind::kPort, std::to_string(ev.dst->port), kLinkDestPort);
  }
  if (ev.process_id > 0) add(TokenKind::kPid, std::to_string(ev.process_id), kLinkPid);
  if (!ev.process_name.empty()) add(TokenKind::kName, ev.process_name.substr(0, 15), kLinkProcessName);
  if (queries.empty() || options.max_links == 0) return {};

  const int64_t from = ev.start_ns - options.window_ns;
  const int64_t to = ev.end_ns + options.window_ns;
  std::unordered_map<uint64_t, uint32_t> hits;
  std::vector<LogLink> links;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& q : queries) {
      size_t seen = 0;
      index_.ForEach(TokenHash(q.kind, q.value), ring_.first_id(), [&](uint64_t id) {
        const LogRecord& r = *ring_.Get(id).record;
        if (r.time_ns >= from && r.time_ns <= to) hits[id] |= q.reason;
        return ++seen < options_.max_candidates_per_token;
      });
    }
    links.reserve(hits.size());
    for (const auto& [id, reasons] : hits) {
      const auto& rec = ring_.Get(id).record;
      int64_t d = rec->time_ns < ev.start_ns ? ev.start_ns - rec->time_ns
                  : rec->time_ns > ev.end_ns ? rec->time_ns - ev.end_ns
                                             : 0;
      links.push_back(LogLink{rec, reasons, d});
    }
  }
  std::sort(links.begin(), links.end(), [](const LogLink& a, const LogLink& b) {
    int sa = Score(a.reasons), sb = Score(b.reasons);
    if (sa != sb) return sa > sb;
    if (a.distance_ns != b.distance_ns) return a.distance_ns < b.distance_ns;
    return a.record->time_ns > b.record->time_ns;
  });
  if (links.size() > options.max_links) links.resize(options.max_links);
  return links;
}

}  // namespace netmon::correlate
