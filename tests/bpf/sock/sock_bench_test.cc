// SPDX-License-Identifier: Apache-2.0
// Per-hook cost of the socket layer under connection churn (docs/architecture.md §8), run by hand, not by ctest:
//
//   build/tests/bpf/sock/netmon_bpf_sock_bench [--gtest_filter=SockBench.*]   (env NETMON_BENCH_CONNS=N)
//
// A client thread in the client namespace opens, uses (1 byte each way) and closes TCP connections to a
// netmon-trafficgen server as fast as it can. Rounds alternate: nothing attached, then the socket layer attached
// with a match-all kernel filter (every lifecycle record emitted and drained), so both see the same machine
// state. With kernel.bpf_stats_enabled=1 (restored afterwards) each attached program's run_time_ns/run_cnt
// gives its mean cost per call; connections per second give the end-to-end overhead.
// NETMON_BENCH_FILTER=none emits no records (no session); NETMON_BENCH_DISABLE=cgroup,sock.accept:tracepoint ...
// leaves rungs out; NETMON_BENCH_STATS=0 measures with
// bpf_stats off (the stats themselves cost two clock reads per program run).
#include <bpf/bpf.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <map>
#include <thread>

#include "common/netns.h"
#include "common/unique_fd.h"
#include "sock/addr.h"
#include "sock/socket_layer.h"
#include "testenv/testenv.h"

namespace netmon::sock {
namespace {

using namespace netmon::testenv;  // NOLINT(google-build-using-namespace): test-only

struct ProgStats {
  std::string name;
  uint64_t run_time_ns = 0;
  uint64_t run_cnt = 0;
};

std::map<uint32_t, ProgStats> ReadStats(const std::vector<uint32_t>& ids) {
  std::map<uint32_t, ProgStats> out;
  for (uint32_t id : ids) {
    UniqueFd fd(bpf_prog_get_fd_by_id(id));
    if (!fd.valid()) continue;
    bpf_prog_info info{};
    uint32_t len = sizeof(info);
    if (bpf_obj_get_info_by_fd(fd.get(), &info, &len) != 0) continue;
    out[id] = ProgStats{info.name, info.run_time_ns, info.run_cnt};
  }
  return out;
}

// Opens `n` connections one after another from the client namespace. Returns connections per second.
double Churn(const Netns& ns, const Addr& to, uint16_t port, int n) {
  double rate = 0;
  std::thread t([&] {
    NetnsGuard in_ns(ns.fd());
    if (!in_ns.ok()) return;
    sockaddr_in sin{};
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    memcpy(&sin.sin_addr, to.data() + 12, 4);
    auto start = std::chrono::steady_clock::now();
    int done = 0;
    for (int i = 0; i < n; ++i) {
      UniqueFd fd(socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
      linger lg{1, 0};  // RST on close: no TIME_WAIT pile-up exhausting the ephemeral ports
      setsockopt(fd.get(), SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
      if (connect(fd.get(), reinterpret_cast<sockaddr*>(&sin), sizeof(sin)) != 0) continue;
      char b = 'x';
      if (send(fd.get(), &b, 1, 0) != 1 || recv(fd.get(), &b, 1, 0) != 1) continue;
      ++done;
    }
    double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    rate = done / secs;
  });
  t.join();
  return rate;
}

TEST(SockBench, PerHookCostUnderConnectionChurn) {
  const char* env = getenv("NETMON_BENCH_CONNS");
  const int conns = env ? atoi(env) : 3000;
  const char* rounds_env = getenv("NETMON_BENCH_ROUNDS");
  const int kRounds = rounds_env ? atoi(rounds_env) : 5;

  std::string stats_before;
  {
    std::ifstream in("/proc/sys/kernel/bpf_stats_enabled");
    std::getline(in, stats_before);
  }
  auto set_stats = [](const std::string& v) { std::ofstream("/proc/sys/kernel/bpf_stats_enabled") << v; };
  set_stats("1");

  auto topo = Topology::Create();
  ASSERT_TRUE(topo.ok()) << topo.status();
  auto srv = Process::Spawn(&topo->server(), {TrafficgenPath(), "tcp-serve", "--name", "nm-bench", "--listen",
                                              topo->server_end().ipv4 + ":0", "--recv", "1", "--send", "1", "--count",
                                              std::to_string(conns * kRounds * 2 + 10), "--timeout-ms", "60000"});
  ASSERT_TRUE(srv.ok()) << srv.status();
  auto listening = ExpectTrafficgenEvent(*srv, "listening", 10000);
  ASSERT_TRUE(listening.ok()) << listening.status();
  Addr to{};
  uint16_t port = 0;
  ASSERT_TRUE(ParseAddrPort(listening->local, &to, &port));
  // The server reports every connection on stdout: drain it so it never blocks on a full pipe.
  std::atomic<bool> stop{false};
  std::thread drain([&] {
    while (!stop.load()) {
      if (!srv->ReadLine(200).ok() && stop.load()) break;
    }
  });

  auto shared = bpf::SharedMaps::Create();
  ASSERT_TRUE(shared.ok());
  // NETMON_BENCH_FILTER=none: no live session, so maps are maintained but no record is emitted (separates the
  // kernel-side cost from the ring and the reader).
  const char* filter_env = getenv("NETMON_BENCH_FILTER");
  const bool emit = !(filter_env && std::string(filter_env) == "none");
  ASSERT_TRUE(
      shared->SetFilters(emit ? std::vector<netmon_filter>{netmon_filter{}} : std::vector<netmon_filter>{}).ok());
  SocketLayerConfig cfg;
  // NETMON_BENCH_DISABLE=kind[,hook:kind...]: measure without some rungs (find what a cost comes from).
  if (const char* off = getenv("NETMON_BENCH_DISABLE")) {
    std::string list = off;
    for (size_t pos = 0; pos <= list.size();) {
      size_t comma = list.find(',', pos);
      if (comma == std::string::npos) comma = list.size();
      if (comma > pos) cfg.disabled_rungs.push_back(list.substr(pos, comma - pos));
      pos = comma + 1;
    }
  }
  if (const char* stats = getenv("NETMON_BENCH_STATS"); stats && std::string(stats) == "0") set_stats("0");
  auto layer = SocketLayer::Create(*shared, cfg);
  ASSERT_TRUE(layer.ok()) << layer.status();

  double base = 0, with = 0;
  std::vector<double> ratios;
  std::map<uint32_t, ProgStats> total;
  uint64_t records = 0;
  for (int round = 0; round < kRounds; ++round) {
    const double b = Churn(topo->client(), to, port, conns);
    base += b;
    ASSERT_TRUE((*layer)->Attach().ok());
    std::vector<uint32_t> ids = (*layer)->AttachedProgramIds();
    auto before = ReadStats(ids);
    std::atomic<bool> churning{true};
    std::thread consumer([&] {
      while (churning.load()) records += (*layer)->PollEvents(50, [](const netmon_sock_event&) {});
    });
    const double w = Churn(topo->client(), to, port, conns);
    with += w;
    ratios.push_back(b > 0 ? w / b : 0);
    printf("  round %d: nothing attached %8.0f conn/s, attached %8.0f conn/s (%.1f%%)\n", round, b, w,
           100.0 * ratios.back());
    churning = false;
    consumer.join();
    auto after = ReadStats(ids);
    for (const auto& [id, s] : after) {
      total[id].name = s.name;
      total[id].run_time_ns += s.run_time_ns - before[id].run_time_ns;
      total[id].run_cnt += s.run_cnt - before[id].run_cnt;
    }
    (*layer)->Detach();
    (*layer)->SweepReleased(UINT64_MAX / 2);
  }
  stop = true;
  drain.join();
  srv->Kill();
  set_stats(stats_before.empty() ? "0" : stats_before);

  const double total_conns = static_cast<double>(conns) * kRounds;
  FILE* load = fopen("/proc/loadavg", "r");
  char loadavg[64] = "?";
  if (load != nullptr) {
    if (fgets(loadavg, sizeof(loadavg), load) == nullptr) loadavg[0] = 0;
    fclose(load);
  }
  printf(
      "\nconnection churn, %d rounds x %d connections (1 byte each way, RST close), client and server in "
      "namespaces on one veth\n",
      kRounds, conns);
  printf("  load average at the end: %s", loadavg);
  printf("  nothing attached : %9.0f conn/s\n", base / kRounds);
  std::sort(ratios.begin(), ratios.end());
  printf(
      "  socket layer     : %9.0f conn/s  (%.1f%% of baseline overall, median round %.1f%%; %lu lifecycle "
      "records read)\n",
      with / kRounds, 100.0 * with / base, 100.0 * ratios[ratios.size() / 2], static_cast<unsigned long>(records));
  printf("  %-18s %12s %10s %14s\n", "program", "calls", "ns/call", "calls/conn");
  for (const auto& [id, s] : total) {
    printf("  %-18s %12lu %10.0f %14.2f\n", s.name.c_str(), static_cast<unsigned long>(s.run_cnt),
           s.run_cnt ? static_cast<double>(s.run_time_ns) / static_cast<double>(s.run_cnt) : 0.0,
           static_cast<double>(s.run_cnt) / total_conns);
  }
  EXPECT_GT(base, 0);
  EXPECT_GT(with, 0);
}

}  // namespace
}  // namespace netmon::sock
