// SPDX-License-Identifier: Apache-2.0
// Test scaffolding for netmon-agent (shared by tests/unit/agent, tests/unit/cli and tests/e2e_agent): dev
// certificates per test binary, an in-process netmon-server at the true seam (the server engineer's
// SessionManager + NetworkMonitorServiceImpl behind RpcServer with mTLS, fed with synthetic events through
// SessionManager::Route, as the engine would), an in-process agent in front of it, and a poller that polls like
// ServiceRadar's (StreamResults with last_sequence) and checks every chunk on the way.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "agent/agent_service.h"
#include "agent/monitor_client.h"
#include "join/event.h"
#include "monitoring.grpc.pb.h"
#include "network_monitor.grpc.pb.h"
#include "nlohmann/json.hpp"
#include "rpc/network_monitor_service.h"
#include "rpc/rpc_server.h"
#include "rpc/security_config.h"
#include "rpc_test_env.h"
#include "session/clock.h"
#include "session/session_manager.h"

namespace netmon::agent::testing {

// The rpc test env's: a fresh directory under $TMPDIR (testenv::TempDir), the certificates made once per test
// binary, and an mTLS SecurityConfig presenting `cert` ("server", "agent", "client", "other-client") trusting `ca`.
using rpc::testing::CertDir;
using rpc::testing::Mtls;
using rpc::testing::TempDir;
// The same as a SecurityConfig JSON object (for config files and netmonctl --security).
nlohmann::json MtlsJson(const std::string& cert, const std::string& ca = "ca", const std::string& server_name = "");

// A synthetic event as the join would produce it; `seq` makes its port and timestamp unique.
join::Event SyntheticEvent(uint64_t seq, size_t extra_pad = 0, uint32_t pid = 4242);
std::vector<join::Event> SyntheticEvents(uint64_t first, size_t n, size_t extra_pad = 0);

// netmon-server's gRPC side in-process. Time is a ManualClock: captures end when the test advances it.
class MonitorFixture {
 public:
  struct Options {
    std::string listen = "127.0.0.1:0";  // a fixed port lets a test restart the "server" at the same address
    session::ManagerOptions manager;
    rpc::ServiceOptions service;
    session::PidChecker pid_checker = session::CheckProcessExists;
  };
  MonitorFixture() : MonitorFixture(Options{}) {}
  explicit MonitorFixture(Options options);
  ~MonitorFixture();
  MonitorFixture(const MonitorFixture&) = delete;
  MonitorFixture& operator=(const MonitorFixture&) = delete;

  std::string address() const;
  int port() const;
  session::SessionManager& sessions() { return *sessions_; }
  session::ManualClock& clock() { return clock_; }
  // Hands events to every live session (what the engine does).
  void Inject(std::vector<join::Event> events) { sessions_->Route(std::move(events)); }
  // Moves time past every running capture's end and waits (bounded) until `id` has finished.
  bool EndCapture(const std::string& id);

 private:
  session::ManualClock clock_;
  std::unique_ptr<session::SessionManager> sessions_;
  std::unique_ptr<rpc::NetworkMonitorServiceImpl> service_;
  std::unique_ptr<rpc::RpcServer> server_;
  std::atomic<bool> stop_{false};
  std::thread pump_;
};

// The agent in-process, in front of `monitor_address`, serving on 127.0.0.1:<ephemeral> with mTLS.
class AgentFixture {
 public:
  struct Options {
    std::string monitor_address;
    rpc::SecurityConfig monitor_security;  // default: Mtls("agent", "ca", "netmon-server")
    AgentOptions agent;
    std::chrono::milliseconds call_timeout{5000};
  };
  // Options for an agent in front of `monitor_address`, everything else default.
  static Options For(const std::string& monitor_address) {
    Options o;
    o.monitor_address = monitor_address;
    return o;
  }
  explicit AgentFixture(Options options);
  explicit AgentFixture(const std::string& monitor_address);
  ~AgentFixture();

  std::string address() const;
  AgentServiceImpl& service() { return *service_; }
  // A poller's stub with the given client certificate.
  std::unique_ptr<monitoring::AgentService::Stub> Stub(const std::string& cert = "client",
                                                       const std::string& ca = "ca");

 private:
  std::unique_ptr<MonitorClient> monitor_;
  std::unique_ptr<AgentServiceImpl> service_;
  std::unique_ptr<rpc::RpcServer> server_;
};

// One StreamResults call, with each chunk checked: data parses on its own as a JSON object with session_id and
// a results array, size <= max_chunk_bytes, chunk_index 0.., total_chunks equal everywhere and right, exactly
// one is_final (the last), current_sequence non-decreasing and equal to the JSON's.
struct PollAnswer {
  grpc::Status status;
  std::vector<monitoring::ResultsChunk> chunks;
  std::vector<nlohmann::json> docs;
  std::vector<nlohmann::json> events;  // all "results" in order
  std::string current_sequence;        // the final chunk's
  nlohmann::json capture;              // the final chunk's "capture" object
  std::vector<std::string> problems;   // shape violations (empty = fine)
};
PollAnswer PollStream(monitoring::AgentService::Stub& stub, const std::string& details,
                      const std::string& last_sequence, size_t max_chunk_bytes = 1'000'000, int deadline_s = 30);

monitoring::ResultsRequest ResultsRequestFor(const std::string& details, const std::string& last_sequence);

// TriggerNetworkCapture with a bounded deadline.
grpc::Status Trigger(monitoring::AgentService::Stub& stub, const monitoring::TriggerNetworkCaptureRequest& req,
                     monitoring::TriggerNetworkCaptureResponse* resp, int deadline_s = 30);

}  // namespace netmon::agent::testing
