// SPDX-License-Identifier: Apache-2.0
// Command-line options of netmon-trafficgen: "MODE --key value … --flag …". Unknown keys are a usage error, so a
// typo in a test cannot silently fall back to a default.
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>

namespace netmon::trafficgen {

class Options {
 public:
  // Parses argv[2..]; `valued` and `flags` are the keys (without "--") the mode accepts. False plus a message in
  // *error on bad input.
  bool Parse(int argc, char** argv, const std::set<std::string>& valued, const std::set<std::string>& flags,
             std::string* error);

  bool Has(const std::string& key) const { return values_.count(key) != 0; }
  std::string Str(const std::string& key, const std::string& fallback = "") const;
  // A non-negative integer; *ok is cleared (and fallback returned) if the value is not one.
  int64_t Int(const std::string& key, int64_t fallback, bool* ok) const;

 private:
  std::map<std::string, std::string> values_;  // flags map to ""
};

}  // namespace netmon::trafficgen
