// SPDX-License-Identifier: Apache-2.0
#include "correlate/ingest.h"

#include "common/log.h"

namespace netmon::correlate {

NetflowCollector::NetflowCollector(NetflowParserOptions options, FlowStore* store) : parser_(options), store_(store) {}

size_t NetflowCollector::Ingest(const IpAddr& exporter, const uint8_t* data, size_t len, int64_t now_ns) {
  std::lock_guard<std::mutex> lock(mu_);
  scratch_.clear();
  parser_.Parse(exporter, data, len, now_ns, &scratch_);
  if (!scratch_.empty() && store_ != nullptr) store_->AddAll(scratch_);
  return scratch_.size();
}

void NetflowCollector::SetSamplingOverride(const IpAddr& exporter, uint32_t interval) {
  std::lock_guard<std::mutex> lock(mu_);
  parser_.SetSamplingOverride(exporter, interval);
}

void NetflowCollector::Expire(int64_t now_ns) {
  std::lock_guard<std::mutex> lock(mu_);
  parser_.Expire(now_ns);
}

NetflowCounters NetflowCollector::counters() const {
  std::lock_guard<std::mutex> lock(mu_);
  return parser_.counters();
}

size_t NetflowCollector::template_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return parser_.template_count();
}

LogIngest::LogIngest(SyslogOptions syslog, LogJsonOptions json, LogWindow* window)
    : syslog_(syslog), json_(json), window_(window) {}

bool LogIngest::IngestSyslog(std::string_view datagram, std::string_view origin, int64_t now_ns) {
  c_.syslog_datagrams.fetch_add(1, std::memory_order_relaxed);
  auto rec = ParseSyslog(datagram, now_ns, origin, syslog_);
  if (!rec.ok()) {
    // Counted; logged at debug only, since a hostile sender could otherwise flood the log.
    if (c_.syslog_malformed.fetch_add(1, std::memory_order_relaxed) == 0) {
      NETMON_LOG(kWarn, "syslog", "malformed datagram from ", origin, ": ", rec.status().message(),
                 " (further ones are counted, logged at debug)");
    } else {
      NETMON_LOG(kDebug, "syslog", "malformed datagram from ", origin, ": ", rec.status().message());
    }
    return false;
  }
  window_->Add(std::move(*rec));
  c_.records.fetch_add(1, std::memory_order_relaxed);
  return true;
}

bool LogIngest::IngestGelf(std::string_view json, std::string_view origin, int64_t now_ns) {
  c_.gelf_documents.fetch_add(1, std::memory_order_relaxed);
  auto res = ParseGelf(json, now_ns, origin, json_);
  if (!res.ok()) {
    c_.gelf_malformed.fetch_add(1, std::memory_order_relaxed);
    NETMON_LOG(kDebug, "logs", "malformed GELF on ", origin, ": ", res.status().message());
    return false;
  }
  c_.records_skipped.fetch_add(res->skipped, std::memory_order_relaxed);
  c_.records.fetch_add(res->records.size(), std::memory_order_relaxed);
  for (auto& r : res->records) window_->Add(std::move(r));
  return true;
}

bool LogIngest::IngestOtel(std::string_view json, std::string_view origin, int64_t now_ns) {
  c_.otel_documents.fetch_add(1, std::memory_order_relaxed);
  auto res = ParseOtelLogs(json, now_ns, origin, json_);
  if (!res.ok()) {
    c_.otel_malformed.fetch_add(1, std::memory_order_relaxed);
    NETMON_LOG(kDebug, "logs", "malformed OTel logs on ", origin, ": ", res.status().message());
    return false;
  }
  c_.records_skipped.fetch_add(res->skipped, std::memory_order_relaxed);
  c_.records.fetch_add(res->records.size(), std::memory_order_relaxed);
  for (auto& r : res->records) window_->Add(std::move(r));
  return true;
}

LogIngestCounters LogIngest::counters() const {
  auto r = [](const std::atomic<uint64_t>& a) { return a.load(std::memory_order_relaxed); };
  LogIngestCounters c;
  c.syslog_datagrams = r(c_.syslog_datagrams);
  c.syslog_malformed = r(c_.syslog_malformed);
  c.gelf_documents = r(c_.gelf_documents);
  c.gelf_malformed = r(c_.gelf_malformed);
  c.otel_documents = r(c_.otel_documents);
  c.otel_malformed = r(c_.otel_malformed);
  c.records_skipped = r(c_.records_skipped);
  c.records = r(c_.records);
  return c;
}

}  // namespace netmon::correlate
