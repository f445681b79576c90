// SPDX-License-Identifier: Apache-2.0
#include "correlate/json_out.h"

#include <charconv>
#include <cmath>
#include <cstdio>

namespace netmon::correlate {
namespace {

constexpr char kHex[] = "0123456789abcdef";

void AppendEscapedByte(std::string* out, unsigned char c) {
  out->append("\\u00");
  out->push_back(kHex[c >> 4]);
  out->push_back(kHex[c & 0xf]);
}

// Length of the valid UTF-8 sequence starting at s[i], or 0 if it is not one (overlongs, surrogates and code
// points above U+10FFFF are invalid, as RFC 3629 says).
size_t Utf8SequenceLength(std::string_view s, size_t i) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = b(i);
  size_t n;
  uint32_t cp;
  if (c >= 0xc2 && c <= 0xdf) {
    n = 2;
    cp = c & 0x1f;
  } else if (c >= 0xe0 && c <= 0xef) {
    n = 3;
    cp = c & 0x0f;
  } else if (c >= 0xf0 && c <= 0xf4) {
    n = 4;
    cp = c & 0x07;
  } else {
    return 0;
  }
  if (i + n > s.size()) return 0;
  for (size_t k = 1; k < n; ++k) {
    if ((b(i + k) & 0xc0) != 0x80) return 0;
    cp = (cp << 6) | (b(i + k) & 0x3f);
  }
  if (n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) return 0;
  if (n == 4 && (cp < 0x10000 || cp > 0x10ffff)) return 0;
  return n;
}

}  // namespace

void AppendJsonString(std::string* out, std::string_view value) {
  out->push_back('"');
  size_t i = 0;
  while (i < value.size()) {
    unsigned char c = static_cast<unsigned char>(value[i]);
    if (c >= 0x20 && c < 0x80 && c != '"' && c != '\\') {
      // Copy the longest plain-ASCII run in one append.
      size_t j = i + 1;
      while (j < value.size()) {
        unsigned char d = static_cast<unsigned char>(value[j]);
        if (d < 0x20 || d >= 0x80 || d == '"' || d == '\\') break;
        ++j;
      }
      out->append(value.data() + i, j - i);
      i = j;
      continue;
    }
    switch (c) {
      case '"':
        out->append("\\\"");
        ++i;
        continue;
      case '\\':
        out->append("\\\\");
        ++i;
        continue;
      case '\n':
        out->append("\\n");
        ++i;
        continue;
      case '\r':
        out->append("\\r");
        ++i;
        continue;
      case '\t':
        out->append("\\t");
        ++i;
        continue;
      default: break;
    }
    if (c < 0x20 || c == 0x7f) {
      AppendEscapedByte(out, c);
      ++i;
      continue;
    }
    size_t n = Utf8SequenceLength(value, i);
    if (n == 0) {
      AppendEscapedByte(out, c);
      ++i;
    } else {
      out->append(value.data() + i, n);
      i += n;
    }
  }
  out->push_back('"');
}

void JsonOut::BeforeValue() {
  if (after_key_) {
    after_key_ = false;
    return;
  }
  if (depth_ > 0 && depth_ <= 64) {
    uint64_t bit = uint64_t{1} << (depth_ - 1);
    if (has_element_ & bit) out_->push_back(',');
    has_element_ |= bit;
  }
}

JsonOut& JsonOut::Open(char c) {
  BeforeValue();
  out_->push_back(c);
  ++depth_;
  if (depth_ <= 64) has_element_ &= ~(uint64_t{1} << (depth_ - 1));
  return *this;
}

JsonOut& JsonOut::Close(char c) {
  out_->push_back(c);
  if (depth_ > 0) --depth_;
  return *this;
}

JsonOut& JsonOut::Key(std::string_view key) {
  BeforeValue();
  AppendJsonString(out_, key);
  out_->push_back(':');
  after_key_ = true;
  return *this;
}

JsonOut& JsonOut::String(std::string_view value) {
  BeforeValue();
  AppendJsonString(out_, value);
  return *this;
}

JsonOut& JsonOut::Int(int64_t value) {
  BeforeValue();
  char buf[24];
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  out_->append(buf, ptr);
  return *this;
}

JsonOut& JsonOut::Uint(uint64_t value) {
  BeforeValue();
  char buf[24];
  auto [ptr, ec] = std::to_chars(buf, buf + sizeof(buf), value);
  out_->append(buf, ptr);
  return *this;
}

JsonOut& JsonOut::Double(double value) {
  BeforeValue();
  if (!std::isfinite(value)) {
    out_->append("null");
    return *this;
  }
  char buf[32];
  int n = std::snprintf(buf, sizeof(buf), "%.6g", value);
  out_->append(buf, static_cast<size_t>(n));
  return *this;
}

JsonOut& JsonOut::Bool(bool value) {
  BeforeValue();
  out_->append(value ? "true" : "false");
  return *this;
}

JsonOut& JsonOut::Null() {
  BeforeValue();
  out_->append("null");
  return *this;
}

JsonOut& JsonOut::Raw(std::string_view json) {
  BeforeValue();
  out_->append(json);
  return *this;
}

}  // namespace netmon::correlate
