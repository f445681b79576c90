// SPDX-License-Identifier: Apache-2.0
// A small streaming JSON writer for extra_info. The join builds one small object per event at up to millions
// of events per second, so this appends straight into one string (no DOM, no allocation per value). Strings
// are escaped so the output is always valid JSON and valid UTF-8, whatever bytes the input held: bytes outside
// printable ASCII become \u00XX (read as Latin-1), which a JSON parser always accepts.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace netmon::join {

class JsonWriter {
 public:
  JsonWriter() { out_.reserve(256); }

  JsonWriter& BeginObject() { return Open('{'); }
  JsonWriter& EndObject() { return Close('}'); }
  JsonWriter& BeginArray() { return Open('['); }
  JsonWriter& EndArray() { return Close(']'); }
  // Inside an object: the key of the next value. Keys are always this codebase's own identifiers (plain ASCII, no
  // quote or backslash), so they are written without the escaping pass.
  JsonWriter& Key(std::string_view key);
  JsonWriter& String(std::string_view value);
  JsonWriter& Int(int64_t value);
  JsonWriter& Uint(uint64_t value);
  JsonWriter& Bool(bool value);

  // Shorthands for Key(k).Value(v).
  JsonWriter& Field(std::string_view key, std::string_view value) { return Key(key).String(value); }
  JsonWriter& Field(std::string_view key, const char* value) { return Key(key).String(value); }
  JsonWriter& FieldInt(std::string_view key, int64_t value) { return Key(key).Int(value); }
  JsonWriter& FieldUint(std::string_view key, uint64_t value) { return Key(key).Uint(value); }
  JsonWriter& FieldBool(std::string_view key, bool value) { return Key(key).Bool(value); }
  // A value that is one of this codebase's own constants ("tcp", "skb_cookie" ...): no escaping pass. Anything
  // that came from the network or a process goes through Field().
  JsonWriter& FieldLiteral(std::string_view key, std::string_view value);

  // The text written so far; call after the outermost End*().
  std::string Take() { return std::move(out_); }
  const std::string& text() const { return out_; }

 private:
  JsonWriter& Open(char c);
  JsonWriter& Close(char c);
  void BeforeValue();

  std::string out_;
  // One bit per nesting level: set when that level already holds an element (so the next needs a comma).
  uint64_t has_element_ = 0;
  int depth_ = 0;
  bool after_key_ = false;
};

// Appends `value` as a quoted, escaped JSON string.
void AppendJsonString(std::string* out, std::string_view value);

}  // namespace netmon::join
