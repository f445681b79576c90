// SPDX-License-Identifier: Apache-2.0
// A NetworkEvent as one JSON object, written straight into a string (the agent serialises every event it
// delivers, so this stays free of a DOM). The keys are the NetworkEvent field names; the values are the proto's
// values unchanged — the agent never re-interprets process-attributed data. Two choices, documented in the
// README:
//   - extra_info is a JSON string in the proto. When it holds valid JSON it is embedded as that JSON value (an
//     object, per docs/architecture.md §4.3), byte for byte; otherwise it is kept as a JSON string, so nothing is lost and
//     the document stays valid.
//   - 64-bit integers are JSON numbers. timestamp_ns exceeds 2^53, so a consumer that decodes numbers as doubles
//     (JavaScript, Go's interface{}) sees it rounded to ~256 ns.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "network_monitor.pb.h"

namespace netmon::agent {

// Appends `value` as a quoted JSON string. Valid UTF-8 is copied; control characters, '"' and '\\' are escaped;
// bytes that are not valid UTF-8 become \u00XX (read as Latin-1), so the output is always valid JSON.
void AppendJsonString(std::string* out, std::string_view value);

// True if `text` is one complete, valid JSON value (RFC 8259, UTF-8 checked) nested at most 512 deep: what
// extra_info must be to be embedded as JSON. Iterative, so hostile nesting cannot exhaust the stack.
bool IsValidJson(std::string_view text);

// Appends the event's JSON object: {"sequence", "timestamp_ns", "process_id", "process_name", "source_addr",
// "dest_addr", "bytes_sent", "bytes_received", "event_type", "extra_info"}.
void AppendEventJson(std::string* out, const network_monitor::NetworkEvent& event);

// The stand-in for an event whose JSON is too large for any chunk (see chunker.h): every numeric field, the
// string fields cut to `max_field` input bytes (on a UTF-8 character boundary), no extra_info, and
// "truncated": true plus "original_bytes" (the size of the full JSON). At most 6 * (6 * max_field) + 400 bytes.
void AppendTruncatedEventJson(std::string* out, const network_monitor::NetworkEvent& event, size_t original_bytes,
                              size_t max_field);

}  // namespace netmon::agent
