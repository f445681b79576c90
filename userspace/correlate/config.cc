// SPDX-License-Identifier: Apache-2.0
#include "correlate/config.h"

#include <fstream>
#include <limits>
#include <set>

#include "common/log.h"
#include "common/str_cat.h"
#include "correlate/json_in.h"

namespace netmon::correlate {
namespace {

constexpr int64_t kNsPerMs = 1'000'000;
constexpr int64_t kNsPerSec = 1'000'000'000;
constexpr int64_t kMaxSeconds = 10LL * 365 * 86400;
constexpr int64_t kMaxCount = 1LL << 32;

// Reads one config object: each getter records the key as known and the first error; Finish() refuses keys that
// no getter asked for.
class ObjectReader {
 public:
  ObjectReader(const Json* obj, std::string path) : obj_(obj), path_(std::move(path)) {
    if (obj_ != nullptr && !obj_->is_object()) Fail("", "must be an object");
  }

  const Json* Find(const char* key) {
    known_.insert(key);
    if (obj_ == nullptr || !obj_->is_object()) return nullptr;
    auto it = obj_->find(key);
    return it == obj_->end() || it->is_null() ? nullptr : &*it;
  }

  void Int(const char* key, int64_t min, int64_t max, int64_t* out) {
    const Json* v = Find(key);
    if (v == nullptr) return;
    int64_t x = 0;
    if (!v->is_number_integer() || !GetInt64(*v, &x) || x < min || x > max) {
      return Fail(key, StrCat("must be an integer in ", min, "..", max));
    }
    *out = x;
  }
  void Size(const char* key, int64_t min, int64_t max, size_t* out) {
    int64_t x = static_cast<int64_t>(*out);
    Int(key, min, max, &x);
    *out = static_cast<size_t>(x);
  }
  // Durations: the key names the unit; stored as nanoseconds.
  void Seconds(const char* key, int64_t min, int64_t* out_ns) {
    int64_t x = *out_ns / kNsPerSec;
    Int(key, min, kMaxSeconds, &x);
    *out_ns = x * kNsPerSec;
  }
  void Millis(const char* key, int64_t min, int64_t* out_ns) {
    int64_t x = *out_ns / kNsPerMs;
    Int(key, min, kMaxSeconds * 1000, &x);
    *out_ns = x * kNsPerMs;
  }
  void Double(const char* key, double min, double max, double* out) {
    const Json* v = Find(key);
    if (v == nullptr) return;
    double x = 0;
    if (!GetDouble(*v, &x) || !(x >= min && x <= max)) return Fail(key, StrCat("must be a number in ", min, "..", max));
    *out = x;
  }
  void Bool(const char* key, bool* out) {
    const Json* v = Find(key);
    if (v == nullptr) return;
    if (!GetBool(*v, out)) Fail(key, "must be true or false");
  }
  void String(const char* key, std::string* out) {
    const Json* v = Find(key);
    if (v == nullptr) return;
    if (!GetString(*v, out)) Fail(key, "must be a string");
  }
  void StringList(const char* key, std::vector<std::string>* out, bool allow_single = false) {
    const Json* v = Find(key);
    if (v == nullptr) return;
    if (allow_single && v->is_string()) {
      *out = {v->get<std::string>()};
      return;
    }
    if (!v->is_array())
      return Fail(key, allow_single ? "must be a string or an array of strings" : "must be an array of strings");
    out->clear();
    for (const auto& e : *v) {
      if (!e.is_string()) return Fail(key, "must be an array of strings");
      out->push_back(e.get<std::string>());
    }
  }
  // A nested object reader (the key is known; null if absent).
  const Json* Object(const char* key) {
    const Json* v = Find(key);
    if (v != nullptr && !v->is_object()) {
      Fail(key, "must be an object");
      return nullptr;
    }
    return v;
  }

  void Fail(std::string_view key, std::string_view why) {
    if (!status_.ok()) return;
    std::string where = key.empty() ? path_ : path_.empty() ? std::string(key) : StrCat(path_, ".", key);
    status_ = absl::InvalidArgumentError(StrCat(where.empty() ? "config" : where, ": ", why));
  }
  void Absorb(const absl::Status& st) {
    if (status_.ok() && !st.ok()) status_ = st;
  }

  absl::Status Finish() {
    if (status_.ok() && obj_ != nullptr && obj_->is_object()) {
      for (const auto& [key, value] : obj_->items()) {
        if (!known_.contains(key)) {
          Fail(key, "unknown key");
          break;
        }
      }
    }
    return status_;
  }
  const std::string& path() const { return path_; }

 private:
  const Json* obj_;
  std::string path_;
  std::set<std::string, std::less<>> known_;
  absl::Status status_;
};

absl::Status ValidListen(const std::string& text, const char* where) {
  if (text.empty()) return absl::OkStatus();
  if (!ParseEndpoint(text)) return absl::InvalidArgumentError(StrCat(where, ": must be IP:port or [IPv6]:port"));
  return absl::OkStatus();
}

// NATS subjects: dot-separated non-empty tokens without spaces; wildcards only where allowed.
bool ValidSubject(std::string_view s, bool wildcards) {
  if (s.empty() || s.size() > 255) return false;
  size_t start = 0;
  while (true) {
    size_t dot = s.find('.', start);
    std::string_view tok = s.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (tok.empty()) return false;
    for (char c : tok) {
      if (static_cast<unsigned char>(c) <= 0x20 || c == 0x7f) return false;
    }
    if ((tok.find('*') != std::string_view::npos || tok.find('>') != std::string_view::npos) &&
        (!wildcards || (tok != "*" && tok != ">") || (tok == ">" && dot != std::string_view::npos))) {
      return false;
    }
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

void ReadNats(ObjectReader& root, Config* cfg) {
  const Json* obj = root.Object("nats");
  ObjectReader r(obj, "nats");
  NatsConfig& n = cfg->nats;
  r.StringList("url", &n.urls, /*allow_single=*/true);
  r.String("name", &n.name);
  r.String("user", &n.user);
  r.String("password", &n.password);
  r.String("token", &n.token);
  r.String("creds_file", &n.creds_file);
  if (const Json* tls = r.Object("tls")) {
    ObjectReader t(tls, "nats.tls");
    t.String("ca_file", &n.tls.ca_file);
    t.String("cert_file", &n.tls.cert_file);
    t.String("key_file", &n.tls.key_file);
    if (n.tls.cert_file.empty() != n.tls.key_file.empty()) t.Fail("", "cert_file and key_file go together");
    r.Absorb(t.Finish());
  }
  r.Int("connect_timeout_ms", 1, 600000, &n.connect_timeout_ms);
  r.Int("reconnect_wait_ms", 1, 600000, &n.reconnect_wait_ms);
  r.String("stream", &n.stream);
  r.Bool("ensure_stream", &n.ensure_stream);
  r.StringList("stream_subjects", &n.stream_subjects);
  r.Int("duplicate_window_ms", 0, kMaxSeconds * 1000, &n.duplicate_window_ms);
  r.String("input_subject", &n.input_subject);
  r.String("durable", &n.durable);
  r.String("output_subject", &n.output_subject);
  r.Int("fetch_batch", 1, 100000, &n.fetch_batch);
  r.Int("fetch_timeout_ms", 1, 600000, &n.fetch_timeout_ms);
  r.Int("ack_wait_ms", 1000, kMaxSeconds * 1000, &n.ack_wait_ms);
  r.Int("max_ack_pending", 1, 10000000, &n.max_ack_pending);
  r.Int("publish_timeout_ms", 1, 600000, &n.publish_timeout_ms);
  r.String("reverse_subject", &n.reverse_subject);
  for (const auto& u : n.urls) {
    if (u.empty()) r.Fail("url", "must not be empty");
  }
  if (n.stream.empty() || n.stream.find_first_of(".*> \t") != std::string::npos) {
    r.Fail("stream", "must be a stream name (no '.', '*', '>' or spaces)");
  }
  if (n.durable.empty() || n.durable.find_first_of(".*> \t") != std::string::npos) {
    r.Fail("durable", "must be a consumer name (no '.', '*', '>' or spaces)");
  }
  if (!ValidSubject(n.input_subject, true)) r.Fail("input_subject", "must be a NATS subject");
  std::string out = n.output_subject;
  if (auto p = out.find("{agent_id}"); p != std::string::npos) {
    // Not out.replace(): GCC 12 at -O3 reports a false -Wrestrict inside libstdc++'s replace (GCC bug 105329).
    out = StrCat(std::string_view(out).substr(0, p), "x", std::string_view(out).substr(p + 10));
  }
  if (!ValidSubject(out, false)) r.Fail("output_subject", "must be a NATS subject without wildcards");
  if (!n.reverse_subject.empty() && !ValidSubject(n.reverse_subject, false)) {
    r.Fail("reverse_subject", "must be a NATS subject without wildcards");
  }
  for (const auto& s : n.stream_subjects) {
    if (!ValidSubject(s, true)) r.Fail("stream_subjects", "must hold NATS subjects");
  }
  root.Absorb(r.Finish());
}

void ReadNetflow(ObjectReader& root, Config* cfg) {
  ObjectReader r(root.Object("netflow"), "netflow");
  r.String("listen", &cfg->netflow_listen);
  r.Absorb(ValidListen(cfg->netflow_listen, "netflow.listen"));
  r.Int("receive_buffer_bytes", 0, 1 << 30, &cfg->netflow_receive_buffer_bytes);
  NetflowParserOptions& p = cfg->netflow_parser;
  r.Seconds("template_timeout_s", 1, &p.template_timeout_ns);
  r.Size("max_templates", 1, kMaxCount, &p.max_templates);
  r.Size("max_fields_per_template", 1, 65535, &p.max_fields_per_template);
  r.Size("max_pending_sets", 0, kMaxCount, &p.max_pending_sets);
  r.Size("max_pending_bytes", 0, 1LL << 34, &p.max_pending_bytes);
  r.Seconds("pending_timeout_s", 1, &p.pending_timeout_ns);
  r.Size("max_records", 1, kMaxCount, &cfg->netflow_store.max_entries);
  r.Seconds("retention_s", 1, &cfg->netflow_store.retention_ns);
  MatchOptions& m = cfg->correlator.netflow;
  r.Millis("time_slack_ms", 0, &m.slack_ns);
  r.Double("small_ratio", 0, 1e9, &m.small_ratio);
  r.Double("large_ratio", 0, 1e9, &m.large_ratio);
  r.Size("max_matches", 1, 100000, &m.max_records);
  r.Size("max_reverse_events", 1, 100000, &m.max_events);
  if (m.small_ratio > m.large_ratio) r.Fail("small_ratio", "must not exceed large_ratio");
  if (const Json* ov = r.Object("sampling_overrides")) {
    for (const auto& [key, value] : ov->items()) {
      auto ip = ParseIp(key);
      uint64_t rate = 0;
      if (!ip) {
        r.Fail("sampling_overrides", StrCat("\"", key, "\" is not an IP address"));
        break;
      }
      if (!value.is_number_integer() || !GetUint64(value, &rate) || rate < 1 || rate > 0xffffffffULL) {
        r.Fail("sampling_overrides", StrCat("\"", key, "\": the rate must be an integer in 1..4294967295"));
        break;
      }
      cfg->sampling_overrides.emplace_back(*ip, static_cast<uint32_t>(rate));
    }
  }
  root.Absorb(r.Finish());
}

void ReadSyslog(ObjectReader& root, Config* cfg) {
  ObjectReader r(root.Object("syslog"), "syslog");
  r.String("listen", &cfg->syslog_listen);
  r.Absorb(ValidListen(cfg->syslog_listen, "syslog.listen"));
  r.Int("receive_buffer_bytes", 0, 1 << 30, &cfg->syslog_receive_buffer_bytes);
  r.Size("max_message_bytes", 64, 1 << 20, &cfg->syslog.max_message_bytes);
  r.Size("max_attributes", 0, 4096, &cfg->syslog.max_attributes);
  root.Absorb(r.Finish());
}

void ReadLogs(ObjectReader& root, Config* cfg) {
  ObjectReader r(root.Object("logs"), "logs");
  LinkOptions& l = cfg->correlator.logs;
  r.Millis("window_ms", 0, &l.window_ns);
  r.Size("max_links", 0, 1000, &l.max_links);
  std::vector<std::string> match_on;
  r.StringList("match_on", &match_on);
  if (r.Find("match_on") != nullptr) {
    l.match_mask = 0;
    for (const auto& name : match_on) {
      uint32_t bits = MatchMaskFromName(name);
      if (bits == 0) {
        r.Fail("match_on", StrCat("\"", name, "\" is not one of address, endpoint, port, pid, process_name"));
        break;
      }
      l.match_mask |= bits;
    }
  }
  r.Size("max_records", 1, kMaxCount, &cfg->log_window.max_records);
  r.Seconds("retention_s", 1, &cfg->log_window.retention_ns);
  r.Size("max_output_message_bytes", 0, 1 << 20, &cfg->correlator.max_log_message_bytes);
  r.Size("max_document_bytes", 1024, 1LL << 30, &cfg->log_json.max_bytes);
  r.Size("max_records_per_document", 1, kMaxCount, &cfg->log_json.max_records);
  r.String("gelf_subject", &cfg->gelf_subject);
  r.String("otel_subject", &cfg->otel_subject);
  if (!cfg->gelf_subject.empty() && !ValidSubject(cfg->gelf_subject, true))
    r.Fail("gelf_subject", "must be a NATS subject");
  if (!cfg->otel_subject.empty() && !ValidSubject(cfg->otel_subject, true))
    r.Fail("otel_subject", "must be a NATS subject");
  cfg->log_json.max_message_bytes = cfg->syslog.max_message_bytes;
  root.Absorb(r.Finish());
}

void ReadInventory(ObjectReader& root, Config* cfg) {
  ObjectReader r(root.Object("inventory"), "inventory");
  r.String("file", &cfg->inventory_file);
  r.Int("reload_interval_s", 0, kMaxSeconds, &cfg->inventory_reload_interval_s);
  r.String("nats_subject", &cfg->inventory_subject);
  r.Size("max_bytes", 1024, 1LL << 32, &cfg->inventory_limits.max_bytes);
  r.Size("max_items", 1, kMaxCount, &cfg->inventory_limits.max_items);
  if (!cfg->inventory_subject.empty() && !ValidSubject(cfg->inventory_subject, true)) {
    r.Fail("nats_subject", "must be a NATS subject");
  }
  root.Absorb(r.Finish());
}

void ReadEvents(ObjectReader& root, Config* cfg) {
  ObjectReader r(root.Object("events"), "events");
  r.Size("max_records", 0, kMaxCount, &cfg->event_index.max_entries);
  r.Seconds("retention_s", 1, &cfg->event_index.retention_ns);
  r.Size("max_line_bytes", 256, 1LL << 30, &cfg->max_line_bytes);
  r.Int("hold_ms", 0, 3600 * 1000, &cfg->hold_ms);
  r.Size("max_held", 1, kMaxCount, &cfg->max_held);
  root.Absorb(r.Finish());
}

}  // namespace

absl::StatusOr<Config> ParseConfig(std::string_view json) {
  auto doc = ParseJson(json, 16u << 20, 16);
  if (!doc.ok()) return absl::InvalidArgumentError(StrCat("config: ", doc.status().message()));
  if (!doc->is_object()) return absl::InvalidArgumentError("config: must be a JSON object");
  Config cfg;
  ObjectReader root(&*doc, "");
  root.String("log_level", &cfg.log_level);
  if (!cfg.log_level.empty()) {
    log::Level level;
    if (!log::ParseLevel(cfg.log_level, &level)) root.Fail("log_level", "must be debug, info, warn or error");
  }
  root.Int("stats_interval_s", 0, kMaxSeconds, &cfg.stats_interval_s);
  ReadNats(root, &cfg);
  ReadInventory(root, &cfg);
  ReadNetflow(root, &cfg);
  ReadSyslog(root, &cfg);
  ReadLogs(root, &cfg);
  ReadEvents(root, &cfg);
  absl::Status st = root.Finish();
  if (!st.ok()) return st;
  // A held input is unacknowledged while it waits: JetStream must not redeliver it meanwhile.
  if (cfg.nats.enabled() &&
      cfg.nats.ack_wait_ms <= cfg.hold_ms + cfg.nats.publish_timeout_ms + cfg.nats.fetch_timeout_ms) {
    return absl::InvalidArgumentError(
        "nats.ack_wait_ms: must exceed events.hold_ms + nats.publish_timeout_ms + nats.fetch_timeout_ms");
  }
  return cfg;
}

absl::StatusOr<Config> LoadConfig(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(StrCat("config file ", path, ": cannot open"));
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  auto cfg = ParseConfig(text);
  if (!cfg.ok()) return absl::Status(cfg.status().code(), StrCat(path, ": ", cfg.status().message()));
  return cfg;
}

}  // namespace netmon::correlate
