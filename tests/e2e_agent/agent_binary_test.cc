// SPDX-License-Identifier: Apache-2.0
// The real netmon-agent and netmonctl binaries, in front of netmon-server's gRPC side in-process (synthetic
// events at the engine's seam): start-up and config errors, health, SIGTERM, polling through the binary, and
// netmonctl's output, errors and exit codes as a person sees them.
#include <grpcpp/generic/generic_stub.h>
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>
#include <future>
#include <thread>

#include "common/str_cat.h"
#include "e2e_env.h"
#include "rpc/credentials.h"

namespace netmon::e2e {
namespace {

using namespace std::chrono_literals;
using agent::testing::MonitorFixture;
using agent::testing::TempDir;
using nlohmann::json;

std::unique_ptr<monitoring::AgentService::Stub> PollerStub(const std::string& address) {
  auto ch = rpc::CreateChannel(address, agent::testing::Mtls("client", "ca", "netmon-agent"));
  EXPECT_TRUE(ch.ok());
  return monitoring::AgentService::NewStub(*ch);
}

std::vector<std::string> Args(std::initializer_list<std::string> head, const std::vector<std::string>& tail) {
  std::vector<std::string> a(head);
  a.insert(a.end(), tail.begin(), tail.end());
  return a;
}

// The live session the agent started (the test learns its id from the server side).
std::string OnlyLiveSession(MonitorFixture& mon) {
  for (int i = 0; i < 2000; ++i) {
    for (const auto& s : mon.sessions().List()) {
      if (!s->finished()) return s->id();
    }
    std::this_thread::sleep_for(10ms);
  }
  return "";
}

TEST(AgentBinary, HelpAndConfigErrorsAreOneLineAndNonZero) {
  TempDir dir;
  CtlResult help = RunCtl(dir, {});
  auto run = [&](const std::vector<std::string>& args) {
    std::vector<std::string> argv = {"/bin/sh", "-c", "exec \"$0\" \"$@\" 2>&1", AgentBinary()};
    argv.insert(argv.end(), args.begin(), args.end());
    auto p = testenv::Process::Spawn(nullptr, argv);
    EXPECT_TRUE(p.ok());
    auto out = p->ReadAll(20000);
    auto code = p->Wait(20000);
    return std::pair{code.ok() ? *code : -1, out.ok() ? *out : ""};
  };
  auto [hc, hout] = run({"--help"});
  EXPECT_EQ(hc, 0);
  EXPECT_NE(hout.find("network_monitor"), std::string::npos);
  std::string bad = dir.path() + "/bad.json";
  std::ofstream(bad) << R"({"listen_adr": "127.0.0.1:0"})";
  std::string plaintext_wide = dir.path() + "/wide.json";
  std::ofstream(plaintext_wide) << R"({"listen_addr": "0.0.0.0:0"})";
  std::string broken = dir.path() + "/broken.json";
  std::ofstream(broken) << "{";
  struct Case {
    std::vector<std::string> args;
    const char* mentions;
  } cases[] = {
      {{}, "--config"},
      {{"--config", bad}, "listen_adr"},
      {{"--config", plaintext_wide}, "0.0.0.0:0"},
      {{"--config", broken}, "JSON"},
      {{"--config", dir.path() + "/missing.json"}, "missing.json"},
      {{"--config", bad, "--log-level", "loud"}, "listen_adr"},
      {{"--frobnicate"}, "--frobnicate"},
  };
  for (const auto& c : cases) {
    auto [code, out] = run(c.args);
    EXPECT_EQ(code, 2) << out;
    EXPECT_NE(out.find(c.mentions), std::string::npos) << out;
    EXPECT_EQ(std::count(out.begin(), out.end(), '\n'), 1) << "one line: " << out;
  }
}

TEST(AgentBinary, ServesHealthAndStopsCleanlyOnSigterm) {
  MonitorFixture mon;
  TempDir dir;
  auto agent = AgentProcess::Start(dir, AgentProcess::Config(mon.address()));
  ASSERT_TRUE(agent.ok()) << agent.status();
  auto ch = rpc::CreateChannel(agent->address(), agent::testing::Mtls("client", "ca", "netmon-agent"));
  ASSERT_TRUE(ch.ok());
  grpc::GenericStub generic(*ch);
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 30s);
  grpc::Slice empty("");
  grpc::ByteBuffer request(&empty, 1), response;
  std::promise<grpc::Status> done;
  generic.UnaryCall(&ctx, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request, &response,
                    [&](grpc::Status s) { done.set_value(s); });
  auto fut = done.get_future();
  ASSERT_EQ(fut.wait_for(60s), std::future_status::ready);
  ASSERT_TRUE(fut.get().ok());
  std::vector<grpc::Slice> slices;
  ASSERT_TRUE(response.Dump(&slices).ok());
  std::string bytes;
  for (const auto& sl : slices) bytes.append(reinterpret_cast<const char*>(sl.begin()), sl.size());
  EXPECT_EQ(bytes, std::string("\x08\x01", 2)) << "SERVING";
  auto code = agent->Stop();
  ASSERT_TRUE(code.ok()) << code.status();
  EXPECT_EQ(*code, 0);
}

TEST(AgentBinary, APollerPollingTheBinaryGetsEveryEventOnce) {
  MonitorFixture mon;
  TempDir dir;
  json cfg = AgentProcess::Config(mon.address());
  cfg["max_chunk_bytes"] = 65536;
  auto agent = AgentProcess::Start(dir, cfg);
  ASSERT_TRUE(agent.ok()) << agent.status();
  auto stub = PollerStub(agent->address());
  monitoring::TriggerNetworkCaptureRequest req;
  req.set_duration_seconds(60);
  monitoring::TriggerNetworkCaptureResponse resp;
  ASSERT_TRUE(agent::testing::Trigger(*stub, req, &resp).ok());
  std::string last;
  std::vector<uint64_t> seen;
  uint64_t injected = 0;
  uint64_t captured = 0;  // injected while the capture ran
  for (int round = 0; round < 20; ++round) {
    mon.Inject(agent::testing::SyntheticEvents(injected + 1, static_cast<size_t>(round * 137)));
    injected += static_cast<uint64_t>(round * 137);
    if (round == 15) {
      ASSERT_TRUE(mon.EndCapture(resp.session_id()));
      captured = injected;
    }
    auto a = agent::testing::PollStream(*stub, resp.session_id(), last, 65536);
    ASSERT_TRUE(a.status.ok()) << a.status.error_message();
    ASSERT_TRUE(a.problems.empty()) << a.problems.front();
    for (const auto& e : a.events) seen.push_back(e["sequence"]);
    last = a.current_sequence;
  }
  // Events injected after the end are not the capture's; everything before is, once each.
  ASSERT_EQ(seen.size(), captured);
  for (uint64_t i = 0; i < captured; ++i) ASSERT_EQ(seen[i], i + 1);
  EXPECT_EQ(std::to_string(captured), last);
}

TEST(Netmonctl, CaptureThroughTheAgentPrintsEveryEventAsJsonLines) {
  MonitorFixture mon;
  TempDir dir;
  auto agent = AgentProcess::Start(dir, AgentProcess::Config(mon.address()));
  ASSERT_TRUE(agent.ok()) << agent.status();
  auto ctl = CtlProcess::Start(
      dir, Args({"capture", "--agent", agent->address(), "--duration", "30", "--format", "json", "--interval", "100"},
                CtlCredentials()));
  ASSERT_TRUE(ctl.ok());
  std::string id = OnlyLiveSession(mon);
  ASSERT_FALSE(id.empty());
  for (uint64_t s = 1; s <= 5000; s += 1000) {
    mon.Inject(agent::testing::SyntheticEvents(s, 1000));
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_TRUE(mon.EndCapture(id));
  CtlResult r = ctl->Finish(60000);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto lines = JsonLines(r.out);
  ASSERT_EQ(lines.size(), 5000u) << r.err;
  for (size_t i = 0; i < lines.size(); ++i) {
    ASSERT_FALSE(lines[i].is_discarded());
    ASSERT_EQ(lines[i]["sequence"], i + 1);
  }
  EXPECT_EQ(lines[9]["extra_info"]["n"], 10);
  EXPECT_NE(r.err.find(id), std::string::npos) << "the started line names the session: " << r.err;
  EXPECT_EQ(r.err.find('\r'), std::string::npos) << "no progress line when not on a terminal";
  EXPECT_EQ(r.err.find("\x1b["), std::string::npos);
}

TEST(Netmonctl, ResultsFollowSessionsStatusAndFormats) {
  MonitorFixture mon;
  TempDir dir;
  auto agent = AgentProcess::Start(dir, AgentProcess::Config(mon.address()));
  ASSERT_TRUE(agent.ok()) << agent.status();
  CtlResult started =
      RunCtl(dir, Args({"capture", "--agent", agent->address(), "--duration", "30", "--no-follow"}, CtlCredentials()));
  ASSERT_EQ(started.exit_code, 0) << started.err;
  std::string id = started.out.substr(0, started.out.find('\n'));
  ASSERT_EQ(id.size(), 36u) << started.out;
  mon.Inject(agent::testing::SyntheticEvents(1, 10));

  CtlResult table = RunCtl(dir, Args({"results", id, "--agent", agent->address()}, CtlCredentials()));
  EXPECT_EQ(table.exit_code, 0) << table.err;
  EXPECT_EQ(std::count(table.out.begin(), table.out.end(), '\n'), 11) << table.out;
  EXPECT_EQ(table.out.rfind("TIME ", 0), 0u) << table.out;

  CtlResult csv = RunCtl(
      dir, Args({"results", id, "--since", "7", "--format", "csv", "--agent", agent->address()}, CtlCredentials()));
  EXPECT_EQ(csv.exit_code, 0) << csv.err;
  EXPECT_EQ(std::count(csv.out.begin(), csv.out.end(), '\n'), 4) << "header + events 8, 9, 10: " << csv.out;

  CtlResult sessions =
      RunCtl(dir, Args({"sessions", "--format", "json", "--agent", agent->address()}, CtlCredentials()));
  EXPECT_EQ(sessions.exit_code, 0) << sessions.err;
  auto s = JsonLines(sessions.out);
  ASSERT_EQ(s.size(), 1u);
  EXPECT_EQ(s[0]["session_id"], id);
  EXPECT_EQ(s[0]["state"], "RUNNING");

  CtlResult status = RunCtl(dir, Args({"status", "--agent", agent->address()}, CtlCredentials()));
  EXPECT_EQ(status.exit_code, 0) << status.err;
  EXPECT_NE(status.out.find("reachable"), std::string::npos) << status.out;

  // follow picks the capture up and ends with it.
  auto follow = CtlProcess::Start(
      dir,
      Args({"follow", id, "--format", "json", "--interval", "100", "--agent", agent->address()}, CtlCredentials()));
  ASSERT_TRUE(follow.ok());
  mon.Inject(agent::testing::SyntheticEvents(11, 5));
  ASSERT_TRUE(mon.EndCapture(id));
  CtlResult f = follow->Finish(60000);
  EXPECT_EQ(f.exit_code, 0) << f.err;
  EXPECT_EQ(JsonLines(f.out).size(), 15u);
  EXPECT_NE(f.err.find("COMPLETED"), std::string::npos) << f.err;
}

TEST(Netmonctl, FollowRidesOutAnAgentRestartWithoutLosingOrRepeatingEvents) {
  MonitorFixture mon;
  TempDir dir;
  int port;
  {
    MonitorFixture probe;  // a port that was free a moment ago
    port = probe.port();
  }
  json cfg = AgentProcess::Config(mon.address());
  cfg["listen_addr"] = StrCat("127.0.0.1:", port);
  auto first = AgentProcess::Start(dir, cfg);
  ASSERT_TRUE(first.ok()) << first.status();
  auto ctl = CtlProcess::Start(
      dir, Args({"capture", "--agent", first->address(), "--duration", "60", "--format", "json", "--interval", "100"},
                CtlCredentials()));
  ASSERT_TRUE(ctl.ok());
  std::string id = OnlyLiveSession(mon);
  ASSERT_FALSE(id.empty());
  mon.Inject(agent::testing::SyntheticEvents(1, 100));
  std::this_thread::sleep_for(500ms);
  auto stopped = first->Stop();
  ASSERT_TRUE(stopped.ok() && *stopped == 0);
  mon.Inject(agent::testing::SyntheticEvents(101, 100));  // while no agent is there
  auto second = AgentProcess::Start(dir, cfg);
  ASSERT_TRUE(second.ok()) << second.status();
  mon.Inject(agent::testing::SyntheticEvents(201, 100));
  ASSERT_TRUE(mon.EndCapture(id));
  CtlResult r = ctl->Finish(60000);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto lines = JsonLines(r.out);
  ASSERT_EQ(lines.size(), 300u) << r.err;
  for (size_t i = 0; i < lines.size(); ++i) ASSERT_EQ(lines[i]["sequence"], i + 1);
}

TEST(Netmonctl, ErrorsAreOneLineWithMeaningfulExitCodes) {
  MonitorFixture mon;
  TempDir dir;
  auto agent = AgentProcess::Start(dir, AgentProcess::Config(mon.address()));
  ASSERT_TRUE(agent.ok()) << agent.status();
  int unused_port;
  {
    MonitorFixture probe;
    unused_port = probe.port();
  }
  struct Case {
    std::vector<std::string> args;
    int exit_code;
    const char* mentions;
  } cases[] = {
      {Args({"capture", "--duration", "0", "--agent", agent->address()}, CtlCredentials()), 1, "duration_seconds"},
      {Args({"capture", "--src", "nonsense", "--agent", agent->address()}, CtlCredentials()), 1, "source_ip"},
      {Args({"results", "no-such-session", "--agent", agent->address()}, CtlCredentials()), 1, "no-such-session"},
      {Args({"status", "--agent", StrCat("127.0.0.1:", unused_port)}, CtlCredentials()), 3, "cannot reach"},
      {Args({"status", "--agent", agent->address(), "--cert", "other-client.pem", "--key", "other-client-key.pem",
             "--ca", "ca.pem", "--cert-dir", agent::testing::CertDir()},
            {}),
       3, "agent"},
      {Args({"status", "--agent", agent->address()}, {}), 2, "credentials"},
      {Args({"capture", "--pid", "many"}, {}), 2, "--pid"},
  };
  for (const auto& c : cases) {
    CtlResult r = RunCtl(dir, c.args);
    EXPECT_EQ(r.exit_code, c.exit_code) << ::testing::PrintToString(c.args) << ": " << r.err;
    EXPECT_NE(r.err.find(c.mentions), std::string::npos) << r.err;
    EXPECT_EQ(std::count(r.err.begin(), r.err.end(), '\n'), 1) << "one line: " << r.err;
    EXPECT_EQ(r.err.rfind("netmonctl: ", 0), 0u) << r.err;
  }
  // The agent is up but netmon-server is not: status says so and exits 3.
  json cfg = AgentProcess::Config(StrCat("127.0.0.1:", unused_port));
  auto orphan = AgentProcess::Start(dir, cfg);
  ASSERT_TRUE(orphan.ok());
  CtlResult r = RunCtl(dir, Args({"status", "--agent", orphan->address()}, CtlCredentials()));
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.out.find("UNREACHABLE"), std::string::npos) << r.out;
  r = RunCtl(dir, Args({"capture", "--agent", orphan->address()}, CtlCredentials()));
  EXPECT_EQ(r.exit_code, 3) << r.err;
  EXPECT_NE(r.err.find(StrCat("127.0.0.1:", unused_port)), std::string::npos) << r.err;
}

TEST(Netmonctl, DirectlyAgainstAServer) {
  MonitorFixture mon;
  TempDir dir;
  std::vector<std::string> creds = {"--cert-dir", agent::testing::CertDir(), "--server-name", "netmon-server"};
  auto ctl = CtlProcess::Start(dir, Args({"capture", "--server", mon.address(), "--session-id", "direct-1",
                                          "--duration", "30", "--format", "csv"},
                                         creds));
  ASSERT_TRUE(ctl.ok());
  for (int i = 0; i < 2000 && !mon.sessions().Find("direct-1").ok(); ++i) std::this_thread::sleep_for(10ms);
  mon.Inject(agent::testing::SyntheticEvents(1, 300));
  ASSERT_TRUE(mon.EndCapture("direct-1"));
  CtlResult r = ctl->Finish(60000);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(std::count(r.out.begin(), r.out.end(), '\n'), 301) << r.out.substr(0, 500);
  EXPECT_EQ(r.out.rfind("sequence,timestamp_ns,", 0), 0u);
  CtlResult sessions = RunCtl(dir, Args({"sessions", "--server", mon.address()}, creds));
  EXPECT_EQ(sessions.exit_code, 0) << sessions.err;
  EXPECT_NE(sessions.out.find("direct-1"), std::string::npos);
  EXPECT_NE(sessions.out.find("COMPLETED"), std::string::npos) << sessions.out;
  CtlResult stop = RunCtl(dir, Args({"stop", "nope", "--server", mon.address()}, creds));
  EXPECT_EQ(stop.exit_code, 1) << stop.err;
}

}  // namespace
}  // namespace netmon::e2e
