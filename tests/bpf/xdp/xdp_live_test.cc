// SPDX-License-Identifier: Apache-2.0
// The XDP ingress alternative on a real veth (label netns): loaded through libxdp's dispatcher next to someone
// else's XDP program, it must count exactly what the TC ingress program counts on the same interface at the same
// time, and what tcpdump sees; detaching it must leave the other program running.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <gtest/gtest.h>
#include <xdp/libxdp.h>

#include <chrono>
#include <cstdlib>
#include <iostream>
#include <map>
#include <optional>
#include <thread>
#include <vector>

#include "bpf/live_objects.h"
#include "bpf/shared_maps.h"
#include "bpf/skeleton.h"
#include "bpf/tc_attachment.h"
#include "bpf/xdp_attachment.h"
#include "common/netns.h"
#include "flow/packet_layer.h"
#include "live.h"
#include "test_other_xdp.skel.h"

namespace netmon::testing {
namespace {

using testenv::Topology;
using OtherSkeleton = NETMON_SKELETON(test_other_xdp);

// Programs in the libxdp dispatcher on `ifindex` inside `ns`; -1 if there is no dispatcher.
int DispatcherPrograms(const testenv::Netns& ns, int ifindex) {
  NetnsGuard in_ns(ns.fd());
  struct xdp_multiprog* mp = xdp_multiprog__get_from_ifindex(ifindex);
  if (mp == nullptr || libxdp_get_error(mp) != 0) return -1;
  int n = xdp_multiprog__is_legacy(mp) ? -1 : xdp_multiprog__program_count(mp);
  xdp_multiprog__close(mp);
  return n;
}

// Name of the program attached alone (without a dispatcher) on `ifindex`; "" if none.
std::string LoneProgram(const testenv::Netns& ns, int ifindex) {
  NetnsGuard in_ns(ns.fd());
  struct xdp_multiprog* mp = xdp_multiprog__get_from_ifindex(ifindex);
  if (mp == nullptr || libxdp_get_error(mp) != 0) return "";
  std::string name;
  if (xdp_multiprog__is_legacy(mp) && xdp_multiprog__main_prog(mp) != nullptr) {
    name = xdp_program__name(xdp_multiprog__main_prog(mp));
  }
  xdp_multiprog__close(mp);
  return name;
}

uint64_t OtherSeen(const OtherSkeleton& other) {
  std::vector<uint64_t> per_cpu(static_cast<size_t>(libbpf_num_possible_cpus()));
  uint32_t zero = 0;
  if (bpf_map_lookup_elem(bpf_map__fd(other->maps.other_seen), &zero, per_cpu.data()) != 0) return 0;
  uint64_t sum = 0;
  for (uint64_t v : per_cpu) sum += v;
  return sum;
}

struct OtherXdp {
  OtherSkeleton skel;
  bpf::XdpProgram prog;
  bpf::XdpAttachment att;
};

// Loads and attaches the foreign program. `alone`: attach it without libxdp's dispatcher (as a program loaded
// by another tool would be), via libxdp's own switch for that.
std::unique_ptr<OtherXdp> AttachOther(Topology& topo, bool alone) {
  auto o = std::make_unique<OtherXdp>();
  auto skel = OtherSkeleton::Open("test_other_xdp");
  EXPECT_TRUE(skel.ok()) << skel.status();
  if (!skel.ok()) return nullptr;
  o->skel = std::move(*skel);
  auto prog = bpf::XdpProgram::FromObject(o->skel->obj, "other_xdp_pass");
  EXPECT_TRUE(prog.ok()) << prog.status();
  if (!prog.ok()) return nullptr;
  o->prog = std::move(*prog);
  if (alone) setenv("LIBXDP_SKIP_DISPATCHER", "1", 1);
  auto att = bpf::XdpAttachment::Attach({topo.client_end().ifname, 0, topo.client().fd()}, o->prog);
  if (alone) unsetenv("LIBXDP_SKIP_DISPATCHER");
  EXPECT_TRUE(att.ok()) << att.status();
  if (!att.ok()) return nullptr;
  o->att = std::move(*att);
  return o;
}

// XDP ingress against TC ingress of a second packet layer on the same interface at the same time (its own TC
// priority), and against tcpdump. With `other`, someone else's XDP program runs in the same dispatcher.
void CompareXdpWithTcAndTcpdump(Topology& topo, OtherXdp* other) {
  const std::string ifname = topo.client_end().ifname;
  const int ifindex = topo.client_end().ifindex;
  auto shared = bpf::SharedMaps::Create();
  ASSERT_TRUE(shared.ok());
  ASSERT_TRUE(shared->SetFilters({netmon_filter{}}).ok());
  auto xdp_layer = flow::PacketLayer::Create(*shared, {});
  ASSERT_TRUE(xdp_layer.ok()) << xdp_layer.status();
  auto st = (*xdp_layer)->Attach({{ifname, true, topo.client().fd()}});
  ASSERT_TRUE(st.ok()) << st;
  bool via_dispatcher = DispatcherPrograms(topo.client(), ifindex) > 0;
  if (other != nullptr) {
    EXPECT_EQ(DispatcherPrograms(topo.client(), ifindex), 2) << "both share the dispatcher";
  }
  bool saw_xdp_hook = false;
  for (const bpf::HookInfo& h : (*xdp_layer)->Hooks()) {
    if (h.name != "xdp.ingress") continue;
    saw_xdp_hook = true;
    EXPECT_TRUE(h.active);
    EXPECT_NE(h.detail.find("native mode"), std::string::npos) << "veth has native XDP: " << h.detail;
    EXPECT_EQ(h.degraded, !via_dispatcher) << h.detail;
    std::cerr << "xdp.ingress: " << h.detail << "\n";
  }
  EXPECT_TRUE(saw_xdp_hook);
  EXPECT_GE((*xdp_layer)->prog_fd_xdp(), 0);

  auto shared_tc = bpf::SharedMaps::Create();
  ASSERT_TRUE(shared_tc.ok());
  ASSERT_TRUE(shared_tc->SetFilters({netmon_filter{}}).ok());
  auto tc_layer = flow::PacketLayer::Create(*shared_tc, {});
  ASSERT_TRUE(tc_layer.ok()) << tc_layer.status();
  netmon_iface facts{.netns = topo.client().inode(), .flags = 0};
  uint32_t key = static_cast<uint32_t>(ifindex);
  ASSERT_EQ(bpf_map_update_elem((*tc_layer)->ifaces_map_fd(), &key, &facts, BPF_ANY), 0);
  auto tc_ingress = bpf::TcAttachment::Attach({ifname, ifindex, topo.client().fd()}, bpf::TcDirection::kIngress,
                                              (*tc_layer)->prog_fd_tc_ingress(), 0xC0DF, 0xC0DF);
  ASSERT_TRUE(tc_ingress.ok()) << tc_ingress.status();

  // Attaching XDP to a veth turns GRO on, which would merge packets between XDP and TC (and tcpdump): off,
  // so all three see the same packets.
  ASSERT_TRUE(live::SetGro(topo.client(), ifname, false).ok());
  // tcpdump (and python with scapy for the pcap) is the third witness where it exists; the kernel-matrix guest
  // has neither, and there XDP is compared with TC alone.
  const bool witness = live::HaveTcpdumpAndScapy();
  if (!witness) std::cerr << "no tcpdump/scapy here: comparing XDP with TC ingress only\n";
  const std::string pcap = "/tmp/netmon-xdp-live-" + std::to_string(getpid()) + ".pcap";
  std::optional<live::Tcpdump> cap;
  if (witness) {
    auto started = live::Tcpdump::Start(topo.client(), ifname, pcap);
    ASSERT_TRUE(started.ok()) << started.status();
    cap = std::move(*started);
  }

  const uint64_t other_before = other ? OtherSeen(other->skel) : 0;
  std::vector<live::Conversation> convs;
  for (auto c : {live::TcpExchange(topo, false, 64 << 10, 4 << 20), live::TcpExchange(topo, true, 1 << 20, 1 << 20),
                 live::UdpExchange(topo, false, 40, 1000, 1200), live::UdpExchange(topo, true, 40, 500, 900)}) {
    ASSERT_TRUE(c.ok()) << c.status();
    convs.push_back(*c);
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  std::vector<flow::FlowSample> xdp_samples, tc_samples;
  ASSERT_TRUE((*xdp_layer)->ReadFlows(&xdp_samples).ok());
  ASSERT_TRUE((*tc_layer)->ReadFlows(&tc_samples).ok());
  tc_ingress->Reset();
  (*xdp_layer)->Detach();
  if (cap) {
    ASSERT_TRUE(cap->Stop().ok());
  }
  ASSERT_TRUE((*xdp_layer)->ReadFlows(&xdp_samples).ok());
  ASSERT_TRUE((*tc_layer)->ReadFlows(&tc_samples).ok());

  live::OurFlows by_xdp, by_tc;
  by_xdp.Add(xdp_samples);
  by_tc.Add(tc_samples);
  std::map<std::string, live::Count> theirs;
  if (cap) {
    auto flows = live::PcapFlows(cap->path());
    ASSERT_TRUE(flows.ok()) << flows.status();
    theirs = std::move(*flows);
  }
  uint64_t xdp_ingress_packets = 0;
  for (const live::Conversation& c : convs) {
    SCOPED_TRACE(c.Ingress());
    ASSERT_GT(by_xdp.by_key[c.Ingress()].packets, 0u);
    EXPECT_EQ(by_xdp.by_key[c.Ingress()], by_tc.by_key[c.Ingress()]) << "XDP and TC ingress disagree";
    if (cap) {
      EXPECT_EQ(by_xdp.by_key[c.Ingress()], theirs[c.Ingress()]) << "XDP ingress and tcpdump disagree";
      EXPECT_EQ(by_xdp.by_key[c.Egress()], theirs[c.Egress()]) << "TC egress and tcpdump disagree";
    }
    // Replies resolve to the client's socket: egress taught the tuple map.
    EXPECT_NE(by_xdp.cookie[c.Egress()], 0u);
    xdp_ingress_packets += by_xdp.by_key[c.Ingress()].packets;
  }
  // The other program ran behind ours on every one of those packets.
  if (other != nullptr) {
    EXPECT_GE(OtherSeen(other->skel) - other_before, xdp_ingress_packets);
  }
  auto shown = live::BpftoolNetShow(topo.client());
  ASSERT_TRUE(shown.ok());
  EXPECT_EQ(shown->find("netmon_"), std::string::npos) << *shown;
}

TEST(XdpLive, SameCountsAsTcIngressAndTcpdump) {
  auto topo = Topology::Create();
  ASSERT_TRUE(topo.ok()) << topo.status();
  CompareXdpWithTcAndTcpdump(*topo, nullptr);
  EXPECT_EQ(DispatcherPrograms(topo->client(), topo->client_end().ifindex), -1) << "nothing of ours is left";
  EXPECT_EQ(bpf::LiveTotal(), 0);
}

TEST(XdpLive, CoexistsWithAnotherXdpProgram) {
  auto topo = Topology::Create();
  ASSERT_TRUE(topo.ok()) << topo.status();
  {
    auto other = AttachOther(*topo, /*alone=*/false);
    ASSERT_NE(other, nullptr);
    if (!other->att.via_dispatcher()) {
      GTEST_SKIP() << "libxdp's multi-program dispatcher is unavailable on this kernel (it loads programs as "
                      "freplace extensions, refused here with EPERM like fentry): two XDP programs cannot share "
                      "an interface. Runs in the kernel matrix.";
    }
    EXPECT_EQ(DispatcherPrograms(topo->client(), topo->client_end().ifindex), 1);
    CompareXdpWithTcAndTcpdump(*topo, other.get());
    // Ours is gone, the other program stays and keeps working.
    EXPECT_EQ(DispatcherPrograms(topo->client(), topo->client_end().ifindex), 1);
    const uint64_t before = OtherSeen(other->skel);
    ASSERT_TRUE(live::UdpExchange(*topo, false, 5, 100, 100).ok());
    EXPECT_GE(OtherSeen(other->skel) - before, 5u);
  }
  EXPECT_EQ(DispatcherPrograms(topo->client(), topo->client_end().ifindex), -1);
  EXPECT_EQ(bpf::LiveTotal(), 0);
}

// Someone else's XDP program attached without the dispatcher cannot be shared: Attach refuses (it would have to
// replace it), keeps nothing of ours (TC egress rolled back), and leaves the other program running.
TEST(XdpLive, RefusesToReplaceAForeignProgram) {
  auto topo = Topology::Create();
  ASSERT_TRUE(topo.ok()) << topo.status();
  auto other = AttachOther(*topo, /*alone=*/true);
  ASSERT_NE(other, nullptr);
  auto shared = bpf::SharedMaps::Create();
  ASSERT_TRUE(shared.ok());
  auto layer = flow::PacketLayer::Create(*shared, {});
  ASSERT_TRUE(layer.ok());
  absl::Status st = (*layer)->Attach({{topo->client_end().ifname, true, topo->client().fd()}});
  EXPECT_EQ(st.code(), absl::StatusCode::kFailedPrecondition) << st;
  EXPECT_NE(st.message().find("other_xdp_pass"), std::string::npos) << st;
  EXPECT_FALSE((*layer)->attached());
  auto shown = live::BpftoolNetShow(topo->client());
  ASSERT_TRUE(shown.ok());
  EXPECT_EQ(shown->find("netmon_"), std::string::npos) << *shown;
  EXPECT_EQ(LoneProgram(topo->client(), topo->client_end().ifindex), "other_xdp_pass");
  EXPECT_EQ(bpf::LiveCount(bpf::ObjectKind::kTcFilter), 0);
  const uint64_t before = OtherSeen(other->skel);
  ASSERT_TRUE(live::UdpExchange(*topo, false, 5, 100, 100).ok());
  EXPECT_GE(OtherSeen(other->skel) - before, 5u);
}

// What a crashed run leaves (libxdp's pinned links, or a lone program, outlive the process) is removed by
// SweepStaleXdp, which touches only netmon_* programs.
TEST(XdpLive, SweepRemovesOnlyOurs) {
  auto topo = Topology::Create();
  ASSERT_TRUE(topo.ok()) << topo.status();
  const int ifindex = topo->client_end().ifindex;
  auto shared = bpf::SharedMaps::Create();
  ASSERT_TRUE(shared.ok());
  auto layer = flow::PacketLayer::Create(*shared, {});
  ASSERT_TRUE(layer.ok());
  std::unique_ptr<OtherXdp> other = AttachOther(*topo, /*alone=*/false);
  ASSERT_NE(other, nullptr);
  const bool shared_hook = other->att.via_dispatcher();
  if (!shared_hook) other.reset();  // without the dispatcher ours would have to be alone
  ASSERT_TRUE((*layer)->Attach({{topo->client_end().ifname, true, topo->client().fd()}}).ok());
  {
    NetnsGuard in_ns(topo->client().fd());
    ASSERT_TRUE(in_ns.ok());
    EXPECT_EQ(bpf::SweepStaleXdp(), 1);
  }
  auto shown = live::BpftoolNetShow(topo->client());
  ASSERT_TRUE(shown.ok());
  EXPECT_EQ(shown->find("netmon_xdp"), std::string::npos) << *shown;
  EXPECT_EQ(DispatcherPrograms(topo->client(), ifindex), shared_hook ? 1 : -1);
  // Our own detach then finds nothing to remove (logged, not fatal).
  (*layer)->Detach();
  other.reset();
}

}  // namespace
}  // namespace netmon::testing
