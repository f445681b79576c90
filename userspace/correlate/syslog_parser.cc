// SPDX-License-Identifier: Apache-2.0
#include "correlate/syslog_parser.h"

#include <ctime>

#include "common/str_cat.h"

namespace netmon::correlate {
namespace {

constexpr int64_t kNsPerSec = 1'000'000'000;

bool IsDigit(char c) {
  return c >= '0' && c <= '9';
}
bool IsPrintUsAscii(char c) {
  return c >= 33 && c <= 126;
}

bool Digits(std::string_view s, size_t pos, size_t n, int* out) {
  if (pos + n > s.size()) return false;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    if (!IsDigit(s[pos + i])) return false;
    v = v * 10 + (s[pos + i] - '0');
  }
  *out = v;
  return true;
}

// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's days_from_civil): no time zone, no libc.
int64_t DaysFromCivil(int64_t y, int m, int d) {
  y -= m <= 2;
  int64_t era = (y >= 0 ? y : y - 399) / 400;
  int64_t yoe = y - era * 400;
  int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
  int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + doe - 719468;
}

int DaysInMonth(int y, int m) {
  static constexpr int kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m == 2 && ((y % 4 == 0 && y % 100 != 0) || y % 400 == 0)) return 29;
  return kDays[m - 1];
}

// <PRI>: 1-3 digits, at most 191 (facility 23, severity 7).
bool ParsePri(std::string_view s, int* pri, size_t* consumed) {
  if (s.size() < 3 || s[0] != '<') return false;
  size_t i = 1;
  int v = 0;
  while (i < s.size() && i <= 3 && IsDigit(s[i])) v = v * 10 + (s[i++] - '0');
  if (i == 1 || i >= s.size() || s[i] != '>' || v > 191) return false;
  *pri = v;
  *consumed = i + 1;
  return true;
}

// Splits off the next space-terminated token of `rest`.
std::string_view NextToken(std::string_view* rest) {
  size_t sp = rest->find(' ');
  std::string_view tok = rest->substr(0, sp);
  *rest = sp == std::string_view::npos ? std::string_view() : rest->substr(sp + 1);
  return tok;
}

// "Mmm dd hh:mm:ss" in the correlator's local time zone, in the year that puts it nearest to `received_ns`
// (RFC 3164 timestamps carry no year and no zone).
std::optional<int64_t> ParseBsdTimestamp(std::string_view s, int64_t received_ns) {
  static constexpr std::string_view kMonths[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  if (s.size() < 15 || s[3] != ' ' || s[6] != ' ' || s[9] != ':' || s[12] != ':') return std::nullopt;
  int month = -1;
  for (int i = 0; i < 12; ++i) {
    if (s.substr(0, 3) == kMonths[i]) month = i;
  }
  if (month < 0) return std::nullopt;
  int day = 0, hh = 0, mm = 0, ss = 0;
  if (s[4] == ' ') {
    if (!Digits(s, 5, 1, &day)) return std::nullopt;
  } else if (!Digits(s, 4, 2, &day)) {
    return std::nullopt;
  }
  if (!Digits(s, 7, 2, &hh) || !Digits(s, 10, 2, &mm) || !Digits(s, 13, 2, &ss)) return std::nullopt;
  if (day < 1 || day > 31 || hh > 23 || mm > 59 || ss > 60) return std::nullopt;
  time_t now = static_cast<time_t>(received_ns / kNsPerSec);
  tm local{};
  localtime_r(&now, &local);
  std::optional<int64_t> best;
  for (int dy = -1; dy <= 1; ++dy) {
    tm t{};
    t.tm_year = local.tm_year + dy;
    t.tm_mon = month;
    t.tm_mday = day;
    t.tm_hour = hh;
    t.tm_min = mm;
    t.tm_sec = ss;
    t.tm_isdst = -1;
    time_t when = mktime(&t);
    if (when == static_cast<time_t>(-1)) continue;
    int64_t ns = static_cast<int64_t>(when) * kNsPerSec;
    auto dist = [&](int64_t x) { return x > received_ns ? x - received_ns : received_ns - x; };
    if (!best || dist(ns) < dist(*best)) best = ns;
  }
  return best;
}

// RFC 3164 §5.3: the TAG is alphanumeric, at most 32 characters; in practice it may hold '-', '_', '.', '/'.
bool LooksLikeTag(std::string_view tok, std::string_view* tag, std::string_view* pid) {
  if (tok.empty() || tok.size() > 64) return false;
  size_t end = tok.find_first_of("[:");
  if (end == 0 || end == std::string_view::npos) return false;
  std::string_view name = tok.substr(0, end);
  for (char c : name) {
    if (!IsPrintUsAscii(c)) return false;
  }
  std::string_view p;
  if (tok[end] == '[') {
    size_t close = tok.find(']', end);
    if (close == std::string_view::npos) return false;
    p = tok.substr(end + 1, close - end - 1);
    if (close + 1 < tok.size() && tok[close + 1] != ':') return false;
  } else if (end + 1 != tok.size()) {
    return false;  // "a:b" is not "TAG:"
  }
  *tag = name;
  *pid = p;
  return true;
}

// RFC 3164 §4.1.2 / RFC 5424 §6.2.4: a HOSTNAME is printable US-ASCII, at most 255 characters. Anything else in
// that position is the start of the message.
bool LooksLikeHost(std::string_view tok) {
  if (tok.empty() || tok.size() > 255) return false;
  for (char c : tok) {
    if (!IsPrintUsAscii(c)) return false;
  }
  return true;
}

absl::StatusOr<LogRecord> Parse3164(std::string_view rest, int pri, int64_t received_ns, const SyslogOptions& opt) {
  LogRecord rec;
  rec.format = LogFormat::kRfc3164;
  rec.severity = pri & 7;
  rec.time_ns = received_ns;
  bool have_time = false;
  if (auto t = ParseBsdTimestamp(rest, received_ns)) {
    rec.time_ns = *t;
    have_time = true;
    rest = rest.substr(15);
    if (!rest.empty() && rest[0] == ' ') rest.remove_prefix(1);
  } else {
    // Some relays (rsyslog's forward format) put an RFC 3339 timestamp where the BSD one goes.
    std::string_view probe = rest;
    std::string_view tok = NextToken(&probe);
    if (tok.size() >= 19 && IsDigit(tok[0])) {
      if (auto t = ParseRfc3339(tok)) {
        rec.time_ns = *t;
        have_time = true;
        rest = probe;
      }
    }
  }
  // HOSTNAME then TAG, either of which may be missing.
  std::string_view tag, pid;
  std::string_view probe = rest;
  std::string_view first = NextToken(&probe);
  if (LooksLikeTag(first, &tag, &pid)) {
    rest = probe;
  } else if (have_time && LooksLikeHost(first)) {
    rec.host = std::string(first);
    rest = probe;
    std::string_view probe2 = rest;
    std::string_view second = NextToken(&probe2);
    if (LooksLikeTag(second, &tag, &pid)) rest = probe2;
  }
  rec.app = std::string(tag);
  rec.procid = std::string(pid);
  if (rest.size() > opt.max_message_bytes) rest = rest.substr(0, opt.max_message_bytes);
  rec.message = std::string(rest);
  return rec;
}

// A header field of RFC 5424: "-" (nil) or 1..max printable US-ASCII characters.
absl::Status HeaderField(std::string_view* rest, size_t max, const char* name, std::string* out) {
  size_t sp = rest->find(' ');
  if (sp == std::string_view::npos) return absl::InvalidArgumentError(StrCat("RFC 5424 header ends before ", name));
  std::string_view tok = rest->substr(0, sp);
  rest->remove_prefix(sp + 1);
  if (tok.empty() || tok.size() > max) return absl::InvalidArgumentError(StrCat("RFC 5424 ", name, " invalid"));
  for (char c : tok) {
    if (!IsPrintUsAscii(c)) return absl::InvalidArgumentError(StrCat("RFC 5424 ", name, " invalid"));
  }
  if (tok != "-") *out = std::string(tok);
  return absl::OkStatus();
}

// SD-NAME (RFC 5424 §6.3.2): 1-32 printable US-ASCII, no '=', ' ', ']', '"'.
size_t SdName(std::string_view s, size_t pos) {
  size_t start = pos;
  while (pos < s.size() && pos - start < 32 && IsPrintUsAscii(s[pos]) && s[pos] != '=' && s[pos] != ']' &&
         s[pos] != '"') {
    ++pos;
  }
  return pos - start;
}

absl::Status ParseStructuredData(std::string_view* rest, const SyslogOptions& opt, LogRecord* rec) {
  std::string_view s = *rest;
  if (s.empty()) return absl::InvalidArgumentError("RFC 5424 structured data missing");
  if (s[0] == '-') {
    rest->remove_prefix(1);
    return absl::OkStatus();
  }
  size_t i = 0;
  // Each element and parameter consumes at least one byte, so this is bounded by the datagram.
  while (i < s.size() && s[i] == '[') {
    ++i;
    size_t n = SdName(s, i);
    if (n == 0) return absl::InvalidArgumentError("RFC 5424 SD-ID invalid");
    std::string id(s.substr(i, n));
    i += n;
    while (i < s.size() && s[i] == ' ') {
      ++i;
      size_t k = SdName(s, i);
      if (k == 0) return absl::InvalidArgumentError("RFC 5424 PARAM-NAME invalid");
      std::string key = id + "." + std::string(s.substr(i, k));
      i += k;
      if (i + 1 >= s.size() || s[i] != '=' || s[i + 1] != '"') {
        return absl::InvalidArgumentError("RFC 5424 PARAM-VALUE must be quoted");
      }
      i += 2;
      std::string value;
      bool closed = false;
      while (i < s.size()) {
        char c = s[i];
        if (c == '\\' && i + 1 < s.size() && (s[i + 1] == '"' || s[i + 1] == '\\' || s[i + 1] == ']')) {
          value.push_back(s[i + 1]);
          i += 2;
          continue;
        }
        if (c == '"') {
          closed = true;
          ++i;
          break;
        }
        if (value.size() < opt.max_message_bytes) value.push_back(c);
        ++i;
      }
      if (!closed) return absl::InvalidArgumentError("RFC 5424 PARAM-VALUE not terminated");
      if (rec->attributes.size() < opt.max_attributes) rec->attributes.emplace_back(std::move(key), std::move(value));
    }
    if (i >= s.size() || s[i] != ']') return absl::InvalidArgumentError("RFC 5424 SD-ELEMENT not closed");
    ++i;
  }
  if (i == 0) return absl::InvalidArgumentError("RFC 5424 structured data invalid");
  rest->remove_prefix(i);
  return absl::OkStatus();
}

absl::StatusOr<LogRecord> Parse5424(std::string_view rest, int pri, int64_t received_ns, const SyslogOptions& opt) {
  LogRecord rec;
  rec.format = LogFormat::kRfc5424;
  rec.severity = pri & 7;
  rec.time_ns = received_ns;
  std::string ts;
  absl::Status st = HeaderField(&rest, 64, "TIMESTAMP", &ts);
  if (st.ok() && !ts.empty()) {
    auto t = ParseRfc3339(ts);
    if (!t) return absl::InvalidArgumentError("RFC 5424 TIMESTAMP invalid");
    rec.time_ns = *t;
  }
  if (st.ok()) st = HeaderField(&rest, 255, "HOSTNAME", &rec.host);
  if (st.ok()) st = HeaderField(&rest, 48, "APP-NAME", &rec.app);
  if (st.ok()) st = HeaderField(&rest, 128, "PROCID", &rec.procid);
  if (st.ok()) st = HeaderField(&rest, 32, "MSGID", &rec.msgid);
  if (st.ok()) st = ParseStructuredData(&rest, opt, &rec);
  if (!st.ok()) return st;
  if (!rest.empty()) {
    if (rest[0] != ' ') return absl::InvalidArgumentError("RFC 5424 MSG not separated by a space");
    rest.remove_prefix(1);
    if (rest.starts_with("\xEF\xBB\xBF")) rest.remove_prefix(3);  // the UTF-8 BOM of §6.4
    if (rest.size() > opt.max_message_bytes) rest = rest.substr(0, opt.max_message_bytes);
    rec.message = std::string(rest);
  }
  return rec;
}

}  // namespace

std::optional<int64_t> ParseRfc3339(std::string_view s) {
  int y, mo, d, h, mi, sec;
  if (s.size() < 20 || !Digits(s, 0, 4, &y) || s[4] != '-' || !Digits(s, 5, 2, &mo) || s[7] != '-' ||
      !Digits(s, 8, 2, &d) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !Digits(s, 11, 2, &h) || s[13] != ':' ||
      !Digits(s, 14, 2, &mi) || s[16] != ':' || !Digits(s, 17, 2, &sec)) {
    return std::nullopt;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > DaysInMonth(y, mo) || h > 23 || mi > 59 || sec > 60) return std::nullopt;
  size_t i = 19;
  int64_t frac_ns = 0;
  if (i < s.size() && s[i] == '.') {
    ++i;
    size_t start = i;
    int64_t scale = 100'000'000;
    while (i < s.size() && IsDigit(s[i])) {
      if (i - start < 9) {
        frac_ns += (s[i] - '0') * scale;
        scale /= 10;
      }
      ++i;
    }
    if (i == start || i - start > 12) return std::nullopt;
  }
  if (i >= s.size()) return std::nullopt;
  int64_t offset_s = 0;
  if (s[i] == 'Z' || s[i] == 'z') {
    ++i;
  } else if (s[i] == '+' || s[i] == '-') {
    int oh, om;
    if (!Digits(s, i + 1, 2, &oh) || i + 3 >= s.size() || s[i + 3] != ':' || !Digits(s, i + 4, 2, &om) || oh > 23 ||
        om > 59) {
      return std::nullopt;
    }
    offset_s = (oh * 3600 + om * 60) * (s[i] == '+' ? 1 : -1);
    i += 6;
  } else {
    return std::nullopt;
  }
  if (i != s.size()) return std::nullopt;
  int64_t secs = DaysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec - offset_s;
  if (secs < 0 || secs > 9'000'000'000LL) return std::nullopt;  // before 1970 or past year 2255: not a log time
  return secs * kNsPerSec + frac_ns;
}

absl::StatusOr<LogRecord> ParseSyslog(std::string_view datagram, int64_t received_ns, std::string_view origin,
                                      const SyslogOptions& options) {
  // Senders often end the datagram with a newline (and some with a NUL); neither is content.
  while (!datagram.empty() && (datagram.back() == '\n' || datagram.back() == '\r' || datagram.back() == '\0')) {
    datagram.remove_suffix(1);
  }
  int pri = 0;
  size_t consumed = 0;
  if (!ParsePri(datagram, &pri, &consumed)) return absl::InvalidArgumentError("syslog: no valid <PRI>");
  std::string_view rest = datagram.substr(consumed);
  absl::StatusOr<LogRecord> rec = rest.starts_with("1 ") ? Parse5424(rest.substr(2), pri, received_ns, options)
                                                         : Parse3164(rest, pri, received_ns, options);
  if (!rec.ok()) return rec;
  rec->received_ns = received_ns;
  rec->origin = std::string(origin);
  if (rec->host.empty()) rec->host = std::string(origin);
  return rec;
}

}  // namespace netmon::correlate
