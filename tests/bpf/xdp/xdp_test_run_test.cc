// SPDX-License-Identifier: Apache-2.0
// bpf/xdp under BPF_PROG_TEST_RUN: the same table and cuts as bpf/tc, through netmon_xdp_ingress. The program
// is loaded here as a plain XDP program from its skeleton (test-run cannot drive the freplace extension libxdp
// makes of it), on the PacketLayer's maps, so the results are read through the same PacketLayer API.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <gtest/gtest.h>

#include "../fixtures/packet_cases.h"
#include "../fixtures/packet_harness.h"
#include "bpf/skeleton.h"
#include "netmon/abi.h"
#include "netmon_xdp.skel.h"

namespace netmon::testing {
namespace {

using XdpSkeleton = NETMON_SKELETON(netmon_xdp);

class XdpTestRun : public ::testing::Test {
 protected:
  void SetUp() override {
    h_ = Harness::Create();
    ASSERT_NE(h_, nullptr);
    auto skel = XdpSkeleton::Open("netmon_xdp");
    ASSERT_TRUE(skel.ok()) << skel.status();
    xdp_ = std::move(*skel);
    xdp_->rodata->netmon_pkt_cfg.dns_ports[0] = 53;
    ASSERT_TRUE(h_->shared().ReuseIn(xdp_->obj).ok());
    ASSERT_EQ(bpf_map__reuse_fd(xdp_->maps.netmon_flows, h_->layer().flows_map_fd()), 0);
    ASSERT_EQ(bpf_map__reuse_fd(xdp_->maps.netmon_dns_ev, h_->layer().dns_map_fd()), 0);
    ASSERT_EQ(bpf_map__reuse_fd(xdp_->maps.netmon_ifaces, h_->layer().ifaces_map_fd()), 0);
    auto st = xdp_.Load();
    ASSERT_TRUE(st.ok()) << st;
    fd_ = bpf_program__fd(xdp_->progs.netmon_xdp_ingress);
  }
  void RunAll(const std::vector<Case>& cases) {
    for (const Case& c : cases) ExpectCase(c, NETMON_DIR_INGRESS, h_->RunFresh(fd_, *c.pkt), h_->netns(), kXdpPass);
  }
  std::unique_ptr<Harness> h_;
  XdpSkeleton xdp_;
  int fd_ = -1;
};

TEST_F(XdpTestRun, Table) {
  RunAll(PacketCases());
}

TEST_F(XdpTestRun, UdpDnsCutAtEveryByte) {
  CutCases cuts;
  BuildUdpDnsCuts(&cuts);
  RunAll(cuts.cases);
}

TEST_F(XdpTestRun, TcpDnsCutAtEveryByte) {
  CutCases cuts;
  BuildTcpDnsCuts(&cuts);
  RunAll(cuts.cases);
}

// XDP and TC ingress must agree on every row: same flow, same counters, same DNS record.
TEST_F(XdpTestRun, SameAsTcIngress) {
  for (const Case& c : PacketCases()) {
    if (SkbTestRunRefuses(*c.pkt)) continue;
    SCOPED_TRACE(c.name);
    Observed x = h_->RunFresh(fd_, *c.pkt);
    Observed t = h_->RunFresh(h_->layer().prog_fd_tc_ingress(), *c.pkt);
    EXPECT_EQ(x.counters, t.counters);
    ASSERT_EQ(x.flows.size(), t.flows.size());
    for (size_t i = 0; i < x.flows.size(); ++i) {
      EXPECT_EQ(std::memcmp(&x.flows[i].tuple, &t.flows[i].tuple, sizeof(netmon_tuple)), 0);
      EXPECT_EQ(x.flows[i].bytes[NETMON_DIR_INGRESS], t.flows[i].bytes[NETMON_DIR_INGRESS]);
      EXPECT_EQ(x.flows[i].packets[NETMON_DIR_INGRESS], t.flows[i].packets[NETMON_DIR_INGRESS]);
    }
    ASSERT_EQ(x.dns.size(), t.dns.size());
    for (size_t i = 0; i < x.dns.size(); ++i) {
      // Same record apart from its timestamp.
      x.dns[i].ts_ns = t.dns[i].ts_ns = 0;
      EXPECT_EQ(std::memcmp(&x.dns[i], &t.dns[i], offsetof(netmon_dns_event, payload)), 0);
      EXPECT_EQ(std::memcmp(x.dns[i].payload, t.dns[i].payload, x.dns[i].cap_len), 0);
    }
  }
}

TEST_F(XdpTestRun, EmptyFilterSetCountsNothing) {
  h_->SetFilters({});
  Observed o = h_->RunFresh(fd_, fixtures::kDnsRespA);
  EXPECT_EQ(o.retval, kXdpPass);
  EXPECT_TRUE(o.flows.empty());
  EXPECT_TRUE(o.dns.empty());
  bpf::Counters want{};
  want[NETMON_CTR_PACKETS] = 1;
  want[NETMON_CTR_PACKETS_FILTERED] = 1;
  EXPECT_EQ(o.counters, want);
}

TEST_F(XdpTestRun, PortFilterKeepsOnlyMatchingFlows) {
  netmon_filter f{};
  f.flags = NETMON_FILTER_PORT;
  f.port = 443;
  h_->SetFilters({f});
  EXPECT_EQ(h_->RunFresh(fd_, fixtures::kV6TcpSyn).flows.size(), 1u);
  Observed other = h_->RunFresh(fd_, fixtures::kV4TcpSyn);
  EXPECT_TRUE(other.flows.empty());
  EXPECT_EQ(other.counters[NETMON_CTR_PACKETS_FILTERED], 1u);
}

TEST_F(XdpTestRun, AttributionThroughTupleMap) {
  const FlowExpect fe{S4, C4, 53, 53001, kUdp};
  const netmon_tuple exact = Orient(fe, NETMON_DIR_INGRESS, h_->netns());
  ASSERT_TRUE(h_->shared().PutTuple(exact, netmon_tuple_owner{91, 1}).ok());
  Observed o = h_->Run(fd_, fixtures::kDnsRespA.data, fixtures::kDnsRespA.len);
  ASSERT_EQ(o.flows.size(), 1u);
  EXPECT_EQ(o.flows[0].cookie, 91u);
  ASSERT_EQ(o.dns.size(), 1u);
  EXPECT_EQ(o.dns[0].cookie, 91u);
  EXPECT_EQ(o.counters[NETMON_CTR_UNATTRIB_PACKETS], 0u);
}

}  // namespace
}  // namespace netmon::testing
