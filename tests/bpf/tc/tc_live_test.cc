// SPDX-License-Identifier: Apache-2.0
// The TC packet layer on a real veth between testenv namespaces (label netns): per-flow L3 bytes and packets
// must equal what tcpdump on the same interface saw, for bulk TCP both ways, UDP and IPv6; real dig queries
// must produce DNS records carrying the dig process's socket cookie; a classifier behind netmon's in the clsact
// chain must still see every packet.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <gtest/gtest.h>

#include <chrono>
#include <regex>
#include <sstream>
#include <thread>
#include <vector>

#include "bpf/live_objects.h"
#include "bpf/shared_maps.h"
#include "bpf/skeleton.h"
#include "bpf/tc_attachment.h"
#include "dns_record.h"
#include "flow/packet_layer.h"
#include "live.h"
#include "test_witness_tc.skel.h"

namespace netmon::testing {
namespace {

using testenv::Process;
using testenv::Topology;
using WitnessSkeleton = NETMON_SKELETON(test_witness_tc);

class TcLive : public ::testing::Test {
 protected:
  void SetUp() override {
    auto topo = Topology::Create();
    ASSERT_TRUE(topo.ok()) << topo.status();
    topo_ = std::make_unique<Topology>(std::move(*topo));
    auto shared = bpf::SharedMaps::Create();
    ASSERT_TRUE(shared.ok()) << shared.status();
    shared_ = std::make_unique<bpf::SharedMaps>(std::move(*shared));
    ASSERT_TRUE(shared_->SetFilters({netmon_filter{}}).ok());
  }
  void TearDown() override {
    layer_.reset();
    shared_.reset();
    topo_.reset();
    EXPECT_EQ(bpf::LiveTotal(), 0);
  }
  void CreateAndAttach(const flow::PacketLayerConfig& cfg = {}) {
    auto layer = flow::PacketLayer::Create(*shared_, cfg);
    ASSERT_TRUE(layer.ok()) << layer.status();
    layer_ = std::move(*layer);
    auto st = layer_->Attach({{topo_->client_end().ifname, false, topo_->client().fd()}});
    ASSERT_TRUE(st.ok()) << st;
  }
  std::unique_ptr<Topology> topo_;
  std::unique_ptr<bpf::SharedMaps> shared_;
  std::unique_ptr<flow::PacketLayer> layer_;
};

TEST_F(TcLive, CountsEqualTcpdump) {
  CreateAndAttach();
  const std::string pcap = "/tmp/netmon-tc-live-" + std::to_string(getpid()) + ".pcap";
  auto cap = live::Tcpdump::Start(topo_->client(), topo_->client_end().ifname, pcap);
  ASSERT_TRUE(cap.ok()) << cap.status();

  std::vector<live::Conversation> convs;
  for (auto c : {live::TcpExchange(*topo_, false, 4 << 20, 64 << 10),  // bulk out
                 live::TcpExchange(*topo_, false, 64 << 10, 4 << 20),  // bulk in
                 live::TcpExchange(*topo_, true, 2 << 20, 2 << 20),    // IPv6, both ways
                 live::UdpExchange(*topo_, false, 50, 1200, 300),      // UDP
                 live::UdpExchange(*topo_, true, 50, 700, 1400)}) {    // UDP over IPv6
    ASSERT_TRUE(c.ok()) << c.status();
    convs.push_back(*c);
  }
  // Let the last FIN/ACKs land, stop counting, then stop the witness: tcpdump sees everything we counted.
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  std::vector<flow::FlowSample> samples;
  ASSERT_TRUE(layer_->ReadFlows(&samples).ok());
  layer_->Detach();
  ASSERT_TRUE(cap->Stop().ok());
  ASSERT_TRUE(layer_->ReadFlows(&samples).ok());

  live::OurFlows ours;
  ours.Add(samples);
  auto theirs = live::PcapFlows(cap->path());
  ASSERT_TRUE(theirs.ok()) << theirs.status();
  for (const live::Conversation& c : convs) {
    for (const std::string& key : {c.Egress(), c.Ingress()}) {
      SCOPED_TRACE(key);
      ASSERT_TRUE(theirs->count(key)) << "tcpdump saw nothing of this flow";
      EXPECT_GT((*theirs)[key].packets, 0u);
      EXPECT_EQ(ours.by_key[key].bytes, (*theirs)[key].bytes);
      EXPECT_EQ(ours.by_key[key].packets, (*theirs)[key].packets);
    }
    // The client's socket was on every egress packet: the flow is attributed.
    EXPECT_NE(ours.cookie[c.Egress()], 0u) << c.Egress();
  }
  auto counters = shared_->ReadCounters();
  ASSERT_TRUE(counters.ok());
  EXPECT_EQ((*counters)[NETMON_CTR_FLOW_UPDATE_FAIL], 0u);
  EXPECT_EQ((*counters)[NETMON_CTR_PARSE_L3], 0u);
  EXPECT_EQ((*counters)[NETMON_CTR_PARSE_L4], 0u);
}

// dig's socket cookie, as sock_diag reports it (`ss -e` prints it as sk:<hex>), while dig waits for an answer.
absl::StatusOr<uint64_t> SocketCookieOf(const testenv::Netns& ns, pid_t pid) {
  const std::regex re("pid=" + std::to_string(pid) + ",.* sk:([0-9a-f]+)");
  for (int i = 0; i < 200; ++i) {
    auto out = testenv::RunChecked({"ss", "-uanpe"}, &ns);
    if (!out.ok()) return out.status();
    std::istringstream lines(*out);
    std::string line;
    std::smatch m;
    while (std::getline(lines, line)) {
      if (std::regex_search(line, m, re)) return std::stoull(m[1].str(), nullptr, 16);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return absl::NotFoundError("no UDP socket of pid " + std::to_string(pid));
}

// Packets the witness classifier saw in one direction (0 ingress, 1 egress), summed over CPUs.
uint64_t WitnessSeen(const WitnessSkeleton& w, uint32_t dir) {
  std::vector<uint64_t> per_cpu(static_cast<size_t>(libbpf_num_possible_cpus()));
  if (bpf_map_lookup_elem(bpf_map__fd(w->maps.witness_seen), &dir, per_cpu.data()) != 0) return 0;
  uint64_t sum = 0;
  for (uint64_t v : per_cpu) sum += v;
  return sum;
}

// netmon's programs give no verdict (TC_ACT_UNSPEC), so a filter behind ours in the same clsact chain still
// runs: with TC_ACT_OK the chain would end at netmon's filter and the witness would see nothing.
TEST_F(TcLive, AFilterBehindNetmonStillSeesEveryPacket) {
  CreateAndAttach();
  auto witness = WitnessSkeleton::Open("test_witness_tc");
  ASSERT_TRUE(witness.ok()) << witness.status();
  ASSERT_TRUE(witness->Load().ok());
  constexpr uint32_t kBehindNetmon = 0xC0DE + 1;  // a higher number runs later
  const bpf::TcTarget target{topo_->client_end().ifname, 0, topo_->client().fd()};
  auto in = bpf::TcAttachment::Attach(target, bpf::TcDirection::kIngress,
                                      bpf_program__fd((*witness)->progs.witness_ingress), kBehindNetmon, kBehindNetmon);
  ASSERT_TRUE(in.ok()) << in.status();
  auto out = bpf::TcAttachment::Attach(target, bpf::TcDirection::kEgress,
                                       bpf_program__fd((*witness)->progs.witness_egress), kBehindNetmon, kBehindNetmon);
  ASSERT_TRUE(out.ok()) << out.status();

  constexpr int kDatagrams = 50;
  auto conv = live::UdpExchange(*topo_, false, kDatagrams, 1200, 300);
  ASSERT_TRUE(conv.ok()) << conv.status();
  std::vector<flow::FlowSample> samples;
  ASSERT_TRUE(layer_->ReadFlows(&samples).ok());
  uint64_t netmon_in = 0, netmon_out = 0;
  for (const flow::FlowSample& s : samples) {
    netmon_in += s.packets[NETMON_DIR_INGRESS];
    netmon_out += s.packets[NETMON_DIR_EGRESS];
  }
  ASSERT_GE(netmon_out, static_cast<uint64_t>(kDatagrams)) << "netmon's own filter ran";
  ASSERT_GE(netmon_in, static_cast<uint64_t>(kDatagrams));
  // Everything netmon counted (and maybe ARP or neighbour discovery besides) reached the filter behind it.
  EXPECT_GE(WitnessSeen(*witness, 1), netmon_out);
  EXPECT_GE(WitnessSeen(*witness, 0), netmon_in);
}

TEST_F(TcLive, DigQueriesCarryDigsSocketCookie) {
  flow::PacketLayerConfig cfg;
  cfg.dns_ports = {53, 5300};
  CreateAndAttach(cfg);
  const std::string s4 = topo_->server_end().ipv4, s6 = topo_->server_end().ipv6;
  auto dns = testenv::DnsServer::Start(topo_->server(), s4, s6);
  ASSERT_TRUE(dns.ok()) << dns.status();

  std::vector<netmon_dns_event> events;
  // Records are submitted before dig even sees its answer; two empty polls in a row mean we have them all.
  auto drain = [&] {
    for (int idle = 0; idle < 2;) {
      idle = layer_->PollDns(100, [&](const netmon_dns_event& ev) { events.push_back(ev); }) > 0 ? 0 : idle + 1;
    }
  };
  drain();
  events.clear();

  // 1. The cookie is dig's: dig asks a port where nobody answers (so its socket lives long enough for ss to
  // see it), and the query record must carry the cookie sock_diag reports for dig's socket.
  auto silent = Process::Spawn(&topo_->server(), {testenv::TrafficgenPath(), "udp-serve", "--listen", s4 + ":5300",
                                                  "--count", "1", "--timeout-ms", "5000"});
  ASSERT_TRUE(silent.ok()) << silent.status();
  ASSERT_TRUE(testenv::ExpectTrafficgenEvent(*silent, "listening", 10000).ok());
  auto dig = Process::Spawn(&topo_->client(), {"dig", "@" + s4, "-p", "5300", "+tries=1", "+time=3", "a.nm.test", "A"});
  ASSERT_TRUE(dig.ok()) << dig.status();
  auto cookie = SocketCookieOf(topo_->client(), dig->pid());
  ASSERT_TRUE(cookie.ok()) << cookie.status();
  dig->Kill();  // no answer is coming
  drain();
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0].cookie, *cookie) << "the query record carries dig's socket cookie";
  EXPECT_EQ(events[0].dir, NETMON_DIR_EGRESS);
  EXPECT_EQ(QuestionOf(events[0]).name, "a.nm.test");
  events.clear();

  // 2. Real resolutions: each query and its response carry the same (dig's) cookie; the response's comes from
  // the tuple the query's egress packet taught the tuple map.
  struct Ask {
    std::vector<std::string> args;
    std::string name;
    uint16_t qtype;
    int rcode;
    bool tcp;
  };
  for (const Ask& ask : {Ask{{"@" + s4, "a.nm.test", "A"}, "a.nm.test", 1, 0, false},
                         Ask{{"@" + s6, "aaaa.nm.test", "AAAA"}, "aaaa.nm.test", 28, 0, false},
                         Ask{{"@" + s4, "alias.nm.test", "A"}, "alias.nm.test", 1, 0, false},
                         Ask{{"@" + s4, testenv::kNxDomainName, "A"}, testenv::kNxDomainName, 1, 3, false},
                         Ask{{"@" + s4, "+tcp", "both.nm.test", "AAAA"}, "both.nm.test", 28, 0, true}}) {
    SCOPED_TRACE(ask.name + (ask.tcp ? " over TCP" : ""));
    std::vector<std::string> argv = {"dig", "+tries=1", "+time=3"};
    argv.insert(argv.end(), ask.args.begin(), ask.args.end());
    auto run = testenv::RunChecked(argv, &topo_->client());
    ASSERT_TRUE(run.ok()) << run.status();
    drain();
    const netmon_dns_event* query = nullptr;
    const netmon_dns_event* response = nullptr;
    for (const netmon_dns_event& ev : events) {
      if (ev.msg_len == 0) continue;  // TCP segments without a message start
      if (ev.dir == NETMON_DIR_EGRESS && !(ev.flags & 0x8000)) query = &ev;
      if (ev.dir == NETMON_DIR_INGRESS && (ev.flags & 0x8000)) response = &ev;
    }
    ASSERT_NE(query, nullptr);
    ASSERT_NE(response, nullptr);
    EXPECT_EQ(QuestionOf(*query).name, ask.name);
    EXPECT_EQ(QuestionOf(*response).name, ask.name);
    EXPECT_EQ(QuestionOf(*query).qtype, ask.qtype);
    EXPECT_EQ(query->id, response->id);
    EXPECT_EQ(response->flags & 0xf, ask.rcode);
    EXPECT_EQ(query->is_tcp, ask.tcp);
    EXPECT_NE(query->cookie, 0u);
    EXPECT_EQ(response->cookie, query->cookie);
    EXPECT_EQ(query->tuple.remote_port, 53);
    EXPECT_EQ(response->tuple.local_port, query->tuple.local_port);
    events.clear();
  }
}

}  // namespace
}  // namespace netmon::testing
