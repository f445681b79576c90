// SPDX-License-Identifier: Apache-2.0
// A streaming JSON writer for the correlator's output. Enriched events are written at hundreds of thousands per
// second, so this appends into one string (no DOM). Strings from outside (log lines, host names, process names)
// may hold any bytes: valid UTF-8 passes through, control characters are escaped, and every byte of an invalid
// UTF-8 sequence becomes \u00XX (read as Latin-1), so the output is always valid JSON and valid UTF-8.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace netmon::correlate {

class JsonOut {
 public:
  explicit JsonOut(std::string* out) : out_(out) {}

  JsonOut& BeginObject() { return Open('{'); }
  JsonOut& EndObject() { return Close('}'); }
  JsonOut& BeginArray() { return Open('['); }
  JsonOut& EndArray() { return Close(']'); }
  JsonOut& Key(std::string_view key);
  JsonOut& String(std::string_view value);
  JsonOut& Int(int64_t value);
  JsonOut& Uint(uint64_t value);
  JsonOut& Double(double value);  // non-finite values are written as null
  JsonOut& Bool(bool value);
  JsonOut& Null();
  // A value that is already JSON text (a document this process produced or validated).
  JsonOut& Raw(std::string_view json);

  JsonOut& Field(std::string_view key, std::string_view value) { return Key(key).String(value); }
  JsonOut& Field(std::string_view key, const char* value) { return Key(key).String(value); }
  JsonOut& FieldInt(std::string_view key, int64_t value) { return Key(key).Int(value); }
  JsonOut& FieldUint(std::string_view key, uint64_t value) { return Key(key).Uint(value); }
  JsonOut& FieldDouble(std::string_view key, double value) { return Key(key).Double(value); }
  JsonOut& FieldBool(std::string_view key, bool value) { return Key(key).Bool(value); }

 private:
  JsonOut& Open(char c);
  JsonOut& Close(char c);
  void BeforeValue();

  std::string* out_;
  // One bit per nesting level (up to 64): set when that level already holds an element.
  uint64_t has_element_ = 0;
  int depth_ = 0;
  bool after_key_ = false;
};

// Appends `value` as a quoted JSON string (see the class comment for the escaping rules).
void AppendJsonString(std::string* out, std::string_view value);

}  // namespace netmon::correlate
