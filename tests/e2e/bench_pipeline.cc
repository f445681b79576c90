// SPDX-License-Identifier: Apache-2.0
// Benchmark, not a test: (1) events/s from the join to a gRPC client over mTLS on loopback: synthetic flow
// deltas -> Joiner -> SessionManager -> NetworkMonitorService -> a following client, timed from the first
// sample to the client's final chunk; (2) resident memory per retained event.
//   netmon_bench_pipeline [EVENTS]   (default 2000000)
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "join/joiner.h"
#include "rpc_test_env.h"

namespace netmon {
namespace {

using Clock = std::chrono::steady_clock;

double ThreadCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

double ProcessCpuSeconds() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) / 1e9;
}

long RssKiB() {
  std::ifstream statm("/proc/self/statm");
  long size = 0, resident = 0;
  statm >> size >> resident;
  return resident * sysconf(_SC_PAGESIZE) / 1024;
}

// Deltas for `flows` distinct TCP flows (10.0.x.y:port -> 10.1.0.1:443), owned by cookie = flow index + 1.
std::vector<flow::FlowSample> Samples(size_t flows, uint64_t round) {
  std::vector<flow::FlowSample> out(flows);
  for (size_t i = 0; i < flows; ++i) {
    flow::FlowSample& s = out[i];
    s.tuple.local_addr[10] = s.tuple.local_addr[11] = s.tuple.remote_addr[10] = s.tuple.remote_addr[11] = 0xff;
    s.tuple.local_addr[12] = 10;
    s.tuple.local_addr[14] = static_cast<uint8_t>(i >> 8);
    s.tuple.local_addr[15] = static_cast<uint8_t>(i);
    s.tuple.remote_addr[12] = 10;
    s.tuple.remote_addr[13] = 1;
    s.tuple.remote_addr[15] = 1;
    s.tuple.local_port = static_cast<uint16_t>(30000 + i % 30000);
    s.tuple.remote_port = 443;
    s.tuple.proto = 6;
    s.tuple.netns = 4026531840u;
    s.cookie = i + 1;
    s.bytes[0] = 1500 * (round % 7 + 1);
    s.bytes[1] = 64000 + round;
    s.packets[0] = round % 7 + 1;
    s.packets[1] = 44;
    s.first_seen_ns = 1'000'000;
    s.last_seen_ns = 1'000'000 + round * 1000 + i;
    s.syn_dir = 1;
  }
  return out;
}

join::OwnerSource Owners() {
  return {[](uint64_t cookie) -> std::optional<netmon_owner> {
            netmon_owner o{};
            o.tgid = static_cast<uint32_t>(1000 + cookie % 50);
            std::snprintf(o.comm, sizeof(o.comm), "worker-%02u", static_cast<unsigned>(cookie % 50));
            o.source = NETMON_SRC_CONNECT;
            o.role = NETMON_ROLE_ACTIVE;
            return o;
          },
          {}};
}

int Main(int argc, char** argv) {
  const uint64_t total = argc > 1 ? std::strtoull(argv[1], nullptr, 10) : 2'000'000;
  const size_t flows = 4096;

  // (1) Throughput: join -> sessions -> gRPC (mTLS, loopback) -> client.
  rpc::testing::ServerFixture::Options opt;
  opt.manager.max_events_per_session = total + 1;
  opt.manager.max_retained_bytes = 64ull << 30;
  rpc::testing::ServerFixture server(opt);
  auto stub = server.Stub();
  {
    grpc::ClientContext ctx;
    network_monitor::StartCaptureRequest req;
    req.set_session_id("bench");
    req.set_duration_seconds(3600);
    network_monitor::StartCaptureResponse resp;
    if (!stub->StartCapture(&ctx, req, &resp).ok()) return 1;
  }
  uint64_t received = 0;
  Clock::time_point done_at;
  std::thread client([&] {
    grpc::ClientContext ctx;
    network_monitor::GetCaptureResultsRequest req;
    req.set_session_id("bench");
    auto rd = stub->GetCaptureResults(&ctx, req);
    network_monitor::NetworkCaptureChunk chunk;
    while (rd->Read(&chunk)) received += static_cast<uint64_t>(chunk.events_size());
    done_at = Clock::now();
    rd->Finish();
  });
  join::Joiner joiner(Owners());
  joiner.SetClock(join::WallClock::Sample());
  double cpu0 = ProcessCpuSeconds(), producer_cpu0 = ThreadCpuSeconds();
  auto start = Clock::now();
  uint64_t produced = 0, round = 0;
  double join_seconds = 0;
  while (produced < total) {
    auto samples = Samples(std::min<uint64_t>(flows, total - produced), ++round);
    std::vector<join::Event> evs;
    auto j0 = Clock::now();
    joiner.OnFlows(samples, &evs);
    join_seconds += std::chrono::duration<double>(Clock::now() - j0).count();
    produced += evs.size();
    server.sessions().Route(std::move(evs));
  }
  auto produced_at = Clock::now();
  double producer_cpu = ThreadCpuSeconds() - producer_cpu0;
  (void)server.sessions().Stop("bench");
  client.join();
  double cpu = ProcessCpuSeconds() - cpu0;
  double secs = std::chrono::duration<double>(done_at - start).count();
  std::printf("pipeline: %llu events join->gRPC client (mTLS, loopback) in %.2f s = %.0f events/s\n",
              static_cast<unsigned long long>(received), secs, received / secs);
  std::printf("  join alone: %.0f events/s; produce+route: %.0f events/s\n", produced / join_seconds,
              produced / std::chrono::duration<double>(produced_at - start).count());
  // CPU time is what a loaded machine does not distort: the producer (join + routing) on one thread, and the whole
  // process (producer, gRPC server and the client in this process, over mTLS) per event.
  std::printf("  CPU: producer %.0f ns/event, whole pipeline incl. TLS and the client %.0f ns/event\n",
              producer_cpu * 1e9 / static_cast<double>(produced), cpu * 1e9 / static_cast<double>(received));

  // (2) Memory per retained event: a fresh manager, no client.
  session::ManualClock clock;
  session::ManagerOptions mo;
  mo.max_events_per_session = total + 1;
  mo.max_retained_bytes = 64ull << 30;
  session::SessionManager mgr(mo, &clock);
  session::CaptureRequest req;
  req.session_id = "mem";
  req.duration_seconds = 3600;
  if (!mgr.Start(req).ok()) return 1;
  join::Joiner joiner2(Owners());
  joiner2.SetClock(join::WallClock::Sample());
  // Warm the join's per-flow state first so it is not counted as retained memory.
  {
    std::vector<join::Event> warm;
    joiner2.OnFlows(Samples(flows, 1), &warm);
  }
  long before = RssKiB();
  uint64_t kept = 0;
  round = 1;
  while (kept < total) {
    auto samples = Samples(std::min<uint64_t>(flows, total - kept), ++round);
    std::vector<join::Event> evs;
    joiner2.OnFlows(samples, &evs);
    kept += evs.size();
    mgr.Route(std::move(evs));
  }
  long after = RssKiB();
  auto st = (*mgr.Find("mem"))->Stats({});
  std::printf("memory: %llu retained events, RSS +%ld KiB = %.0f bytes/event (accounted estimate %.0f bytes/event)\n",
              static_cast<unsigned long long>(st.events_retained), after - before,
              (after - before) * 1024.0 / static_cast<double>(st.events_retained),
              static_cast<double>(mgr.retained_bytes()) / static_cast<double>(st.events_retained));
  return 0;
}

}  // namespace
}  // namespace netmon

int main(int argc, char** argv) {
  return netmon::Main(argc, argv);
}
