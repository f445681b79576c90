// SPDX-License-Identifier: Apache-2.0
#include "common/quote.h"

#include "common/str_cat.h"

namespace netmon {

std::string QuoteUntrusted(std::string_view s, size_t max) {
  static constexpr char kHex[] = "0123456789abcdef";
  const std::string_view shown = s.substr(0, max);
  std::string out;
  out.reserve(shown.size() + 2);
  out += '"';
  for (char c : shown) {
    const auto u = static_cast<unsigned char>(c);
    if (c == '"' || c == '\\') {
      out += '\\';
      out += c;
    } else if (u >= 0x20 && u < 0x7f) {
      out += c;
    } else {
      out += "\\x";
      out += kHex[u >> 4];
      out += kHex[u & 0xf];
    }
  }
  if (s.size() > shown.size()) return StrCat(out, "...\" (", s.size(), " bytes)");
  out += '"';
  return out;
}

}  // namespace netmon
