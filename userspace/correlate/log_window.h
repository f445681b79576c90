// SPDX-License-Identifier: Apache-2.0
// The recent log lines (syslog, GELF, OTel), bounded by count and age, indexed by the tokens they mention, and the
// linker that finds the lines an event is about: lines within a time window of the event's span that mention its
// addresses, endpoints, ports, PID or process name. Each link says which of these matched, and links are ranked by
// how specific the match is (an exact endpoint beats a shared server address) and then by closeness in time.
// The responder's port (443, 53: the service) is shared by every connection to the service, so it only qualifies a
// line found by something else and never finds one by itself; the initiator's (usually ephemeral) port does.
#pragma once

#include <cstdint>
#include <memory>
#include <mutex>
#include <string_view>
#include <vector>

#include "correlate/event.h"
#include "correlate/fifo_index.h"
#include "correlate/log_record.h"

namespace netmon::correlate {

enum LinkReason : uint32_t {
  kLinkSourceAddress = 1u << 0,
  kLinkDestAddress = 1u << 1,
  kLinkSourceEndpoint = 1u << 2,
  kLinkDestEndpoint = 1u << 3,
  kLinkSourcePort = 1u << 4,
  kLinkDestPort = 1u << 5,
  kLinkPid = 1u << 6,
  kLinkProcessName = 1u << 7,
};

// Groups of reasons as the config names them ("address", "endpoint", "port", "pid", "process_name").
inline constexpr uint32_t kMatchAddress = kLinkSourceAddress | kLinkDestAddress;
inline constexpr uint32_t kMatchEndpoint = kLinkSourceEndpoint | kLinkDestEndpoint;
inline constexpr uint32_t kMatchPort = kLinkSourcePort | kLinkDestPort;
inline constexpr uint32_t kMatchAll = 0xff;
// The mask for one config name, 0 if unknown.
uint32_t MatchMaskFromName(std::string_view name);
// "source_address", "dest_endpoint", "pid", ... for each bit set.
std::vector<std::string_view> LinkReasonNames(uint32_t reasons);

struct LogWindowOptions {
  size_t max_records = 50000;
  int64_t retention_ns = 300LL * 1'000'000'000;
  TokenLimits tokens;
  size_t max_candidates_per_token = 1024;  // bounds the work of one Link() on a token many lines mention
};

struct LinkOptions {
  int64_t window_ns = 5'000'000'000;
  size_t max_links = 8;
  uint32_t match_mask = kMatchAll;
};

struct LogLink {
  std::shared_ptr<const LogRecord> record;
  uint32_t reasons = 0;
  int64_t distance_ns = 0;  // from the event's span (0 inside it)
};

struct LogWindowCounters {
  uint64_t added = 0;
  uint64_t evicted_full = 0;
  uint64_t evicted_age = 0;
  uint64_t size = 0;
};

class LogWindow {
 public:
  explicit LogWindow(LogWindowOptions options = {}) : options_(options) {}

  void Add(LogRecord rec);
  std::vector<LogLink> Link(const Event& ev, const LinkOptions& options) const;
  void ExpireOlderThan(int64_t now_ns);
  LogWindowCounters counters() const;

 private:
  struct Entry {
    std::shared_ptr<const LogRecord> record;
    std::vector<uint64_t> tokens;  // TokenHash of each token, for the qualifier checks
    int64_t received_ns = 0;
  };
  void EvictLocked(int64_t now_ns);

  LogWindowOptions options_;
  mutable std::mutex mu_;
  FifoRing<Entry> ring_;
  FifoIndex<uint64_t> index_;  // TokenHash -> ids
  LogWindowCounters counters_;
};

}  // namespace netmon::correlate
