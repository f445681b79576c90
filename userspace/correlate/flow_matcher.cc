// SPDX-License-Identifier: Apache-2.0
#include "correlate/flow_matcher.h"

#include <netinet/in.h>

#include <algorithm>

namespace netmon::correlate {
namespace {

// The share of [rs, re] that lies inside [es, ee]. An instant on either side counts whole: there is no span to
// apportion.
double OverlapFraction(int64_t rs, int64_t re, int64_t es, int64_t ee) {
  if (re <= rs || ee <= es) return 1.0;
  int64_t lo = std::max(rs, es);
  int64_t hi = std::min(re, ee);
  if (hi <= lo) return 0.0;
  return static_cast<double>(hi - lo) / static_cast<double>(re - rs);
}

std::vector<uint8_t> ProtocolsOf(uint8_t protocol) {
  if (protocol != 0) return {protocol};
  return {IPPROTO_TCP, IPPROTO_UDP};
}

}  // namespace

std::optional<NetflowMatch> MatchEvent(const FlowStore& store, const Event& ev, const MatchOptions& options) {
  auto tuple = EventTuple(ev);
  if (!tuple) return std::nullopt;
  int64_t from = ev.start_ns - options.slack_ns;
  int64_t to = ev.end_ns + options.slack_ns;
  NetflowMatch m;
  for (uint8_t proto : ProtocolsOf(tuple->protocol)) {
    FlowTuple t = *tuple;
    t.protocol = proto;
    for (const FlowRecord& r : store.Query(FlowKey::Of(t), from, to, options.max_records)) {
      auto it = std::find_if(m.exporters.begin(), m.exporters.end(), [&](const ExporterView& v) {
        return v.exporter == r.exporter && v.observation_domain == r.observation_domain;
      });
      if (it == m.exporters.end()) {
        m.exporters.push_back(ExporterView{});
        it = m.exporters.end() - 1;
        it->exporter = r.exporter;
        it->observation_domain = r.observation_domain;
        it->version = r.version;
      }
      bool forward = r.tuple.src == t.src && r.tuple.src_port == t.src_port;
      ++it->records;
      it->sampling_interval = std::max(it->sampling_interval, r.sampling_interval);
      if (forward) {
        it->forward_bytes += r.bytes;
        it->forward_packets += r.packets;
        it->reverse_bytes += r.reverse_bytes;  // a biflow record carries the other direction too
        it->reverse_packets += r.reverse_packets;
        if (it->input_if == 0 && it->output_if == 0) {
          it->input_if = r.input_if;
          it->output_if = r.output_if;
        }
      } else {
        it->reverse_bytes += r.bytes;
        it->reverse_packets += r.packets;
        it->forward_bytes += r.reverse_bytes;
        it->forward_packets += r.reverse_packets;
        if (it->input_if == 0 && it->output_if == 0) {
          // The reverse direction entered where the forward one left.
          it->input_if = r.output_if;
          it->output_if = r.input_if;
        }
      }
      double fraction = OverlapFraction(r.start_ns, r.end_ns, ev.start_ns, ev.end_ns);
      it->estimated_bytes += static_cast<double>(r.bytes + r.reverse_bytes) * r.sampling_interval * fraction;
      ++m.records;
    }
  }
  if (m.records == 0) return std::nullopt;
  std::sort(m.exporters.begin(), m.exporters.end(),
            [](const ExporterView& a, const ExporterView& b) { return a.estimated_bytes > b.estimated_bytes; });
  m.fabric_bytes = m.exporters.front().estimated_bytes;
  m.process_bytes = static_cast<double>(ev.bytes_sent) + static_cast<double>(ev.bytes_received);
  if (m.fabric_bytes > 0 && m.process_bytes > 0) {
    double ratio = m.process_bytes / m.fabric_bytes;
    m.ratio = ratio;
    m.share = ratio >= options.large_ratio ? "large" : ratio <= options.small_ratio ? "small" : "partial";
  }
  return m;
}

std::vector<Attribution> WhoProduced(const EventIndex& index, const FlowTuple& tuple, int64_t from_ns, int64_t to_ns,
                                     const MatchOptions& options) {
  std::vector<Attribution> out;
  for (uint8_t proto : ProtocolsOf(tuple.protocol)) {
    FlowTuple t = tuple;
    t.protocol = proto;
    size_t room = options.max_events > out.size() ? options.max_events - out.size() : 0;
    if (room == 0) break;
    for (auto& s : index.Query(FlowKey::Of(t), from_ns - options.slack_ns, to_ns + options.slack_ns, room)) {
      Attribution a;
      a.same_direction = s.tuple.src == t.src && s.tuple.src_port == t.src_port;
      a.event = std::move(s);
      out.push_back(std::move(a));
    }
  }
  return out;
}

}  // namespace netmon::correlate
