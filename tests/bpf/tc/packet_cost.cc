// SPDX-License-Identifier: Apache-2.0
// Per-packet cost of the packet layer's programs (docs/architecture.md §8): BPF_PROG_TEST_RUN with `repeat`, each program
// next to an empty program of the same type measured in the same rounds, interleaved, median of the rounds.
// Not a test (timings are not asserted); run it by hand:
//   sudo build/tests/bpf/tc/netmon_packet_cost [--repeat N] [--rounds R]
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#include "bpf/shared_maps.h"
#include "bpf/skeleton.h"
#include "common/netns.h"
#include "flow/packet_layer.h"
#include "netmon/abi.h"
#include "netmon_xdp.skel.h"
#include "packets.h"
#include "test_empty.skel.h"

namespace {

using netmon::fixtures::Packet;
using XdpSkeleton = NETMON_SKELETON(netmon_xdp);
using EmptySkeleton = NETMON_SKELETON(test_empty);

// Average ns per run of one BPF_PROG_TEST_RUN with `repeat` runs; -1 on error.
double RunOnce(int fd, const Packet& p, uint32_t repeat) {
  std::vector<uint8_t> out(p.len + 512);
  DECLARE_LIBBPF_OPTS(bpf_test_run_opts, opts, .data_in = p.data, .data_out = out.data(),
                      .data_size_in = static_cast<uint32_t>(p.len), .data_size_out = static_cast<uint32_t>(out.size()),
                      .repeat = static_cast<int>(repeat));
  if (bpf_prog_test_run_opts(fd, &opts) != 0) return -1;
  return opts.duration;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v.empty() ? 0 : v[v.size() / 2];
}

struct Row {
  std::string what;
  int fd;
  int empty_fd;
  const Packet* pkt;
  bool drain_dns = false;
};

int Main(int argc, char** argv) {
  uint32_t repeat = 100000;
  int rounds = 15;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--repeat") == 0) repeat = static_cast<uint32_t>(std::atoi(argv[i + 1]));
    if (std::strcmp(argv[i], "--rounds") == 0) rounds = std::atoi(argv[i + 1]);
  }
  auto shared = netmon::bpf::SharedMaps::Create();
  if (!shared.ok()) return fprintf(stderr, "%s\n", shared.status().ToString().c_str()), 1;
  netmon::flow::PacketLayerConfig cfg;
  cfg.ringbuf_bytes = 64u << 20;  // DNS rows: room for a whole round of records between drains
  auto layer = netmon::flow::PacketLayer::Create(*shared, cfg);
  if (!layer.ok()) return fprintf(stderr, "%s\n", layer.status().ToString().c_str()), 1;
  auto xdp = XdpSkeleton::Open("netmon_xdp");
  if (!xdp.ok()) return 1;
  (*xdp)->rodata->netmon_pkt_cfg.dns_ports[0] = 53;
  if (!shared->ReuseIn((*xdp)->obj).ok() ||
      bpf_map__reuse_fd((*xdp)->maps.netmon_flows, (*layer)->flows_map_fd()) != 0 ||
      bpf_map__reuse_fd((*xdp)->maps.netmon_dns_ev, (*layer)->dns_map_fd()) != 0 ||
      bpf_map__reuse_fd((*xdp)->maps.netmon_ifaces, (*layer)->ifaces_map_fd()) != 0 || !xdp->Load().ok()) {
    return fprintf(stderr, "cannot load netmon_xdp\n"), 1;
  }
  auto empty = EmptySkeleton::Open("test_empty");
  if (!empty.ok() || !empty->Load().ok()) return fprintf(stderr, "cannot load the empty programs\n"), 1;
  auto netns = netmon::CurrentNetnsInode();
  netmon_iface lo{.netns = netns.ok() ? *netns : 0, .flags = 0};
  uint32_t lo_key = 1;
  bpf_map_update_elem((*layer)->ifaces_map_fd(), &lo_key, &lo, BPF_ANY);

  const int tc_in = (*layer)->prog_fd_tc_ingress(), tc_out = (*layer)->prog_fd_tc_egress();
  const int xdp_in = bpf_program__fd((*xdp)->progs.netmon_xdp_ingress);
  const int e_tc = bpf_program__fd((*empty)->progs.empty_tc), e_xdp = bpf_program__fd((*empty)->progs.empty_xdp);
  using namespace netmon::fixtures;  // NOLINT(google-build-using-namespace)

  // Ingress rows: the reply direction of kV4TcpData is attributed through an exact tuple entry.
  netmon_tuple attributed{};
  const uint8_t* ip = kV4TcpData.data + 14;
  attributed.local_addr[10] = attributed.local_addr[11] = 0xff;
  attributed.remote_addr[10] = attributed.remote_addr[11] = 0xff;
  std::memcpy(attributed.local_addr + 12, ip + 16, 4);  // ingress: local = destination
  std::memcpy(attributed.remote_addr + 12, ip + 12, 4);
  attributed.local_port = 80;
  attributed.remote_port = 40000;
  attributed.proto = 6;
  attributed.netns = lo.netns;

  struct Scenario {
    const char* name;
    std::vector<netmon_filter> filters;
    bool attribute;
  };
  const std::vector<Row> rows = {
      {"tc egress   v4 TCP 100B", tc_out, e_tc, &kV4TcpData},
      {"tc ingress  v4 TCP 100B", tc_in, e_tc, &kV4TcpData},
      {"xdp ingress v4 TCP 100B", xdp_in, e_xdp, &kV4TcpData},
      {"tc egress   v6 TCP SYN", tc_out, e_tc, &kV6TcpSyn},
      {"tc ingress  v6 ext hdrs", tc_in, e_tc, &kV6ExtTcp},
      {"xdp ingress v6 ext hdrs", xdp_in, e_xdp, &kV6ExtTcp},
      {"tc egress   DNS query", tc_out, e_tc, &kDnsQueryA, true},
      {"tc ingress  DNS response", tc_in, e_tc, &kDnsRespA, true},
      {"xdp ingress DNS response", xdp_in, e_xdp, &kDnsRespA, true},
  };
  netmon_filter port_filter{};
  port_filter.flags = NETMON_FILTER_PORT;
  port_filter.port = 80;
  const std::vector<Scenario> scenarios = {
      {"one match-all filter, unattributed", {netmon_filter{}}, false},
      {"one match-all filter, ingress attributed by tuple", {netmon_filter{}}, true},
      {"port filter 80 (DNS rows filtered out)", {port_filter}, true},
      {"no filter (idle: early exit)", {}, false},
  };

  printf("BPF_PROG_TEST_RUN, repeat %u, median of %d interleaved rounds, ns per packet\n", repeat, rounds);
  for (const Scenario& sc : scenarios) {
    if (!shared->SetFilters(sc.filters).ok()) return 1;
    if (sc.attribute) {
      shared->PutTuple(attributed, netmon_tuple_owner{4242, 1}).IgnoreError();
    } else {
      shared->DeleteTuple(attributed).IgnoreError();
    }
    printf("\n%s\n  %-26s %9s %9s %9s\n", sc.name, "program / packet", "program", "empty", "cost");
    for (const Row& r : rows) {
      std::vector<double> prog, base;
      for (int i = 0; i < rounds; ++i) {
        base.push_back(RunOnce(r.empty_fd, *r.pkt, repeat));
        prog.push_back(RunOnce(r.fd, *r.pkt, r.drain_dns ? std::min<uint32_t>(repeat, 50000) : repeat));
        if (r.drain_dns) (*layer)->PollDns(0, [](const netmon_dns_event&) {});
      }
      const double p = Median(prog), b = Median(base);
      printf("  %-26s %9.1f %9.1f %9.1f\n", r.what.c_str(), p, b, p - b);
    }
  }
  auto counters = shared->ReadCounters();
  if (counters.ok() && (*counters)[NETMON_CTR_DNS_RINGBUF_FULL] != 0) {
    printf("\n(note: %llu DNS records found the ring buffer full during the DNS rows)\n",
           static_cast<unsigned long long>((*counters)[NETMON_CTR_DNS_RINGBUF_FULL]));
  }
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  return Main(argc, argv);
}
