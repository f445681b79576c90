// SPDX-License-Identifier: Apache-2.0
// Reading JSON from outside (events, inventories, GELF/OTel documents, the config): size and nesting are bounded
// before the parser sees the text, parse errors are statuses (never exceptions), and the typed getters are strict
// about types. Integers may arrive as decimal strings because the proto3 JSON mapping writes int64 that way.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "nlohmann/json.hpp"

namespace netmon::correlate {

using Json = nlohmann::json;

// Parses `text` as one JSON value. Fails (InvalidArgument) if it is larger than max_bytes, nests deeper than
// max_depth, or is not valid JSON (including invalid UTF-8 inside strings).
absl::StatusOr<Json> ParseJson(std::string_view text, size_t max_bytes, int max_depth = 32);

// True if every byte-level nesting of [ and { in `text` (outside strings) stays within max_depth.
bool NestingWithin(std::string_view text, int max_depth);

// Strict scalar reads. They return false (and leave *out alone) when the value has the wrong type or range.
// GetInt64/GetUint64 accept JSON integers and strings of decimal digits (optionally '-' for signed).
bool GetInt64(const Json& v, int64_t* out);
bool GetUint64(const Json& v, uint64_t* out);
bool GetDouble(const Json& v, double* out);  // any JSON number
bool GetString(const Json& v, std::string* out);
bool GetBool(const Json& v, bool* out);

// InvalidArgument naming the first key of `obj` not in `allowed` ("<where>: unknown key \"x\"").
absl::Status CheckKnownKeys(const Json& obj, std::initializer_list<std::string_view> allowed, std::string_view where);

// A short printable rendering of a JSON value's type for error messages ("string", "number", ...).
std::string_view JsonTypeName(const Json& v);

}  // namespace netmon::correlate
