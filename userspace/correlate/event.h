// SPDX-License-Identifier: Apache-2.0
// The correlator's event: a NetworkEvent (docs/architecture.md §4.3, field names as in proto/network_monitor.proto) plus where
// it came from (agent_id, session_id, sequence), and the JSON-lines codec for it. The decoder is strict about the
// fields it knows (types, ranges, address syntax) and ignores keys it does not know, so a newer agent can add
// fields without breaking an older correlator.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "correlate/ip.h"

namespace netmon::correlate {

enum class EventKind : uint8_t { kConnect, kAccept, kClose, kData, kDnsQuery, kDnsResponse, kOther };

struct Event {
  // NetworkEvent fields.
  int64_t timestamp_ns = 0;
  int32_t process_id = 0;
  std::string process_name;
  std::string source_addr;
  std::string dest_addr;
  int64_t bytes_sent = 0;
  int64_t bytes_received = 0;
  std::string event_type;
  std::string extra_info;  // JSON object text ("" if absent)
  // Provenance.
  std::string agent_id;
  std::string session_id;
  uint64_t sequence = 0;

  // Derived while decoding (not written back as such).
  EventKind kind = EventKind::kOther;
  std::optional<Endpoint> src;  // parsed source_addr
  std::optional<Endpoint> dst;  // parsed dest_addr
  uint8_t protocol = 0;         // IPPROTO_TCP / IPPROTO_UDP, 0 if unknown
  // The wall-clock span the event covers: DATA uses extra_info's interval bounds, CLOSE reaches back by its
  // duration, everything else is the instant timestamp_ns.
  int64_t start_ns = 0;
  int64_t end_ns = 0;
  // extra_info arrived as an object rather than a string; it is written back the same way.
  bool extra_info_is_object = false;
};

struct EventDecodeLimits {
  size_t max_bytes = 1 << 20;
  int max_depth = 16;
};

// Decodes one JSON object. InvalidArgument with a reason on anything malformed.
absl::StatusOr<Event> DecodeEvent(std::string_view json, const EventDecodeLimits& limits = {});

// Appends the event's own fields (no enrichment, no closing brace) to *out, starting with '{'. The caller adds
// further members and the closing brace; EncodeEvent does that for a bare event.
void AppendEventFields(const Event& ev, std::string* out);
std::string EncodeEvent(const Event& ev);

// Agent identity as one NATS subject token: '.', '*', '>', whitespace and control characters become '_', and an
// empty id becomes "_" (a subject token must not be empty).
std::string SubjectToken(std::string_view id);

// The JetStream de-duplication id of an event: "<agent_id>/<session_id>/<sequence>" (empty if sequence is 0, where
// the pair does not identify it).
std::string EventMessageId(const Event& ev);

std::string_view EventKindName(EventKind kind);
EventKind EventKindFromType(std::string_view event_type);

}  // namespace netmon::correlate
