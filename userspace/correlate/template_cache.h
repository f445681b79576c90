// SPDX-License-Identifier: Apache-2.0
// NetFlow v9 / IPFIX templates, keyed the way RFC 3954 §5 and RFC 7011 §8 scope them: per exporter address, per
// source ID / observation domain, per template ID (and per version, since one address may speak both). Templates
// expire (an exporter that restarts may reuse an ID with a new layout) and the cache is bounded: when full, the
// least recently refreshed template goes.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <vector>

#include "correlate/ip.h"

namespace netmon::correlate {

inline constexpr uint16_t kVariableLength = 65535;  // IPFIX variable-length field marker

struct TemplateField {
  uint16_t id = 0;
  uint16_t length = 0;      // kVariableLength for IPFIX variable-length fields
  uint32_t enterprise = 0;  // IPFIX enterprise number, 0 for IANA elements
};

struct Template {
  std::vector<TemplateField> fields;
  uint16_t scope_count = 0;  // options templates: the first scope_count fields are scope fields
  bool options = false;
  // The shortest a record can be (variable-length fields count one byte): > 0 for every accepted template, which
  // is what bounds the record loop of a data set.
  size_t min_record_length = 0;
  bool variable = false;  // has variable-length fields
  int64_t updated_ns = 0;
};

struct TemplateKey {
  IpAddr exporter;
  uint32_t domain = 0;
  uint16_t template_id = 0;
  uint16_t version = 0;
  bool operator==(const TemplateKey&) const = default;
};

struct TemplateKeyHash {
  size_t operator()(const TemplateKey& k) const {
    return IpHash()(k.exporter) ^
           ((uint64_t{k.domain} << 32 | uint64_t{k.template_id} << 16 | k.version) * 0x9e3779b97f4a7c15ULL);
  }
};

class TemplateCache {
 public:
  TemplateCache(size_t max_templates, int64_t timeout_ns) : max_(max_templates), timeout_ns_(timeout_ns) {}

  // The template, or null if unknown or expired (an expired one is dropped and counted).
  const Template* Find(const TemplateKey& key, int64_t now_ns);
  void Put(const TemplateKey& key, Template tmpl, int64_t now_ns);
  bool Withdraw(const TemplateKey& key);
  // Withdraws every template of (exporter, domain, version); returns how many.
  size_t WithdrawAll(const IpAddr& exporter, uint32_t domain, uint16_t version);
  // Drops every expired template; returns how many.
  size_t Expire(int64_t now_ns);

  size_t size() const { return map_.size(); }
  uint64_t expired() const { return expired_; }
  uint64_t evicted() const { return evicted_; }

 private:
  std::unordered_map<TemplateKey, Template, TemplateKeyHash> map_;
  size_t max_;
  int64_t timeout_ns_;
  uint64_t expired_ = 0;
  uint64_t evicted_ = 0;
};

}  // namespace netmon::correlate
