// SPDX-License-Identifier: Apache-2.0
// The ServiceRadar path end to end with real traffic: throwaway namespaces (testenv) with TCP from a known
// process and DNS from dig, the real netmon-server (packet layer on the client's veth, inside its namespace),
// the real netmon-agent in front of it over mTLS, a capture triggered through the agent, and a poller that
// polls with last_sequence while the capture runs and after it ends. Then netmonctl does the same as an
// operator would. Skips (with the reason) where netmon-server is not built or the kernel/privileges are missing.
#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <fstream>
#include <set>
#include <thread>

#include "common/str_cat.h"
#include "e2e_env.h"
#include "rpc/credentials.h"
#include "testenv/testenv.h"

namespace netmon::e2e {
namespace {

using namespace std::chrono_literals;
using agent::testing::TempDir;
using nlohmann::json;

// The environment: topology, DNS, a TCP server, netmon-server, netmon-agent.
struct Env {
  TempDir dir;
  std::optional<testenv::Topology> topo;
  std::optional<testenv::DnsServer> dns;
  std::optional<testenv::Process> tcp_server;
  std::string tcp_server_addr;  // ip:port
  std::optional<testenv::Process> server;
  std::optional<AgentProcess> agent;

  // netmon-server detaches everything on SIGTERM; a SIGKILL (the Process destructor's fallback) would leave that
  // to the next start's stale sweep.
  ~Env() {
    agent.reset();
    if (server) {
      (void)server->Signal(SIGTERM);
      (void)server->Wait(30000);
    }
  }
};

// Builds the environment or says why it cannot (the test then skips or fails with that reason).
absl::Status Build(Env* env) {
  auto topo = testenv::Topology::Create();
  if (!topo.ok()) return topo.status();
  env->topo.emplace(std::move(*topo));
  const auto& srv = env->topo->server_end();
  auto dns = testenv::DnsServer::Start(env->topo->server(), srv.ipv4, srv.ipv6);
  if (!dns.ok()) return dns.status();
  env->dns.emplace(std::move(*dns));
  auto tcp =
      testenv::Process::Spawn(&env->topo->server(), {testenv::TrafficgenPath(), "tcp-serve", "--name", "nm-e2e-srv",
                                                     "--listen", srv.ipv4 + ":0", "--recv", "65536", "--send", "4096",
                                                     "--count", "1000", "--accept-fork", "--timeout-ms", "120000"});
  if (!tcp.ok()) return tcp.status();
  auto listening = testenv::ExpectTrafficgenEvent(*tcp, "listening", 10000);
  if (!listening.ok()) return listening.status();
  env->tcp_server_addr = listening->local;
  env->tcp_server.emplace(std::move(*tcp));

  std::string sock = env->dir.path() + "/server.sock";
  json scfg = {{"listen_addr", "unix:" + sock},
               {"security", agent::testing::MtlsJson("server")},
               {"interfaces", {{{"name", env->topo->client_end().ifname}, {"netns", env->topo->client().path()}}}},
               {"flush_interval_ms", 500}};
  std::string spath = env->dir.path() + "/server.json";
  std::ofstream(spath) << scfg.dump(2);
  auto server = testenv::Process::Spawn(nullptr, {ServerBinary(), "--config", spath, "--log-level", "warn"});
  if (!server.ok()) return server.status();
  auto ready = server->ReadLine(60000);
  if (!ready.ok()) return absl::Status(ready.status().code(), StrCat("netmon-server: ", ready.status().message()));
  env->server.emplace(std::move(*server));

  auto agent = AgentProcess::Start(env->dir, AgentProcess::Config("unix:" + sock));
  if (!agent.ok()) return agent.status();
  env->agent.emplace(std::move(*agent));
  return absl::OkStatus();
}

// One TCP connection from the client namespace: sends 65536 bytes, receives 4096. Returns its PID.
absl::StatusOr<pid_t> Connect(Env& env, const std::string& name) {
  auto c =
      testenv::Process::Spawn(&env.topo->client(), {testenv::TrafficgenPath(), "tcp-connect", "--name", name, "--to",
                                                    env.tcp_server_addr, "--send", "65536", "--recv", "4096"});
  if (!c.ok()) return c.status();
  pid_t pid = c->pid();
  if (auto done = testenv::ExpectTrafficgenEvent(*c, "done", 10000); !done.ok()) return done.status();
  auto code = c->Wait(10000);
  if (!code.ok()) return code.status();
  return pid;
}

absl::Status Dig(Env& env, const std::string& name) {
  auto r = testenv::RunCommand({"dig", "@" + env.topo->server_end().ipv4, name, "A", "+tries=1", "+time=3"},
                               &env.topo->client(), 15000);
  if (!r.ok()) return r.status();
  return r->exit_code == 0 ? absl::OkStatus() : absl::InternalError("dig failed: " + r->err);
}

TEST(RealTraffic, PollerThroughTheAgentGetsEveryEventOnceWhileAndAfterTheCaptureRuns) {
  if (ServerBinary()[0] == '\0') {
    GTEST_SKIP() << "netmon-server is not built in this tree (userspace/server builds it once the packet and "
                    "socket layers, netmon_flow and netmon_sock, exist)";
  }
  if (geteuid() != 0) GTEST_SKIP() << "needs root: BPF programs and network namespaces";
  Env env;
  absl::Status built = Build(&env);
  ASSERT_TRUE(built.ok()) << built;
  auto ch = rpc::CreateChannel(env.agent->address(), agent::testing::Mtls("client", "ca", "netmon-agent"));
  ASSERT_TRUE(ch.ok());
  auto stub = monitoring::AgentService::NewStub(*ch);

  monitoring::TriggerNetworkCaptureRequest req;
  req.set_duration_seconds(6);
  req.set_source_ip(env.topo->client_end().ipv4);  // everything the client starts: TCP and its DNS queries
  monitoring::TriggerNetworkCaptureResponse resp;
  grpc::Status ts = agent::testing::Trigger(*stub, req, &resp);
  ASSERT_TRUE(ts.ok()) << ts.error_message();

  std::set<pid_t> tcp_pids;
  std::string last;
  std::vector<json> events;
  bool complete = false;
  int polls = 0;
  auto poll = [&] {
    auto a = agent::testing::PollStream(*stub, resp.session_id(), last);
    ++polls;
    ASSERT_TRUE(a.status.ok()) << a.status.error_message();
    ASSERT_TRUE(a.problems.empty()) << a.problems.front();
    events.insert(events.end(), a.events.begin(), a.events.end());
    last = a.current_sequence;
    complete = a.capture.value("complete", false);
  };
  // Traffic while polling, as a poller every few seconds would see it (here: faster).
  for (int i = 0; i < 4; ++i) {
    auto pid = Connect(env, "nm-e2e-cli");
    ASSERT_TRUE(pid.ok()) << pid.status();
    tcp_pids.insert(*pid);
    ASSERT_TRUE(Dig(env, "a.nm.test").ok());
    poll();
    std::this_thread::sleep_for(300ms);
  }
  // After the end: poll until the agent says complete (bounded).
  for (int i = 0; i < 200 && !complete; ++i) {
    poll();
    if (!complete) std::this_thread::sleep_for(100ms);
  }
  ASSERT_TRUE(complete) << "capture did not complete after " << polls << " polls";
  ASSERT_FALSE(events.empty());
  for (size_t i = 0; i < events.size(); ++i) ASSERT_EQ(events[i]["sequence"], i + 1) << "exactly once, in order";

  int64_t tcp_sent = 0;
  bool dns_seen = false;
  for (const json& e : events) {
    pid_t pid = e["process_id"];
    if (tcp_pids.count(pid) && e["event_type"] == "DATA" && e["dest_addr"] == env.tcp_server_addr) {
      tcp_sent += e["bytes_sent"].get<int64_t>();
    }
    if (e["event_type"] == "DNS_QUERY" && e["extra_info"].is_object() &&
        e["extra_info"].value("name", "") == "a.nm.test") {
      dns_seen = true;
    }
  }
  EXPECT_GE(tcp_sent, 4 * 65536) << "L3 bytes include the payload of every connection";
  EXPECT_TRUE(dns_seen);
}

TEST(RealTraffic, NetmonctlLiveCaptureShowsTheTrafficAsATable) {
  if (ServerBinary()[0] == '\0') {
    GTEST_SKIP() << "netmon-server is not built in this tree (needs netmon_flow and netmon_sock)";
  }
  if (geteuid() != 0) GTEST_SKIP() << "needs root: BPF programs and network namespaces";
  Env env;
  absl::Status built = Build(&env);
  ASSERT_TRUE(built.ok()) << built;
  auto ctl = CtlProcess::Start(env.dir, [&] {
    std::vector<std::string> a = {"capture", "--agent", env.agent->address(), "--duration", "4", "--interval",
                                  "500",     "--utc"};
    for (const auto& c : CtlCredentials()) a.push_back(c);
    return a;
  }());
  ASSERT_TRUE(ctl.ok());
  std::this_thread::sleep_for(500ms);  // the capture is being started; traffic before it is simply not seen
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(Connect(env, "nm-e2e-table").ok());
    ASSERT_TRUE(Dig(env, "alias.nm.test").ok());
  }
  CtlResult r = ctl->Finish(60000);
  EXPECT_EQ(r.exit_code, 0) << r.err;
  EXPECT_EQ(r.out.rfind("TIME ", 0), 0u) << r.out;
  EXPECT_NE(r.out.find("nm-e2e-table"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("alias.nm.test"), std::string::npos) << r.out;
  EXPECT_NE(r.err.find("COMPLETED"), std::string::npos) << r.err;
}

}  // namespace
}  // namespace netmon::e2e
