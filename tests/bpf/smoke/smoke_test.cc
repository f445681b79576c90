// SPDX-License-Identifier: Apache-2.0
// The BPF smoke test: load the TC skeleton (through PacketLayer), attach it to a testenv veth, send real packets,
// see the counters rise; after Detach nothing of ours is left on the interface (`bpftool net show` in that
// namespace) and every kernel-object owner is gone (bpf::LiveTotal() == 0).
#include <gtest/gtest.h>

#include <vector>

#include "bpf/live_objects.h"
#include "bpf/shared_maps.h"
#include "bpf/tc_attachment.h"
#include "flow/packet_layer.h"
#include "live.h"

namespace netmon::testing {
namespace {

using testenv::Topology;

TEST(BpfSmoke, AttachCountDetach) {
  ASSERT_EQ(bpf::LiveTotal(), 0);
  auto topo = Topology::Create();
  ASSERT_TRUE(topo.ok()) << topo.status();
  {
    auto shared = bpf::SharedMaps::Create();
    ASSERT_TRUE(shared.ok()) << shared.status();
    ASSERT_TRUE(shared->SetFilters({netmon_filter{}}).ok());
    auto layer = flow::PacketLayer::Create(*shared, {});
    ASSERT_TRUE(layer.ok()) << layer.status();
    const std::string ifname = topo->client_end().ifname;
    ASSERT_TRUE((*layer)->Attach({{ifname, false, topo->client().fd()}}).ok());
    EXPECT_TRUE((*layer)->attached());

    auto shown = live::BpftoolNetShow(topo->client());
    ASSERT_TRUE(shown.ok()) << shown.status();
    EXPECT_NE(shown->find("netmon_tc_ingre"), std::string::npos) << *shown;  // kernel names stop at 15 chars
    EXPECT_NE(shown->find("netmon_tc_egres"), std::string::npos) << *shown;

    auto before = shared->ReadCounters();
    ASSERT_TRUE(before.ok());
    auto udp = live::UdpExchange(*topo, /*v6=*/false, 5, 100, 50);
    ASSERT_TRUE(udp.ok()) << udp.status();
    auto after = shared->ReadCounters();
    ASSERT_TRUE(after.ok());
    // 5 datagrams out and 5 replies in, at least (the kernel may add its own packets).
    EXPECT_GE((*after)[NETMON_CTR_PACKETS] - (*before)[NETMON_CTR_PACKETS], 10u);

    std::vector<flow::FlowSample> flows;
    ASSERT_TRUE((*layer)->ReadFlows(&flows).ok());
    live::OurFlows ours;
    ours.Add(flows);
    EXPECT_EQ(ours.by_key[udp->Egress()].packets, 5u);
    EXPECT_EQ(ours.by_key[udp->Ingress()].packets, 5u);

    (*layer)->Detach();
    EXPECT_FALSE((*layer)->attached());
    shown = live::BpftoolNetShow(topo->client());
    ASSERT_TRUE(shown.ok()) << shown.status();
    EXPECT_EQ(shown->find("netmon_"), std::string::npos) << *shown;
    EXPECT_EQ(bpf::LiveCount(bpf::ObjectKind::kTcFilter), 0);
    EXPECT_EQ(bpf::LiveCount(bpf::ObjectKind::kTcHook), 0);
  }
  EXPECT_EQ(bpf::LiveTotal(), 0);
}

// netmon-server's mode: the clsact qdisc we created stays (empty) when the last filter goes, so captures starting
// and ending do not add and delete qdiscs (each of which lost an in-flight packet); ReleaseKeptClsact removes it.
TEST(BpfSmoke, KeptClsactOutlivesDetachUntilReleased) {
  auto topo = Topology::Create();
  ASSERT_TRUE(topo.ok()) << topo.status();
  const std::string ifname = topo->client_end().ifname;
  auto qdiscs = [&] { return testenv::RunChecked({"tc", "qdisc", "show", "dev", ifname}, &topo->client()); };
  auto before = qdiscs();
  ASSERT_TRUE(before.ok()) << before.status();
  ASSERT_EQ(before->find("clsact"), std::string::npos) << *before;
  bpf::KeepCreatedClsact(true);
  {
    auto shared = bpf::SharedMaps::Create();
    ASSERT_TRUE(shared.ok()) << shared.status();
    auto layer = flow::PacketLayer::Create(*shared, {});
    ASSERT_TRUE(layer.ok()) << layer.status();
    for (int round = 0; round < 2; ++round) {
      ASSERT_TRUE((*layer)->Attach({{ifname, false, topo->client().fd()}}).ok());
      (*layer)->Detach();
      auto shown = live::BpftoolNetShow(topo->client());
      ASSERT_TRUE(shown.ok()) << shown.status();
      EXPECT_EQ(shown->find("netmon_"), std::string::npos) << *shown;  // no program stays attached
      auto kept = qdiscs();
      ASSERT_TRUE(kept.ok()) << kept.status();
      EXPECT_NE(kept->find("clsact"), std::string::npos) << "round " << round << ": " << *kept;
      EXPECT_EQ(bpf::LiveCount(bpf::ObjectKind::kTcHook), 1) << "one qdisc, created once";
    }
  }
  bpf::KeepCreatedClsact(false);
  EXPECT_EQ(bpf::ReleaseKeptClsact(), 1);
  auto after = qdiscs();
  ASSERT_TRUE(after.ok()) << after.status();
  EXPECT_EQ(after->find("clsact"), std::string::npos) << *after;
  EXPECT_EQ(bpf::LiveTotal(), 0);
}

}  // namespace
}  // namespace netmon::testing
