// SPDX-License-Identifier: Apache-2.0
// bpf/tc under BPF_PROG_TEST_RUN: every fixture through netmon_tc_ingress and netmon_tc_egress, every prefix of
// two DNS packets, the kernel filter, and attribution through the tuple map. Needs root (loads programs).
#include <bpf/bpf.h>
#include <gtest/gtest.h>

#include <cstring>
#include <map>

#include "../fixtures/packet_cases.h"
#include "../fixtures/packet_harness.h"
#include "dns_record.h"
#include "flow/flow_reader.h"

namespace netmon::testing {
namespace {

class TcTestRun : public ::testing::Test {
 protected:
  void SetUp() override {
    h_ = Harness::Create();
    ASSERT_NE(h_, nullptr);
  }
  void RunBothWays(const std::vector<Case>& cases) {
    for (const Case& c : cases) {
      ExpectCase(c, NETMON_DIR_INGRESS, h_->RunFresh(h_->layer().prog_fd_tc_ingress(), *c.pkt), h_->netns(),
                 kTcActUnspec);
      ExpectCase(c, NETMON_DIR_EGRESS, h_->RunFresh(h_->layer().prog_fd_tc_egress(), *c.pkt), h_->netns(), kTcActUnspec,
                 /*has_socket=*/true, h_->shared().tuples_fd());
    }
  }
  std::unique_ptr<Harness> h_;
};

TEST_F(TcTestRun, Table) {
  RunBothWays(PacketCases());
}

TEST_F(TcTestRun, UdpDnsCutAtEveryByte) {
  CutCases cuts;
  BuildUdpDnsCuts(&cuts);
  RunBothWays(cuts.cases);
}

TEST_F(TcTestRun, TcpDnsCutAtEveryByte) {
  CutCases cuts;
  BuildTcpDnsCuts(&cuts);
  RunBothWays(cuts.cases);
}

TEST_F(TcTestRun, RepeatedPacketsAddUp) {
  // test-run's repeat runs the program N times on one CPU: the flow must hold N packets and N times the bytes.
  const fixtures::Packet& p = fixtures::kV4TcpData;
  h_->ClearFlows();
  DECLARE_LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = p.data, .data_size_in = static_cast<uint32_t>(p.len),
                      .repeat = 1000);
  ASSERT_EQ(bpf_prog_test_run_opts(h_->layer().prog_fd_tc_egress(), &opts), 0);
  std::vector<flow::FlowSample> flows;
  ASSERT_TRUE(h_->layer().ReadFlows(&flows).ok());
  ASSERT_EQ(flows.size(), 1u);
  EXPECT_EQ(flows[0].packets[NETMON_DIR_EGRESS], 1000u);
  EXPECT_EQ(flows[0].bytes[NETMON_DIR_EGRESS], 140u * 1000);
  // Deltas: nothing new since the last read.
  flows.clear();
  ASSERT_TRUE(h_->layer().ReadFlows(&flows).ok());
  EXPECT_TRUE(flows.empty());
}

// A GSO packet (here: test-run's skb given gso_segs 4, as a TCP sender's 4-segment super-packet) counts once in
// packets and four times in segments; a plain packet counts one segment.
TEST_F(TcTestRun, GsoPacketsCountTheirSegments) {
  const fixtures::Packet& p = fixtures::kV4TcpData;
  for (uint32_t gso_segs : {4u, 0u}) {
    SCOPED_TRACE(gso_segs);
    h_->ClearFlows();
    __sk_buff ctx{};
    ctx.gso_segs = gso_segs;
    DECLARE_LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = p.data, .data_size_in = static_cast<uint32_t>(p.len),
                        .ctx_in = &ctx, .ctx_size_in = sizeof(ctx));
    ASSERT_EQ(bpf_prog_test_run_opts(h_->layer().prog_fd_tc_egress(), &opts), 0) << errno;
    std::vector<flow::FlowSample> flows;
    ASSERT_TRUE(h_->layer().ReadFlows(&flows).ok());
    ASSERT_EQ(flows.size(), 1u);
    EXPECT_EQ(flows[0].packets[NETMON_DIR_EGRESS], 1u);
    EXPECT_EQ(flows[0].segments[NETMON_DIR_EGRESS], gso_segs == 0 ? 1u : gso_segs);
  }
}

// A closed flow's last delta is taken out of the map: the full read no longer sees it, the other flows are left
// alone, and a packet after the take starts the tuple from zero. A tuple without a flow is skipped.
TEST_F(TcTestRun, TakeClosedFlowsRemovesOnlyThoseFlows) {
  h_->ClearFlows();
  std::vector<uint8_t> pkt(fixtures::kV4Udp.data, fixtures::kV4Udp.data + fixtures::kV4Udp.len);
  auto send_from = [&](uint16_t port, int repeat) {
    pkt[34] = static_cast<uint8_t>(port >> 8);  // UDP source port (14 + 20)
    pkt[35] = static_cast<uint8_t>(port);
    DECLARE_LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt.data(),
                        .data_size_in = static_cast<uint32_t>(pkt.size()), .repeat = repeat);
    return bpf_prog_test_run_opts(h_->layer().prog_fd_tc_ingress(), &opts);
  };
  ASSERT_EQ(send_from(30001, 3), 0);
  ASSERT_EQ(send_from(30002, 5), 0);
  std::vector<flow::FlowSample> flows;
  ASSERT_TRUE(h_->layer().ReadFlows(&flows).ok());
  ASSERT_EQ(flows.size(), 2u);
  netmon_tuple closed{}, open{};
  for (const flow::FlowSample& s : flows) (s.tuple.remote_port == 30001 ? closed : open) = s.tuple;
  ASSERT_EQ(closed.remote_port, 30001);
  ASSERT_EQ(open.remote_port, 30002);

  ASSERT_EQ(send_from(30001, 2), 0);  // after the last read: only the take can report these
  netmon_tuple absent = closed;
  absent.remote_port = 30009;
  flows.clear();
  ASSERT_TRUE(h_->layer().TakeClosedFlows(std::vector<netmon_tuple>{closed, absent}, &flows).ok());
  ASSERT_EQ(flows.size(), 1u);
  EXPECT_EQ(flows[0].packets[NETMON_DIR_INGRESS], 2u) << "the delta since the last read";
  std::vector<flow::FlowSample> all;
  flow::FlowReader totals(h_->layer().flows_map_fd());
  ASSERT_TRUE(totals.ReadTotals(&all).ok());
  ASSERT_EQ(all.size(), 1u) << "taken out of the map";
  EXPECT_EQ(all[0].tuple.remote_port, 30002);
  EXPECT_EQ(all[0].packets[NETMON_DIR_INGRESS], 5u);

  // The tuple again: a new entry, reported from zero; the open flow has nothing new.
  ASSERT_EQ(send_from(30001, 4), 0);
  flows.clear();
  ASSERT_TRUE(h_->layer().ReadFlows(&flows).ok());
  ASSERT_EQ(flows.size(), 1u);
  EXPECT_EQ(flows[0].tuple.remote_port, 30001);
  EXPECT_EQ(flows[0].packets[NETMON_DIR_INGRESS], 4u);
}

// Thousands of flows: the batch reader walks several batches, and key-by-key iteration reads the same totals.
TEST_F(TcTestRun, BatchAndIterationReadTheSameFlows) {
  h_->ClearFlows();
  std::vector<uint8_t> pkt(fixtures::kV4Udp.data, fixtures::kV4Udp.data + fixtures::kV4Udp.len);
  constexpr int kFlows = 2500;  // more than one batch (FlowReader reads 1024 at a time)
  for (int i = 0; i < kFlows; ++i) {
    pkt[34] = static_cast<uint8_t>((20000 + i) >> 8);  // UDP source port (14 + 20)
    pkt[35] = static_cast<uint8_t>(20000 + i);
    DECLARE_LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt.data(),
                        .data_size_in = static_cast<uint32_t>(pkt.size()), .repeat = 1 + i % 3);
    ASSERT_EQ(bpf_prog_test_run_opts(h_->layer().prog_fd_tc_ingress(), &opts), 0);
  }
  flow::FlowReader batch(h_->layer().flows_map_fd()), iterate(h_->layer().flows_map_fd(), /*use_batch=*/false);
  std::vector<flow::FlowSample> a, b;
  ASSERT_TRUE(batch.ReadTotals(&a).ok());
  ASSERT_TRUE(iterate.ReadTotals(&b).ok());
  EXPECT_TRUE(batch.used_batch()) << "this kernel has batch lookups for per-CPU hashes";
  ASSERT_EQ(a.size(), static_cast<size_t>(kFlows));
  ASSERT_EQ(b.size(), a.size());
  std::map<uint16_t, uint64_t> packets_by_port;
  for (const flow::FlowSample& s : a) packets_by_port[s.tuple.remote_port] = s.packets[NETMON_DIR_INGRESS];
  for (const flow::FlowSample& s : b) {
    EXPECT_EQ(packets_by_port[s.tuple.remote_port], s.packets[NETMON_DIR_INGRESS]);
    EXPECT_EQ(s.packets[NETMON_DIR_INGRESS], 1u + (s.tuple.remote_port - 20000) % 3);
    EXPECT_EQ(s.bytes[NETMON_DIR_INGRESS], 33u * s.packets[NETMON_DIR_INGRESS]);
  }
}

TEST_F(TcTestRun, EmptyFilterSetCountsNothing) {
  h_->SetFilters({});
  for (const fixtures::Packet* p : {&fixtures::kV4TcpSyn, &fixtures::kDnsQueryA, &fixtures::kArp}) {
    Observed o = h_->Run(h_->layer().prog_fd_tc_ingress(), *p);
    SCOPED_TRACE(p->name);
    EXPECT_EQ(o.retval, kTcActUnspec);
    EXPECT_TRUE(o.flows.empty());
    EXPECT_TRUE(o.dns.empty());
    bpf::Counters want{};
    want[NETMON_CTR_PACKETS] = 1;
    want[NETMON_CTR_PACKETS_FILTERED] = 1;
    EXPECT_EQ(o.counters, want);
  }
}

TEST_F(TcTestRun, PortFilterKeepsOnlyMatchingFlows) {
  netmon_filter f{};
  f.flags = NETMON_FILTER_PORT;
  f.port = 53;
  h_->SetFilters({f});
  // DNS (port 53) is counted, and its record emitted.
  Observed dns = h_->Run(h_->layer().prog_fd_tc_egress(), fixtures::kDnsQueryA);
  EXPECT_EQ(dns.flows.size(), 1u);
  EXPECT_EQ(dns.dns.size(), 1u);
  EXPECT_EQ(dns.counters[NETMON_CTR_PACKETS_FILTERED], 0u);
  // Port 80 is not: filtered after parsing, nothing counted.
  Observed web = h_->Run(h_->layer().prog_fd_tc_egress(), fixtures::kV4TcpSyn);
  EXPECT_EQ(web.retval, kTcActUnspec);
  EXPECT_TRUE(web.flows.empty());
  EXPECT_EQ(web.counters[NETMON_CTR_PACKETS_FILTERED], 1u);
  EXPECT_EQ(web.counters[NETMON_CTR_UNATTRIB_PACKETS], 0u);
  // Port matches local or remote: the response direction (53 is the source) matches as well.
  Observed resp = h_->Run(h_->layer().prog_fd_tc_ingress(), fixtures::kDnsRespA);
  EXPECT_EQ(resp.flows.size(), 1u);
  EXPECT_EQ(resp.dns.size(), 1u);
}

// A filter change is atomic for the captures that keep running: while the new set is being written, packets are
// still judged by the old one (never by an empty or half-written set), and from the publish on by the new one.
TEST_F(TcTestRun, FilterChangesAreAtomicForOtherCaptures) {
  netmon_filter dns{};
  dns.flags = NETMON_FILTER_PORT;
  dns.port = 53;
  netmon_filter web{};
  web.flags = NETMON_FILTER_PORT;
  web.port = 80;
  h_->SetFilters({dns});
  const int prog = h_->layer().prog_fd_tc_egress();
  ASSERT_EQ(h_->Run(prog, fixtures::kDnsQueryA).flows.size(), 1u);
  for (int round = 0; round < 3; ++round) {  // both banks, and back
    SCOPED_TRACE(round);
    bool ran = false;
    auto st = h_->shared().SetFilters({web, dns}, [&] {
      ran = true;
      Observed mid_dns = h_->Run(prog, fixtures::kDnsQueryA);
      EXPECT_EQ(mid_dns.flows.size(), 1u) << "the old set still counts DNS while the new one is written";
      EXPECT_EQ(mid_dns.counters[NETMON_CTR_PACKETS_FILTERED], 0u);
      Observed mid_web = h_->Run(prog, fixtures::kV4TcpSyn);
      EXPECT_TRUE(mid_web.flows.empty()) << "the new set is not in force before it is published";
    });
    ASSERT_TRUE(st.ok()) << st;
    EXPECT_TRUE(ran);
    EXPECT_EQ(h_->Run(prog, fixtures::kV4TcpSyn).flows.size(), 1u) << "published: port 80 counts now";
    EXPECT_EQ(h_->Run(prog, fixtures::kDnsQueryA).flows.size(), 1u);
    ASSERT_TRUE(h_->shared().SetFilters({dns}).ok());
    EXPECT_TRUE(h_->Run(prog, fixtures::kV4TcpSyn).flows.empty());
  }
}

TEST_F(TcTestRun, AddressFilterMatchesEitherSide) {
  netmon_filter f{};
  f.flags = NETMON_FILTER_DST;
  f.dst_prefix = 128;
  auto a = Addr(S6);
  std::memcpy(f.dst_addr, a.data(), 16);
  h_->SetFilters({f});
  EXPECT_EQ(h_->Run(h_->layer().prog_fd_tc_egress(), fixtures::kV6TcpSyn).flows.size(), 1u);
  EXPECT_EQ(h_->Run(h_->layer().prog_fd_tc_ingress(), fixtures::kV6TcpSyn).flows.size(), 1u);
  EXPECT_TRUE(h_->Run(h_->layer().prog_fd_tc_egress(), fixtures::kV4TcpSyn).flows.empty());
  // A /120 over the mapped address space: 10.0.0.0/24.
  f.dst_prefix = 120;
  a = Addr("10.0.0.0");
  std::memcpy(f.dst_addr, a.data(), 16);
  h_->SetFilters({f});
  EXPECT_EQ(h_->Run(h_->layer().prog_fd_tc_egress(), fixtures::kV4TcpSyn).flows.size(), 1u);
  EXPECT_TRUE(h_->Run(h_->layer().prog_fd_tc_egress(), fixtures::kV6TcpSyn).flows.empty());
}

// Ingress packets carry no socket: the cookie comes from netmon_tuples, exact key first, then the wildcard keys
// the socket layer writes for bound sockets. The owner's tgid then feeds the PID filter.
TEST_F(TcTestRun, IngressAttributionThroughTupleMap) {
  const fixtures::Packet& p = fixtures::kDnsRespA;  // 10.0.0.2:53 -> 10.0.0.1:53001
  const FlowExpect fe{S4, C4, 53, 53001, kUdp};
  const netmon_tuple exact = Orient(fe, NETMON_DIR_INGRESS, h_->netns());
  netmon_tuple bound = exact;  // remote side zero: a socket bound to 10.0.0.1:53001
  std::memset(bound.remote_addr, 0, 16);
  bound.remote_port = 0;
  netmon_tuple any = bound;  // local address zero too: bound to the any-address
  std::memset(any.local_addr, 0, 16);

  netmon_owner owner{};
  owner.tgid = 4242;
  ASSERT_TRUE(h_->shared().PutOwner(77, owner).ok());

  struct Step {
    const char* what;
    const netmon_tuple* key;
    uint64_t cookie;
  };
  for (const Step& step : {Step{"bound to any", &any, 79}, Step{"bound", &bound, 78}, Step{"exact", &exact, 77}}) {
    SCOPED_TRACE(step.what);
    ASSERT_TRUE(h_->shared().PutTuple(*step.key, netmon_tuple_owner{step.cookie, 1}).ok());
    Observed o = h_->Run(h_->layer().prog_fd_tc_ingress(), p);
    ASSERT_EQ(o.flows.size(), 1u);
    EXPECT_EQ(o.flows[0].cookie, step.cookie);
    EXPECT_EQ(o.counters[NETMON_CTR_UNATTRIB_PACKETS], 0u);
    EXPECT_EQ(o.counters[NETMON_CTR_UNATTRIB_BYTES], 0u);
    ASSERT_EQ(o.dns.size(), 1u);
    EXPECT_EQ(o.dns[0].cookie, step.cookie);
  }

  // PID filter: the exact tuple's cookie 77 is owned by 4242.
  netmon_filter pid{};
  pid.flags = NETMON_FILTER_PID;
  pid.tgid = 4242;
  h_->SetFilters({pid});
  EXPECT_EQ(h_->Run(h_->layer().prog_fd_tc_ingress(), p).flows.size(), 1u);
  pid.tgid = 4243;
  h_->SetFilters({pid});
  Observed other = h_->Run(h_->layer().prog_fd_tc_ingress(), p);
  EXPECT_TRUE(other.flows.empty());
  EXPECT_TRUE(other.dns.empty()) << "DNS is subject to the same filter";
  EXPECT_EQ(other.counters[NETMON_CTR_PACKETS_FILTERED], 1u);
  // Traffic whose owner is not known (yet) is kept under a PID filter and counted as unattributed: the owner
  // may still come (data that arrives before accept()), and userspace applies each session's filter exactly
  // once it resolves the owner.
  Observed unowned = h_->Run(h_->layer().prog_fd_tc_ingress(), fixtures::kV4Udp);
  ASSERT_EQ(unowned.flows.size(), 1u);
  EXPECT_EQ(unowned.flows[0].cookie, 0u);
  EXPECT_EQ(unowned.counters[NETMON_CTR_UNATTRIB_PACKETS], 1u);
}

// The first packet of a flow decides (cookie, owner, filters) and caches the verdict in the flow's slot; later
// packets follow it. A filter change or an owner handoff makes the cached verdict stale.
TEST_F(TcTestRun, FlowVerdictIsCachedUntilFiltersOrOwnersChange) {
  const fixtures::Packet& p = fixtures::kDnsRespA;  // 10.0.0.2:53 -> 10.0.0.1:53001
  const FlowExpect fe{S4, C4, 53, 53001, kUdp};
  const netmon_tuple exact = Orient(fe, NETMON_DIR_INGRESS, h_->netns());
  netmon_owner owner{};
  owner.tgid = 4242;
  ASSERT_TRUE(h_->shared().PutOwner(77, owner).ok());
  ASSERT_TRUE(h_->shared().PutTuple(exact, netmon_tuple_owner{77, 1}).ok());
  netmon_filter pid{};
  pid.flags = NETMON_FILTER_PID;
  pid.tgid = 4243;  // another process
  h_->SetFilters({pid});
  h_->ClearFlows();
  const int prog = h_->layer().prog_fd_tc_ingress();

  Observed dropped = h_->RunKeepingFlows(prog, p.data, p.len, 3);
  EXPECT_TRUE(dropped.flows.empty()) << "a DROP entry keeps no counts";
  EXPECT_EQ(dropped.counters[NETMON_CTR_PACKETS_FILTERED], 3u);
  netmon_flow_stats cached[256] = {};
  ASSERT_EQ(bpf_map_lookup_elem(h_->layer().flows_map_fd(), &exact, cached), 0) << "the verdict is kept";
  bool drop_cached = false;
  for (const auto& slot : cached) drop_cached = drop_cached || slot.verdict == NETMON_VERDICT_DROP;
  EXPECT_TRUE(drop_cached);

  // The socket passes to the filtered process (fork after accept, fd passing): the socket layer bumps the owner
  // generation, and the next packet decides again.
  owner.tgid = 4243;
  ASSERT_TRUE(h_->shared().PutOwner(77, owner).ok());
  uint32_t k = NETMON_FILTER_ST_OWNERS;
  netmon_filter_state owners{};
  ASSERT_EQ(bpf_map_lookup_elem(h_->shared().filter_state_fd(), &k, &owners), 0);
  ++owners.generation;
  ASSERT_EQ(bpf_map_update_elem(h_->shared().filter_state_fd(), &k, &owners, BPF_ANY), 0);
  Observed counted = h_->RunKeepingFlows(prog, p.data, p.len, 3);
  ASSERT_EQ(counted.flows.size(), 1u);
  EXPECT_EQ(counted.flows[0].packets[NETMON_DIR_INGRESS], 3u);
  EXPECT_EQ(counted.flows[0].cookie, 77u);

  // A new filter set that excludes it again: the cached COUNT is stale, the flow is dropped from the next packet.
  pid.tgid = 4244;
  h_->SetFilters({pid});
  Observed again = h_->RunKeepingFlows(prog, p.data, p.len, 2);
  EXPECT_TRUE(again.flows.empty());
  EXPECT_EQ(again.counters[NETMON_CTR_PACKETS_FILTERED], 2u);
}

TEST_F(TcTestRun, InterfaceNotInMapKeysNetnsZero) {
  uint32_t key = kLoopbackIfindex;
  ASSERT_EQ(bpf_map_delete_elem(h_->layer().ifaces_map_fd(), &key), 0);
  Observed o = h_->Run(h_->layer().prog_fd_tc_egress(), fixtures::kV4Udp);
  ASSERT_EQ(o.flows.size(), 1u);
  EXPECT_EQ(o.flows[0].tuple.netns, 0u);
}

TEST(TcTestRunConfig, DnsPortsAreConfigurable) {
  flow::PacketLayerConfig cfg;
  cfg.dns_ports = {5353};
  auto h = Harness::Create(cfg);
  ASSERT_NE(h, nullptr);
  Observed mdns = h->Run(h->layer().prog_fd_tc_egress(), fixtures::kDnsMdns5353);
  ASSERT_EQ(mdns.dns.size(), 1u);
  EXPECT_EQ(QuestionOf(mdns.dns[0]).name, "printer.local");
  EXPECT_TRUE(h->Run(h->layer().prog_fd_tc_egress(), fixtures::kDnsQueryA).dns.empty());

  cfg.dns_ports = {};
  auto off = Harness::Create(cfg);
  ASSERT_NE(off, nullptr);
  Observed none = off->Run(off->layer().prog_fd_tc_egress(), fixtures::kDnsQueryA);
  EXPECT_EQ(none.flows.size(), 1u);
  EXPECT_TRUE(none.dns.empty());
}

// A full ring buffer loses records, counted, and nothing else: the flow is still counted.
// More live flows than the flow map holds: every packet is either in a flow the reader reports or counted as lost
// (packets and L3 bytes), never evicted unseen; flows idle for kIdleRoundsBeforeTake reads are taken out, which
// makes room again.
TEST(TcTestRunConfig, AFullFlowMapCountsWhatItCannotHold) {
  flow::PacketLayerConfig cfg;
  cfg.flow_entries = 16;
  auto h = Harness::Create(cfg);
  ASSERT_NE(h, nullptr);
  std::vector<uint8_t> pkt(fixtures::kV4Udp.data, fixtures::kV4Udp.data + fixtures::kV4Udp.len);
  const uint64_t l3 = fixtures::kV4Udp.len - 14;
  auto send_flows = [&](uint16_t first_port, int n) {
    for (int i = 0; i < n; ++i) {
      const auto port = static_cast<uint16_t>(first_port + i);
      pkt[34] = static_cast<uint8_t>(port >> 8);  // UDP source port (14 + 20)
      pkt[35] = static_cast<uint8_t>(port);
      DECLARE_LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = pkt.data(),
                          .data_size_in = static_cast<uint32_t>(pkt.size()));
      ASSERT_EQ(bpf_prog_test_run_opts(h->layer().prog_fd_tc_egress(), &opts), 0);
    }
  };
  auto before = h->shared().ReadCounters();
  send_flows(20000, 40);
  auto after = h->shared().ReadCounters();
  ASSERT_TRUE(before.ok() && after.ok());
  std::vector<flow::FlowSample> flows;
  ASSERT_TRUE(h->layer().ReadFlows(&flows).ok());
  uint64_t reported_packets = 0, reported_bytes = 0;
  for (const auto& f : flows) {
    reported_packets += f.packets[NETMON_DIR_EGRESS];
    reported_bytes += f.bytes[NETMON_DIR_EGRESS];
  }
  const uint64_t lost_packets = (*after)[NETMON_CTR_FLOW_UPDATE_FAIL] - (*before)[NETMON_CTR_FLOW_UPDATE_FAIL];
  const uint64_t lost_bytes = (*after)[NETMON_CTR_FLOW_LOST_BYTES] - (*before)[NETMON_CTR_FLOW_LOST_BYTES];
  EXPECT_EQ(flows.size(), 16u);
  EXPECT_EQ(reported_packets + lost_packets, 40u);
  EXPECT_EQ(reported_bytes + lost_bytes, 40u * l3);
  EXPECT_EQ(lost_bytes, lost_packets * l3);

  // Two more reads without traffic: the idle flows are taken out (nothing new to report), and new flows fit.
  for (uint32_t r = 0; r < flow::FlowReader::kIdleRoundsBeforeTake; ++r) {
    flows.clear();
    ASSERT_TRUE(h->layer().ReadFlows(&flows).ok());
    EXPECT_TRUE(flows.empty());
  }
  auto before2 = h->shared().ReadCounters();
  send_flows(30000, 16);
  auto after2 = h->shared().ReadCounters();
  ASSERT_TRUE(before2.ok() && after2.ok());
  EXPECT_EQ((*after2)[NETMON_CTR_FLOW_UPDATE_FAIL] - (*before2)[NETMON_CTR_FLOW_UPDATE_FAIL], 0u);
  flows.clear();
  ASSERT_TRUE(h->layer().ReadFlows(&flows).ok());
  EXPECT_EQ(flows.size(), 16u);
}

TEST(TcTestRunConfig, FullRingBufferIsCounted) {
  flow::PacketLayerConfig cfg;
  cfg.ringbuf_bytes = 4096;  // one page: as many records (each with its 8-byte header) as fit, of ten
  const uint64_t fit = 4096 / (sizeof(netmon_dns_event) + 8);
  auto h = Harness::Create(cfg);
  ASSERT_NE(h, nullptr);
  DECLARE_LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = fixtures::kDnsQueryA.data,
                      .data_size_in = static_cast<uint32_t>(fixtures::kDnsQueryA.len), .repeat = 10);
  auto before = h->shared().ReadCounters();
  ASSERT_EQ(bpf_prog_test_run_opts(h->layer().prog_fd_tc_ingress(), &opts), 0);
  auto after = h->shared().ReadCounters();
  ASSERT_TRUE(before.ok() && after.ok());
  ASSERT_LT(fit, 10u);
  EXPECT_EQ((*after)[NETMON_CTR_DNS_MESSAGES] - (*before)[NETMON_CTR_DNS_MESSAGES], fit);
  EXPECT_EQ((*after)[NETMON_CTR_DNS_RINGBUF_FULL] - (*before)[NETMON_CTR_DNS_RINGBUF_FULL], 10u - fit);
  int n = h->layer().PollDns(0, [](const netmon_dns_event&) {});
  EXPECT_EQ(n, static_cast<int>(fit));
  std::vector<flow::FlowSample> flows;
  ASSERT_TRUE(h->layer().ReadFlows(&flows).ok());
  ASSERT_EQ(flows.size(), 1u);
  EXPECT_EQ(flows[0].packets[NETMON_DIR_INGRESS], 10u);
}

TEST(TcTestRunConfig, BadConfigIsRefused) {
  auto shared = bpf::SharedMaps::Create();
  ASSERT_TRUE(shared.ok());
  flow::PacketLayerConfig cfg;
  cfg.ringbuf_bytes = 12345;
  EXPECT_EQ(flow::PacketLayer::Create(*shared, cfg).status().code(), absl::StatusCode::kInvalidArgument);
  cfg = {};
  cfg.dns_ports = {53, 5353, 853, 5355, 54};
  EXPECT_EQ(flow::PacketLayer::Create(*shared, cfg).status().code(), absl::StatusCode::kInvalidArgument);
  cfg = {};
  cfg.flow_entries = 0;
  EXPECT_EQ(flow::PacketLayer::Create(*shared, cfg).status().code(), absl::StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace netmon::testing
