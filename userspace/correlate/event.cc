// SPDX-License-Identifier: Apache-2.0
#include "correlate/event.h"

#include <netinet/in.h>

#include <charconv>
#include <limits>

#include "common/status.h"
#include "common/str_cat.h"
#include "correlate/json_in.h"
#include "correlate/json_out.h"

namespace netmon::correlate {
namespace {

constexpr size_t kMaxNameBytes = 256;
constexpr size_t kMaxIdBytes = 256;
constexpr size_t kMaxEventTypeBytes = 32;

bool ValidEventType(std::string_view t) {
  if (t.empty() || t.size() > kMaxEventTypeBytes) return false;
  for (char c : t) {
    if (!((c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_')) return false;
  }
  return true;
}

// docs/architecture.md §4.4: 1-128 characters of [A-Za-z0-9._:-].
bool ValidSessionId(std::string_view s) {
  if (s.empty() || s.size() > 128) return false;
  for (char c : s) {
    bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == ':' || c == '-';
    if (!ok) return false;
  }
  return true;
}

// What the correlator reads from extra_info (docs/architecture.md §4.3): the protocol and the span the event covers.
struct ExtraFields {
  uint8_t protocol = 0;
  bool has_protocol = false;
  std::optional<int64_t> interval_start, interval_end;
  std::optional<uint64_t> duration_ms;
};

uint8_t ProtocolFromText(std::string_view s) {
  if (s == "tcp" || s == "TCP") return IPPROTO_TCP;
  if (s == "udp" || s == "UDP") return IPPROTO_UDP;
  return 0;
}

void NoteProtocolNumber(uint64_t n, ExtraFields* f) {
  f->has_protocol = true;
  f->protocol = n == IPPROTO_TCP || n == IPPROTO_UDP ? static_cast<uint8_t>(n) : 0;
}

// extra_info arrives as a string holding a JSON object on every event, so it is read with a SAX pass: it is fully
// validated (strict JSON, an object at the top, nesting bounded) but no DOM is built, and only the top-level keys
// above are kept.
class ExtraInfoSax : public nlohmann::json_sax<Json> {
 public:
  ExtraInfoSax(int max_depth, ExtraFields* out) : max_depth_(max_depth), out_(out) {}

  // A scalar (or an array) at depth 0 means the document is not an object.
  bool null() override { return depth_ > 0; }
  bool boolean(bool) override { return depth_ > 0; }
  bool number_integer(number_integer_t v) override {
    if (depth_ == 1) Integer(v);
    return depth_ > 0;
  }
  bool number_unsigned(number_unsigned_t v) override {
    if (depth_ == 1 && v <= static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      Integer(static_cast<int64_t>(v));
    }
    return depth_ > 0;
  }
  bool number_float(number_float_t, const string_t&) override { return depth_ > 0; }
  bool string(string_t& v) override {
    if (depth_ == 1) {
      if (key_ == "protocol") {
        out_->has_protocol = true;
        out_->protocol = ProtocolFromText(v);
      } else {
        // The proto3 JSON mapping writes 64-bit integers as strings.
        int64_t i = 0;
        auto [ptr, ec] = std::from_chars(v.data(), v.data() + v.size(), i);
        if (!v.empty() && ec == std::errc() && ptr == v.data() + v.size()) Integer(i);
      }
    }
    return depth_ > 0;
  }
  bool binary(binary_t&) override { return false; }
  bool start_object(std::size_t) override { return ++depth_ <= max_depth_; }
  bool end_object() override {
    --depth_;
    return true;
  }
  bool start_array(std::size_t) override { return depth_ > 0 && ++depth_ <= max_depth_; }
  bool end_array() override {
    --depth_;
    return true;
  }
  bool key(string_t& k) override {
    if (depth_ == 1) key_ = k;
    return true;
  }
  bool parse_error(std::size_t, const std::string&, const nlohmann::detail::exception&) override { return false; }

 private:
  void Integer(int64_t i) {
    if (key_ == "protocol" && i >= 0) NoteProtocolNumber(static_cast<uint64_t>(i), out_);
    if (key_ == "interval_start_ns") out_->interval_start = i;
    if (key_ == "interval_end_ns") out_->interval_end = i;
    if (key_ == "duration_ms" && i >= 0) out_->duration_ms = static_cast<uint64_t>(i);
  }

  int max_depth_;
  ExtraFields* out_;
  int depth_ = 0;
  std::string key_;
};

bool ParseExtraInfoText(std::string_view text, int max_depth, ExtraFields* out) {
  ExtraInfoSax sax(max_depth, out);
  return Json::sax_parse(text.begin(), text.end(), &sax);
}

void ExtraFromObject(const Json& extra, ExtraFields* f) {
  if (auto it = extra.find("protocol"); it != extra.end()) {
    uint64_t n = 0;
    if (it->is_string()) {
      f->has_protocol = true;
      f->protocol = ProtocolFromText(it->get_ref<const std::string&>());
    } else if (GetUint64(*it, &n)) {
      NoteProtocolNumber(n, f);
    }
  }
  int64_t i = 0;
  uint64_t u = 0;
  if (auto it = extra.find("interval_start_ns"); it != extra.end() && GetInt64(*it, &i)) f->interval_start = i;
  if (auto it = extra.find("interval_end_ns"); it != extra.end() && GetInt64(*it, &i)) f->interval_end = i;
  if (auto it = extra.find("duration_ms"); it != extra.end() && GetUint64(*it, &u)) f->duration_ms = u;
}

void ApplyExtraInfo(const ExtraFields& f, Event* ev) {
  if (f.has_protocol) ev->protocol = f.protocol;
  if (ev->kind == EventKind::kData) {
    if (f.interval_start && f.interval_end && *f.interval_start > 0 && *f.interval_start <= *f.interval_end) {
      ev->start_ns = *f.interval_start;
      ev->end_ns = *f.interval_end;
    }
  } else if (ev->kind == EventKind::kClose) {
    // A connection lasting more than a year is a lie; keep the instant then.
    if (f.duration_ms && *f.duration_ms <= 366ULL * 86400 * 1000) {
      int64_t back = static_cast<int64_t>(*f.duration_ms) * 1'000'000;
      ev->start_ns = ev->end_ns - back > 0 ? ev->end_ns - back : 0;
    }
  }
}

absl::Status ReadString(const Json& doc, const char* key, size_t max_bytes, std::string* out) {
  auto it = doc.find(key);
  if (it == doc.end() || it->is_null()) return absl::OkStatus();
  if (!GetString(*it, out)) return absl::InvalidArgumentError(StrCat(key, ": must be a string"));
  if (out->size() > max_bytes) return absl::InvalidArgumentError(StrCat(key, ": longer than ", max_bytes, " bytes"));
  return absl::OkStatus();
}

absl::Status ReadNonNegative(const Json& doc, const char* key, int64_t* out) {
  auto it = doc.find(key);
  if (it == doc.end() || it->is_null()) return absl::OkStatus();
  if (!GetInt64(*it, out) || *out < 0) {
    return absl::InvalidArgumentError(StrCat(key, ": must be a non-negative 64-bit integer"));
  }
  return absl::OkStatus();
}

absl::Status ReadEndpoint(const std::string& text, const char* key, std::optional<Endpoint>* out) {
  if (text.empty()) return absl::OkStatus();
  *out = ParseEndpoint(text);
  if (!*out) return absl::InvalidArgumentError(StrCat(key, ": not an IP:port or [IPv6]:port address"));
  return absl::OkStatus();
}

}  // namespace

std::string_view EventKindName(EventKind kind) {
  switch (kind) {
    case EventKind::kConnect: return "CONNECT";
    case EventKind::kAccept: return "ACCEPT";
    case EventKind::kClose: return "CLOSE";
    case EventKind::kData: return "DATA";
    case EventKind::kDnsQuery: return "DNS_QUERY";
    case EventKind::kDnsResponse: return "DNS_RESPONSE";
    case EventKind::kOther: return "OTHER";
  }
  return "OTHER";
}

EventKind EventKindFromType(std::string_view t) {
  for (EventKind k : {EventKind::kConnect, EventKind::kAccept, EventKind::kClose, EventKind::kData,
                      EventKind::kDnsQuery, EventKind::kDnsResponse}) {
    if (t == EventKindName(k)) return k;
  }
  return EventKind::kOther;
}

absl::StatusOr<Event> DecodeEvent(std::string_view json, const EventDecodeLimits& limits) {
  auto parsed = ParseJson(json, limits.max_bytes, limits.max_depth);
  if (!parsed.ok()) return parsed.status();
  const Json& doc = *parsed;
  if (!doc.is_object()) return absl::InvalidArgumentError("event must be a JSON object");

  Event ev;
  auto ts = doc.find("timestamp_ns");
  if (ts == doc.end()) return absl::InvalidArgumentError("timestamp_ns: missing");
  if (!GetInt64(*ts, &ev.timestamp_ns) || ev.timestamp_ns < 0) {
    return absl::InvalidArgumentError("timestamp_ns: must be a non-negative 64-bit integer");
  }
  auto type = doc.find("event_type");
  if (type == doc.end() || !GetString(*type, &ev.event_type) || !ValidEventType(ev.event_type)) {
    return absl::InvalidArgumentError("event_type: missing or not an upper-case token");
  }
  ev.kind = EventKindFromType(ev.event_type);

  if (auto it = doc.find("process_id"); it != doc.end() && !it->is_null()) {
    int64_t pid = 0;
    if (!GetInt64(*it, &pid) || pid < 0 || pid > std::numeric_limits<int32_t>::max()) {
      return absl::InvalidArgumentError("process_id: must be an integer in 0..2147483647");
    }
    ev.process_id = static_cast<int32_t>(pid);
  }
  NETMON_RETURN_IF_ERROR(ReadString(doc, "process_name", kMaxNameBytes, &ev.process_name));
  NETMON_RETURN_IF_ERROR(ReadString(doc, "source_addr", 64, &ev.source_addr));
  NETMON_RETURN_IF_ERROR(ReadString(doc, "dest_addr", 64, &ev.dest_addr));
  NETMON_RETURN_IF_ERROR(ReadEndpoint(ev.source_addr, "source_addr", &ev.src));
  NETMON_RETURN_IF_ERROR(ReadEndpoint(ev.dest_addr, "dest_addr", &ev.dst));
  NETMON_RETURN_IF_ERROR(ReadNonNegative(doc, "bytes_sent", &ev.bytes_sent));
  NETMON_RETURN_IF_ERROR(ReadNonNegative(doc, "bytes_received", &ev.bytes_received));
  NETMON_RETURN_IF_ERROR(ReadString(doc, "agent_id", kMaxIdBytes, &ev.agent_id));
  NETMON_RETURN_IF_ERROR(ReadString(doc, "session_id", kMaxIdBytes, &ev.session_id));
  if (!ev.session_id.empty() && !ValidSessionId(ev.session_id)) {
    return absl::InvalidArgumentError("session_id: must be 1-128 characters of [A-Za-z0-9._:-]");
  }
  if (auto it = doc.find("sequence"); it != doc.end() && !it->is_null()) {
    if (!GetUint64(*it, &ev.sequence)) return absl::InvalidArgumentError("sequence: must be an unsigned integer");
  }

  // Defaults the event kind implies; extra_info may refine them.
  ev.start_ns = ev.end_ns = ev.timestamp_ns;
  switch (ev.kind) {
    case EventKind::kConnect:
    case EventKind::kAccept:
    case EventKind::kClose: ev.protocol = IPPROTO_TCP; break;
    case EventKind::kDnsQuery:
    case EventKind::kDnsResponse: ev.protocol = IPPROTO_UDP; break;
    default: break;
  }
  if (auto it = doc.find("extra_info"); it != doc.end() && !it->is_null()) {
    ExtraFields extra;
    if (it->is_object()) {
      ev.extra_info = it->dump();
      ev.extra_info_is_object = true;
      ExtraFromObject(*it, &extra);
      ApplyExtraInfo(extra, &ev);
    } else if (it->is_string()) {
      ev.extra_info = it->get<std::string>();
      if (!ev.extra_info.empty()) {
        if (!ParseExtraInfoText(ev.extra_info, limits.max_depth, &extra)) {
          return absl::InvalidArgumentError("extra_info: must hold a JSON object");
        }
        ApplyExtraInfo(extra, &ev);
      }
    } else {
      return absl::InvalidArgumentError("extra_info: must be a string or an object");
    }
  }
  return ev;
}

void AppendEventFields(const Event& ev, std::string* out) {
  JsonOut w(out);
  w.BeginObject()
      .FieldInt("timestamp_ns", ev.timestamp_ns)
      .FieldInt("process_id", ev.process_id)
      .Field("process_name", ev.process_name)
      .Field("source_addr", ev.source_addr)
      .Field("dest_addr", ev.dest_addr)
      .FieldInt("bytes_sent", ev.bytes_sent)
      .FieldInt("bytes_received", ev.bytes_received)
      .Field("event_type", ev.event_type);
  if (ev.extra_info_is_object) {
    // Produced by Json::dump() of a parsed object: already valid JSON.
    w.Key("extra_info").Raw(ev.extra_info);
  } else {
    w.Field("extra_info", ev.extra_info);
  }
  w.FieldUint("sequence", ev.sequence).Field("agent_id", ev.agent_id).Field("session_id", ev.session_id);
  // The object stays open: callers append enrichment members, then '}'.
}

std::string EncodeEvent(const Event& ev) {
  std::string out;
  out.reserve(256 + ev.extra_info.size());
  AppendEventFields(ev, &out);
  out.push_back('}');
  return out;
}

std::string SubjectToken(std::string_view id) {
  if (id.empty()) return "_";
  std::string out(id);
  for (char& c : out) {
    unsigned char u = static_cast<unsigned char>(c);
    if (c == '.' || c == '*' || c == '>' || u <= 0x20 || u == 0x7f) c = '_';
  }
  return out;
}

std::string EventMessageId(const Event& ev) {
  if (ev.sequence == 0) return "";
  return StrCat(ev.agent_id, "/", ev.session_id, "/", ev.sequence);
}

}  // namespace netmon::correlate
