// SPDX-License-Identifier: Apache-2.0
#include "correlate/json_in.h"

#include <charconv>
#include <limits>

#include "common/str_cat.h"

namespace netmon::correlate {

bool NestingWithin(std::string_view text, int max_depth) {
  int depth = 0;
  bool in_string = false;
  bool escaped = false;
  for (char c : text) {
    if (in_string) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        in_string = false;
      }
      continue;
    }
    switch (c) {
      case '"': in_string = true; break;
      case '[':
      case '{':
        if (++depth > max_depth) return false;
        break;
      case ']':
      case '}': --depth; break;
      default: break;
    }
  }
  return true;
}

absl::StatusOr<Json> ParseJson(std::string_view text, size_t max_bytes, int max_depth) {
  if (text.size() > max_bytes) {
    return absl::InvalidArgumentError(
        StrCat("JSON document of ", text.size(), " bytes exceeds the limit of ", max_bytes));
  }
  // The depth check runs first: nlohmann builds one heap node per level, so a megabyte of '[' would otherwise cost
  // a million allocations before being rejected.
  if (!NestingWithin(text, max_depth)) {
    return absl::InvalidArgumentError(StrCat("JSON nests deeper than ", max_depth, " levels"));
  }
  Json doc = Json::parse(text.begin(), text.end(), /*cb=*/nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded()) return absl::InvalidArgumentError("not valid JSON");
  return doc;
}

namespace {

template <typename T>
bool ParseDecimal(const std::string& s, T* out) {
  if (s.empty() || s.size() > 24) return false;
  T value{};
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  if (ec != std::errc() || ptr != s.data() + s.size()) return false;
  *out = value;
  return true;
}

}  // namespace

bool GetInt64(const Json& v, int64_t* out) {
  if (v.is_number_unsigned()) {
    uint64_t u = v.get<uint64_t>();
    if (u > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) return false;
    *out = static_cast<int64_t>(u);
    return true;
  }
  if (v.is_number_integer()) {
    *out = v.get<int64_t>();
    return true;
  }
  if (v.is_string()) return ParseDecimal(v.get_ref<const std::string&>(), out);
  return false;
}

bool GetUint64(const Json& v, uint64_t* out) {
  if (v.is_number_unsigned()) {
    *out = v.get<uint64_t>();
    return true;
  }
  if (v.is_number_integer()) {
    int64_t i = v.get<int64_t>();
    if (i < 0) return false;
    *out = static_cast<uint64_t>(i);
    return true;
  }
  if (v.is_string()) return ParseDecimal(v.get_ref<const std::string&>(), out);
  return false;
}

bool GetDouble(const Json& v, double* out) {
  if (!v.is_number()) return false;
  *out = v.get<double>();
  return true;
}

bool GetString(const Json& v, std::string* out) {
  if (!v.is_string()) return false;
  *out = v.get_ref<const std::string&>();
  return true;
}

bool GetBool(const Json& v, bool* out) {
  if (!v.is_boolean()) return false;
  *out = v.get<bool>();
  return true;
}

absl::Status CheckKnownKeys(const Json& obj, std::initializer_list<std::string_view> allowed, std::string_view where) {
  if (!obj.is_object()) return absl::InvalidArgumentError(StrCat(where, ": must be an object"));
  for (const auto& [key, value] : obj.items()) {
    bool known = false;
    for (std::string_view a : allowed) {
      if (key == a) {
        known = true;
        break;
      }
    }
    if (!known) return absl::InvalidArgumentError(StrCat(where, ": unknown key \"", key, "\""));
  }
  return absl::OkStatus();
}

std::string_view JsonTypeName(const Json& v) {
  if (v.is_null()) return "null";
  if (v.is_boolean()) return "boolean";
  if (v.is_number()) return "number";
  if (v.is_string()) return "string";
  if (v.is_array()) return "array";
  if (v.is_object()) return "object";
  return "value";
}

}  // namespace netmon::correlate
