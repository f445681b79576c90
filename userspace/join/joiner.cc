// SPDX-License-Identifier: Apache-2.0
#include "join/joiner.h"

#include <netinet/in.h>

#include <algorithm>
#include <cstring>

#include "common/hash.h"
#include "dns/dns_message.h"
#include "join/endpoint.h"
#include "join/json_writer.h"

namespace netmon::join {
namespace {

bool Strong(InitiatorBasis b) {
  return b == InitiatorBasis::kRole || b == InitiatorBasis::kSyn;
}

// A TCP flow whose start we did not see: the well-known (< 1024) side is the server; failing that, the side on
// an ephemeral port (Linux default range 32768-60999) is the client. Returns false if the ports say nothing.
bool PortsSayLocalInitiated(uint16_t local, uint16_t remote, bool* local_initiated) {
  bool lw = local != 0 && local < 1024, rw = remote != 0 && remote < 1024;
  if (lw != rw) {
    *local_initiated = rw;
    return true;
  }
  bool le = local >= 32768, re = remote >= 32768;
  if (le != re) {
    *local_initiated = le;
    return true;
  }
  return false;
}

void SetEndpoints(Event& ev, const Endpoint& src, const Endpoint& dst) {
  ev.src = src;
  ev.dst = dst;
  ev.source_addr = FormatEndpoint(src);
  ev.dest_addr = FormatEndpoint(dst);
}

}  // namespace

std::string_view ProtocolName(uint8_t proto) {
  switch (proto) {
    case IPPROTO_TCP: return "tcp";
    case IPPROTO_UDP: return "udp";
    case IPPROTO_ICMP: return "icmp";
    case IPPROTO_ICMPV6: return "icmpv6";
    case IPPROTO_SCTP: return "sctp";
    default: return "other";
  }
}

std::string_view InitiatorBasisName(InitiatorBasis basis) {
  switch (basis) {
    case InitiatorBasis::kRole: return "role";
    case InitiatorBasis::kSyn: return "syn";
    case InitiatorBasis::kFirstPacket: return "first_packet";
    case InitiatorBasis::kPorts: return "ports";
    default: return "none";
  }
}

std::string_view ConnectOutcomeName(uint8_t outcome) {
  switch (outcome) {
    case NETMON_CONNECT_ESTABLISHED: return "established";
    case NETMON_CONNECT_REFUSED: return "refused";
    case NETMON_CONNECT_TIMEOUT: return "timeout";
    case NETMON_CONNECT_ERROR: return "error";
    default: return "unknown";
  }
}

size_t Joiner::TupleHash::operator()(const netmon_tuple& t) const {
  uint64_t h = seed;
  h = HashMix(h ^ Load64(t.local_addr));
  h = HashMix(h ^ Load64(t.local_addr + 8));
  h = HashMix(h ^ Load64(t.remote_addr));
  h = HashMix(h ^ Load64(t.remote_addr + 8));
  h = HashMix(h ^
              (static_cast<uint64_t>(t.local_port) << 48 | static_cast<uint64_t>(t.remote_port) << 32 |
               static_cast<uint64_t>(t.proto) << 24) ^
              (static_cast<uint64_t>(t.netns) * 0x9e3779b97f4a7c15ULL));
  return static_cast<size_t>(h);
}

bool Joiner::TupleEq::operator()(const netmon_tuple& a, const netmon_tuple& b) const {
  // Compare field by field: the padding bytes may hold anything.
  return std::memcmp(a.local_addr, b.local_addr, 16) == 0 && std::memcmp(a.remote_addr, b.remote_addr, 16) == 0 &&
         a.local_port == b.local_port && a.remote_port == b.remote_port && a.proto == b.proto && a.netns == b.netns;
}

Joiner::Joiner(OwnerSource source, JoinOptions options)
    : resolver_(std::move(source), options.max_cached_owners),
      options_(options),
      flows_(0, TupleHash{RandomHashSeed()}),
      dns_(options.dns),
      tcp_(options.dns_tcp) {}

Joiner::Owner Joiner::FromKernel(const netmon_owner& o, uint64_t cookie, Via via) const {
  Owner owner;
  owner.tgid = o.tgid;
  owner.hook = o.source;
  owner.role = o.role;
  owner.via = via;
  owner.cookie = cookie;
  owner.name = SanitizeComm(o.comm);
  return owner;
}

Joiner::Owner Joiner::Resolve(uint64_t cookie, Via cookie_via, const netmon_tuple& tuple) {
  if (cookie != 0) {
    if (auto o = resolver_.ByCookie(cookie)) return FromKernel(*o, cookie, cookie_via);
  }
  Via via = Via::kNone;
  if (auto c = resolver_.CookieForTuple(tuple, &via)) {
    if (auto o = resolver_.ByCookie(*c)) return FromKernel(*o, *c, via);
  }
  // A TCP connection still in its listener's accept queue has a socket but no owner yet: its data belongs to the
  // process that will accept it, the listener's owner, until the accepted socket's owner is known (a later
  // interval, whose cookie then differs, resolves again). Without this a flush between the data and accept()
  // reported the bulk of such a connection with pid 0, and a PID filter dropped it.
  if (tuple.proto == IPPROTO_TCP) {
    if (auto c = resolver_.BoundCookieForTuple(tuple); c && *c != cookie) {
      // Keeps the listener's cookie: the next interval, which carries the connection's own, resolves again.
      if (auto o = resolver_.ByCookie(*c)) return FromKernel(*o, *c, Via::kListener);
    }
  }
  return Owner{};
}

Joiner::FlowState& Joiner::StateFor(const netmon_tuple& tuple) {
  auto it = flows_.find(tuple);
  if (it != flows_.end()) return it->second;
  // Full: the flow that closed first goes, else any. A dropped flow only loses its remembered attribution and
  // direction (re-derived on its next interval); its counts are deltas and stay right. No walk here: under
  // connection churn the table stays full, and a walk per new flow cost the server a third of a core.
  while (flows_.size() >= options_.max_flows && !flows_.empty()) {
    if (!DropOldestClosed()) flows_.erase(flows_.begin());
    ++stats_.flow_state_evicted;
  }
  return flows_[tuple];
}

bool Joiner::DropOldestClosed() {
  while (!closed_order_.empty()) {
    auto [tuple, closed_ns] = closed_order_.front();
    closed_order_.pop_front();
    auto it = flows_.find(tuple);
    if (it != flows_.end() && it->second.closed && it->second.closed_ns == closed_ns) {
      flows_.erase(it);
      return true;
    }
  }
  return false;
}

void Joiner::DecideInitiator(FlowState& st, const flow::FlowSample& s) {
  if (Strong(st.basis)) return;
  const netmon_tuple& t = s.tuple;
  uint8_t role = st.role != NETMON_ROLE_UNKNOWN ? st.role : st.owner.role;
  if (role == NETMON_ROLE_ACTIVE || role == NETMON_ROLE_PASSIVE) {
    st.local_is_source = role == NETMON_ROLE_ACTIVE;
    st.basis = InitiatorBasis::kRole;
    return;
  }
  if (s.syn_dir == 1 + NETMON_DIR_EGRESS || s.syn_dir == 1 + NETMON_DIR_INGRESS) {
    st.local_is_source = s.syn_dir == 1 + NETMON_DIR_EGRESS;
    st.basis = InitiatorBasis::kSyn;
    return;
  }
  if (st.basis != InitiatorBasis::kNone) return;  // keep a weak decision stable across intervals
  bool local_initiated = true;
  if (t.proto == IPPROTO_TCP && PortsSayLocalInitiated(t.local_port, t.remote_port, &local_initiated)) {
    st.local_is_source = local_initiated;
    st.basis = InitiatorBasis::kPorts;
    return;
  }
  st.local_is_source = s.first_dir == NETMON_DIR_EGRESS;
  st.basis = InitiatorBasis::kFirstPacket;
}

void Joiner::AppendAttribution(JsonWriter& w, const Owner& owner) const {
  w.Key("attribution").BeginObject();
  w.FieldLiteral("via", ViaName(owner.tgid != 0 ? owner.via : Via::kNone));
  if (owner.tgid != 0) w.FieldLiteral("hook", OwnerSourceName(owner.hook));
  w.EndObject();
}

void Joiner::FillProcess(Event& ev, const Owner& owner) {
  ev.pid = owner.tgid;
  if (owner.tgid != 0) ev.process_name = owner.name;
}

void Joiner::OnFlows(std::span<const flow::FlowSample> samples, std::vector<Event>* out) {
  out->reserve(out->size() + samples.size());
  for (const flow::FlowSample& s : samples) {
    uint64_t egress_b = s.bytes[NETMON_DIR_EGRESS], ingress_b = s.bytes[NETMON_DIR_INGRESS];
    uint64_t egress_p = s.packets[NETMON_DIR_EGRESS], ingress_p = s.packets[NETMON_DIR_INGRESS];
    if (egress_b == 0 && ingress_b == 0 && egress_p == 0 && ingress_p == 0) continue;

    FlowState& st = StateFor(s.tuple);
    // (Re-)attribute when we know nobody yet, or the packet layer names another socket (the tuple was reused).
    if (st.owner.tgid == 0 || (s.cookie != 0 && s.cookie != st.owner.cookie)) {
      Owner o = Resolve(s.cookie, Via::kSkbCookie, s.tuple);
      if (o.tgid != 0) st.owner = std::move(o);
    }
    DecideInitiator(st, s);

    uint64_t end = s.last_seen_ns;
    uint64_t start = st.last_end_ns != 0 ? st.last_end_ns : s.first_seen_ns;
    start = std::max(start, epoch_ns_);
    if (end == 0) end = start;
    if (start > end) start = end;

    Event ev;
    ev.type = EventType::kData;
    ev.proto = s.tuple.proto;
    ev.timestamp_ns = clock_.ToWall(end);
    ev.bytes_sent = static_cast<int64_t>(egress_b);
    ev.bytes_received = static_cast<int64_t>(ingress_b);
    ev.packets = egress_p + ingress_p;
    Endpoint local = LocalOf(s.tuple), remote = RemoteOf(s.tuple);
    ev.src = st.local_is_source ? local : remote;
    ev.dst = st.local_is_source ? remote : local;
    if (st.source_text.empty() || st.text_local_is_source != st.local_is_source) {
      st.source_text = FormatEndpoint(ev.src);
      st.dest_text = FormatEndpoint(ev.dst);
      st.text_local_is_source = st.local_is_source;
    }
    ev.source_addr = st.source_text;
    ev.dest_addr = st.dest_text;
    FillProcess(ev, st.owner);

    JsonWriter w;
    w.BeginObject()
        .FieldLiteral("protocol", ProtocolName(s.tuple.proto))
        .FieldUint("packets_sent", egress_p)
        .FieldUint("packets_received", ingress_p)
        .FieldUint("segments_sent", s.segments[NETMON_DIR_EGRESS])
        .FieldUint("segments_received", s.segments[NETMON_DIR_INGRESS])
        .FieldInt("interval_start_ns", clock_.ToWall(start))
        .FieldInt("interval_end_ns", clock_.ToWall(end))
        .FieldLiteral("initiator", InitiatorBasisName(st.basis));
    AppendAttribution(w, st.owner);
    w.EndObject();
    ev.extra_info = w.Take();
    // Retained events keep this string for the capture's life: do not keep the writer's slack with it.
    if (ev.extra_info.capacity() > ev.extra_info.size() + 32) ev.extra_info.shrink_to_fit();

    st.last_end_ns = end;
    st.last_activity_ns = std::max(st.last_activity_ns, end);
    st.bytes[NETMON_DIR_EGRESS] += egress_b;
    st.bytes[NETMON_DIR_INGRESS] += ingress_b;
    st.packets[NETMON_DIR_EGRESS] += egress_p;
    st.packets[NETMON_DIR_INGRESS] += ingress_p;

    ++stats_.data_events;
    if (ev.pid == 0) {
      ++stats_.unattributed_events;
      stats_.unattributed_bytes += egress_b + ingress_b;
      stats_.unattributed_packets += egress_p + ingress_p;
    }
    out->push_back(std::move(ev));
  }
}

void Joiner::OnSockEvent(const netmon_sock_event& ev, std::vector<Event>* out) {
  Owner owner;
  if (ev.owner.tgid != 0) {
    resolver_.Remember(ev.cookie, ev.owner);
    owner = FromKernel(ev.owner, ev.cookie, Via::kSockEvent);
  }
  if (ev.type == NETMON_SOCK_OWNER) return;
  if (ev.type != NETMON_SOCK_CONNECT && ev.type != NETMON_SOCK_ACCEPT && ev.type != NETMON_SOCK_CLOSE) return;

  FlowState& st = StateFor(ev.tuple);
  if (owner.tgid == 0) owner = Resolve(ev.cookie, Via::kCookie, ev.tuple);
  if (owner.tgid == 0) owner = st.owner;  // the flow was attributed earlier (e.g. the owner is gone by now)
  if (owner.tgid != 0 && st.owner.tgid == 0) st.owner = owner;
  st.last_activity_ns = std::max<uint64_t>(st.last_activity_ns, ev.ts_ns);

  Event out_ev;
  out_ev.proto = ev.tuple.proto;
  out_ev.timestamp_ns = clock_.ToWall(ev.ts_ns);
  Endpoint local = LocalOf(ev.tuple), remote = RemoteOf(ev.tuple);
  FillProcess(out_ev, owner);

  JsonWriter w;
  w.BeginObject().FieldLiteral("protocol", ProtocolName(ev.tuple.proto));
  switch (ev.type) {
    case NETMON_SOCK_CONNECT:
      out_ev.type = EventType::kConnect;
      st.role = NETMON_ROLE_ACTIVE;
      st.local_is_source = true;
      st.basis = InitiatorBasis::kRole;
      SetEndpoints(out_ev, local, remote);
      w.FieldLiteral("outcome", ConnectOutcomeName(ev.outcome)).FieldUint("latency_us", ev.latency_ns / 1000);
      if (ev.err != 0) w.FieldInt("error", ev.err < 0 ? -ev.err : ev.err);
      break;
    case NETMON_SOCK_ACCEPT:
      out_ev.type = EventType::kAccept;
      st.role = NETMON_ROLE_PASSIVE;
      st.local_is_source = false;
      st.basis = InitiatorBasis::kRole;
      SetEndpoints(out_ev, remote, local);
      break;
    default: {  // NETMON_SOCK_CLOSE
      out_ev.type = EventType::kClose;
      uint8_t role = ev.role != NETMON_ROLE_UNKNOWN ? ev.role : owner.role;
      bool local_src = st.local_is_source;
      if (role == NETMON_ROLE_ACTIVE || role == NETMON_ROLE_PASSIVE) {
        local_src = role == NETMON_ROLE_ACTIVE;
      } else if (st.basis == InitiatorBasis::kNone) {
        bool li = true;
        if (PortsSayLocalInitiated(ev.tuple.local_port, ev.tuple.remote_port, &li)) local_src = li;
      }
      if (local_src) {
        SetEndpoints(out_ev, local, remote);
      } else {
        SetEndpoints(out_ev, remote, local);
      }
      // bytes_sent/received: the socket's own payload totals for the whole connection (tcp_sock counters),
      // which also cover connections older than the capture. The L3 totals seen during the capture (what its
      // DATA events sum to) go to extra_info.
      out_ev.bytes_sent = static_cast<int64_t>(ev.bytes_sent);
      out_ev.bytes_received = static_cast<int64_t>(ev.bytes_received);
      w.FieldUint("duration_ms", ev.latency_ns / 1'000'000)
          .FieldUint("l3_bytes_sent", st.bytes[NETMON_DIR_EGRESS])
          .FieldUint("l3_bytes_received", st.bytes[NETMON_DIR_INGRESS])
          .FieldUint("packets_sent", st.packets[NETMON_DIR_EGRESS])
          .FieldUint("packets_received", st.packets[NETMON_DIR_INGRESS]);
      st.closed = true;
      st.closed_ns = ev.ts_ns;
      closed_order_.emplace_back(ev.tuple, ev.ts_ns);
      // Bounded like flows_: a queue longer than the table holds entries of flows long gone.
      if (closed_order_.size() > options_.max_flows) closed_order_.pop_front();
      if (ev.tuple.proto == IPPROTO_TCP) {
        tcp_.Close(StreamKey(ev.tuple, NETMON_DIR_EGRESS));
        tcp_.Close(StreamKey(ev.tuple, NETMON_DIR_INGRESS));
      }
      break;
    }
  }
  AppendAttribution(w, owner);
  w.EndObject();
  out_ev.extra_info = w.Take();
  ++stats_.lifecycle_events;
  if (out_ev.pid == 0) ++stats_.unattributed_events;
  out->push_back(std::move(out_ev));
}

std::string Joiner::StreamKey(const netmon_tuple& t, uint8_t dir) {
  std::string key(reinterpret_cast<const char*>(t.local_addr), 32);
  key.append(reinterpret_cast<const char*>(&t.local_port), 4);
  key.append(reinterpret_cast<const char*>(&t.netns), 4);
  key.push_back(static_cast<char>(dir));
  return key;
}

void Joiner::OnDnsEvent(const netmon_dns_event& ev, std::vector<Event>* out) {
  size_t cap = std::min<size_t>(ev.cap_len, NETMON_DNS_MAX_PAYLOAD);
  std::span<const uint8_t> data(ev.payload, cap);
  bool tcp = ev.is_tcp != 0 || ev.tuple.proto == IPPROTO_TCP;
  if (!tcp) {
    EmitDns(ev, data, ev.msg_len, out);
    return;
  }
  // TCP: the kernel hands us segment payloads, length prefixes included (abi.h); messages may span segments.
  std::string key = StreamKey(ev.tuple, ev.dir);
  if (ev.msg_len != 0) {
    // This segment starts a message: whatever the stream held was a message we will never complete.
    tcp_.Reset(key);
    if (cap == NETMON_DNS_MAX_PAYLOAD && cap < 2u + ev.msg_len) {
      // The kernel's copy was cut: decode the prefix we have and skip the rest of this message.
      EmitDns(ev, data.subspan(2), ev.msg_len, out);
      return;
    }
  }
  tcp_.Feed(key, data, [&](std::span<const uint8_t> msg) { EmitDns(ev, msg, msg.size(), out); });
}

void Joiner::EmitDns(const netmon_dns_event& ev, std::span<const uint8_t> data, size_t wire_len,
                     std::vector<Event>* out) {
  dns::DecodeResult res = dns::Decode(data, wire_len);
  const dns::Message& msg = res.message;
  // A message long enough for a header has its own id and flags (for TCP these may differ from the segment's
  // first message); otherwise the kernel's copy of the header is what we have.
  uint16_t id = ev.id, flags = ev.flags;
  if (data.size() >= dns::kHeaderSize) {
    id = msg.header.id;
    flags = msg.header.flags;
  }
  bool response = (flags & 0x8000) != 0;
  bool tcp = ev.is_tcp != 0 || ev.tuple.proto == IPPROTO_TCP;

  Endpoint local = LocalOf(ev.tuple), remote = RemoteOf(ev.tuple);
  bool egress = ev.dir == NETMON_DIR_EGRESS;
  const Endpoint& pkt_src = egress ? local : remote;
  const Endpoint& pkt_dst = egress ? remote : local;
  const Endpoint& client = response ? pkt_dst : pkt_src;
  const Endpoint& server = response ? pkt_src : pkt_dst;

  std::string name;
  uint16_t qtype = 0;
  if (!msg.questions.empty()) {
    name = msg.questions.front().name;
    qtype = msg.questions.front().qtype;
  }

  Owner owner = Resolve(ev.cookie, Via::kSkbCookie, ev.tuple);

  dns::QueryKey key;
  key.netns = ev.tuple.netns;
  key.client_addr = client.addr;
  key.server_addr = server.addr;
  key.client_port = client.port;
  key.server_port = server.port;
  key.transport = tcp ? dns::Transport::kTcp : dns::Transport::kUdp;
  key.id = id;
  std::optional<dns::AnsweredQuery> answered;
  if (response) {
    answered = dns_.OnResponse(key, ev.ts_ns);
    if (owner.tgid == 0 && answered && answered->query.cookie != 0) {
      if (auto o = resolver_.ByCookie(answered->query.cookie)) {
        owner = FromKernel(*o, answered->query.cookie, Via::kDnsQuery);
      }
    }
  } else {
    dns_.OnQuery(key, ev.ts_ns, dns::QueryInfo{name, qtype, owner.cookie});
  }

  Event out_ev;
  out_ev.type = response ? EventType::kDnsResponse : EventType::kDnsQuery;
  out_ev.proto = ev.tuple.proto;
  out_ev.timestamp_ns = clock_.ToWall(ev.ts_ns);
  out_ev.source_addr = FormatEndpoint(pkt_src);
  out_ev.dest_addr = FormatEndpoint(pkt_dst);
  out_ev.src = client;
  out_ev.dst = server;
  auto len = static_cast<int64_t>(wire_len);
  if (egress) {
    out_ev.bytes_sent = len;
  } else {
    out_ev.bytes_received = len;
  }
  FillProcess(out_ev, owner);

  JsonWriter w;
  w.BeginObject()
      .FieldUint("id", id)
      .Field("name", name)
      .Field("type", dns::TypeName(qtype))
      .Field("protocol", tcp ? "tcp" : "udp");
  if (response) {
    w.Field("rcode", dns::RcodeName(static_cast<uint8_t>(flags & 0x000f)));
    w.Key("answers").BeginArray();
    for (const dns::ResourceRecord& rr : msg.answers) {
      w.BeginObject().Field("name", rr.name).Field("type", dns::TypeName(rr.type)).FieldUint("ttl", rr.ttl);
      if (!rr.text.empty()) w.Field("data", rr.text);
      w.EndObject();
    }
    w.EndArray();
    if (answered) w.FieldUint("latency_us", answered->latency_us);
  }
  if (msg.truncated) w.FieldBool("truncated", true);
  if (!res.ok()) {
    ++stats_.dns_decode_errors;
    w.Field("decode_error", dns::DecodeErrorName(res.error));
  }
  AppendAttribution(w, owner);
  w.EndObject();
  out_ev.extra_info = w.Take();

  ++stats_.dns_events;
  if (out_ev.pid == 0) ++stats_.unattributed_events;
  out->push_back(std::move(out_ev));
}

void Joiner::Expire(uint64_t now_ns) {
  while (!closed_order_.empty() && closed_order_.front().second + options_.closed_linger_ns < now_ns) {
    auto it = flows_.find(closed_order_.front().first);
    if (it != flows_.end() && it->second.closed && it->second.closed_ns == closed_order_.front().second) {
      flows_.erase(it);
    }
    closed_order_.pop_front();
  }
  if (now_ns >= next_idle_scan_ns_) {
    next_idle_scan_ns_ = now_ns + options_.idle_scan_interval_ns;
    for (auto it = flows_.begin(); it != flows_.end();) {
      const FlowState& st = it->second;
      bool idle = st.last_activity_ns + options_.flow_idle_ns < now_ns;
      bool gone = st.closed && st.closed_ns + options_.closed_linger_ns < now_ns;
      if (idle || gone) {
        flows_.erase(it++);
      } else {
        ++it;
      }
    }
  }
  stats_.dns_timeouts += dns_.Expire(now_ns).size();
}

void Joiner::Reset(uint64_t now_ns) {
  flows_.clear();
  closed_order_.clear();
  next_idle_scan_ns_ = 0;
  resolver_.Clear();
  dns_ = dns::DnsTracker(options_.dns);
  tcp_ = dns::TcpReassembler(options_.dns_tcp);
  epoch_ns_ = now_ns;
}

}  // namespace netmon::join
