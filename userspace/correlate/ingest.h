// SPDX-License-Identifier: Apache-2.0
// Where outside data enters the stores: NetFlow/IPFIX datagrams into the flow store, syslog datagrams and GELF/OTel
// documents into the log window. Each entry point is safe to call from its own thread (the UDP listeners, the NATS
// callback threads), never throws, and counts what it refused.
#pragma once

#include <atomic>
#include <cstdint>
#include <mutex>
#include <string_view>
#include <vector>

#include "correlate/flow_record.h"
#include "correlate/log_json.h"
#include "correlate/log_window.h"
#include "correlate/netflow_parser.h"
#include "correlate/syslog_parser.h"
#include "correlate/tuple_store.h"

namespace netmon::correlate {

class NetflowCollector {
 public:
  NetflowCollector(NetflowParserOptions options, FlowStore* store);

  // Parses one datagram from `exporter` and stores its records; returns how many it yielded.
  size_t Ingest(const IpAddr& exporter, const uint8_t* data, size_t len, int64_t now_ns);
  void SetSamplingOverride(const IpAddr& exporter, uint32_t interval);
  void Expire(int64_t now_ns);
  NetflowCounters counters() const;
  size_t template_count() const;

 private:
  mutable std::mutex mu_;
  NetflowParser parser_;
  FlowStore* store_;
  std::vector<FlowRecord> scratch_;
};

struct LogIngestCounters {
  uint64_t syslog_datagrams = 0;
  uint64_t syslog_malformed = 0;
  uint64_t gelf_documents = 0;
  uint64_t gelf_malformed = 0;  // documents that did not parse
  uint64_t otel_documents = 0;
  uint64_t otel_malformed = 0;
  uint64_t records_skipped = 0;  // malformed records inside otherwise valid documents
  uint64_t records = 0;          // added to the window
};

class LogIngest {
 public:
  LogIngest(SyslogOptions syslog, LogJsonOptions json, LogWindow* window);

  bool IngestSyslog(std::string_view datagram, std::string_view origin, int64_t now_ns);
  bool IngestGelf(std::string_view json, std::string_view origin, int64_t now_ns);
  bool IngestOtel(std::string_view json, std::string_view origin, int64_t now_ns);
  LogIngestCounters counters() const;

 private:
  SyslogOptions syslog_;
  LogJsonOptions json_;
  LogWindow* window_;
  struct {
    std::atomic<uint64_t> syslog_datagrams{0}, syslog_malformed{0}, gelf_documents{0}, gelf_malformed{0},
        otel_documents{0}, otel_malformed{0}, records_skipped{0}, records{0};
  } c_;
};

}  // namespace netmon::correlate
