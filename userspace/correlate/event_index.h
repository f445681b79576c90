// SPDX-License-Identifier: Apache-2.0
// What the correlator remembers of each event it enriched, so that a NetFlow record (or a tuple and a time window)
// can be traced back to the process that produced it.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include "correlate/event.h"
#include "correlate/flow_record.h"
#include "correlate/tuple_store.h"

namespace netmon::correlate {

struct EventSummary {
  FlowTuple tuple;  // initiator -> responder, as the event writes source_addr -> dest_addr
  int64_t start_ns = 0;
  int64_t end_ns = 0;
  int64_t received_ns = 0;
  int32_t process_id = 0;
  std::string process_name;
  std::string event_type;
  std::string agent_id;
  std::string session_id;
  uint64_t sequence = 0;
  int64_t bytes_sent = 0;
  int64_t bytes_received = 0;
};

using EventIndex = TupleStore<EventSummary>;

// The summary of an event that has both addresses and a protocol; nullopt otherwise (nothing to index it by).
// DNS responses travel server -> client, so their tuple is turned around to the flow's initiator view.
std::optional<EventSummary> SummarizeEvent(const Event& ev, int64_t now_ns);

// The event's flow tuple in initiator -> responder order (see SummarizeEvent), if it has one. A DATA event whose
// protocol is unknown gets protocol 0.
std::optional<FlowTuple> EventTuple(const Event& ev);

}  // namespace netmon::correlate
