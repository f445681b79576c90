// SPDX-License-Identifier: Apache-2.0
#include "correlate/correlator.h"

#include <netinet/in.h>

#include "correlate/json_out.h"

namespace netmon::correlate {
namespace {

void Bump(std::atomic<uint64_t>& c, uint64_t n = 1) {
  c.fetch_add(n, std::memory_order_relaxed);
}

std::string_view ProtocolName(uint8_t p) {
  switch (p) {
    case IPPROTO_TCP: return "tcp";
    case IPPROTO_UDP: return "udp";
    default: return "";
  }
}

void WriteExporters(const NetflowMatch& m, const Inventory& inv, JsonOut& w) {
  w.Key("exporters").BeginArray();
  for (const ExporterView& v : m.exporters) {
    w.BeginObject().Field("exporter", v.exporter.ToString());
    if (auto dev = inv.Lookup(v.exporter)) w.Field("exporter_name", Inventory::DeviceName(*dev->device));
    w.FieldUint("observation_domain", v.observation_domain).FieldUint("version", v.version);
    if (v.input_if != 0) {
      w.FieldUint("input_if", v.input_if);
      if (const Interface* i = inv.FindInterface(v.exporter, v.input_if)) {
        w.Field("input_if_name", Inventory::InterfaceName(*i));
      }
    }
    if (v.output_if != 0) {
      w.FieldUint("output_if", v.output_if);
      if (const Interface* i = inv.FindInterface(v.exporter, v.output_if)) {
        w.Field("output_if_name", Inventory::InterfaceName(*i));
      }
    }
    w.FieldUint("sampling_interval", v.sampling_interval)
        .FieldUint("records", v.records)
        .FieldUint("forward_bytes", v.forward_bytes)
        .FieldUint("forward_packets", v.forward_packets)
        .FieldUint("reverse_bytes", v.reverse_bytes)
        .FieldUint("reverse_packets", v.reverse_packets)
        .FieldUint("estimated_bytes", static_cast<uint64_t>(v.estimated_bytes + 0.5))
        .EndObject();
  }
  w.EndArray();
}

}  // namespace

Correlator::Correlator(CorrelatorOptions options, InventoryStore* inventory, const FlowStore* flows, EventIndex* events,
                       const LogWindow* logs)
    : options_(std::move(options)), inventory_(inventory), flows_(flows), events_(events), logs_(logs) {}

bool Correlator::WriteAddress(const Inventory& inv, const char* key, const Endpoint& ep, bool* first,
                              std::string* out) {
  Bump(c_.addresses_looked_up);
  auto m = inv.Lookup(ep.ip);
  if (!m) {
    Bump(c_.addresses_unknown);
    return false;
  }
  Bump(m->kind == MatchKind::kExact ? c_.addresses_exact : c_.addresses_subnet);
  if (!*first) out->push_back(',');
  *first = false;
  JsonOut w(out);
  std::string_view device = Inventory::DeviceName(*m->device);
  std::string label(device);
  w.Key(key).BeginObject().Field("address", ep.ip.ToString());
  if (!m->device->device_id.empty()) w.Field("device_id", m->device->device_id);
  w.Field("device", device);
  if (m->iface != nullptr) {
    std::string ifname = Inventory::InterfaceName(*m->iface);
    label += ":" + ifname;
    w.Field("interface", ifname).FieldInt("if_index", m->iface->if_index);
    if (!m->iface->if_alias.empty()) w.Field("if_alias", m->iface->if_alias);
  }
  if (!m->device->sys_location.empty()) w.Field("location", m->device->sys_location);
  w.Field("label", label)
      .Field("match", m->kind == MatchKind::kExact ? "exact" : "subnet")
      .FieldInt("prefix_len", m->prefix_len)
      .EndObject();
  return true;
}

void Correlator::Enrich(const Event& ev, int64_t now_ns, int64_t mono_ns, std::string* out) {
  Bump(c_.events);
  AppendEventFields(ev, out);
  out->append(",\"enrichment\":{");
  bool first = true;

  std::shared_ptr<const Inventory> inv = inventory_ ? inventory_->Snapshot(mono_ns) : nullptr;
  if (inv) {
    bool any = false;
    if (ev.src) any |= WriteAddress(*inv, "source", *ev.src, &first, out);
    if (ev.dst) any |= WriteAddress(*inv, "dest", *ev.dst, &first, out);
    if (any) Bump(c_.events_with_inventory);
  }

  if (flows_ != nullptr) {
    if (auto m = MatchEvent(*flows_, ev, options_.netflow)) {
      Bump(c_.events_with_netflow);
      Bump(c_.netflow_records_matched, m->records);
      if (!first) out->push_back(',');
      first = false;
      JsonOut w(out);
      w.Key("netflow").BeginObject().FieldUint("records", m->records);
      w.FieldUint("fabric_bytes", static_cast<uint64_t>(m->fabric_bytes + 0.5))
          .FieldUint("process_bytes", static_cast<uint64_t>(m->process_bytes));
      if (m->ratio) w.FieldDouble("ratio", *m->ratio).Field("share", m->share);
      static const Inventory kEmpty;
      WriteExporters(*m, inv ? *inv : kEmpty, w);
      w.EndObject();
    }
  }

  if (logs_ != nullptr) {
    auto links = logs_->Link(ev, options_.logs);
    if (!links.empty()) {
      Bump(c_.events_with_logs);
      Bump(c_.log_links, links.size());
      if (!first) out->push_back(',');
      first = false;
      JsonOut w(out);
      w.Key("logs").BeginArray();
      for (const LogLink& l : links) {
        const LogRecord& r = *l.record;
        std::string_view msg = r.message;
        if (msg.size() > options_.max_log_message_bytes) msg = msg.substr(0, options_.max_log_message_bytes);
        w.BeginObject().FieldInt("time_ns", r.time_ns).Field("format", LogFormatName(r.format));
        if (!r.host.empty()) w.Field("host", r.host);
        if (!r.app.empty()) w.Field("app", r.app);
        if (!r.procid.empty()) w.Field("procid", r.procid);
        if (r.severity >= 0) w.FieldInt("severity", r.severity);
        w.Field("message", msg);
        if (!r.origin.empty()) w.Field("origin", r.origin);
        w.Key("matched").BeginArray();
        for (std::string_view reason : LinkReasonNames(l.reasons)) w.String(reason);
        w.EndArray().FieldInt("distance_ms", l.distance_ns / 1'000'000).EndObject();
      }
      w.EndArray();
    }
  }
  out->append("}}");

  if (events_ != nullptr) {
    if (auto s = SummarizeEvent(ev, now_ns)) {
      events_->Add(*s);
      Bump(c_.events_indexed);
    }
  }
}

CorrelatorCounters Correlator::counters() const {
  auto r = [](const std::atomic<uint64_t>& a) { return a.load(std::memory_order_relaxed); };
  CorrelatorCounters c;
  c.events = r(c_.events);
  c.addresses_looked_up = r(c_.addresses_looked_up);
  c.addresses_exact = r(c_.addresses_exact);
  c.addresses_subnet = r(c_.addresses_subnet);
  c.addresses_unknown = r(c_.addresses_unknown);
  c.events_with_inventory = r(c_.events_with_inventory);
  c.events_with_netflow = r(c_.events_with_netflow);
  c.netflow_records_matched = r(c_.netflow_records_matched);
  c.events_with_logs = r(c_.events_with_logs);
  c.log_links = r(c_.log_links);
  c.events_indexed = r(c_.events_indexed);
  return c;
}

void AppendAttributions(const FlowTuple& tuple, int64_t from_ns, int64_t to_ns, const std::vector<Attribution>& found,
                        std::string* out) {
  JsonOut w(out);
  w.BeginObject().Key("query").BeginObject();
  w.Field("source", Endpoint{tuple.src, tuple.src_port}.ToString())
      .Field("dest", Endpoint{tuple.dst, tuple.dst_port}.ToString())
      .Field("protocol", ProtocolName(tuple.protocol))
      .FieldInt("start_ns", from_ns)
      .FieldInt("end_ns", to_ns)
      .EndObject();
  w.Key("events").BeginArray();
  for (const Attribution& a : found) {
    const EventSummary& s = a.event;
    w.BeginObject()
        .FieldInt("process_id", s.process_id)
        .Field("process_name", s.process_name)
        .Field("event_type", s.event_type)
        .Field("source_addr", Endpoint{s.tuple.src, s.tuple.src_port}.ToString())
        .Field("dest_addr", Endpoint{s.tuple.dst, s.tuple.dst_port}.ToString())
        .Field("protocol", ProtocolName(s.tuple.protocol))
        .FieldInt("start_ns", s.start_ns)
        .FieldInt("end_ns", s.end_ns)
        .FieldInt("bytes_sent", s.bytes_sent)
        .FieldInt("bytes_received", s.bytes_received)
        .Field("agent_id", s.agent_id)
        .Field("session_id", s.session_id)
        .FieldUint("sequence", s.sequence)
        .Field("direction", a.same_direction ? "initiator" : "responder")
        .EndObject();
  }
  w.EndArray().EndObject();
}

}  // namespace netmon::correlate
