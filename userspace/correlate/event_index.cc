// SPDX-License-Identifier: Apache-2.0
#include "correlate/event_index.h"

namespace netmon::correlate {

std::optional<FlowTuple> EventTuple(const Event& ev) {
  if (!ev.src || !ev.dst) return std::nullopt;
  FlowTuple t;
  // §4.3: DNS events follow the packet, so a response is written server -> client; the flow began at the client.
  bool reversed = ev.kind == EventKind::kDnsResponse;
  const Endpoint& from = reversed ? *ev.dst : *ev.src;
  const Endpoint& to = reversed ? *ev.src : *ev.dst;
  t.src = from.ip;
  t.src_port = from.port;
  t.dst = to.ip;
  t.dst_port = to.port;
  t.protocol = ev.protocol;
  return t;
}

std::optional<EventSummary> SummarizeEvent(const Event& ev, int64_t now_ns) {
  auto tuple = EventTuple(ev);
  if (!tuple || tuple->protocol == 0) return std::nullopt;
  EventSummary s;
  s.tuple = *tuple;
  s.start_ns = ev.start_ns;
  s.end_ns = ev.end_ns;
  s.received_ns = now_ns;
  s.process_id = ev.process_id;
  s.process_name = ev.process_name;
  s.event_type = ev.event_type;
  s.agent_id = ev.agent_id;
  s.session_id = ev.session_id;
  s.sequence = ev.sequence;
  s.bytes_sent = ev.bytes_sent;
  s.bytes_received = ev.bytes_received;
  return s;
}

}  // namespace netmon::correlate
