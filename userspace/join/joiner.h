// SPDX-License-Identifier: Apache-2.0
// The join (docs/architecture.md §3): flow counters from the packet layer + socket owners + lifecycle events + DNS
// messages -> Events with the exact semantics of §4.3. Pure logic over plain structs: no kernel, no gRPC. The
// caller (the server's engine) feeds it from one thread; it is not thread-safe.
//
// What it guarantees:
// - DATA: one event per flow and flush that saw traffic, carrying that interval's L3 bytes and packets as
//   deltas, so the DATA events of a flow sum to its total. bytes_sent = egress, bytes_received = ingress: the
//   process's point of view whichever side initiated.
// - source = the initiator of the flow (owner role, else the SYN's direction, else the first packet's direction
//   for UDP, else the port heuristic), dest = the responder; DNS events follow the packet.
// - Traffic no process can be tied to is emitted with pid 0 / "" and counted in stats(), never dropped.
#pragma once

#include <cstdint>
#include <deque>
#include <span>
#include <string>
#include <vector>

#include "absl/container/flat_hash_map.h"
#include "dns/dns_tracker.h"
#include "dns/tcp_reassembler.h"
#include "flow/flow_sample.h"
#include "join/event.h"
#include "join/owner_resolver.h"
#include "join/wall_clock.h"
#include "netmon/abi.h"

namespace netmon::join {

struct JoinOptions {
  size_t max_flows = 262144;  // per-flow state kept (attribution, direction, interval bounds, totals)
  size_t max_cached_owners = 65536;
  uint64_t flow_idle_ns = 300'000'000'000;          // forget a flow's state after this long without traffic
  uint64_t closed_linger_ns = 30'000'000'000;       // ... or this long after its CLOSE (late packets still join)
  uint64_t idle_scan_interval_ns = 10'000'000'000;  // how often Expire walks every flow for idle ones
  dns::DnsTracker::Options dns;
  dns::TcpReassembler::Options dns_tcp;
};

struct JoinStats {
  uint64_t data_events = 0;
  uint64_t lifecycle_events = 0;  // CONNECT + ACCEPT + CLOSE
  uint64_t dns_events = 0;
  uint64_t unattributed_events = 0;
  uint64_t unattributed_bytes = 0;  // L3 bytes of DATA with pid 0
  uint64_t unattributed_packets = 0;
  uint64_t dns_decode_errors = 0;   // messages the decoder rejected (still emitted, with decode_error)
  uint64_t dns_timeouts = 0;        // queries never answered
  uint64_t flow_state_evicted = 0;  // per-flow state dropped because max_flows was reached
};

// Why the join believes which side initiated a flow (reported as extra_info "initiator").
enum class InitiatorBasis : uint8_t { kNone = 0, kRole, kSyn, kFirstPacket, kPorts };

class Joiner {
 public:
  explicit Joiner(OwnerSource source, JoinOptions options = {});

  // Monotonic -> wall conversion for what follows; the owner re-samples it on every flush.
  void SetClock(WallClock clock) { clock_ = clock; }
  const WallClock& clock() const { return clock_; }

  // DATA events for the flows that saw traffic since the previous read.
  void OnFlows(std::span<const flow::FlowSample> samples, std::vector<Event>* out);
  // CONNECT / ACCEPT / CLOSE (NETMON_SOCK_OWNER only teaches the owner cache).
  void OnSockEvent(const netmon_sock_event& ev, std::vector<Event>* out);
  // DNS_QUERY / DNS_RESPONSE.
  void OnDnsEvent(const netmon_dns_event& ev, std::vector<Event>* out);

  // Forgets long-closed flows (oldest first, from a queue: no walk) and, at most every idle_scan_interval_ns,
  // idle ones (a walk); expires unanswered DNS queries. `now_ns` is monotonic.
  void Expire(uint64_t now_ns);
  // Forgets everything: the programs were detached, the kernel's view starts over. Intervals of flows seen
  // after this start no earlier than `now_ns` (monotonic).
  void Reset(uint64_t now_ns);

  const JoinStats& stats() const { return stats_; }
  const dns::DnsTracker::Stats& dns_stats() const { return dns_.stats(); }
  const dns::TcpReassembler::Stats& dns_tcp_stats() const { return tcp_.stats(); }
  size_t flow_count() const { return flows_.size(); }

 private:
  struct TupleHash {
    uint64_t seed;
    size_t operator()(const netmon_tuple& t) const;
  };
  struct TupleEq {
    bool operator()(const netmon_tuple& a, const netmon_tuple& b) const;
  };
  struct Owner {
    uint32_t tgid = 0;
    uint8_t hook = NETMON_SRC_NONE;  // enum netmon_owner_source
    uint8_t role = NETMON_ROLE_UNKNOWN;
    Via via = Via::kNone;
    uint64_t cookie = 0;
    std::string name;  // sanitized comm
  };
  struct FlowState {
    Owner owner;
    uint8_t role = NETMON_ROLE_UNKNOWN;  // from CONNECT/ACCEPT or the owner
    InitiatorBasis basis = InitiatorBasis::kNone;
    bool local_is_source = true;
    bool closed = false;
    uint64_t last_end_ns = 0;  // monotonic end of the last interval emitted, 0 = none yet
    uint64_t last_activity_ns = 0;
    uint64_t closed_ns = 0;
    uint64_t bytes[NETMON_DIR_COUNT] = {};
    uint64_t packets[NETMON_DIR_COUNT] = {};
    // Text of the source/dest as last emitted: a flow's DATA events repeat them, and formatting addresses is the
    // join's most expensive step per event.
    bool text_local_is_source = false;
    std::string source_text, dest_text;
  };
  // Open addressing: a lookup is one probe of the control bytes and one slot, where the node-based map walked a
  // bucket chain of cache misses (a fifth of the server's CPU under connection churn, perf). References into it
  // last until the next insert: StateFor's callers hold one only while they fill in that flow.
  using FlowMap = absl::flat_hash_map<netmon_tuple, FlowState, TupleHash, TupleEq>;

  FlowState& StateFor(const netmon_tuple& tuple);
  // Drops the flow that closed first, if it is still closed as queued; false when no queued flow was dropped.
  bool DropOldestClosed();
  Owner FromKernel(const netmon_owner& o, uint64_t cookie, Via via) const;
  // Resolves an owner by cookie, then by tuple. Returns an owner with tgid 0 if nothing matched.
  Owner Resolve(uint64_t cookie, Via cookie_via, const netmon_tuple& tuple);
  void DecideInitiator(FlowState& st, const flow::FlowSample& s);
  void EmitDns(const netmon_dns_event& ev, std::span<const uint8_t> message, size_t wire_len, std::vector<Event>* out);
  static std::string StreamKey(const netmon_tuple& t, uint8_t dir);
  void AppendAttribution(class JsonWriter& w, const Owner& owner) const;
  void FillProcess(Event& ev, const Owner& owner);

  OwnerResolver resolver_;
  JoinOptions options_;
  WallClock clock_;
  FlowMap flows_;
  // Flows in the order they closed (tuple, closed_ns): closed ones expire, and make room when flows_ is full, in
  // that order without a walk of flows_. An entry whose flow was reused or dropped since is skipped.
  std::deque<std::pair<netmon_tuple, uint64_t>> closed_order_;
  uint64_t next_idle_scan_ns_ = 0;
  dns::DnsTracker dns_;
  dns::TcpReassembler tcp_;
  JoinStats stats_;
  uint64_t epoch_ns_ = 0;
};

std::string_view ProtocolName(uint8_t proto);
std::string_view InitiatorBasisName(InitiatorBasis basis);
std::string_view ConnectOutcomeName(uint8_t outcome);

}  // namespace netmon::join
