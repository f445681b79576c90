// SPDX-License-Identifier: Apache-2.0
// netmon-bench-client: the gRPC client of bench/ — a capture as an operator runs one (StartCapture, then follow
// GetCaptureResults live), with the numbers a benchmark needs and netmonctl does not print: how long StartCapture
// took, events/s received, unattributed events, the final CaptureStats (loss counters) — as one JSON line.
//
//   netmon-bench-client capture --server ADDR --session ID [--pid P] [--duration S]
//       Starts the capture, prints {"started": …, "rpc_ms": …}, follows it; "stop" (or end of input) on stdin
//       stops it; prints the summary once the final chunk has come.
//   netmon-bench-client latency --server ADDR [--rounds N]
//       Capture start latency, N times: StartCapture from idle (programs detached) → the RPC returns (programs
//       attached: the server attaches before it answers) → the first CONNECT (socket layer) and DNS_QUERY
//       (packet layer) events, whose kernel timestamps say when each layer first saw traffic. Needs paced
//       connection and DNS sources running (the driver starts them); each round stops its capture and waits
//       until the programs are detached again.
//
// Plaintext only (mode "none"): bench/ runs netmon-server on a unix socket, where docs/architecture.md §5 allows it.
#include <grpcpp/grpcpp.h>
#include <time.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <map>
#include <string>
#include <thread>
#include <vector>

#include "network_monitor.grpc.pb.h"
#include "nlohmann/json.hpp"
#include "rpc/credentials.h"

namespace {

namespace nm = network_monitor;
using nlohmann::json;
using Clock = std::chrono::steady_clock;

int64_t WallNs() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

double Ms(Clock::time_point a, Clock::time_point b) {
  return std::chrono::duration<double, std::milli>(b - a).count();
}

struct Args {
  std::string mode;
  std::string server;
  std::string session = "bench";
  int pid = 0;
  int duration = 600;
  int rounds = 5;
};

[[noreturn]] void Usage() {
  std::fprintf(stderr,
               "usage: netmon-bench-client capture --server ADDR --session ID [--pid P] [--duration S]\n"
               "       netmon-bench-client latency --server ADDR [--rounds N]\n");
  std::exit(2);
}

json StatsJson(const nm::CaptureStats& s) {
  json drops = json::object();
  for (const auto& [k, v] : s.drops()) drops[k] = v;
  return {{"events_total", s.events_total()},
          {"events_retained", s.events_retained()},
          {"events_dropped", s.events_dropped()},
          {"unattributed_bytes", s.unattributed_bytes()},
          {"unattributed_packets", s.unattributed_packets()},
          {"drops", drops},
          {"started_ns", s.started_ns()},
          {"ended_ns", s.ended_ns()},
          {"state", nm::CaptureState_Name(s.state())},
          {"last_sequence", s.last_sequence()}};
}

class Client {
 public:
  explicit Client(const std::string& address) {
    auto ch = netmon::rpc::CreateChannel(address, netmon::rpc::SecurityConfig{});
    if (!ch.ok()) {
      std::fprintf(stderr, "netmon-bench-client: %s\n", std::string(ch.status().message()).c_str());
      std::exit(1);
    }
    stub_ = nm::NetworkMonitorService::NewStub(*ch);
  }

  grpc::Status Start(const std::string& id, int pid, int duration) {
    nm::StartCaptureRequest req;
    req.set_session_id(id);
    req.set_duration_seconds(duration);
    req.mutable_filter()->set_process_id(pid);
    nm::StartCaptureResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    grpc::Status s = stub_->StartCapture(&ctx, req, &resp);
    if (s.ok() && !resp.success()) return grpc::Status(grpc::StatusCode::UNKNOWN, resp.message());
    return s;
  }

  grpc::Status Stop(const std::string& id) {
    nm::StopCaptureRequest req;
    req.set_session_id(id);
    nm::StopCaptureResponse resp;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    return stub_->StopCapture(&ctx, req, &resp);
  }

  // True when any packet/socket-layer hook is attached.
  bool Attached() {
    nm::GetStatusResponse st;
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    if (!stub_->GetStatus(&ctx, nm::GetStatusRequest(), &st).ok()) return true;
    return std::any_of(st.hooks().begin(), st.hooks().end(), [](const nm::HookStatus& h) { return h.active(); });
  }

  nm::NetworkMonitorService::Stub* stub() { return stub_.get(); }

 private:
  std::unique_ptr<nm::NetworkMonitorService::Stub> stub_;
};

// Follows a capture to its final chunk, tallying what came.
struct Tally {
  uint64_t events = 0;
  uint64_t unattributed = 0;
  std::map<std::string, uint64_t> by_type;
  std::map<int32_t, std::map<std::string, uint64_t>> by_pid;  // lets the driver check what one load caused
  int64_t first_event_ns = 0;
  int64_t first_connect_ns = 0;
  int64_t first_dns_ns = 0;
  int64_t last_event_ns = 0;
  Clock::time_point first_at{}, last_at{};
  nm::CaptureStats stats;
  bool final_seen = false;
  std::string error;
};

// `on_event` returning true ends the follow early (the latency mode needs only the first CONNECT).
template <typename F>
Tally Follow(Client& c, const std::string& id, grpc::ClientContext* ctx, F on_event) {
  Tally t;
  nm::GetCaptureResultsRequest req;
  req.set_session_id(id);
  auto rd = c.stub()->GetCaptureResults(ctx, req);
  nm::NetworkCaptureChunk chunk;
  bool done = false;
  while (!done && rd->Read(&chunk)) {
    auto now = Clock::now();
    for (const nm::NetworkEvent& e : chunk.events()) {
      if (t.events++ == 0) {
        t.first_at = now;
        t.first_event_ns = e.timestamp_ns();
      }
      t.last_at = now;
      t.last_event_ns = std::max(t.last_event_ns, e.timestamp_ns());
      ++t.by_type[e.event_type()];
      ++t.by_pid[e.process_id()][e.event_type()];
      if (e.process_id() == 0) ++t.unattributed;
      if (e.event_type() == "CONNECT" && (t.first_connect_ns == 0 || e.timestamp_ns() < t.first_connect_ns)) {
        t.first_connect_ns = e.timestamp_ns();
      }
      if (e.event_type() == "DNS_QUERY" && (t.first_dns_ns == 0 || e.timestamp_ns() < t.first_dns_ns)) {
        t.first_dns_ns = e.timestamp_ns();
      }
      if (on_event(e, t)) done = true;
    }
    if (chunk.is_final()) {
      t.stats = chunk.stats();
      t.final_seen = true;
    }
  }
  if (done) ctx->TryCancel();
  grpc::Status s = rd->Finish();
  if (!s.ok() && !done) t.error = s.error_message();
  return t;
}

int Capture(const Args& a) {
  Client c(a.server);
  auto t0 = Clock::now();
  int64_t wall0 = WallNs();
  grpc::Status s = c.Start(a.session, a.pid, a.duration);
  auto t1 = Clock::now();
  if (!s.ok()) {
    std::cout << json{{"started", false}, {"error", s.error_message()}, {"code", static_cast<int>(s.error_code())}}
              << std::endl;
    return 1;
  }
  std::cout << json{{"started", true}, {"rpc_ms", Ms(t0, t1)}, {"start_wall_ns", wall0}} << std::endl;
  grpc::ClientContext ctx;
  Tally t;
  std::thread follower(
      [&] { t = Follow(c, a.session, &ctx, [](const nm::NetworkEvent&, const Tally&) { return false; }); });
  std::string line;
  while (std::getline(std::cin, line) && line != "stop") {
  }
  auto stop_at = Clock::now();
  grpc::Status st = c.Stop(a.session);
  follower.join();
  auto end = Clock::now();
  json by_pid = json::object();
  for (const auto& [pid, types] : t.by_pid) by_pid[std::to_string(pid)] = types;
  double span = t.events > 1 ? std::chrono::duration<double>(t.last_at - t.first_at).count() : 0;
  json out = {{"session", a.session},
              {"events", t.events},
              {"unattributed_events", t.unattributed},
              {"by_type", t.by_type},
              {"by_pid", by_pid},
              {"capture_seconds", std::chrono::duration<double>(stop_at - t1).count()},
              {"final_ms", Ms(stop_at, end)},
              {"receive_span_seconds", span},
              {"first_event_ns", t.first_event_ns},
              {"first_connect_ns", t.first_connect_ns},
              {"first_dns_ns", t.first_dns_ns},
              {"final_seen", t.final_seen},
              {"stop_ok", st.ok()},
              {"stats", StatsJson(t.stats)}};
  if (!t.error.empty()) out["error"] = t.error;
  std::cout << out << std::endl;
  return t.final_seen ? 0 : 1;
}

int Latency(const Args& a) {
  Client c(a.server);
  json rounds = json::array();
  for (int r = 0; r < a.rounds; ++r) {
    // From idle: wait until the previous round's programs are detached (the last capture's end detaches them).
    auto wait_until = Clock::now() + std::chrono::seconds(10);
    while (c.Attached() && Clock::now() < wait_until) std::this_thread::sleep_for(std::chrono::milliseconds(20));
    bool cold = !c.Attached();
    std::string id = a.session + "-lat-" + std::to_string(r);
    int64_t wall0 = WallNs();
    auto t0 = Clock::now();
    grpc::Status s = c.Start(id, 0, 30);
    auto t1 = Clock::now();
    if (!s.ok()) {
      rounds.push_back({{"error", s.error_message()}});
      continue;
    }
    bool attached = c.Attached();
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(10));
    Tally t = Follow(c, id, &ctx, [](const nm::NetworkEvent&, const Tally& so_far) {
      return so_far.first_connect_ns != 0 && so_far.first_dns_ns != 0;
    });
    auto t2 = Clock::now();
    (void)c.Stop(id);
    json row = {
        {"cold", cold}, {"rpc_ms", Ms(t0, t1)}, {"attached_after_rpc", attached}, {"both_delivered_ms", Ms(t0, t2)}};
    if (t.first_connect_ns > 0) row["first_connect_ms"] = static_cast<double>(t.first_connect_ns - wall0) / 1e6;
    if (t.first_dns_ns > 0) row["first_dns_ms"] = static_cast<double>(t.first_dns_ns - wall0) / 1e6;
    if (t.first_connect_ns > 0 || t.first_dns_ns > 0) {
      int64_t first = t.first_connect_ns == 0 ? t.first_dns_ns
                      : t.first_dns_ns == 0   ? t.first_connect_ns
                                              : std::min(t.first_connect_ns, t.first_dns_ns);
      row["first_event_ms"] = static_cast<double>(first - wall0) / 1e6;
    }
    rounds.push_back(row);
  }
  std::cout << json{{"rounds", rounds}} << std::endl;
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) Usage();
  Args a;
  a.mode = argv[1];
  for (int i = 2; i + 1 < argc; i += 2) {
    std::string k = argv[i];
    const char* v = argv[i + 1];
    if (k == "--server") {
      a.server = v;
    } else if (k == "--session") {
      a.session = v;
    } else if (k == "--pid") {
      a.pid = std::atoi(v);
    } else if (k == "--duration") {
      a.duration = std::atoi(v);
    } else if (k == "--rounds") {
      a.rounds = std::atoi(v);
    } else {
      Usage();
    }
  }
  if (a.server.empty() || (argc % 2) != 0) Usage();
  if (a.mode == "capture") return Capture(a);
  if (a.mode == "latency") return Latency(a);
  Usage();
}
