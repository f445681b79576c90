// SPDX-License-Identifier: Apache-2.0
#include "correlate/log_json.h"

#include <cmath>

#include "common/str_cat.h"
#include "correlate/json_in.h"
#include "correlate/syslog_parser.h"

namespace netmon::correlate {
namespace {

constexpr size_t kMaxAttrValueBytes = 1024;

void Truncate(std::string* s, size_t max) {
  if (s->size() > max) s->resize(max);
}

// A scalar JSON value as text (strings as they are, numbers and booleans as JSON); false for objects/arrays/null.
bool ScalarText(const Json& v, std::string* out) {
  if (v.is_string()) {
    *out = v.get<std::string>();
  } else if (v.is_number() || v.is_boolean()) {
    *out = v.dump();
  } else {
    return false;
  }
  Truncate(out, kMaxAttrValueBytes);
  return true;
}

const Json* Member(const Json& obj, std::initializer_list<const char*> names) {
  if (!obj.is_object()) return nullptr;
  for (const char* n : names) {
    auto it = obj.find(n);
    if (it != obj.end() && !it->is_null()) return &*it;
  }
  return nullptr;
}

// GELF's "level" is a syslog severity.
int SeverityFrom(const Json* level) {
  int64_t v = 0;
  if (level && GetInt64(*level, &v) && v >= 0 && v <= 7) return static_cast<int>(v);
  return -1;
}

// Seconds since the epoch with a fractional part (GELF), rejecting what cannot be a log time.
bool SecondsToNs(const Json& v, int64_t* out) {
  double secs = 0;
  if (!GetDouble(v, &secs) || !std::isfinite(secs) || secs <= 0 || secs > 9.0e9) return false;
  *out = static_cast<int64_t>(secs * 1e9);
  return true;
}

absl::Status GelfRecord(const Json& m, int64_t received_ns, std::string_view origin, const LogJsonOptions& opt,
                        LogRecord* rec) {
  if (!m.is_object()) return absl::InvalidArgumentError("GELF message is not an object");
  rec->format = LogFormat::kGelf;
  rec->received_ns = received_ns;
  rec->time_ns = received_ns;
  rec->origin = std::string(origin);
  const Json* short_msg = Member(m, {"short_message", "message"});
  if (short_msg == nullptr || !short_msg->is_string()) {
    return absl::InvalidArgumentError("GELF short_message missing or not a string");
  }
  rec->message = short_msg->get<std::string>();
  if (const Json* full = Member(m, {"full_message"});
      full && full->is_string() && !full->get_ref<const std::string&>().empty()) {
    rec->message += "\n";
    rec->message += full->get<std::string>();
  }
  Truncate(&rec->message, opt.max_message_bytes);
  if (const Json* host = Member(m, {"host"}); host && host->is_string()) {
    rec->host = host->get<std::string>();
    Truncate(&rec->host, 255);
  }
  if (const Json* ts = Member(m, {"timestamp"})) {
    int64_t ns = 0;
    if (SecondsToNs(*ts, &ns)) {
      rec->time_ns = ns;
    } else if (ts->is_string()) {
      if (auto t = ParseRfc3339(ts->get_ref<const std::string&>())) rec->time_ns = *t;
    }
  }
  rec->severity = SeverityFrom(Member(m, {"level"}));
  // Additional fields ("_name"). The syslog header fields travel as such when a syslog relay produced the GELF.
  for (const auto& [key, value] : m.items()) {
    if (key.empty() || key[0] != '_' || key == "_id") continue;
    std::string text;
    if (!ScalarText(value, &text)) continue;
    std::string_view k = key;
    if (rec->app.empty() && (k == "_appname" || k == "_app_name" || k == "_application_name" || k == "_program" ||
                             k == "_tag" || k == "_app")) {
      rec->app = text;
    } else if (rec->procid.empty() && (k == "_procid" || k == "_pid" || k == "_process_id")) {
      rec->procid = text;
    } else if (rec->msgid.empty() && k == "_msgid") {
      rec->msgid = text;
    }
    if (rec->attributes.size() < opt.max_attributes) rec->attributes.emplace_back(key.substr(1), std::move(text));
  }
  Truncate(&rec->app, 255);
  Truncate(&rec->procid, 128);
  return absl::OkStatus();
}

// OTLP AnyValue -> text: strings as they are, scalars as JSON, int64 strings as digits, structures as JSON.
std::string AnyValueText(const Json& v) {
  if (!v.is_object()) {
    std::string s;
    if (ScalarText(v, &s)) return s;
    return v.is_null() ? std::string() : v.dump();
  }
  for (const char* k : {"stringValue", "string_value"}) {
    if (auto it = v.find(k); it != v.end() && it->is_string()) return it->get<std::string>();
  }
  for (const char* k : {"intValue", "int_value", "doubleValue", "double_value", "boolValue", "bool_value"}) {
    if (auto it = v.find(k); it != v.end()) {
      std::string s;
      if (ScalarText(*it, &s)) return s;
    }
  }
  // kvlistValue / arrayValue / bytesValue: the JSON text is the most faithful rendering.
  std::string s = v.dump(-1, ' ', false, Json::error_handler_t::replace);
  Truncate(&s, kMaxAttrValueBytes);
  return s;
}

// [{"key": k, "value": AnyValue}, ...] (OTLP) or {"k": v, ...} (flattened forms).
void ReadAttributes(const Json* attrs, const LogJsonOptions& opt,
                    std::vector<std::pair<std::string, std::string>>* out) {
  if (attrs == nullptr) return;
  if (attrs->is_array()) {
    for (const auto& kv : *attrs) {
      if (out->size() >= opt.max_attributes) return;
      const Json* key = Member(kv, {"key"});
      if (key == nullptr || !key->is_string()) continue;
      const Json* value = Member(kv, {"value"});
      std::string text = value ? AnyValueText(*value) : std::string();
      Truncate(&text, kMaxAttrValueBytes);
      std::string k = key->get<std::string>();
      Truncate(&k, 256);
      out->emplace_back(std::move(k), std::move(text));
    }
  } else if (attrs->is_object()) {
    for (const auto& [key, value] : attrs->items()) {
      if (out->size() >= opt.max_attributes) return;
      std::string text;
      if (!ScalarText(value, &text)) text = AnyValueText(value);
      out->emplace_back(key.substr(0, 256), std::move(text));
    }
  } else if (attrs->is_string()) {
    // ServiceRadar's stored form keeps attributes as a JSON string.
    auto parsed = ParseJson(attrs->get_ref<const std::string&>(), 64 * 1024, 8);
    if (parsed.ok() && parsed->is_object()) ReadAttributes(&*parsed, opt, out);
  }
}

bool NanosFrom(const Json* v, int64_t* out) {
  if (v == nullptr) return false;
  int64_t ns = 0;
  if (GetInt64(*v, &ns) && ns > 0) {
    *out = ns;
    return true;
  }
  if (v->is_string()) {
    if (auto t = ParseRfc3339(v->get_ref<const std::string&>())) {
      *out = *t;
      return true;
    }
  }
  return false;
}

// OTel severity numbers 1-24 (TRACE..FATAL in fours) onto syslog severities.
int SeverityFromOtel(const Json* number, const Json* text) {
  int64_t n = 0;
  if (number && GetInt64(*number, &n) && n >= 1 && n <= 24) {
    // Groups of four: TRACE, DEBUG, INFO, WARN, ERROR, FATAL -> debug, debug, info, warning, err, crit.
    static constexpr int kMap[] = {7, 7, 6, 4, 3, 2};
    return kMap[(n - 1) / 4];
  }
  if (text && text->is_string()) {
    std::string_view t = text->get_ref<const std::string&>();
    if (t.starts_with("FATAL") || t.starts_with("fatal")) return 2;
    if (t.starts_with("ERR") || t.starts_with("err")) return 3;
    if (t.starts_with("WARN") || t.starts_with("warn")) return 4;
    if (t.starts_with("INFO") || t.starts_with("info")) return 6;
    if (t.starts_with("DEBUG") || t.starts_with("debug") || t.starts_with("TRACE") || t.starts_with("trace")) return 7;
  }
  return -1;
}

// Resource attributes name the process and host the records came from.
void ApplyResource(const std::vector<std::pair<std::string, std::string>>& res, LogRecord* rec) {
  for (const auto& [k, v] : res) {
    if (k == "service.name" && rec->app.empty()) rec->app = v;
    if ((k == "process.executable.name" || k == "process.command") && !v.empty()) {
      std::string_view name = v;
      if (auto slash = name.rfind('/'); slash != std::string_view::npos) name = name.substr(slash + 1);
      rec->app = std::string(name);  // the process is a better name than the service for matching comm
    }
    if (k == "process.pid" && rec->procid.empty()) rec->procid = v;
    if (k == "host.name" && rec->host.empty()) rec->host = v;
  }
}

absl::Status OtelRecord(const Json& lr, const std::vector<std::pair<std::string, std::string>>& resource,
                        int64_t received_ns, std::string_view origin, const LogJsonOptions& opt, LogRecord* rec) {
  if (!lr.is_object()) return absl::InvalidArgumentError("OTel log record is not an object");
  rec->format = LogFormat::kOtel;
  rec->received_ns = received_ns;
  rec->origin = std::string(origin);
  rec->time_ns = received_ns;
  int64_t ns = 0;
  if (NanosFrom(Member(lr, {"timeUnixNano", "time_unix_nano", "timestamp"}), &ns) ||
      NanosFrom(Member(lr, {"observedTimeUnixNano", "observed_time_unix_nano", "observed_timestamp"}), &ns)) {
    rec->time_ns = ns;
  }
  rec->severity = SeverityFromOtel(Member(lr, {"severityNumber", "severity_number"}),
                                   Member(lr, {"severityText", "severity_text"}));
  const Json* body = Member(lr, {"body", "message"});
  if (body == nullptr) return absl::InvalidArgumentError("OTel log record has no body");
  rec->message = AnyValueText(*body);
  Truncate(&rec->message, opt.max_message_bytes);
  ReadAttributes(Member(lr, {"attributes"}), opt, &rec->attributes);
  // Flattened records carry the resource beside the record.
  std::vector<std::pair<std::string, std::string>> flat_resource;
  ReadAttributes(Member(lr, {"resource_attributes", "resourceAttributes"}), opt, &flat_resource);
  if (const Json* svc = Member(lr, {"service_name", "serviceName"}); svc && svc->is_string()) {
    flat_resource.emplace_back("service.name", svc->get<std::string>());
  }
  ApplyResource(resource, rec);
  ApplyResource(flat_resource, rec);
  ApplyResource(rec->attributes, rec);
  Truncate(&rec->app, 255);
  Truncate(&rec->procid, 128);
  Truncate(&rec->host, 255);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<LogJsonResult> ParseGelf(std::string_view json, int64_t received_ns, std::string_view origin,
                                        const LogJsonOptions& options) {
  auto doc = ParseJson(json, options.max_bytes, 16);
  if (!doc.ok()) return doc.status();
  LogJsonResult result;
  auto one = [&](const Json& m) {
    LogRecord rec;
    if (GelfRecord(m, received_ns, origin, options, &rec).ok()) {
      result.records.push_back(std::move(rec));
    } else {
      ++result.skipped;
    }
  };
  if (doc->is_array()) {
    for (const auto& m : *doc) {
      if (result.records.size() + result.skipped >= options.max_records) {
        ++result.skipped;
        continue;
      }
      one(m);
    }
  } else if (doc->is_object()) {
    one(*doc);
  } else {
    return absl::InvalidArgumentError("GELF document must be an object or an array");
  }
  if (result.records.empty() && result.skipped > 0 && !doc->is_array()) {
    return absl::InvalidArgumentError("GELF message lacks a short_message string");
  }
  return result;
}

absl::StatusOr<LogJsonResult> ParseOtelLogs(std::string_view json, int64_t received_ns, std::string_view origin,
                                            const LogJsonOptions& options) {
  auto doc = ParseJson(json, options.max_bytes, 24);
  if (!doc.ok()) return doc.status();
  LogJsonResult result;
  auto budget_left = [&] { return result.records.size() + result.skipped < options.max_records; };
  auto one = [&](const Json& lr, const std::vector<std::pair<std::string, std::string>>& resource) {
    if (!budget_left()) {
      ++result.skipped;
      return;
    }
    LogRecord rec;
    if (OtelRecord(lr, resource, received_ns, origin, options, &rec).ok()) {
      result.records.push_back(std::move(rec));
    } else {
      ++result.skipped;
    }
  };
  if (!doc->is_object() && !doc->is_array()) {
    return absl::InvalidArgumentError("OTel logs document must be an object or an array");
  }
  const Json* resource_logs = Member(*doc, {"resourceLogs", "resource_logs"});
  if (resource_logs != nullptr) {
    if (!resource_logs->is_array()) return absl::InvalidArgumentError("resourceLogs must be an array");
    for (const auto& rl : *resource_logs) {
      std::vector<std::pair<std::string, std::string>> resource;
      if (const Json* res = Member(rl, {"resource"})) ReadAttributes(Member(*res, {"attributes"}), options, &resource);
      const Json* scope_logs = Member(rl, {"scopeLogs", "scope_logs", "instrumentationLibraryLogs"});
      if (scope_logs == nullptr || !scope_logs->is_array()) {
        ++result.skipped;
        continue;
      }
      for (const auto& sl : *scope_logs) {
        const Json* records = Member(sl, {"logRecords", "log_records"});
        if (records == nullptr || !records->is_array()) {
          ++result.skipped;
          continue;
        }
        for (const auto& lr : *records) one(lr, resource);
      }
    }
    return result;
  }
  // Flattened: one record, or an array of them.
  static const std::vector<std::pair<std::string, std::string>> kNoResource;
  if (doc->is_array()) {
    for (const auto& lr : *doc) one(lr, kNoResource);
  } else {
    LogRecord rec;
    auto st = OtelRecord(*doc, kNoResource, received_ns, origin, options, &rec);
    if (!st.ok()) return st;
    result.records.push_back(std::move(rec));
  }
  return result;
}

}  // namespace netmon::correlate
