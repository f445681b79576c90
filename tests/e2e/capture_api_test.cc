// SPDX-License-Identifier: Apache-2.0
// The service as a client meets it through the real binary: the §4.4 bad-input table with exact codes then a
// successful capture; mTLS refusals; live follow, replay, disconnect and resume exactly once, retention expiry,
// and the per-session bound reporting its drops.
#include <gtest/gtest.h>

#include <future>
#include <set>
#include <thread>

#include "e2e_env.h"
#include "rpc/credentials.h"

namespace netmon::e2e {
namespace {

using nlohmann::json;

class CaptureApi : public ::testing::Test {
 protected:
  void SetUp() override {
    if (ServerBinary().empty()) GTEST_SKIP() << "netmon-server was not built (packet/socket layers missing)";
    auto topo = testenv::Topology::Create();
    ASSERT_TRUE(topo.ok()) << topo.status();
    topo_ = std::make_unique<testenv::Topology>(std::move(*topo));
  }
  void StartServer(json extra = json::object()) {
    json config = TopologyConfig(*topo_);
    for (auto it = extra.begin(); it != extra.end(); ++it) config[it.key()] = *it;
    auto server = ServerProcess::Start(config);
    ASSERT_TRUE(server.ok()) << server.status();
    server_ = std::move(*server);
  }
  std::unique_ptr<testenv::Topology> topo_;
  std::unique_ptr<ServerProcess> server_;
};

TEST_F(CaptureApi, BadInputTableThenASuccessfulCapture) {
  StartServer({{"max_sessions", 2}, {"max_duration_seconds", 600}});
  auto stub = server_->Stub();
  struct Case {
    const char* what;
    network_monitor::StartCaptureRequest req;
    grpc::StatusCode code;
  } cases[] = {
      {"no session_id", CaptureRequest("", 10), grpc::INVALID_ARGUMENT},
      {"session_id too long", CaptureRequest(std::string(129, 'x'), 10), grpc::INVALID_ARGUMENT},
      {"session_id bad character", CaptureRequest("a;b", 10), grpc::INVALID_ARGUMENT},
      {"duration 0", CaptureRequest("d", 0), grpc::INVALID_ARGUMENT},
      {"duration negative", CaptureRequest("d", -1), grpc::INVALID_ARGUMENT},
      {"duration above the configured maximum", CaptureRequest("d", 601), grpc::INVALID_ARGUMENT},
      {"negative process_id", CaptureRequest("p", 10, -7), grpc::INVALID_ARGUMENT},
      {"process_id that does not exist", CaptureRequest("p", 10, 4194303), grpc::NOT_FOUND},
      {"port negative", CaptureRequest("o", 10, 0, -1), grpc::INVALID_ARGUMENT},
      {"port too large", CaptureRequest("o", 10, 0, 70000), grpc::INVALID_ARGUMENT},
      {"source_ip unparsable", CaptureRequest("s", 10, 0, 0, "1.2.3"), grpc::INVALID_ARGUMENT},
      {"destination_ip unparsable", CaptureRequest("t", 10, 0, 0, "", "fe80::zz"), grpc::INVALID_ARGUMENT},
  };
  for (const Case& c : cases) {
    grpc::Status s = StartCapture(*stub, c.req);
    EXPECT_EQ(s.error_code(), c.code) << c.what << ": " << s.error_message();
  }
  EXPECT_TRUE(NetmonAttachments({&topo_->client(), &topo_->server()}, server_->pid()).empty())
      << "a refused start attached";

  ASSERT_TRUE(StartCapture(*stub, CaptureRequest("ok-a", 30, 0, 0, topo_->client_end().ipv4)).ok());
  EXPECT_EQ(StartCapture(*stub, CaptureRequest("ok-a", 30)).error_code(), grpc::ALREADY_EXISTS);
  ASSERT_TRUE(StartCapture(*stub, CaptureRequest("ok-b", 30)).ok());
  EXPECT_EQ(StartCapture(*stub, CaptureRequest("ok-c", 30)).error_code(), grpc::RESOURCE_EXHAUSTED);
  EXPECT_EQ(Results(*stub, "no-such-capture").status.error_code(), grpc::NOT_FOUND);

  auto run = RunTcp(*topo_, false, 5000, 7000);
  ASSERT_TRUE(run.ok()) << run.status();
  ASSERT_TRUE(StopCapture(*stub, "ok-a").ok());
  auto r = Results(*stub, "ok-a");
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  auto evs = r.events();
  FlowTotals t = SumData(evs, run->client_local, run->server_local, run->client_pid);
  EXPECT_GT(t.data_events, 0);
  EXPECT_GT(t.sent, 5000);
  EXPECT_GT(t.received, 7000);
  for (const auto& e : evs) EXPECT_EQ(HostOf(e.source_addr()), topo_->client_end().ipv4) << e.DebugString();
  ASSERT_TRUE(StopCapture(*stub, "ok-b").ok());
}

TEST_F(CaptureApi, MutualTlsIsEnforced) {
  StartServer({{"allowed_clients", {"netmon-agent", "netmon-client"}}});
  // A valid client works.
  EXPECT_TRUE(StartCapture(*server_->Stub("client"), CaptureRequest("mtls-ok", 1)).ok());
  // A certificate from another CA (same CN) and a client that does not trust the server are refused.
  EXPECT_EQ(StartCapture(*server_->Stub("other-client"), CaptureRequest("m1", 1)).error_code(), grpc::UNAVAILABLE);
  EXPECT_FALSE(StartCapture(*server_->Stub("client", "other-ca"), CaptureRequest("m2", 1)).ok());
  // No client certificate at all.
  auto m = rpc::LoadTlsMaterial(rpc::testing::Mtls("client"));
  ASSERT_TRUE(m.ok());
  grpc::SslCredentialsOptions opts;
  opts.pem_root_certs = m->ca;
  grpc::ChannelArguments args;
  args.SetSslTargetNameOverride("netmon-server");
  auto anon = network_monitor::NetworkMonitorService::NewStub(
      grpc::CreateCustomChannel(server_->address(), grpc::SslCredentials(opts), args));
  EXPECT_EQ(StartCapture(*anon, CaptureRequest("m3", 1)).error_code(), grpc::UNAVAILABLE);
  // Plaintext.
  auto plain = network_monitor::NetworkMonitorService::NewStub(
      grpc::CreateChannel(server_->address(), grpc::InsecureChannelCredentials()));
  EXPECT_FALSE(StartCapture(*plain, CaptureRequest("m4", 1)).ok());
  ASSERT_TRUE(server_->Stop().ok());

  // An identity not on the allow-list.
  StartServer({{"allowed_clients", {"netmon-agent"}}});
  grpc::Status denied = StartCapture(*server_->Stub("client"), CaptureRequest("m5", 1));
  EXPECT_EQ(denied.error_code(), grpc::PERMISSION_DENIED) << denied.error_message();
  EXPECT_TRUE(StartCapture(*server_->Stub("agent"), CaptureRequest("m6", 1)).ok());
}

TEST_F(CaptureApi, LiveFollowReplayResumeRetentionAndBound) {
  StartServer({{"result_ttl_seconds", 2}, {"chunk_max_events", 2}});
  auto stub = server_->Stub();
  int port = 0;
  {
    // Reserve a port the test traffic will use: the capture filters on it.
    auto probe = RunTcp(*topo_, false, 1, 1);
    ASSERT_TRUE(probe.ok()) << probe.status();
    port = PortOf(probe->server_local);
  }
  ASSERT_TRUE(StartCapture(*stub, CaptureRequest("live", 60, 0, port)).ok());
  std::promise<void> got_first;
  rpc::testing::StreamResult follow;
  std::thread reader([&] {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(120));
    network_monitor::GetCaptureResultsRequest req;
    req.set_session_id("live");
    auto rd = stub->GetCaptureResults(&ctx, req);
    network_monitor::NetworkCaptureChunk chunk;
    bool first = true;
    while (rd->Read(&chunk)) {
      follow.chunks.push_back(chunk);
      if (first && chunk.events_size() > 0) {
        got_first.set_value();
        first = false;
      }
    }
    follow.status = rd->Finish();
    if (first) got_first.set_value();
  });
  auto run1 = RunTcp(*topo_, false, 3000, 3000, port);
  ASSERT_TRUE(run1.ok()) << run1.status();
  // Events reach the follower while the capture still runs.
  ASSERT_EQ(got_first.get_future().wait_for(std::chrono::seconds(60)), std::future_status::ready);
  EXPECT_FALSE(follow.chunks.empty());

  // A second client reads a few chunks, goes away, and resumes from its cursor.
  std::vector<network_monitor::NetworkEvent> resumed;
  uint64_t cursor = 0;
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
    network_monitor::GetCaptureResultsRequest req;
    req.set_session_id("live");
    auto rd = stub->GetCaptureResults(&ctx, req);
    network_monitor::NetworkCaptureChunk chunk;
    if (rd->Read(&chunk)) {
      for (const auto& e : chunk.events()) {
        resumed.push_back(e);
        cursor = e.sequence();
      }
    }
    ctx.TryCancel();
    while (rd->Read(&chunk)) {
    }
    (void)rd->Finish();
  }
  ASSERT_GT(cursor, 0u);
  auto run2 = RunTcp(*topo_, false, 2000, 2000, port);
  ASSERT_TRUE(run2.ok()) << run2.status();
  ASSERT_TRUE(StopCapture(*stub, "live").ok());
  reader.join();
  ASSERT_TRUE(follow.status.ok()) << follow.status.error_message();
  auto all = follow.events();
  for (size_t i = 0; i < all.size(); ++i) ASSERT_EQ(all[i].sequence(), i + 1);
  EXPECT_TRUE(follow.chunks.back().is_final());
  auto rest = Results(*stub, "live", cursor);
  ASSERT_TRUE(rest.status.ok());
  for (const auto& e : rest.events()) resumed.push_back(e);
  ASSERT_EQ(resumed.size(), all.size()) << "exactly once";
  for (size_t i = 0; i < resumed.size(); ++i) EXPECT_EQ(resumed[i].sequence(), i + 1);

  // A finished capture replays the same events.
  auto replay = Results(*stub, "live");
  ASSERT_TRUE(replay.status.ok());
  EXPECT_EQ(replay.events().size(), all.size());
  EXPECT_EQ(replay.chunks.back().stats().state(), network_monitor::CAPTURE_STATE_STOPPED);
  for (size_t i = 0; i < replay.chunks.size(); ++i) {
    EXPECT_EQ(replay.chunks[i].chunk_index(), static_cast<int>(i));
    EXPECT_LE(replay.chunks[i].events_size(), 2);
  }
  // Past result_ttl_seconds it is gone.
  EXPECT_TRUE(Eventually([&] { return Results(*stub, "live").status.error_code() == grpc::NOT_FOUND; }, 60000));
}

TEST_F(CaptureApi, PerSessionBoundReportsDrops) {
  StartServer({{"max_events_per_session", 3}, {"flush_interval_ms", 100}});
  auto stub = server_->Stub();
  ASSERT_TRUE(StartCapture(*stub, CaptureRequest("bounded", 60, 0, 0, "", "")).ok());
  for (int i = 0; i < 4; ++i) {
    auto run = RunTcp(*topo_, i % 2 == 1, 1000, 1000);
    ASSERT_TRUE(run.ok()) << run.status();
  }
  ASSERT_TRUE(StopCapture(*stub, "bounded").ok());
  auto r = Results(*stub, "bounded");
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(r.events().size(), 3u);
  const auto& st = r.chunks.back().stats();
  EXPECT_EQ(st.events_retained(), 3u);
  EXPECT_GT(st.events_dropped(), 0u);
  EXPECT_EQ(st.events_total(), st.events_retained() + st.events_dropped());
  EXPECT_EQ(st.drops().at("session_event_limit"), st.events_dropped());
}

}  // namespace
}  // namespace netmon::e2e
