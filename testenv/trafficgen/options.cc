// SPDX-License-Identifier: Apache-2.0
#include "testenv/trafficgen/options.h"

#include <charconv>

namespace netmon::trafficgen {

bool Options::Parse(int argc, char** argv, const std::set<std::string>& valued, const std::set<std::string>& flags,
                    std::string* error) {
  for (int i = 2; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--", 0) != 0) {
      *error = "unexpected argument \"" + arg + "\"";
      return false;
    }
    std::string key = arg.substr(2);
    if (flags.count(key) != 0) {
      values_[key] = "";
    } else if (valued.count(key) != 0) {
      if (i + 1 >= argc) {
        *error = "option --" + key + " needs a value";
        return false;
      }
      values_[key] = argv[++i];
    } else {
      *error = "unknown option --" + key;
      return false;
    }
  }
  return true;
}

std::string Options::Str(const std::string& key, const std::string& fallback) const {
  auto it = values_.find(key);
  return it == values_.end() ? fallback : it->second;
}

int64_t Options::Int(const std::string& key, int64_t fallback, bool* ok) const {
  auto it = values_.find(key);
  if (it == values_.end()) return fallback;
  int64_t value = 0;
  const std::string& text = it->second;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), value);
  if (ec != std::errc() || end != text.data() + text.size() || value < 0) {
    *ok = false;
    return fallback;
  }
  return value;
}

}  // namespace netmon::trafficgen
