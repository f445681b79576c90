// SPDX-License-Identifier: Apache-2.0
// NetFlow correlation, both ways.
//  Forward: an event (CONNECT, DATA, CLOSE, ...) is matched with the records of the same 5-tuple, in either
//   direction, whose time span overlaps the event's (with a slack for exporter clock skew and the millisecond
//   resolution of NetFlow). The result says which exporters saw the flow, on which interfaces, and how the
//   process's bytes compare with what the fabric saw: each exporter's bytes are scaled by its sampling interval
//   and by the share of the record's span that falls inside the event's span (a 60 s record against a 1 s DATA
//   interval counts 1/60 of its bytes), and the largest exporter view is the fabric estimate (exporters along a
//   path all see the same packets, so they are not added up).
//  Reverse: a record (or a tuple and a window) is matched with the events of the same 5-tuple that overlap it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "correlate/event.h"
#include "correlate/event_index.h"
#include "correlate/flow_record.h"
#include "correlate/tuple_store.h"

namespace netmon::correlate {

struct MatchOptions {
  int64_t slack_ns = 2'000'000'000;
  double small_ratio = 0.1;  // process bytes / fabric bytes at or below this: "small"
  double large_ratio = 0.5;  // at or above this: "large"; between: "partial"
  size_t max_records = 64;   // records considered per event
  size_t max_events = 64;    // events returned per reverse query
};

struct ExporterView {
  IpAddr exporter;
  uint32_t observation_domain = 0;
  uint16_t version = 0;
  uint32_t input_if = 0;  // as the initiator -> responder direction crossed the exporter (0 if unknown)
  uint32_t output_if = 0;
  uint32_t sampling_interval = 1;
  uint64_t records = 0;
  uint64_t forward_bytes = 0;  // initiator -> responder, as exported (unscaled)
  uint64_t forward_packets = 0;
  uint64_t reverse_bytes = 0;  // responder -> initiator
  uint64_t reverse_packets = 0;
  double estimated_bytes = 0;  // both directions, sampling-scaled, time-proportioned to the event's span
};

struct NetflowMatch {
  std::vector<ExporterView> exporters;  // ordered by estimated_bytes, largest first
  uint64_t records = 0;
  double fabric_bytes = 0;   // the largest exporter estimate
  double process_bytes = 0;  // bytes_sent + bytes_received of the event
  std::optional<double> ratio;
  std::string share;  // "small" | "partial" | "large" | "" (no ratio)
};

// nullopt if the event has no tuple or no record matches.
std::optional<NetflowMatch> MatchEvent(const FlowStore& store, const Event& ev, const MatchOptions& options);

struct Attribution {
  EventSummary event;
  bool same_direction = false;  // the record's source is the event's initiator
};

// Events of `tuple` (either direction; protocol 0 = any of TCP/UDP) overlapping [from_ns, to_ns] +- slack.
std::vector<Attribution> WhoProduced(const EventIndex& index, const FlowTuple& tuple, int64_t from_ns, int64_t to_ns,
                                     const MatchOptions& options);
inline std::vector<Attribution> WhoProduced(const EventIndex& index, const FlowRecord& rec,
                                            const MatchOptions& options) {
  return WhoProduced(index, rec.tuple, rec.start_ns, rec.end_ns, options);
}

}  // namespace netmon::correlate
