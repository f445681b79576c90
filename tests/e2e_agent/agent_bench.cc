// SPDX-License-Identifier: Apache-2.0
// netmon-agent-bench: events/s delivered to a poller-like client through netmon-agent vs directly from the
// server, in the same run (docs/architecture.md §8 "event pipeline"). Not a test: it prints numbers.
//
// The server side is netmon-server's gRPC layer in-process (SessionManager + NetworkMonitorServiceImpl over
// mTLS) holding one finished capture of N synthetic events; the kernel is not involved, so this measures the
// delivery path only. Rounds alternate so both paths see the same machine state:
//   direct      GetCaptureResults SNAPSHOT from sequence 0 (protobuf chunks), as a client of the server
//   agent       the real netmon-agent binary (its own process) polled with StreamResults + last_sequence until
//               the capture is complete; the client receives every chunk (count from current_sequence)
//   agent+json  the same, and the client also parses every chunk's JSON (what ServiceRadar's poller does)
//
//   netmon-agent-bench [--events N] [--rounds R] [--extra-bytes B]
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>
#include <vector>

#include "agent_test_env.h"
#include "common/log.h"
#include "common/str_cat.h"
#include "e2e_env.h"
#include "rpc/credentials.h"

namespace netmon::e2e {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

struct Args {
  size_t events = 500'000;
  int rounds = 3;
  size_t extra_bytes = 120;  // pad in extra_info: ~170-byte extra_info, like a DATA event's
};

double Seconds(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

// All events of the session straight from the server; returns the count.
uint64_t Direct(const std::string& address, const std::string& id) {
  auto ch = rpc::CreateChannel(address, agent::testing::Mtls("client", "ca", "netmon-server"));
  auto stub = network_monitor::NetworkMonitorService::NewStub(*ch);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 300s);
  network_monitor::GetCaptureResultsRequest req;
  req.set_session_id(id);
  req.set_mode(network_monitor::RESULTS_MODE_SNAPSHOT);
  auto reader = stub->GetCaptureResults(&ctx, req);
  network_monitor::NetworkCaptureChunk chunk;
  uint64_t n = 0;
  while (reader->Read(&chunk)) n += static_cast<uint64_t>(chunk.events_size());
  grpc::Status s = reader->Finish();
  if (!s.ok()) std::fprintf(stderr, "direct: %s\n", s.error_message().c_str());
  return n;
}

// Polls the agent until the capture is complete; returns the events delivered.
uint64_t ThroughAgent(const std::string& address, const std::string& id, bool parse, int* polls) {
  auto ch = rpc::CreateChannel(address, agent::testing::Mtls("client", "ca", "netmon-agent"));
  auto stub = monitoring::AgentService::NewStub(*ch);
  std::string last;
  uint64_t n = 0;
  for (*polls = 0; *polls < 100000; ++*polls) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + 30s);  // the poller's deadline
    auto reader = stub->StreamResults(&ctx, agent::testing::ResultsRequestFor(id, last));
    monitoring::ResultsChunk chunk;
    bool complete = false;
    uint64_t before = last.empty() ? 0 : std::stoull(last);
    while (reader->Read(&chunk)) {
      if (parse) {
        auto doc = nlohmann::json::parse(chunk.data());
        n += doc["results"].size();
        if (chunk.is_final()) complete = doc["capture"]["complete"];
      } else if (chunk.is_final()) {
        // The JSON's end carries "complete"; the count comes from the sequence cursor.
        complete = chunk.data().find("\"complete\":true") != std::string::npos;
      }
      last = chunk.current_sequence();
    }
    grpc::Status s = reader->Finish();
    if (!s.ok()) {
      std::fprintf(stderr, "agent: %s\n", s.error_message().c_str());
      return n;
    }
    if (!parse) n += std::stoull(last) - before;
    if (complete) {
      ++*polls;
      return n;
    }
  }
  return n;
}

int Main(int argc, char** argv) {
  Args a;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (std::strcmp(argv[i], "--events") == 0)
      a.events = std::stoul(argv[i + 1]);
    else if (std::strcmp(argv[i], "--rounds") == 0)
      a.rounds = std::stoi(argv[i + 1]);
    else if (std::strcmp(argv[i], "--extra-bytes") == 0)
      a.extra_bytes = std::stoul(argv[i + 1]);
    else {
      std::fprintf(stderr, "usage: netmon-agent-bench [--events N] [--rounds R] [--extra-bytes B]\n");
      return 2;
    }
  }
  log::SetLevel(log::Level::kWarn);
  agent::testing::MonitorFixture::Options mo;
  mo.manager.max_events_per_session = a.events + 1;
  mo.manager.max_retained_bytes = 8ull << 30;
  agent::testing::MonitorFixture mon(mo);
  session::CaptureRequest req;
  req.session_id = "bench";
  req.duration_seconds = 60;
  if (absl::Status s = mon.sessions().Start(req); !s.ok()) {
    std::fprintf(stderr, "start: %s\n", std::string(s.message()).c_str());
    return 1;
  }
  for (size_t s = 1; s <= a.events; s += 10'000) {
    mon.Inject(agent::testing::SyntheticEvents(s, std::min<size_t>(10'000, a.events - s + 1), a.extra_bytes));
  }
  mon.EndCapture("bench");

  agent::testing::TempDir dir;
  auto agent = AgentProcess::Start(dir, AgentProcess::Config(mon.address()));
  if (!agent.ok()) {
    std::fprintf(stderr, "netmon-agent: %s\n", std::string(agent.status().message()).c_str());
    return 1;
  }
  std::printf(
      "%zu events per round (extra_info ~%zu bytes), %d rounds, agent defaults (1 MB chunks, "
      "250000 events per poll)\n",
      a.events, a.extra_bytes + 40, a.rounds);
  std::vector<double> direct, via, via_json;
  for (int r = 0; r < a.rounds; ++r) {
    auto t0 = Clock::now();
    uint64_t n1 = Direct(mon.address(), "bench");
    auto t1 = Clock::now();
    int polls = 0;
    uint64_t n2 = ThroughAgent(agent->address(), "bench", false, &polls);
    auto t2 = Clock::now();
    int polls_json = 0;
    uint64_t n3 = ThroughAgent(agent->address(), "bench", true, &polls_json);
    auto t3 = Clock::now();
    direct.push_back(static_cast<double>(n1) / Seconds(t0, t1));
    via.push_back(static_cast<double>(n2) / Seconds(t1, t2));
    via_json.push_back(static_cast<double>(n3) / Seconds(t2, t3));
    std::printf(
        "round %d: direct %llu ev in %.3f s | agent %llu ev in %.3f s (%d polls) | agent+json %llu ev in "
        "%.3f s\n",
        r + 1, static_cast<unsigned long long>(n1), Seconds(t0, t1), static_cast<unsigned long long>(n2),
        Seconds(t1, t2), polls, static_cast<unsigned long long>(n3), Seconds(t2, t3));
  }
  auto median = [](std::vector<double> v) {
    std::sort(v.begin(), v.end());
    return v[v.size() / 2];
  };
  double d = median(direct), g = median(via), j = median(via_json);
  std::printf(
      "median events/s: direct %.0f, through agent %.0f (%.2fx of direct), through agent + client JSON "
      "parse %.0f\n",
      d, g, g / d, j);
  (void)agent->Stop();
  return 0;
}

}  // namespace
}  // namespace netmon::e2e

int main(int argc, char** argv) {
  return netmon::e2e::Main(argc, argv);
}
