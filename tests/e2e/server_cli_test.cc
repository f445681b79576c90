// SPDX-License-Identifier: Apache-2.0
// The binary as an operator meets it (docs/architecture.md §4.5): --help, one-line refusals of bad configurations
// (plaintext off loopback among them), nothing attached while idle, and a clean SIGTERM during a capture: the follower
// gets its final chunk, the server exits 0, nothing stays attached.
#include <fcntl.h>
#include <grpcpp/generic/generic_stub.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <future>
#include <thread>

#include "e2e_env.h"
#include "rpc/credentials.h"
#include "server/stale_sweep.h"

namespace netmon::e2e {
namespace {

using nlohmann::json;

TEST(ServerCli, HelpAndUsage) {
  NETMON_REQUIRE_SERVER();
  std::string out;
  EXPECT_EQ(rpc::testing::RunCommand(ServerBinary() + " --help", &out), 0);
  EXPECT_NE(out.find("--config"), std::string::npos);
  EXPECT_NE(out.find("listen_addr"), std::string::npos);
  out.clear();
  EXPECT_EQ(rpc::testing::RunCommand(ServerBinary(), &out), 2);
  EXPECT_NE(out.find("--config"), std::string::npos);
  out.clear();
  EXPECT_EQ(rpc::testing::RunCommand(ServerBinary() + " --bogus", &out), 2);
}

TEST(ServerCli, BadConfigurationsExitWithOneLine) {
  NETMON_REQUIRE_SERVER();
  struct Case {
    std::string config;
    const char* mention;
  } cases[] = {
      {R"({"listen_addr": "0.0.0.0:0"})", "plaintext"},
      {R"({"listen_addr": "0.0.0.0:0", "security": {"mode": "none"}})", "plaintext"},
      {R"({"max_sesions": 2})", "max_sesions"},
      {R"({"interfaces": [{"name": "eth0", "ingress": "dpdk"}]})", "ingress"},
      {R"({"security": {"mode": "mtls", "tls": {"cert_file": "/nonexistent.pem", "key_file": "k", "ca_file": "c"}},
           "listen_addr": "127.0.0.1:0"})",
       "nonexistent"},
      {"{not json", "JSON"},
  };
  for (const Case& c : cases) {
    RunResult r = RunServerExpectingExit(c.config);
    EXPECT_NE(r.exit_code, 0) << c.config;
    EXPECT_NE(r.output.find(c.mention), std::string::npos) << c.config << "\n" << r.output;
    // One line: the reason, nothing else on stderr before exiting.
    std::string trimmed = r.output;
    while (!trimmed.empty() && trimmed.back() == '\n') trimmed.pop_back();
    EXPECT_EQ(trimmed.find('\n'), std::string::npos) << r.output;
  }
  RunResult missing = RunServerExpectingExit("{}", {"--log-level", "loud"});
  EXPECT_EQ(missing.exit_code, 2);
}

TEST(ServerCli, IdleMeansNothingAttachedAndSigtermEndsCapturesCleanly) {
  NETMON_REQUIRE_SERVER();
  auto topo = testenv::Topology::Create();
  ASSERT_TRUE(topo.ok()) << topo.status();
  std::vector<const testenv::Netns*> nss = {&topo->client(), &topo->server()};
  auto server = ServerProcess::Start(TopologyConfig(*topo));
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = (*server)->Stub();
  const int server_pid = (*server)->pid();
  auto before = NetmonAttachments(nss, server_pid);
  EXPECT_TRUE(before.empty()) << "attached before any capture: " << before.front();

  grpc::Status started = StartCapture(*stub, CaptureRequest("idle-1", 2));
  ASSERT_TRUE(started.ok()) << started.error_message();
  EXPECT_FALSE(NetmonAttachments(nss, server_pid).empty()) << "nothing attached during a capture";
  auto r = Results(*stub, "idle-1");
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  EXPECT_EQ(r.chunks.back().stats().state(), network_monitor::CAPTURE_STATE_COMPLETED);
  auto left = NetmonAttachments(nss, server_pid);
  EXPECT_TRUE(left.empty()) << "still attached after the last capture: " << left.front();

  // A running capture at SIGTERM: its follower still gets the final chunk.
  ASSERT_TRUE(StartCapture(*stub, CaptureRequest("sigterm-1", 600)).ok());
  rpc::testing::StreamResult follow;
  std::promise<void> first_chunk;
  std::thread reader([&] {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
    network_monitor::GetCaptureResultsRequest req;
    req.set_session_id("sigterm-1");
    auto rd = stub->GetCaptureResults(&ctx, req);
    network_monitor::NetworkCaptureChunk chunk;
    bool signalled = false;
    while (rd->Read(&chunk)) {
      follow.chunks.push_back(chunk);
      if (!signalled) first_chunk.set_value();
      signalled = true;
    }
    follow.status = rd->Finish();
    if (!signalled) first_chunk.set_value();
  });
  // Traffic, so the follower provably subscribed (it received a chunk) before the signal.
  auto srv = testenv::Process::Spawn(&topo->server(), {testenv::TrafficgenPath(), "tcp-serve", "--listen",
                                                       topo->server_end().ipv4 + ":0", "--recv", "1000"});
  ASSERT_TRUE(srv.ok()) << srv.status();
  auto listening = testenv::ExpectTrafficgenEvent(*srv, "listening", 10000);
  ASSERT_TRUE(listening.ok()) << listening.status();
  auto cli = testenv::Process::Spawn(
      &topo->client(), {testenv::TrafficgenPath(), "tcp-connect", "--to",
                        topo->server_end().ipv4 + ":" + std::to_string(PortOf(listening->local)), "--send", "1000"});
  ASSERT_TRUE(cli.ok()) << cli.status();
  EXPECT_TRUE(testenv::ExpectTrafficgenEvent(*cli, "done", 10000).ok());
  ASSERT_EQ(first_chunk.get_future().wait_for(std::chrono::seconds(60)), std::future_status::ready);
  auto rc = (*server)->Stop();
  reader.join();
  (void)srv->Wait(10000);
  (void)cli->Wait(10000);
  ASSERT_TRUE(rc.ok()) << rc.status();
  EXPECT_EQ(*rc, 0);
  ASSERT_TRUE(follow.status.ok()) << follow.status.error_message();
  ASSERT_FALSE(follow.chunks.empty());
  EXPECT_TRUE(follow.chunks.back().is_final());
  EXPECT_EQ(follow.chunks.back().stats().state(), network_monitor::CAPTURE_STATE_STOPPED);
  left = NetmonAttachments(nss, server_pid);
  EXPECT_TRUE(left.empty()) << "attached after shutdown: " << left.front();
}

// After kill -9 mid-capture, with TC or with XDP ingress (libxdp's dispatcher), the next server's start-up sweep
// removes every netmon program the crashed one left attached, captures normally, and holds nothing once idle.
class CrashSweep : public ::testing::TestWithParam<const char*> {};

TEST_P(CrashSweep, StartUpSweepsWhatACrashedRunLeftAttached) {
  NETMON_REQUIRE_SERVER();
  const std::string ingress = GetParam();
  auto topo = testenv::Topology::Create();
  ASSERT_TRUE(topo.ok()) << topo.status();
  std::vector<const testenv::Netns*> nss = {&topo->client(), &topo->server()};
  json config = TopologyConfig(*topo);
  for (auto& i : config["interfaces"]) i["ingress"] = ingress;
  // TC filters outlive their process (they are netlink state, not file descriptors); XDP programs in a libxdp
  // dispatcher too (its links are pinned in bpffs): those show as links of a netmon_xdp* program.
  auto in_test_namespaces = [&] {
    std::vector<std::string> out;
    for (const auto& a : NetmonAttachments(nss)) {
      if (a.rfind("net(" + topo->client().name() + ")", 0) == 0 ||
          a.rfind("net(" + topo->server().name() + ")", 0) == 0 || a.find("netmon_xdp") != std::string::npos) {
        out.push_back(a);
      }
    }
    return out;
  };
  auto xdp_left = [&] {
    for (const auto& a : in_test_namespaces()) {
      if (a.find("netmon_xdp") != std::string::npos) return true;
    }
    return false;
  };
  {
    auto crashed = ServerProcess::Start(config);
    ASSERT_TRUE(crashed.ok()) << crashed.status();
    ASSERT_TRUE(StartCapture(*(*crashed)->Stub(), CaptureRequest("crash", 600)).ok());
    ASSERT_FALSE(in_test_namespaces().empty());
    ASSERT_EQ(kill((*crashed)->pid(), SIGKILL), 0);
    (void)(*crashed)->Stop();  // reaps it
  }
  ASSERT_FALSE(in_test_namespaces().empty()) << "the kill left nothing behind to sweep";
  if (ingress == "xdp") {
    ASSERT_TRUE(xdp_left()) << "the kill left no XDP program behind to sweep";
  }
  {
    // A server sweeps only when it is the only one on the host (another's attachments are not leftovers).
    int fd = open(server::kInstanceLockPath, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
    bool alone = fd >= 0 && flock(fd, LOCK_EX | LOCK_NB) == 0;
    if (fd >= 0) close(fd);
    if (!alone) GTEST_SKIP() << "another netmon-server runs on this host, so no start-up sweep happens (by design)";
  }
  auto next = ServerProcess::Start(config);
  ASSERT_TRUE(next.ok()) << next.status();
  auto left = in_test_namespaces();
  EXPECT_TRUE(left.empty()) << "leftover not swept: " << left.front();
  // And the new server captures normally on the same interfaces.
  auto stub = (*next)->Stub();
  ASSERT_TRUE(StartCapture(*stub, CaptureRequest("after-crash", 60)).ok());
  auto run = RunTcp(*topo, false, 1000, 1000);
  ASSERT_TRUE(run.ok()) << run.status();
  ASSERT_TRUE(StopCapture(*stub, "after-crash").ok());
  auto r = Results(*stub, "after-crash");
  ASSERT_TRUE(r.status.ok());
  EXPECT_GT(SumData(r.events(), run->client_local, run->server_local, run->client_pid).data_events, 0);
  // Idle again: the new server holds no program either.
  EXPECT_TRUE(Eventually([&] { return in_test_namespaces().empty(); }, 10000))
      << "attached while idle: " << in_test_namespaces().front();
}

INSTANTIATE_TEST_SUITE_P(Ingress, CrashSweep, ::testing::Values("tc", "xdp"),
                         [](const ::testing::TestParamInfo<const char*>& i) { return std::string(i.param); });

TEST(ServerCli, StatusReportsHooksAndHealthServes) {
  NETMON_REQUIRE_SERVER();
  auto topo = testenv::Topology::Create();
  ASSERT_TRUE(topo.ok()) << topo.status();
  auto server = ServerProcess::Start(TopologyConfig(*topo));
  ASSERT_TRUE(server.ok()) << server.status();
  auto stub = (*server)->Stub();
  auto status = [&] {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
    network_monitor::GetStatusResponse resp;
    EXPECT_TRUE(stub->GetStatus(&ctx, {}, &resp).ok());
    return resp;
  };
  auto idle = status();
  EXPECT_FALSE(idle.version().empty());
  EXPECT_NE(idle.kernel().find("Linux"), std::string::npos);
  EXPECT_EQ(idle.live_sessions(), 0);
  EXPECT_EQ(idle.interfaces_size(), 2);
  bool sock = false, tc = false;
  for (const auto& h : idle.hooks()) {
    sock = sock || h.name().rfind("sock.", 0) == 0;
    tc = tc || h.name().rfind("tc.", 0) == 0;
    EXPECT_FALSE(h.active()) << h.name() << " active while idle";
    if (h.degraded()) {
      EXPECT_FALSE(h.detail().empty()) << h.name() << " degraded without a reason";
    }
  }
  EXPECT_TRUE(sock);
  EXPECT_TRUE(tc);
  ASSERT_TRUE(StartCapture(*stub, CaptureRequest("status-1", 60)).ok());
  auto busy = status();
  EXPECT_EQ(busy.live_sessions(), 1);
  bool any_active = false;
  for (const auto& h : busy.hooks()) any_active = any_active || h.active();
  EXPECT_TRUE(any_active);
  ASSERT_TRUE(StopCapture(*stub, "status-1").ok());
  EXPECT_EQ(status().retained_sessions(), 1);

  // grpc.health.v1.Health/Check over the same mTLS channel: SERVING.
  rpc::SecurityConfig c = rpc::testing::Mtls("client");
  c.server_name = "netmon-server";
  auto channel = rpc::CreateChannel((*server)->address(), c);
  ASSERT_TRUE(channel.ok());
  grpc::GenericStub generic(*channel);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(30));
  grpc::Slice empty("");
  grpc::ByteBuffer request(&empty, 1), response;
  std::promise<grpc::Status> done;
  generic.UnaryCall(&ctx, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request, &response,
                    [&](grpc::Status st) { done.set_value(st); });
  auto fut = done.get_future();
  ASSERT_EQ(fut.wait_for(std::chrono::seconds(60)), std::future_status::ready);
  ASSERT_TRUE(fut.get().ok());
  std::vector<grpc::Slice> slices;
  ASSERT_TRUE(response.Dump(&slices).ok());
  std::string bytes;
  for (const auto& sl : slices) bytes.append(reinterpret_cast<const char*>(sl.begin()), sl.size());
  EXPECT_EQ(bytes, std::string("\x08\x01", 2));  // SERVING
}

}  // namespace
}  // namespace netmon::e2e
