// SPDX-License-Identifier: Apache-2.0
// The agent over real gRPC and mTLS on loopback, in front of netmon-server's gRPC side in-process (synthetic
// events at the engine's seam): trigger, polls with last_sequence while the capture runs and after it ends
// (every event exactly once, every chunk self-contained and within budget, one final chunk per poll), the
// docs/architecture.md §4.4 bad-input table through the agent, results errors, GetResults, GetStatus, mTLS refusals,
// monitor down -> UNAVAILABLE, and recovery when it comes back.
#include <gtest/gtest.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "agent_test_env.h"
#include "common/str_cat.h"

namespace netmon::agent {
namespace {

using namespace std::chrono_literals;
using monitoring::TriggerNetworkCaptureRequest;
using monitoring::TriggerNetworkCaptureResponse;
using nlohmann::json;
using testing::AgentFixture;
using testing::MonitorFixture;
using testing::PollAnswer;
using testing::PollStream;

TriggerNetworkCaptureRequest TriggerReq(int duration = 30, int pid = 0, int port = 0, const std::string& src = "",
                                        const std::string& dst = "") {
  TriggerNetworkCaptureRequest r;
  r.set_agent_id("test-agent");
  r.set_poller_id("test-poller");
  r.set_duration_seconds(duration);
  r.set_process_id(pid);
  r.set_port(port);
  r.set_source_ip(src);
  r.set_destination_ip(dst);
  return r;
}

std::string StartThroughAgent(monitoring::AgentService::Stub& stub, int duration = 30) {
  TriggerNetworkCaptureResponse resp;
  grpc::Status s = testing::Trigger(stub, TriggerReq(duration), &resp);
  EXPECT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(resp.success());
  return resp.session_id();
}

// Polls like the poller until `done` says so or `max_polls` polls, collecting every event's sequence.
struct Poller {
  Poller(monitoring::AgentService::Stub* s, std::string d) : stub(s), details(std::move(d)) {}
  monitoring::AgentService::Stub* stub;
  std::string details;
  std::string last_sequence;
  std::vector<uint64_t> seen;
  int polls = 0;
  json capture;

  // One poll; returns false on an RPC or shape failure (recorded as a test failure).
  bool Once() {
    PollAnswer a = PollStream(*stub, details, last_sequence);
    ++polls;
    EXPECT_TRUE(a.status.ok()) << a.status.error_message();
    if (!a.status.ok()) return false;
    EXPECT_TRUE(a.problems.empty()) << a.problems.front();
    if (!a.problems.empty()) return false;
    for (const json& e : a.events) seen.push_back(e["sequence"].get<uint64_t>());
    last_sequence = a.current_sequence;
    capture = a.capture;
    return true;
  }
  bool Complete() const { return capture.is_object() && capture.value("complete", false); }
};

void ExpectExactlyOnce(const std::vector<uint64_t>& seen, uint64_t n) {
  ASSERT_EQ(seen.size(), n);
  for (uint64_t i = 0; i < n; ++i) ASSERT_EQ(seen[i], i + 1) << "position " << i;
}

TEST(AgentService, TriggerStartsACaptureWithAUuidOnTheServer) {
  MonitorFixture mon;
  AgentFixture agent(mon.address());
  auto stub = agent.Stub();
  TriggerNetworkCaptureResponse resp;
  grpc::Status s = testing::Trigger(*stub, TriggerReq(45, getpid(), 443, "10.0.0.1", "fd00::2"), &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(resp.success());
  EXPECT_EQ(resp.session_id().size(), 36u);
  EXPECT_NE(resp.message().find(resp.session_id()), std::string::npos);
  auto found = mon.sessions().Find(resp.session_id());
  ASSERT_TRUE(found.ok());
  const auto& req = (*found)->request();
  EXPECT_EQ(req.duration_seconds, 45);
  EXPECT_EQ(req.process_id, getpid());
  EXPECT_EQ(req.port, 443);
  EXPECT_EQ(req.source_ip, "10.0.0.1");
  EXPECT_EQ(req.destination_ip, "fd00::2");
}

TEST(AgentService, PollsWhileRunningAndAfterTheEndDeliverEveryEventExactlyOnce) {
  MonitorFixture mon;
  AgentFixture agent(mon.address());
  auto stub = agent.Stub();
  std::string id = StartThroughAgent(*stub);
  Poller p(stub.get(), id);
  ASSERT_TRUE(p.Once());
  EXPECT_TRUE(p.seen.empty());
  EXPECT_EQ(p.last_sequence, "0");
  EXPECT_EQ(p.capture["state"], "RUNNING");
  uint64_t injected = 0;
  for (size_t batch : {1, 10, 0, 1000, 3, 0, 20000}) {
    mon.Inject(testing::SyntheticEvents(injected + 1, batch));
    injected += batch;
    ASSERT_TRUE(p.Once());
    EXPECT_EQ(p.last_sequence, std::to_string(injected)) << "current_sequence = last event delivered";
    EXPECT_FALSE(p.Complete());
  }
  // The capture ends with events still undelivered; polls after the end pick them up.
  mon.Inject(testing::SyntheticEvents(injected + 1, 500));
  injected += 500;
  ASSERT_TRUE(mon.EndCapture(id));
  ASSERT_TRUE(p.Once());
  EXPECT_TRUE(p.Complete());
  EXPECT_EQ(p.capture["state"], "COMPLETED");
  EXPECT_EQ(p.capture["stats"]["events_total"], injected);
  ExpectExactlyOnce(p.seen, injected);
  // Later polls: nothing new, one final chunk, place kept.
  ASSERT_TRUE(p.Once());
  EXPECT_EQ(p.last_sequence, std::to_string(injected));
  ExpectExactlyOnce(p.seen, injected);
}

TEST(AgentService, ConcurrentProducerAndPollerNeitherLoseNorRepeat) {
  MonitorFixture mon;
  AgentFixture agent(mon.address());
  auto stub = agent.Stub();
  std::string id = StartThroughAgent(*stub);
  const uint64_t kTotal = 60'000;
  std::atomic<bool> produced{false};
  std::thread producer([&] {
    for (uint64_t s = 1; s <= kTotal; s += 500) {
      mon.Inject(testing::SyntheticEvents(s, 500));
      std::this_thread::sleep_for(1ms);
    }
    produced = true;
  });
  Poller p(stub.get(), id);
  while (!produced && p.polls < 100'000) {
    if (!p.Once()) break;
  }
  producer.join();
  ASSERT_TRUE(mon.EndCapture(id));
  for (int i = 0; i < 100 && !p.Complete(); ++i) ASSERT_TRUE(p.Once());
  EXPECT_TRUE(p.Complete());
  ExpectExactlyOnce(p.seen, kTotal);
}

TEST(AgentService, HundredThousandEventsNoChunkOverBudget) {
  MonitorFixture mon;
  AgentFixture agent(mon.address());
  auto stub = agent.Stub();
  std::string id = StartThroughAgent(*stub);
  const uint64_t kN = 100'000;
  for (uint64_t s = 1; s <= kN; s += 10'000) mon.Inject(testing::SyntheticEvents(s, 10'000));
  ASSERT_TRUE(mon.EndCapture(id));
  PollAnswer a = PollStream(*stub, id, "");
  ASSERT_TRUE(a.status.ok()) << a.status.error_message();
  ASSERT_TRUE(a.problems.empty()) << a.problems.front();
  EXPECT_GT(a.chunks.size(), 10u);
  ASSERT_EQ(a.events.size(), kN);
  for (uint64_t i = 0; i < kN; ++i) ASSERT_EQ(a.events[i]["sequence"], i + 1);
  EXPECT_EQ(a.capture["complete"], true);
  // The events are the server's, unchanged, with extra_info as an object.
  const json& e = a.events[41];
  EXPECT_EQ(e["process_name"], "synthetic");
  EXPECT_EQ(e["process_id"], 4242);
  EXPECT_EQ(e["extra_info"]["n"], 42);
  EXPECT_EQ(e["bytes_sent"], 42 * 3);
}

TEST(AgentService, ALimitedPollSaysHasMoreAndTheNextResumes) {
  MonitorFixture mon;
  auto o = AgentFixture::For(mon.address());
  o.agent.max_events_per_poll = 1000;
  AgentFixture agent(o);
  auto stub = agent.Stub();
  std::string id = StartThroughAgent(*stub);
  mon.Inject(testing::SyntheticEvents(1, 2500));
  ASSERT_TRUE(mon.EndCapture(id));
  Poller p(stub.get(), R"({"session_id": ")" + id + R"("})");
  ASSERT_TRUE(p.Once());
  EXPECT_EQ(p.seen.size(), 1000u);
  EXPECT_EQ(p.capture["has_more"], true);
  EXPECT_EQ(p.capture["complete"], false);
  EXPECT_EQ(p.capture["state"], "COMPLETED") << "stats found even though the read stopped early";
  ASSERT_TRUE(p.Once());
  ASSERT_TRUE(p.Once());
  EXPECT_TRUE(p.Complete());
  ExpectExactlyOnce(p.seen, 2500);
}

TEST(AgentService, BadTriggerInputKeepsItsStatusCodes) {
  MonitorFixture::Options mo;
  mo.manager.max_sessions = 1;
  mo.manager.max_duration_seconds = 3600;
  MonitorFixture mon(mo);
  AgentFixture agent(mon.address());
  auto stub = agent.Stub();
  pid_t no_such_pid = 0x3ffffff0;
  struct Case {
    const char* what;
    TriggerNetworkCaptureRequest req;
    grpc::StatusCode code;
    const char* mentions;
  } cases[] = {
      {"duration 0", TriggerReq(0), grpc::INVALID_ARGUMENT, "duration_seconds"},
      {"duration negative", TriggerReq(-5), grpc::INVALID_ARGUMENT, "duration_seconds"},
      {"duration above the server's max", TriggerReq(3601), grpc::INVALID_ARGUMENT, "duration_seconds"},
      {"negative pid", TriggerReq(10, -1), grpc::INVALID_ARGUMENT, "process_id"},
      {"pid that does not exist", TriggerReq(10, no_such_pid), grpc::NOT_FOUND, ""},
      {"port negative", TriggerReq(10, 0, -1), grpc::INVALID_ARGUMENT, "port"},
      {"port too big", TriggerReq(10, 0, 65536), grpc::INVALID_ARGUMENT, "port"},
      {"source ip garbage", TriggerReq(10, 0, 0, "not-an-ip"), grpc::INVALID_ARGUMENT, "source_ip"},
      {"destination ip bad prefix", TriggerReq(10, 0, 0, "", "10.0.0.0/33"), grpc::INVALID_ARGUMENT, "destination_ip"},
  };
  for (const auto& c : cases) {
    TriggerNetworkCaptureResponse resp;
    grpc::Status s = testing::Trigger(*stub, c.req, &resp);
    EXPECT_EQ(s.error_code(), c.code) << c.what << ": " << s.error_message();
    EXPECT_NE(s.error_message().find(c.mentions), std::string::npos) << c.what << ": " << s.error_message();
  }
  EXPECT_EQ(mon.sessions().live_count(), 0u) << "nothing half-started";
  // One live capture is the server's limit: the second gets RESOURCE_EXHAUSTED through the agent.
  TriggerNetworkCaptureResponse resp;
  ASSERT_TRUE(testing::Trigger(*stub, TriggerReq(10), &resp).ok());
  grpc::Status s = testing::Trigger(*stub, TriggerReq(10), &resp);
  EXPECT_EQ(s.error_code(), grpc::RESOURCE_EXHAUSTED) << s.error_message();
}

TEST(AgentService, ResultsErrorsKeepTheirMeaning) {
  MonitorFixture mon;
  AgentFixture agent(mon.address());
  auto stub = agent.Stub();
  std::string id = StartThroughAgent(*stub);
  EXPECT_EQ(PollStream(*stub, "no-such-session", "").status.error_code(), grpc::NOT_FOUND);
  EXPECT_EQ(PollStream(*stub, "", "").status.error_code(), grpc::INVALID_ARGUMENT);
  EXPECT_EQ(PollStream(*stub, "{\"session\": 1}", "").status.error_code(), grpc::INVALID_ARGUMENT);
  EXPECT_EQ(PollStream(*stub, id, "minus-one").status.error_code(), grpc::INVALID_ARGUMENT);

  auto other = testing::ResultsRequestFor(id, "");
  other.set_service_type("sweep");
  other.set_service_name("sweep");
  grpc::ClientContext c1;
  monitoring::ResultsResponse rr;
  grpc::Status s = stub->GetResults(&c1, other, &rr);
  EXPECT_EQ(s.error_code(), grpc::UNIMPLEMENTED);
  EXPECT_NE(s.error_message().find("network_capture"), std::string::npos) << s.error_message();
  grpc::ClientContext c2;
  auto reader = stub->StreamResults(&c2, other);
  monitoring::ResultsChunk chunk;
  EXPECT_FALSE(reader->Read(&chunk));
  EXPECT_EQ(reader->Finish().error_code(), grpc::UNIMPLEMENTED);
  grpc::ClientContext c3;
  monitoring::StatusRequest sreq;
  sreq.set_service_type("icmp");
  monitoring::StatusResponse sresp;
  EXPECT_EQ(stub->GetStatus(&c3, sreq, &sresp).error_code(), grpc::UNIMPLEMENTED);
}

TEST(AgentService, GetResultsAnswersWithOneDocumentAndResumes) {
  MonitorFixture mon;
  auto o = AgentFixture::For(mon.address());
  o.agent.max_chunk_bytes = 64 * 1024;
  AgentFixture agent(o);
  auto stub = agent.Stub();
  std::string id = StartThroughAgent(*stub);
  mon.Inject(testing::SyntheticEvents(1, 3000));
  ASSERT_TRUE(mon.EndCapture(id));
  std::string last;
  std::vector<uint64_t> seen;
  bool complete = false;
  for (int i = 0; i < 1000 && !complete; ++i) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + 30s);
    monitoring::ResultsResponse r;
    grpc::Status s = stub->GetResults(&ctx, testing::ResultsRequestFor(id, last), &r);
    ASSERT_TRUE(s.ok()) << s.error_message();
    EXPECT_TRUE(r.available());
    EXPECT_LE(r.data().size(), 64u * 1024);
    json doc = json::parse(r.data());
    EXPECT_EQ(r.has_new_data(), !doc["results"].empty());
    for (auto& e : doc["results"]) seen.push_back(e["sequence"]);
    last = r.current_sequence();
    complete = doc["capture"]["complete"];
    EXPECT_EQ(r.sweep_completion().status(),
              complete ? monitoring::SweepCompletionStatus::COMPLETED : monitoring::SweepCompletionStatus::IN_PROGRESS);
    EXPECT_EQ(r.agent_id(), "test-agent");
  }
  EXPECT_TRUE(complete);
  ExpectExactlyOnce(seen, 3000);
}

TEST(AgentService, GetStatusReportsTheMonitorAndItsSessions) {
  MonitorFixture mon;
  AgentFixture agent(mon.address());
  auto stub = agent.Stub();
  std::string id = StartThroughAgent(*stub);
  grpc::ClientContext ctx;
  monitoring::StatusRequest req;
  req.set_service_name("netmon");
  req.set_service_type("network_capture");
  monitoring::StatusResponse resp;
  ASSERT_TRUE(stub->GetStatus(&ctx, req, &resp).ok());
  EXPECT_TRUE(resp.available());
  json j = json::parse(resp.message());
  EXPECT_EQ(j["monitor"]["reachable"], true);
  EXPECT_EQ(j["monitor"]["address"], mon.address());
  EXPECT_EQ(j["monitor"]["live_sessions"], 1);
  ASSERT_EQ(j["sessions"].size(), 1u);
  EXPECT_EQ(j["sessions"][0]["session_id"], id);
  EXPECT_EQ(j["sessions"][0]["state"], "RUNNING");
  EXPECT_EQ(resp.service_type(), "network_capture");
}

TEST(AgentService, MonitorDownIsUnavailableNamingTheAddressAndTheAgentRecovers) {
  int port;
  {
    MonitorFixture probe;
    port = probe.port();
  }
  MonitorFixture::Options mo;
  mo.listen = StrCat("127.0.0.1:", port);
  const std::string address = mo.listen;
  AgentFixture agent(address);
  auto stub = agent.Stub();
  // Nothing listens there now.
  for (int i = 0; i < 3; ++i) {
    TriggerNetworkCaptureResponse resp;
    grpc::Status s = testing::Trigger(*stub, TriggerReq(10), &resp, /*deadline_s=*/20);
    EXPECT_EQ(s.error_code(), grpc::UNAVAILABLE) << s.error_message();
    EXPECT_NE(s.error_message().find(address), std::string::npos) << s.error_message();
    EXPECT_EQ(PollStream(*stub, "some-session", "").status.error_code(), grpc::UNAVAILABLE);
  }
  grpc::ClientContext sctx;
  monitoring::StatusRequest sreq;
  sreq.set_service_type("network_capture");
  monitoring::StatusResponse sresp;
  ASSERT_TRUE(stub->GetStatus(&sctx, sreq, &sresp).ok());
  EXPECT_FALSE(sresp.available());
  EXPECT_EQ(json::parse(sresp.message())["monitor"]["reachable"], false);

  // The monitor comes back at the same address: the agent reconnects (backoff capped at 1 s; bounded retries).
  MonitorFixture mon(mo);
  grpc::Status s;
  TriggerNetworkCaptureResponse resp;
  for (int i = 0; i < 200; ++i) {
    s = testing::Trigger(*stub, TriggerReq(10), &resp);
    if (s.ok()) break;
    std::this_thread::sleep_for(50ms);
  }
  ASSERT_TRUE(s.ok()) << s.error_message();
  EXPECT_TRUE(mon.sessions().Find(resp.session_id()).ok());
}

TEST(AgentService, AgentToServerMtlsRefusesTheWrongCa) {
  MonitorFixture mon;
  // The agent presents a certificate from another CA: the server refuses the handshake.
  auto wrong_client = AgentFixture::For(mon.address());
  wrong_client.monitor_security = testing::Mtls("other-client", "ca", "netmon-server");
  AgentFixture a1(wrong_client);
  TriggerNetworkCaptureResponse resp;
  grpc::Status s = testing::Trigger(*a1.Stub(), TriggerReq(10), &resp);
  EXPECT_EQ(s.error_code(), grpc::UNAVAILABLE) << s.error_message();
  // The agent trusts another CA: it refuses the server.
  auto wrong_trust = AgentFixture::For(mon.address());
  wrong_trust.monitor_security = testing::Mtls("agent", "other-ca", "netmon-server");
  AgentFixture a2(wrong_trust);
  s = testing::Trigger(*a2.Stub(), TriggerReq(10), &resp);
  EXPECT_EQ(s.error_code(), grpc::UNAVAILABLE) << s.error_message();
  EXPECT_EQ(mon.sessions().live_count(), 0u);
}

TEST(AgentService, PollerToAgentMtlsAndAllowList) {
  MonitorFixture mon;
  auto o = AgentFixture::For(mon.address());
  o.agent.allow = rpc::ClientAllowList({"netmon-poller-only"});
  AgentFixture agent(o);
  TriggerNetworkCaptureResponse resp;
  grpc::Status s = testing::Trigger(*agent.Stub("other-client"), TriggerReq(10), &resp);
  EXPECT_EQ(s.error_code(), grpc::UNAVAILABLE) << "a client of another CA never gets in: " << s.error_message();
  s = testing::Trigger(*agent.Stub("client"), TriggerReq(10), &resp);
  EXPECT_EQ(s.error_code(), grpc::PERMISSION_DENIED) << s.error_message();
  EXPECT_EQ(mon.sessions().live_count(), 0u);
}

TEST(AgentService, EventsWithHugeExtraInfoAreDeliveredOrStoodInForNeverSliced) {
  MonitorFixture::Options mo;
  mo.service.chunk_max_bytes = 3 * 1024 * 1024;  // the server itself sends one 2 MB event per chunk
  MonitorFixture mon(mo);
  AgentFixture agent(mon.address());
  auto stub = agent.Stub();
  std::string id = StartThroughAgent(*stub);
  mon.Inject(testing::SyntheticEvents(1, 3, 500'000));
  mon.Inject(testing::SyntheticEvents(4, 1, 2'000'000));
  mon.Inject(testing::SyntheticEvents(5, 2));
  PollAnswer a = PollStream(*stub, id, "");
  ASSERT_TRUE(a.status.ok()) << a.status.error_message();
  ASSERT_TRUE(a.problems.empty()) << a.problems.front();
  ASSERT_EQ(a.events.size(), 6u);
  EXPECT_FALSE(a.events[0].contains("truncated"));
  EXPECT_EQ(a.events[3]["truncated"], true);
  EXPECT_EQ(a.events[3]["sequence"], 4);
  EXPECT_EQ(a.capture["truncated_events"], 1);
}

}  // namespace
}  // namespace netmon::agent
