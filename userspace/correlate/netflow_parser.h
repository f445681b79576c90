// SPDX-License-Identifier: Apache-2.0
// NetFlow v5 (Cisco's fixed format), v9 (RFC 3954) and IPFIX (RFC 7011) datagram parser. Every datagram is
// hostile (docs/architecture.md §5): each length is checked against what is left before it is used, templates with
// zero-length fields or impossible sizes are refused, every loop advances by at least one byte and is bounded by
// the datagram, and anything refused is counted, never fatal. Data that arrives before its template is held in a
// bounded pending queue and decoded when the template comes (or dropped, counted, when it does not in time).
#pragma once

#include <cstdint>
#include <deque>
#include <unordered_map>
#include <vector>

#include "correlate/flow_record.h"
#include "correlate/template_cache.h"

namespace netmon::correlate {

struct NetflowParserOptions {
  size_t max_templates = 4096;
  int64_t template_timeout_ns = 1800LL * 1'000'000'000;  // RFC 7011 §8.4 suggests template refresh well inside this
  size_t max_fields_per_template = 512;
  size_t max_pending_sets = 256;  // data sets held while their template is unknown
  size_t max_pending_bytes = 4u << 20;
  int64_t pending_timeout_ns = 60LL * 1'000'000'000;
  size_t max_exporters = 4096;  // sampling state per (exporter, domain)
};

struct NetflowCounters {
  uint64_t datagrams = 0;
  uint64_t datagrams_v5 = 0;
  uint64_t datagrams_v9 = 0;
  uint64_t datagrams_ipfix = 0;
  uint64_t records = 0;                    // flow records produced
  uint64_t records_without_addresses = 0;  // data records with no IP pair (L2 flows, options-like data)
  uint64_t options_records = 0;
  uint64_t templates = 0;  // data + options templates accepted
  uint64_t template_withdrawals = 0;
  uint64_t malformed_datagrams = 0;  // header or message length wrong
  uint64_t malformed_sets = 0;       // a set/flowset (or a record in it) that does not fit
  uint64_t malformed_templates = 0;  // zero-length fields, impossible sizes, bad scope counts
  uint64_t unsupported_versions = 0;
  uint64_t unknown_sets = 0;           // reserved set IDs
  uint64_t sets_without_template = 0;  // data sets that had to wait (or be dropped) for their template
  uint64_t pending_decoded = 0;        // ... of which decoded once the template came
  uint64_t pending_dropped = 0;        // ... of which dropped (bound or timeout)
  uint64_t templates_expired = 0;
  uint64_t templates_evicted = 0;
};

class NetflowParser {
 public:
  explicit NetflowParser(NetflowParserOptions options = {});

  // Parses one datagram from `exporter`, appending the flow records it yields (and any pending data its templates
  // unlock) to *out. `now_ns` is the wall clock at reception.
  void Parse(const IpAddr& exporter, const uint8_t* data, size_t len, int64_t now_ns, std::vector<FlowRecord>* out);
  // Drops expired templates and pending data. Called periodically; Parse also expires lazily.
  void Expire(int64_t now_ns);

  // Operator-set sampling rate for an exporter, which wins over what the exporter reports.
  void SetSamplingOverride(const IpAddr& exporter, uint32_t interval);

  const NetflowCounters& counters() const;
  size_t template_count() const { return templates_.size(); }
  size_t pending_count() const { return pending_.size(); }

 private:
  struct Context {
    IpAddr exporter;
    uint32_t domain = 0;
    uint16_t version = 0;
    uint32_t sys_uptime_ms = 0;  // v9 only
    int64_t export_ns = 0;
    int64_t received_ns = 0;
  };
  struct Pending {
    TemplateKey key;
    Context ctx;
    std::vector<uint8_t> body;  // the set's records, without its 4-byte header
  };
  struct DomainKey {
    IpAddr exporter;
    uint32_t domain = 0;
    bool operator==(const DomainKey&) const = default;
  };
  struct DomainKeyHash {
    size_t operator()(const DomainKey& k) const { return IpHash()(k.exporter) ^ (k.domain * 0x9e3779b97f4a7c15ULL); }
  };
  struct Sampling {
    uint32_t interval = 0;  // 0 = not reported
    int64_t system_init_ms = 0;
    std::unordered_map<uint64_t, uint32_t> by_selector;  // sampler / selector id -> interval
  };

  void ParseV5(const IpAddr& exporter, const uint8_t* data, size_t len, int64_t now_ns, std::vector<FlowRecord>* out);
  void ParseV9OrIpfix(const IpAddr& exporter, const uint8_t* data, size_t len, uint16_t version, int64_t now_ns,
                      std::vector<FlowRecord>* out);
  void ParseTemplateSet(const Context& ctx, uint16_t set_id, const uint8_t* p, size_t len,
                        std::vector<FlowRecord>* out);
  void ParseDataSet(const Context& ctx, const Template& tmpl, const uint8_t* p, size_t len,
                    std::vector<FlowRecord>* out);
  // Decodes one record at p (at most len bytes); returns bytes consumed, or 0 if it does not fit.
  size_t DecodeRecord(const Context& ctx, const Template& tmpl, const uint8_t* p, size_t len,
                      std::vector<FlowRecord>* out);
  void AddTemplate(const Context& ctx, uint16_t template_id, Template tmpl, std::vector<FlowRecord>* out);
  void HoldPending(const Context& ctx, uint16_t template_id, const uint8_t* p, size_t len);
  Sampling* SamplingFor(const IpAddr& exporter, uint32_t domain, bool create);

  NetflowParserOptions options_;
  TemplateCache templates_;
  std::deque<Pending> pending_;
  size_t pending_bytes_ = 0;
  int64_t last_expire_ns_ = 0;
  std::unordered_map<DomainKey, Sampling, DomainKeyHash> sampling_;
  std::unordered_map<IpAddr, uint32_t, IpHash> overrides_;
  mutable NetflowCounters counters_;
};

}  // namespace netmon::correlate
