// SPDX-License-Identifier: Apache-2.0
#include "correlate/netflow_parser.h"

#include <algorithm>
#include <cstring>

namespace netmon::correlate {
namespace {

constexpr int64_t kNsPerMs = 1'000'000;
constexpr int64_t kNsPerSec = 1'000'000'000;
constexpr uint64_t kNtpToUnixSeconds = 2'208'988'800ULL;  // 1900-01-01 to 1970-01-01
constexpr uint32_t kReverseEnterprise = 29305;            // RFC 5103 reverse information elements

constexpr size_t kV5HeaderLen = 24;
constexpr size_t kV5RecordLen = 48;
constexpr size_t kV5MaxRecords = 30;  // what Cisco's format allows in one datagram
constexpr size_t kV9HeaderLen = 20;
constexpr size_t kIpfixHeaderLen = 16;

// Information elements (IANA IPFIX registry; v9 uses the same numbers for these).
enum Ie : uint16_t {
  kOctetDelta = 1,
  kPacketDelta = 2,
  kProtocol = 4,
  kTcpFlags = 6,
  kSrcPort = 7,
  kSrcV4 = 8,
  kInputIf = 10,
  kDstPort = 11,
  kDstV4 = 12,
  kOutputIf = 14,
  kLastSwitched = 21,
  kFirstSwitched = 22,
  kSrcV6 = 27,
  kDstV6 = 28,
  kSamplingInterval = 34,
  kSamplerId = 48,
  kSamplerRandomInterval = 50,
  kDirection = 61,
  kOctetTotal = 85,
  kPacketTotal = 86,
  kStartSeconds = 150,
  kEndSeconds = 151,
  kStartMillis = 152,
  kEndMillis = 153,
  kStartMicros = 154,
  kEndMicros = 155,
  kStartNanos = 156,
  kEndNanos = 157,
  kStartDeltaMicros = 158,
  kEndDeltaMicros = 159,
  kSystemInitMillis = 160,
  kSelectorId = 302,
  kSamplingPacketInterval = 305,
  kSamplingPacketSpace = 306,
  kSamplingSize = 309,
  kSamplingPopulation = 310,
};

uint16_t Be16(const uint8_t* p) {
  return static_cast<uint16_t>(p[0] << 8 | p[1]);
}
uint32_t Be32(const uint8_t* p) {
  return static_cast<uint32_t>(p[0]) << 24 | static_cast<uint32_t>(p[1]) << 16 | static_cast<uint32_t>(p[2]) << 8 |
         p[3];
}

// Reduced-size encoding (RFC 7011 §6.2): an unsigned integer element may be sent in fewer bytes than its type.
bool ReadUint(const uint8_t* p, size_t len, uint64_t* out) {
  if (len == 0 || len > 8) return false;
  uint64_t v = 0;
  for (size_t i = 0; i < len; ++i) v = v << 8 | p[i];
  *out = v;
  return true;
}

int64_t NtpToUnixNs(uint64_t ntp) {
  uint64_t sec = ntp >> 32;
  uint64_t frac = ntp & 0xffffffffULL;
  if (sec < kNtpToUnixSeconds) return 0;
  return static_cast<int64_t>(sec - kNtpToUnixSeconds) * kNsPerSec + static_cast<int64_t>((frac * kNsPerSec) >> 32);
}

// An exporter's uptime-relative timestamp (ms since its boot) as wall clock: the export header says what time it
// was at `uptime_ms`. The difference is taken modulo 2^32 and read as signed, so a counter that wrapped between the
// flow and the export still converts, and a switched time slightly after the export stays slightly after.
int64_t UptimeToWallNs(int64_t export_ns, uint32_t uptime_ms, uint32_t switched_ms) {
  int32_t ago_ms = static_cast<int32_t>(uptime_ms - switched_ms);
  return export_ns - int64_t{ago_ms} * kNsPerMs;
}

// Scoped sampling information from an options record (or a data record that carries it inline).
struct SamplingFields {
  uint32_t interval = 0;
  uint64_t packet_interval = 0, packet_space = 0, size = 0, population = 0;
  bool has_selector = false;
  uint64_t selector = 0;
  int64_t system_init_ms = 0;

  uint32_t Interval() const {
    if (interval > 0) return interval;
    // Systematic count-based sampling: `packet_interval` packets taken out of every interval + space.
    if (packet_interval > 0 && packet_interval + packet_space > 0) {
      uint64_t r = (packet_interval + packet_space) / packet_interval;
      return static_cast<uint32_t>(std::min<uint64_t>(r, 0xffffffffu));
    }
    // Random n-out-of-N sampling.
    if (size > 0 && population >= size) {
      return static_cast<uint32_t>(std::min<uint64_t>(population / size, 0xffffffffu));
    }
    return 0;
  }

  // True if the element was a sampling element.
  bool Apply(uint16_t id, const uint8_t* v, size_t len) {
    uint64_t x = 0;
    switch (id) {
      case kSamplingInterval:
      case kSamplerRandomInterval:
        if (ReadUint(v, len, &x) && x > 0) interval = static_cast<uint32_t>(std::min<uint64_t>(x, 0xffffffffu));
        return true;
      case kSamplingPacketInterval:
        if (ReadUint(v, len, &x)) packet_interval = x;
        return true;
      case kSamplingPacketSpace:
        if (ReadUint(v, len, &x)) packet_space = x;
        return true;
      case kSamplingSize:
        if (ReadUint(v, len, &x)) size = x;
        return true;
      case kSamplingPopulation:
        if (ReadUint(v, len, &x)) population = x;
        return true;
      case kSamplerId:
      case kSelectorId:
        if (ReadUint(v, len, &x)) {
          has_selector = true;
          selector = x;
        }
        return true;
      case kSystemInitMillis:
        if (ReadUint(v, len, &x) && x < (1ULL << 62) / kNsPerMs) system_init_ms = static_cast<int64_t>(x);
        return true;
      default: return false;
    }
  }
};

}  // namespace

NetflowParser::NetflowParser(NetflowParserOptions options)
    : options_(options), templates_(options.max_templates, options.template_timeout_ns) {}

const NetflowCounters& NetflowParser::counters() const {
  counters_.templates_expired = templates_.expired();
  counters_.templates_evicted = templates_.evicted();
  return counters_;
}

void NetflowParser::SetSamplingOverride(const IpAddr& exporter, uint32_t interval) {
  if (interval == 0) {
    overrides_.erase(exporter);
  } else {
    overrides_[exporter] = interval;
  }
}

void NetflowParser::Parse(const IpAddr& exporter, const uint8_t* data, size_t len, int64_t now_ns,
                          std::vector<FlowRecord>* out) {
  ++counters_.datagrams;
  if (len < 2) {
    ++counters_.malformed_datagrams;
    return;
  }
  uint16_t version = Be16(data);
  switch (version) {
    case 5: ParseV5(exporter, data, len, now_ns, out); break;
    case 9:
    case 10: ParseV9OrIpfix(exporter, data, len, version, now_ns, out); break;
    default: ++counters_.unsupported_versions; break;
  }
}

void NetflowParser::ParseV5(const IpAddr& exporter, const uint8_t* p, size_t len, int64_t now_ns,
                            std::vector<FlowRecord>* out) {
  ++counters_.datagrams_v5;
  if (len < kV5HeaderLen) {
    ++counters_.malformed_datagrams;
    return;
  }
  size_t count = Be16(p + 2);
  // The count is checked against the datagram before any record is read: a count that lies is the whole attack.
  if (count == 0 || count > kV5MaxRecords || kV5HeaderLen + count * kV5RecordLen > len) {
    ++counters_.malformed_datagrams;
    return;
  }
  uint32_t uptime = Be32(p + 4);
  uint32_t nsecs = std::min<uint32_t>(Be32(p + 12), kNsPerSec - 1);
  int64_t export_ns = int64_t{Be32(p + 8)} * kNsPerSec + nsecs;
  uint32_t domain = uint32_t{p[20]} << 8 | p[21];
  uint32_t sampling = Be16(p + 22) & 0x3fff;  // the top two bits are the sampling mode
  if (auto it = overrides_.find(exporter); it != overrides_.end()) sampling = it->second;
  for (size_t i = 0; i < count; ++i) {
    const uint8_t* r = p + kV5HeaderLen + i * kV5RecordLen;
    FlowRecord rec;
    rec.version = 5;
    rec.exporter = exporter;
    rec.observation_domain = domain;
    rec.received_ns = now_ns;
    rec.tuple.src = IpAddr::FromV4Bytes(r);
    rec.tuple.dst = IpAddr::FromV4Bytes(r + 4);
    rec.input_if = Be16(r + 12);
    rec.output_if = Be16(r + 14);
    rec.packets = Be32(r + 16);
    rec.bytes = Be32(r + 20);
    rec.start_ns = UptimeToWallNs(export_ns, uptime, Be32(r + 24));
    rec.end_ns = UptimeToWallNs(export_ns, uptime, Be32(r + 28));
    rec.tuple.src_port = Be16(r + 32);
    rec.tuple.dst_port = Be16(r + 34);
    rec.tcp_flags = r[37];
    rec.tuple.protocol = r[38];
    rec.sampling_interval = sampling == 0 ? 1 : sampling;
    if (rec.start_ns <= 0 || rec.end_ns <= 0) rec.start_ns = rec.end_ns = export_ns;
    if (rec.start_ns > rec.end_ns) rec.start_ns = rec.end_ns;
    out->push_back(rec);
    ++counters_.records;
  }
}

void NetflowParser::ParseV9OrIpfix(const IpAddr& exporter, const uint8_t* p, size_t len, uint16_t version,
                                   int64_t now_ns, std::vector<FlowRecord>* out) {
  Context ctx;
  ctx.exporter = exporter;
  ctx.version = version;
  ctx.received_ns = now_ns;
  size_t header_len;
  size_t end = len;
  if (version == 9) {
    ++counters_.datagrams_v9;
    header_len = kV9HeaderLen;
    if (len < header_len) {
      ++counters_.malformed_datagrams;
      return;
    }
    ctx.sys_uptime_ms = Be32(p + 4);
    ctx.export_ns = int64_t{Be32(p + 8)} * kNsPerSec;
    ctx.domain = Be32(p + 16);
  } else {
    ++counters_.datagrams_ipfix;
    header_len = kIpfixHeaderLen;
    if (len < header_len) {
      ++counters_.malformed_datagrams;
      return;
    }
    size_t msg_len = Be16(p + 2);
    // RFC 7011 §3.1: the message length covers header and sets. Longer than what arrived is a lie (or a
    // truncation); the message is refused rather than parsed past its end.
    if (msg_len < header_len || msg_len > len) {
      ++counters_.malformed_datagrams;
      return;
    }
    end = msg_len;
    ctx.export_ns = int64_t{Be32(p + 4)} * kNsPerSec;
    ctx.domain = Be32(p + 12);
  }
  if (ctx.export_ns == 0) ctx.export_ns = now_ns;

  // Lazy expiry: at most once per second of wall clock, so a busy collector pays it rarely.
  static constexpr int64_t kExpireEvery = kNsPerSec;
  if (last_expire_ns_ == 0 || now_ns - last_expire_ns_ >= kExpireEvery) {
    Expire(now_ns);
    last_expire_ns_ = now_ns;
  }

  size_t off = header_len;
  // Each iteration consumes at least the 4-byte set header, so the loop is bounded by the datagram.
  while (end - off >= 4) {
    uint16_t set_id = Be16(p + off);
    size_t set_len = Be16(p + off + 2);
    if (set_len < 4 || set_len > end - off) {
      ++counters_.malformed_sets;
      return;  // the rest cannot be framed
    }
    const uint8_t* body = p + off + 4;
    size_t body_len = set_len - 4;
    bool is_template = version == 9 ? (set_id == 0 || set_id == 1) : (set_id == 2 || set_id == 3);
    if (is_template) {
      ParseTemplateSet(ctx, set_id, body, body_len, out);
    } else if (set_id >= 256) {
      TemplateKey key{exporter, ctx.domain, set_id, version};
      if (const Template* t = templates_.Find(key, now_ns)) {
        ParseDataSet(ctx, *t, body, body_len, out);
      } else {
        ++counters_.sets_without_template;
        HoldPending(ctx, set_id, body, body_len);
      }
    } else {
      ++counters_.unknown_sets;
    }
    off += set_len;
  }
}

void NetflowParser::ParseTemplateSet(const Context& ctx, uint16_t set_id, const uint8_t* p, size_t len,
                                     std::vector<FlowRecord>* out) {
  const bool ipfix = ctx.version == 10;
  const bool options = ipfix ? set_id == 3 : set_id == 1;
  size_t off = 0;
  while (off < len) {
    size_t left = len - off;
    // What remains is padding when it is too short for a template header or is all zeros (RFC 3954 §5.3 / RFC 7011
    // §3.3.1 pad sets to a 4-byte boundary).
    if (left < 4) return;
    uint16_t tid = Be16(p + off);
    uint16_t count = Be16(p + off + 2);
    if (tid == 0 && count == 0) return;

    Template tmpl;
    tmpl.options = options;
    size_t field_count = 0;
    if (ipfix && count == 0) {
      // Withdrawal (RFC 7011 §8.1): template ID 2 or 3 withdraws every template of that kind, others just one.
      if (tid == 2 || tid == 3) {
        counters_.template_withdrawals += templates_.WithdrawAll(ctx.exporter, ctx.domain, ctx.version);
      } else if (templates_.Withdraw(TemplateKey{ctx.exporter, ctx.domain, tid, ctx.version})) {
        ++counters_.template_withdrawals;
      }
      off += 4;
      continue;
    }
    if (!ipfix && options) {
      // v9 options template: ID, scope length and option length in bytes (4 per field).
      if (left < 6) return;
      size_t scope_len = count;  // the second word is the scope length here
      size_t option_len = Be16(p + off + 4);
      if (scope_len % 4 != 0 || option_len % 4 != 0 || scope_len + option_len == 0 ||
          6 + scope_len + option_len > left) {
        ++counters_.malformed_templates;
        return;
      }
      tmpl.scope_count = static_cast<uint16_t>(scope_len / 4);
      field_count = (scope_len + option_len) / 4;
      off += 6;
    } else if (ipfix && options) {
      if (left < 6) {
        ++counters_.malformed_templates;
        return;
      }
      uint16_t scope_count = Be16(p + off + 4);
      if (scope_count == 0 || scope_count > count) {
        ++counters_.malformed_templates;
        return;  // the field list cannot be trusted to frame the rest either
      }
      tmpl.scope_count = scope_count;
      field_count = count;
      off += 6;
    } else {
      field_count = count;
      off += 4;
    }
    if (tid < 256) {
      ++counters_.malformed_templates;
      return;
    }
    bool valid = field_count <= options_.max_fields_per_template;
    size_t min_len = 0;
    tmpl.fields.reserve(std::min(field_count, options_.max_fields_per_template));
    for (size_t i = 0; i < field_count; ++i) {
      if (len - off < 4) {
        ++counters_.malformed_sets;
        return;
      }
      TemplateField f;
      uint16_t raw_id = Be16(p + off);
      f.length = Be16(p + off + 2);
      off += 4;
      if (ipfix && (raw_id & 0x8000)) {
        if (len - off < 4) {
          ++counters_.malformed_sets;
          return;
        }
        f.enterprise = Be32(p + off);
        off += 4;
      }
      f.id = ipfix ? static_cast<uint16_t>(raw_id & 0x7fff) : raw_id;
      if (f.length == 0) valid = false;  // a zero-length field makes a record that need not advance
      if (f.length == kVariableLength) {
        if (!ipfix) valid = false;  // v9 has no variable-length fields
        min_len += 1;
      } else {
        min_len += f.length;
      }
      if (valid) tmpl.fields.push_back(f);
    }
    tmpl.variable = std::any_of(tmpl.fields.begin(), tmpl.fields.end(),
                                [](const TemplateField& f) { return f.length == kVariableLength; });
    // A record must fit in a set, and a set in a 16-bit length.
    if (!valid || min_len == 0 || min_len > 65535 - 4 - kIpfixHeaderLen) {
      ++counters_.malformed_templates;
      continue;  // the next template is still framed correctly
    }
    tmpl.min_record_length = min_len;
    AddTemplate(ctx, tid, std::move(tmpl), out);
  }
}

void NetflowParser::AddTemplate(const Context& ctx, uint16_t template_id, Template tmpl, std::vector<FlowRecord>* out) {
  TemplateKey key{ctx.exporter, ctx.domain, template_id, ctx.version};
  templates_.Put(key, std::move(tmpl), ctx.received_ns);
  ++counters_.templates;
  if (pending_.empty()) return;
  const Template* t = templates_.Find(key, ctx.received_ns);
  if (t == nullptr) return;
  // Data that waited for this template is decoded now, in arrival order.
  for (auto it = pending_.begin(); it != pending_.end();) {
    if (it->key == key) {
      ParseDataSet(it->ctx, *t, it->body.data(), it->body.size(), out);
      ++counters_.pending_decoded;
      pending_bytes_ -= it->body.size();
      it = pending_.erase(it);
    } else {
      ++it;
    }
  }
}

void NetflowParser::HoldPending(const Context& ctx, uint16_t template_id, const uint8_t* p, size_t len) {
  if (options_.max_pending_sets == 0 || len > options_.max_pending_bytes) {
    ++counters_.pending_dropped;
    return;
  }
  while (!pending_.empty() &&
         (pending_.size() >= options_.max_pending_sets || pending_bytes_ + len > options_.max_pending_bytes)) {
    pending_bytes_ -= pending_.front().body.size();
    pending_.pop_front();
    ++counters_.pending_dropped;
  }
  Pending entry;
  entry.key = TemplateKey{ctx.exporter, ctx.domain, template_id, ctx.version};
  entry.ctx = ctx;
  entry.body.assign(p, p + len);
  pending_bytes_ += len;
  pending_.push_back(std::move(entry));
}

void NetflowParser::Expire(int64_t now_ns) {
  templates_.Expire(now_ns);
  while (!pending_.empty() && now_ns - pending_.front().ctx.received_ns > options_.pending_timeout_ns) {
    pending_bytes_ -= pending_.front().body.size();
    pending_.pop_front();
    ++counters_.pending_dropped;
  }
}

void NetflowParser::ParseDataSet(const Context& ctx, const Template& tmpl, const uint8_t* p, size_t len,
                                 std::vector<FlowRecord>* out) {
  size_t off = 0;
  // min_record_length >= 1 and DecodeRecord consumes at least that much, so this ends within `len` iterations.
  while (len - off >= tmpl.min_record_length) {
    size_t used = DecodeRecord(ctx, tmpl, p + off, len - off, out);
    if (used == 0) {
      ++counters_.malformed_sets;
      return;
    }
    off += used;
  }
}

NetflowParser::Sampling* NetflowParser::SamplingFor(const IpAddr& exporter, uint32_t domain, bool create) {
  DomainKey key{exporter, domain};
  auto it = sampling_.find(key);
  if (it != sampling_.end()) return &it->second;
  if (!create || sampling_.size() >= options_.max_exporters) return nullptr;
  return &sampling_[key];
}

size_t NetflowParser::DecodeRecord(const Context& ctx, const Template& tmpl, const uint8_t* p, size_t len,
                                   std::vector<FlowRecord>* out) {
  FlowRecord rec;
  SamplingFields sf;
  bool have_src = false, have_dst = false;
  bool have_bytes = false, have_packets = false;
  int64_t start_abs = 0, end_abs = 0;      // from absolute time elements
  int64_t start_delta = 0, end_delta = 0;  // from delta elements
  bool have_first_sw = false, have_last_sw = false;
  uint32_t first_sw = 0, last_sw = 0;
  size_t off = 0;
  size_t index = 0;
  for (const TemplateField& f : tmpl.fields) {
    // v9 scope fields hold scope types (1 System, 2 Interface, ...), not information elements; IPFIX scopes are
    // elements (a selectorId scope says which sampler the options describe).
    const bool v9_scope = tmpl.options && ctx.version == 9 && index++ < tmpl.scope_count;
    size_t flen = f.length;
    if (flen == kVariableLength) {
      // RFC 7011 §7: one length byte, or 255 followed by a two-byte length.
      if (len - off < 1) return 0;
      flen = p[off++];
      if (flen == 255) {
        if (len - off < 2) return 0;
        flen = Be16(p + off);
        off += 2;
      }
    }
    if (len - off < flen) return 0;
    const uint8_t* v = p + off;
    off += flen;
    if (tmpl.options) {
      if (f.enterprise == 0 && !v9_scope) sf.Apply(f.id, v, flen);
      continue;
    }
    uint64_t x = 0;
    if (f.enterprise == kReverseEnterprise) {
      if ((f.id == kOctetDelta || f.id == kOctetTotal) && ReadUint(v, flen, &x)) rec.reverse_bytes = x;
      if ((f.id == kPacketDelta || f.id == kPacketTotal) && ReadUint(v, flen, &x)) rec.reverse_packets = x;
      continue;
    }
    if (f.enterprise != 0) continue;
    switch (f.id) {
      case kOctetDelta:
        if (ReadUint(v, flen, &x)) rec.bytes = x, have_bytes = true;
        break;
      case kOctetTotal:
        if (!have_bytes && ReadUint(v, flen, &x)) rec.bytes = x;
        break;
      case kPacketDelta:
        if (ReadUint(v, flen, &x)) rec.packets = x, have_packets = true;
        break;
      case kPacketTotal:
        if (!have_packets && ReadUint(v, flen, &x)) rec.packets = x;
        break;
      case kProtocol:
        if (ReadUint(v, flen, &x) && x <= 255) rec.tuple.protocol = static_cast<uint8_t>(x);
        break;
      case kTcpFlags:
        if (ReadUint(v, flen, &x)) rec.tcp_flags = static_cast<uint8_t>(x & 0xff);
        break;
      case kSrcPort:
        if (ReadUint(v, flen, &x) && x <= 65535) rec.tuple.src_port = static_cast<uint16_t>(x);
        break;
      case kDstPort:
        if (ReadUint(v, flen, &x) && x <= 65535) rec.tuple.dst_port = static_cast<uint16_t>(x);
        break;
      case kSrcV4:
        if (flen == 4) rec.tuple.src = IpAddr::FromV4Bytes(v), have_src = true;
        break;
      case kDstV4:
        if (flen == 4) rec.tuple.dst = IpAddr::FromV4Bytes(v), have_dst = true;
        break;
      case kSrcV6:
        if (flen == 16) rec.tuple.src = IpAddr::FromV6Bytes(v), have_src = true;
        break;
      case kDstV6:
        if (flen == 16) rec.tuple.dst = IpAddr::FromV6Bytes(v), have_dst = true;
        break;
      case kInputIf:
        if (ReadUint(v, flen, &x)) rec.input_if = static_cast<uint32_t>(x);
        break;
      case kOutputIf:
        if (ReadUint(v, flen, &x)) rec.output_if = static_cast<uint32_t>(x);
        break;
      case kDirection:
        if (ReadUint(v, flen, &x) && x <= 1) rec.direction = static_cast<FlowDirection>(x);
        break;
      case kFirstSwitched:
        if (ReadUint(v, flen, &x)) first_sw = static_cast<uint32_t>(x), have_first_sw = true;
        break;
      case kLastSwitched:
        if (ReadUint(v, flen, &x)) last_sw = static_cast<uint32_t>(x), have_last_sw = true;
        break;
      case kStartSeconds:
        if (ReadUint(v, flen, &x) && x < (1ULL << 33)) start_abs = static_cast<int64_t>(x) * kNsPerSec;
        break;
      case kEndSeconds:
        if (ReadUint(v, flen, &x) && x < (1ULL << 33)) end_abs = static_cast<int64_t>(x) * kNsPerSec;
        break;
      case kStartMillis:
        if (ReadUint(v, flen, &x) && x < (1ULL << 43)) start_abs = static_cast<int64_t>(x) * kNsPerMs;
        break;
      case kEndMillis:
        if (ReadUint(v, flen, &x) && x < (1ULL << 43)) end_abs = static_cast<int64_t>(x) * kNsPerMs;
        break;
      case kStartMicros:
      case kStartNanos:
        if (flen == 8 && ReadUint(v, flen, &x)) start_abs = NtpToUnixNs(x);
        break;
      case kEndMicros:
      case kEndNanos:
        if (flen == 8 && ReadUint(v, flen, &x)) end_abs = NtpToUnixNs(x);
        break;
      case kStartDeltaMicros:
        if (ReadUint(v, flen, &x) && x <= 0xffffffffULL) start_delta = ctx.export_ns - static_cast<int64_t>(x) * 1000;
        break;
      case kEndDeltaMicros:
        if (ReadUint(v, flen, &x) && x <= 0xffffffffULL) end_delta = ctx.export_ns - static_cast<int64_t>(x) * 1000;
        break;
      default: sf.Apply(f.id, v, flen); break;
    }
  }

  if (tmpl.options) {
    ++counters_.options_records;
    uint32_t interval = sf.Interval();
    if (interval > 0 || sf.system_init_ms > 0) {
      if (Sampling* s = SamplingFor(ctx.exporter, ctx.domain, /*create=*/true)) {
        if (sf.system_init_ms > 0) s->system_init_ms = sf.system_init_ms;
        if (interval > 0) {
          if (sf.has_selector) {
            // Bounded like everything else: a flood of selector IDs cannot grow this without limit.
            if (s->by_selector.size() < 1024 || s->by_selector.contains(sf.selector)) {
              s->by_selector[sf.selector] = interval;
            }
          } else {
            s->interval = interval;
          }
        }
      }
    }
    return off;
  }

  if (!have_src || !have_dst) {
    ++counters_.records_without_addresses;
    return off;
  }
  rec.version = ctx.version;
  rec.exporter = ctx.exporter;
  rec.observation_domain = ctx.domain;
  rec.received_ns = ctx.received_ns;

  // Time: absolute elements, else deltas from the export time, else uptime-relative switched times.
  const Sampling* domain_state = SamplingFor(ctx.exporter, ctx.domain, /*create=*/false);
  int64_t init_ms = sf.system_init_ms > 0 ? sf.system_init_ms : (domain_state ? domain_state->system_init_ms : 0);
  auto switched = [&](uint32_t sw) -> int64_t {
    if (ctx.version == 9) return UptimeToWallNs(ctx.export_ns, ctx.sys_uptime_ms, sw);
    return init_ms > 0 ? (init_ms + int64_t{sw}) * kNsPerMs : 0;
  };
  rec.start_ns = start_abs ? start_abs : start_delta ? start_delta : have_first_sw ? switched(first_sw) : 0;
  rec.end_ns = end_abs ? end_abs : end_delta ? end_delta : have_last_sw ? switched(last_sw) : 0;
  if (rec.start_ns <= 0) rec.start_ns = rec.end_ns;
  if (rec.end_ns <= 0) rec.end_ns = rec.start_ns;
  if (rec.start_ns <= 0) rec.start_ns = rec.end_ns = ctx.export_ns;
  if (rec.start_ns > rec.end_ns) rec.start_ns = rec.end_ns;

  // Sampling: the operator's override, else what the record says, else its selector's, else the domain's.
  uint32_t interval = 0;
  if (auto it = overrides_.find(ctx.exporter); it != overrides_.end()) interval = it->second;
  if (interval == 0) interval = sf.Interval();
  if (interval == 0 && domain_state != nullptr) {
    if (sf.has_selector) {
      if (auto it = domain_state->by_selector.find(sf.selector); it != domain_state->by_selector.end()) {
        interval = it->second;
      }
    }
    if (interval == 0) interval = domain_state->interval;
  }
  rec.sampling_interval = interval == 0 ? 1 : interval;
  out->push_back(rec);
  ++counters_.records;
  return off;
}

}  // namespace netmon::correlate
