// SPDX-License-Identifier: Apache-2.0
// Where a capture counts packets: with no `interfaces` key, every interface of the server's namespace, including
// one that appears while the capture runs; with a list, the interfaces that can be attached, a missing one
// reported rather than failing the capture.
#include <gtest/gtest.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <thread>

#include "e2e_env.h"

namespace netmon::e2e {
namespace {

using nlohmann::json;

json NoInterfacesKey() {
  return json{{"listen_addr", "127.0.0.1:0"}, {"security", MtlsSecurity()}, {"flush_interval_ms", 500}};
}

void WriteSysctl(const std::string& path, const std::string& value) {
  std::ofstream f(path);
  f << value;
  EXPECT_TRUE(f.good()) << path;
}

std::vector<network_monitor::NetworkEvent> FinishCapture(network_monitor::NetworkMonitorService::Stub& stub,
                                                         const std::string& id) {
  EXPECT_TRUE(StopCapture(stub, id).ok());
  return Results(stub, id).events();
}

// A server started by the test, and a capture on it.
class ServerInterfaces : public ::testing::Test {
 protected:
  void StartServerAndCapture(const json& config, const std::string& id) {
    NETMON_REQUIRE_SERVER();
    auto server = ServerProcess::Start(config);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
    stub_ = server_->Stub();
    ASSERT_TRUE(StartCapture(*stub_, CaptureRequest(id, 120)).ok());
  }
  static network_monitor::GetStatusResponse Status(network_monitor::NetworkMonitorService::Stub& stub) {
    grpc::ClientContext ctx;
    network_monitor::GetStatusResponse st;
    EXPECT_TRUE(stub.GetStatus(&ctx, {}, &st).ok());
    return st;
  }
  static bool IngressAttached(const network_monitor::GetStatusResponse& st, const std::string& ifname) {
    for (const auto& h : st.hooks()) {
      if (h.name() == "tc.ingress" && h.active() && h.detail() == ifname) return true;
    }
    return false;
  }
  std::unique_ptr<ServerProcess> server_;
  std::unique_ptr<network_monitor::NetworkMonitorService::Stub> stub_;
};

// A veth pair made while the capture runs: its host end in the server's namespace, its peer in a namespace of
// ours. Frames from the peer go to a MAC nobody has, so the host end's kernel drops them as another host's (no
// address on the host side, nothing routed or forwarded): TC ingress on the host end is all that sees them.
TEST_F(ServerInterfaces, EveryInterfaceByDefaultIncludingOneThatAppearsLater) {
  StartServerAndCapture(NoInterfacesKey(), "everywhere");
  if (IsSkipped() || HasFatalFailure()) return;
  auto& stub = stub_;

  auto peer_ns = testenv::Netns::Create("ifpeer");
  ASSERT_TRUE(peer_ns.ok()) << peer_ns.status();
  const std::string host_if = "nmi" + std::to_string(getpid() % 100000) + "h";
  const std::string peer_if = "nmi" + std::to_string(getpid() % 100000) + "p";
  struct Unlink {
    std::string name;
    ~Unlink() { (void)testenv::RunCommand({"ip", "link", "del", name}); }  // gone with the namespace anyway
  } unlink{host_if};
  ASSERT_TRUE(testenv::RunChecked({"ip", "link", "add", host_if, "type", "veth", "peer", "name", peer_if}).ok());
  WriteSysctl("/proc/sys/net/ipv6/conf/" + host_if + "/disable_ipv6", "1");  // no router solicitations
  ASSERT_TRUE(testenv::RunChecked({"ip", "link", "set", peer_if, "netns", peer_ns->name()}).ok());
  ASSERT_TRUE(testenv::RunChecked({"ip", "link", "set", host_if, "up"}).ok());
  for (const std::vector<std::string>& argv :
       {std::vector<std::string>{"ip", "addr", "add", "10.231.0.1/30", "dev", peer_if},
        {"ip", "link", "set", peer_if, "up"},
        {"ip", "neigh", "add", "10.231.0.2", "lladdr", "02:00:00:00:00:99", "dev", peer_if, "nud", "permanent"}}) {
    ASSERT_TRUE(testenv::RunChecked(argv, &*peer_ns).ok()) << testenv::JoinArgv(argv);
  }
  // Give the server's link watch its second to attach (the bound), then send.
  std::this_thread::sleep_for(std::chrono::milliseconds(1500));
  constexpr int kPackets = 20, kPayload = 100;
  ASSERT_TRUE(testenv::RunChecked(
                  {testenv::TrafficgenPath(), "udp-send", "--to", "10.231.0.2:9999", "--bind", "10.231.0.1:40999",
                   "--bytes", std::to_string(kPayload), "--count", std::to_string(kPackets)},
                  &*peer_ns)
                  .ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(300));

  network_monitor::GetStatusResponse st = Status(*stub);
  EXPECT_TRUE(IngressAttached(st, "lo")) << "lo is not attached by default";
  EXPECT_TRUE(IngressAttached(st, host_if)) << host_if << " (made after the capture started) is not attached";

  auto evs = FinishCapture(*stub, "everywhere");
  int64_t received = 0, packets = 0;
  for (const auto& e : evs) {
    if (e.event_type() != "DATA" || e.dest_addr() != "10.231.0.2:9999") continue;
    EXPECT_EQ(e.source_addr(), "10.231.0.1:40999");
    EXPECT_EQ(e.process_id(), 0) << "nobody on this host owns the flow";
    received += e.bytes_received();
    packets += Extra(e).value("packets_received", 0);
  }
  EXPECT_EQ(packets, kPackets);
  EXPECT_EQ(received, kPackets * (20 + 8 + kPayload)) << "L3 bytes: IPv4 header + UDP header + payload";
}

// Loopback by default: a local client and a local server over 127.0.0.1, each end's DATA attributed to its own
// process, and what one sent is what the other received.
TEST_F(ServerInterfaces, LoopbackIsCapturedAndAttributedOnBothEnds) {
  StartServerAndCapture(NoInterfacesKey(), "loopback");
  if (IsSkipped() || HasFatalFailure()) return;
  auto& stub = stub_;
  auto srv = testenv::Process::Spawn(nullptr, {testenv::TrafficgenPath(), "tcp-serve", "--listen", "127.0.0.1:0",
                                               "--recv", "30000", "--send", "7000"});
  ASSERT_TRUE(srv.ok()) << srv.status();
  auto listening = testenv::ExpectTrafficgenEvent(*srv, "listening", 10000);
  ASSERT_TRUE(listening.ok()) << listening.status();
  auto cli = testenv::Process::Spawn(nullptr, {testenv::TrafficgenPath(), "tcp-connect", "--to", listening->local,
                                               "--send", "30000", "--recv", "7000"});
  ASSERT_TRUE(cli.ok()) << cli.status();
  auto done = AwaitExchange(*cli, *srv);
  ASSERT_TRUE(done.ok()) << done.status();
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  auto evs = FinishCapture(*stub, "loopback");
  FlowTotals client = SumData(evs, done->local, listening->local, cli->pid());
  FlowTotals server_side = SumData(evs, done->local, listening->local, srv->pid());
  EXPECT_GT(client.data_events, 0);
  EXPECT_GT(server_side.data_events, 0);
  EXPECT_GE(client.sent, 30000);
  EXPECT_GE(server_side.sent, 7000);
  EXPECT_EQ(client.sent, server_side.received) << "what the client sent over lo, the server received";
  EXPECT_EQ(server_side.sent, client.received);
}

TEST_F(ServerInterfaces, AMissingInterfaceDegradesTheCaptureAndDoesNotFailIt) {
  NETMON_REQUIRE_SERVER();
  json config = NoInterfacesKey();
  config["interfaces"] = json::array({"lo", "nm-not-here0"});
  auto server = ServerProcess::Start(config);
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = (*server)->Stub();
  ASSERT_TRUE(StartCapture(*stub, CaptureRequest("degraded", 120)).ok());
  network_monitor::GetStatusResponse st = Status(*stub);
  bool missing = false;
  for (const auto& h : st.hooks()) {
    missing = missing || (h.degraded() && !h.active() && h.detail().rfind("nm-not-here0: ", 0) == 0);
  }
  EXPECT_TRUE(IngressAttached(st, "lo"));
  EXPECT_TRUE(missing) << "the missing interface is not reported with its reason";
  ASSERT_TRUE(StopCapture(*stub, "degraded").ok());
  auto r = Results(*stub, "degraded");
  ASSERT_FALSE(r.chunks.empty());
  const auto& not_attached = r.chunks.back().stats().interfaces_not_attached();
  ASSERT_EQ(not_attached.count("nm-not-here0"), 1u) << "the final statistics name the interface";
  EXPECT_NE(not_attached.at("nm-not-here0").find("No such device"), std::string::npos);
  EXPECT_EQ(not_attached.count("lo"), 0u);

  // Nothing at all to attach: the capture fails, naming the interface.
  config["interfaces"] = json::array({"nm-not-here0"});
  auto none = ServerProcess::Start(config);
  ASSERT_TRUE(none.ok()) << none.status();
  auto stub2 = (*none)->Stub();
  grpc::Status s = StartCapture(*stub2, CaptureRequest("nothing", 120));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::FAILED_PRECONDITION) << s.error_message();
  EXPECT_NE(s.error_message().find("nm-not-here0"), std::string::npos) << s.error_message();
}

}  // namespace
}  // namespace netmon::e2e
