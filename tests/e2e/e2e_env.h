// SPDX-License-Identifier: Apache-2.0
// End-to-end scaffolding: the real netmon-server binary started with a config made for the test, mTLS clients
// with certificates from scripts/make-dev-certs.sh, a two-namespace topology with the packet layer on both veth
// ends, helpers to run captures, an independent packet count (tcpdump), and the "what is attached" view from
// bpftool.
#pragma once

#include <gtest/gtest.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "network_monitor.grpc.pb.h"
#include "nlohmann/json.hpp"
#include "rpc_test_env.h"
#include "testenv/testenv.h"

namespace netmon::e2e {

// Path of the netmon-server binary, or "" if it was not built (the layers it needs are missing).
std::string ServerBinary();
std::string TalkerScript();

#define NETMON_REQUIRE_SERVER()                                                                               \
  do {                                                                                                        \
    if (::netmon::e2e::ServerBinary().empty())                                                                \
      GTEST_SKIP() << "netmon-server was not built: the packet and socket layers (netmon_flow, netmon_sock) " \
                      "are missing";                                                                          \
  } while (0)

// A running netmon-server. Destruction stops it (SIGTERM, then SIGKILL if it hangs).
class ServerProcess {
 public:
  // Writes `config` to a file and starts the server; returns once it printed its "listening" line.
  static absl::StatusOr<std::unique_ptr<ServerProcess>> Start(const nlohmann::json& config);
  ~ServerProcess();

  std::string address() const { return address_; }
  pid_t pid() const { return process_->pid(); }
  std::unique_ptr<network_monitor::NetworkMonitorService::Stub> Stub(const std::string& cert = "client",
                                                                     const std::string& ca = "ca") const;
  // SIGTERM and wait: the exit code.
  absl::StatusOr<int> Stop();

 private:
  ServerProcess() = default;
  std::unique_ptr<rpc::testing::TempDir> dir_;
  std::unique_ptr<testenv::Process> process_;
  std::string address_;
};

// Runs the server binary with `config` and returns its exit code and everything it printed (stdout+stderr), for
// configurations that must be refused.
struct RunResult {
  int exit_code = -1;
  std::string output;
};
RunResult RunServerExpectingExit(const std::string& config_text, const std::vector<std::string>& extra_args = {});

// The mTLS part of a server config, with the dev certificates.
nlohmann::json MtlsSecurity();
// A server config over mTLS on 127.0.0.1:<any> with the packet layer on both ends of `topo`.
nlohmann::json TopologyConfig(const testenv::Topology& topo);

// Captures.
network_monitor::StartCaptureRequest CaptureRequest(const std::string& id, int duration, int pid = 0, int port = 0,
                                                    const std::string& src = "", const std::string& dst = "");
grpc::Status StartCapture(network_monitor::NetworkMonitorService::Stub& stub,
                          const network_monitor::StartCaptureRequest& req);
grpc::Status StopCapture(network_monitor::NetworkMonitorService::Stub& stub, const std::string& id);
// Follows (or replays) a capture to its final chunk.
rpc::testing::StreamResult Results(network_monitor::NetworkMonitorService::Stub& stub, const std::string& id,
                                   uint64_t after = 0, bool snapshot = false, int deadline_s = 120);

// A tcp-connect client and its tcp-serve server both report "done" and exit; returns the client's report.
absl::StatusOr<testenv::TrafficgenEvent> AwaitExchange(testenv::Process& client, testenv::Process& server);

// "10.1.2.3:80" / "[fd00::1]:80" -> port.
int PortOf(const std::string& endpoint);
std::string HostOf(const std::string& endpoint);
nlohmann::json Extra(const network_monitor::NetworkEvent& ev);

// Sum of DATA bytes of the events for one flow (identified by its two endpoints, in either order) and process.
struct FlowTotals {
  int64_t sent = 0, received = 0;
  uint64_t packets_sent = 0, packets_received = 0;
  int data_events = 0;
};
FlowTotals SumData(const std::vector<network_monitor::NetworkEvent>& evs, const std::string& a, const std::string& b,
                   int pid);

// An independent capture: tcpdump on one interface of a namespace, L3 bytes per direction of one flow.
class PacketCounter {
 public:
  static absl::StatusOr<std::unique_ptr<PacketCounter>> Start(const testenv::Netns& ns, const std::string& ifname);
  ~PacketCounter();
  // Stops tcpdump and returns the L3 bytes/packets of packets from `local` to `remote` (egress) and back.
  absl::StatusOr<FlowTotals> Stop(const std::string& local, const std::string& remote);

 private:
  PacketCounter() = default;
  std::unique_ptr<rpc::testing::TempDir> dir_;
  std::unique_ptr<testenv::Process> tcpdump_;
  std::string file_;
};

// netmon programs that are attached anywhere bpftool can see: links, perf events, the cgroup v2 root, and TC/XDP
// in the host namespace and in `namespaces`. Each entry "where: name (id)". With `owner_pid`, only programs that
// process holds (other test binaries on the same machine may be running netmon programs of their own).
std::vector<std::string> NetmonAttachments(const std::vector<const testenv::Netns*>& namespaces, int owner_pid = 0);

// One TCP connection between the topology's namespaces with trafficgen: the server in server(), the client in
// client(); returns once both reported "done".
struct TcpRun {
  int client_pid = 0, server_pid = 0;
  std::string client_local, server_local;  // "10.x.y.1:port" / "[fd00::1]:port"
  int64_t sent = 0, received = 0;          // payload bytes from the client's point of view
};
absl::StatusOr<TcpRun> RunTcp(testenv::Topology& topo, bool ipv6, int64_t send, int64_t recv, int port = 0);
// One UDP request/reply the same way.
absl::StatusOr<TcpRun> RunUdp(testenv::Topology& topo, bool ipv6, int64_t bytes, int64_t reply, int port = 0);

// Waits (bounded) until `pred` holds.
bool Eventually(const std::function<bool()>& pred, int timeout_ms = 30000);

// A fixture for tests that drive one real netmon-server whose packet layer watches a fresh testenv topology.
class ServerOnTopologyTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (ServerBinary().empty()) GTEST_SKIP() << "netmon-server was not built (packet/socket layers missing)";
    auto topo = testenv::Topology::Create();
    ASSERT_TRUE(topo.ok()) << topo.status();
    topo_ = std::make_unique<testenv::Topology>(std::move(*topo));
    auto server = ServerProcess::Start(TopologyConfig(*topo_));
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    stub_ = server_->Stub();
  }
  // Stops capture `id` and returns every event it kept.
  std::vector<network_monitor::NetworkEvent> Finish(const std::string& id) {
    EXPECT_TRUE(StopCapture(*stub_, id).ok()) << id;
    auto r = Results(*stub_, id);
    EXPECT_TRUE(r.status.ok()) << id << ": " << r.status.error_message();
    return r.events();
  }
  std::unique_ptr<testenv::Topology> topo_;
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<network_monitor::NetworkMonitorService::Stub> stub_;
};

}  // namespace netmon::e2e
