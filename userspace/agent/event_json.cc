// SPDX-License-Identifier: Apache-2.0
#include "agent/event_json.h"

#include <array>
#include <charconv>
#include <cstdint>

namespace netmon::agent {
namespace {

// Length of the valid UTF-8 sequence starting at s[i], or 0 if it is not one (overlong forms, surrogates and
// code points above U+10FFFF are invalid, as in RFC 3629).
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  auto b = [&](size_t k) { return static_cast<uint8_t>(s[k]); };
  uint8_t c = b(i);
  size_t len;
  uint8_t lo = 0x80, hi = 0xBF;  // allowed range of the first continuation byte
  if (c >= 0xC2 && c <= 0xDF) {
    len = 2;
  } else if (c >= 0xE0 && c <= 0xEF) {
    len = 3;
    if (c == 0xE0) lo = 0xA0;  // overlong
    if (c == 0xED) hi = 0x9F;  // surrogates
  } else if (c >= 0xF0 && c <= 0xF4) {
    len = 4;
    if (c == 0xF0) lo = 0x90;  // overlong
    if (c == 0xF4) hi = 0x8F;  // above U+10FFFF
  } else {
    return 0;
  }
  if (i + len > s.size()) return 0;
  if (b(i + 1) < lo || b(i + 1) > hi) return 0;
  for (size_t k = 2; k < len; ++k) {
    if ((b(i + k) & 0xC0) != 0x80) return 0;
  }
  return len;
}

void AppendEscapedByte(std::string* out, uint8_t c) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::array<char, 6> esc = {'\\', 'u', '0', '0', kHex[c >> 4], kHex[c & 0xF]};
  out->append(esc.data(), esc.size());
}

void AppendInt(std::string* out, int64_t v) {
  std::array<char, 24> buf{};
  auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), v);
  (void)ec;  // 24 bytes always hold an int64
  out->append(buf.data(), end);
}

void AppendUint(std::string* out, uint64_t v) {
  std::array<char, 24> buf{};
  auto [end, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), v);
  (void)ec;
  out->append(buf.data(), end);
}

// `s` cut to at most `max` bytes without splitting a UTF-8 sequence (invalid bytes count as one character).
std::string_view CutUtf8(std::string_view s, size_t max) {
  if (s.size() <= max) return s;
  size_t i = 0;
  while (i < s.size()) {
    size_t len = static_cast<uint8_t>(s[i]) < 0x80 ? 1 : Utf8SequenceLength(s, i);
    if (len == 0) len = 1;
    if (i + len > max) break;
    i += len;
  }
  return s.substr(0, i);
}

void AppendKey(std::string* out, std::string_view key, bool first = false) {
  if (!first) out->push_back(',');
  out->push_back('"');
  out->append(key);
  out->append("\":");
}

void AppendCommonFields(std::string* out, const network_monitor::NetworkEvent& ev, size_t max_field) {
  out->push_back('{');
  AppendKey(out, "sequence", /*first=*/true);
  AppendUint(out, ev.sequence());
  AppendKey(out, "timestamp_ns");
  AppendInt(out, ev.timestamp_ns());
  AppendKey(out, "process_id");
  AppendInt(out, ev.process_id());
  AppendKey(out, "process_name");
  AppendJsonString(out, CutUtf8(ev.process_name(), max_field));
  AppendKey(out, "source_addr");
  AppendJsonString(out, CutUtf8(ev.source_addr(), max_field));
  AppendKey(out, "dest_addr");
  AppendJsonString(out, CutUtf8(ev.dest_addr(), max_field));
  AppendKey(out, "bytes_sent");
  AppendInt(out, ev.bytes_sent());
  AppendKey(out, "bytes_received");
  AppendInt(out, ev.bytes_received());
  AppendKey(out, "event_type");
  AppendJsonString(out, CutUtf8(ev.event_type(), max_field));
}

}  // namespace

void AppendJsonString(std::string* out, std::string_view value) {
  out->push_back('"');
  size_t run = 0;  // start of the pending run of bytes that are copied as they are
  size_t i = 0;
  while (i < value.size()) {
    auto c = static_cast<uint8_t>(value[i]);
    if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
      ++i;
      continue;
    }
    if (c >= 0x80) {
      size_t len = Utf8SequenceLength(value, i);
      if (len != 0) {
        i += len;
        continue;
      }
    }
    out->append(value.data() + run, i - run);
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      default: AppendEscapedByte(out, c); break;
    }
    run = ++i;
  }
  out->append(value.data() + run, value.size() - run);
  out->push_back('"');
}

namespace {

// The validator below is hand-written because it runs once per delivered event: nlohmann::json::accept took
// about 45% of the agent's CPU at 450k events/s (perf, 500k events of ~160-byte extra_info).
class JsonChecker {
 public:
  explicit JsonChecker(std::string_view s) : p_(s.data()), end_(s.data() + s.size()) {}

  bool Valid() {
    enum class Want { kValue, kValueOrClose, kKeyOrClose, kKey };
    Want want = Want::kValue;
    while (true) {
      SkipSpace();
      if (p_ == end_) return false;
      bool closed_empty = false;
      if (want == Want::kKeyOrClose || want == Want::kKey) {
        if (want == Want::kKeyOrClose && *p_ == '}') {
          ++p_;
          --depth_;
          closed_empty = true;
        } else {
          if (*p_ != '"' || !String()) return false;
          SkipSpace();
          if (p_ == end_ || *p_ != ':') return false;
          ++p_;
          want = Want::kValue;
          continue;
        }
      } else if (want == Want::kValueOrClose && *p_ == ']') {
        ++p_;
        --depth_;
        closed_empty = true;
      }
      if (!closed_empty) {
        char c = *p_;
        if (c == '{' || c == '[') {
          if (depth_ == kMaxDepth) return false;
          stack_[depth_++] = c;
          ++p_;
          want = c == '{' ? Want::kKeyOrClose : Want::kValueOrClose;
          continue;
        }
        bool ok = c == '"'   ? String()
                  : c == 't' ? Literal("true")
                  : c == 'f' ? Literal("false")
                  : c == 'n' ? Literal("null")
                             : Number();
        if (!ok) return false;
      }
      // A value is complete: close containers or move to the next element.
      while (true) {
        SkipSpace();
        if (depth_ == 0) return p_ == end_;
        if (p_ == end_) return false;
        bool in_object = stack_[depth_ - 1] == '{';
        if (*p_ == ',') {
          ++p_;
          want = in_object ? Want::kKey : Want::kValue;
          break;
        }
        if (*p_ != (in_object ? '}' : ']')) return false;
        ++p_;
        --depth_;
      }
    }
  }

 private:
  // Deeper documents are kept as strings: Go's encoding/json (ServiceRadar's poller) refuses nesting beyond
  // 10000, and a whole chunk must never fail to parse because of one event.
  static constexpr int kMaxDepth = 512;

  void SkipSpace() {
    while (p_ != end_ && (*p_ == ' ' || *p_ == '\n' || *p_ == '\r' || *p_ == '\t')) ++p_;
  }

  bool Literal(std::string_view word) {
    if (static_cast<size_t>(end_ - p_) < word.size() || std::string_view(p_, word.size()) != word) return false;
    p_ += word.size();
    return true;
  }

  static bool IsDigit(char c) { return c >= '0' && c <= '9'; }
  static bool IsHex(char c) { return IsDigit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F'); }

  bool Digits() {
    const char* start = p_;
    while (p_ != end_ && IsDigit(*p_)) ++p_;
    return p_ != start;
  }

  // -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)?
  bool Number() {
    if (p_ != end_ && *p_ == '-') ++p_;
    if (p_ == end_) return false;
    if (*p_ == '0') {
      ++p_;
    } else if (!Digits()) {
      return false;
    }
    if (p_ != end_ && *p_ == '.') {
      ++p_;
      if (!Digits()) return false;
    }
    if (p_ != end_ && (*p_ == 'e' || *p_ == 'E')) {
      ++p_;
      if (p_ != end_ && (*p_ == '+' || *p_ == '-')) ++p_;
      if (!Digits()) return false;
    }
    return true;
  }

  bool String() {
    ++p_;  // opening quote
    std::string_view all(p_, static_cast<size_t>(end_ - p_));
    size_t i = 0;
    while (i < all.size()) {
      auto c = static_cast<uint8_t>(all[i]);
      if (c == '"') {
        p_ += i + 1;
        return true;
      }
      if (c < 0x20) return false;
      if (c == '\\') {
        if (++i == all.size()) return false;
        char e = all[i];
        if (e == 'u') {
          if (i + 4 >= all.size()) return false;
          for (size_t k = 1; k <= 4; ++k) {
            if (!IsHex(all[i + k])) return false;
          }
          i += 5;
        } else if (e == '"' || e == '\\' || e == '/' || e == 'b' || e == 'f' || e == 'n' || e == 'r' || e == 't') {
          ++i;
        } else {
          return false;
        }
        continue;
      }
      if (c >= 0x80) {
        size_t len = Utf8SequenceLength(all, i);
        if (len == 0) return false;
        i += len;
        continue;
      }
      ++i;
    }
    return false;  // no closing quote
  }

  const char* p_;
  const char* const end_;
  std::array<char, kMaxDepth> stack_{};
  int depth_ = 0;
};

}  // namespace

bool IsValidJson(std::string_view text) {
  return JsonChecker(text).Valid();
}

void AppendEventJson(std::string* out, const network_monitor::NetworkEvent& ev) {
  AppendCommonFields(out, ev, std::string_view::npos);
  AppendKey(out, "extra_info");
  const std::string& extra = ev.extra_info();
  if (!extra.empty() && IsValidJson(extra)) {
    out->append(extra);
  } else {
    AppendJsonString(out, extra);
  }
  out->push_back('}');
}

void AppendTruncatedEventJson(std::string* out, const network_monitor::NetworkEvent& ev, size_t original_bytes,
                              size_t max_field) {
  AppendCommonFields(out, ev, max_field);
  AppendKey(out, "truncated");
  out->append("true");
  AppendKey(out, "original_bytes");
  AppendUint(out, original_bytes);
  out->push_back('}');
}

}  // namespace netmon::agent
