// SPDX-License-Identifier: Apache-2.0
// netmon-agent publishing to NATS JetStream (the "nats" section, agent/nats_forwarder.h), against a real
// `nats-server -js` on a free loopback port (started by the test, stopped by PID, its store in a temporary
// directory removed at the end; skipped with the reason when nats-server is not installed). The agent runs
// in-process over real gRPC and mTLS in front of netmon-server's gRPC side (synthetic events at the engine's seam):
//   - every event of a triggered capture lands on events.netmon.<agent_id> exactly once, with agent_id,
//     session_id and sequence, whether or not (and however often) a poller polls;
//   - NATS down at first, then started: the events wait in the buffer, then are delivered;
//   - more events than the buffer bound while NATS is down: the excess is refused and counted (counters and
//     GetStatus's JSON), the rest delivered once NATS is there;
//   - max_followers: a trigger beyond it is refused before anything starts.
#include <gtest/gtest.h>
#include <nats/nats.h>

#include <atomic>
#include <chrono>
#include <map>
#include <set>
#include <thread>
#include <vector>

#include "agent/nats_forwarder.h"
#include "agent_test_env.h"
#include "common/str_cat.h"
#include "correlate/nats_client.h"
#include "harness.h"

namespace netmon::agent {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;
using testing::AgentFixture;
using testing::MonitorFixture;
namespace ct = netmon::correlate::test;

constexpr char kAgentId[] = "test-agent";
constexpr char kSubject[] = "events.netmon.test-agent";

// What the stream holds on `subject`, read through a fresh durable pull consumer (each stored message once).
struct StreamContents {
  std::map<uint64_t, int> per_sequence;  // sequence -> how many stored messages carry it
  std::vector<json> docs;
  std::set<std::string> msg_ids;
  std::set<std::string> subjects;
  size_t messages = 0;
};

StreamContents ReadStream(const std::string& url, size_t want, int timeout_ms) {
  static std::atomic<int> reader{0};
  StreamContents out;
  correlate::NatsConnectOptions o;
  o.urls = {url};
  auto conn = correlate::NatsConnection::Connect(o);
  if (!conn.ok()) {
    ADD_FAILURE() << conn.status();
    return out;
  }
  // Kept until the process exits on purpose: libnats runs the disconnected callback asynchronously after
  // natsConnection_Close, and NatsConnection's callback writes into the object, so destroying it here raced with
  // that write (a rare heap corruption in this test). Reported to the correlate owner; remove when fixed there.
  static std::vector<std::unique_ptr<correlate::NatsConnection>>* keep =
      new std::vector<std::unique_ptr<correlate::NatsConnection>>();
  keep->push_back(std::move(*conn));
  correlate::NatsConnection* reader_conn = keep->back().get();
  auto pc =
      correlate::PullConsumer::Create(reader_conn, {"events", StrCat("reader-", reader++), kSubject, 30000, 100000});
  if (!pc.ok()) {
    ADD_FAILURE() << pc.status();
    return out;
  }
  // Until `want` arrived, then one more quiet period so a duplicate would show up too.
  auto end = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  int quiet = 0;
  while (std::chrono::steady_clock::now() < end && quiet < 2) {
    auto batch = (*pc)->Fetch(500, 300);
    if (!batch.ok() || batch->empty()) {
      if (out.messages >= want) ++quiet;
      continue;
    }
    for (auto& m : *batch) {
      ++out.messages;
      json doc = json::parse(std::string(natsMsg_GetData(m.get()), natsMsg_GetDataLength(m.get())), nullptr, false);
      const char* id = nullptr;
      if (natsMsgHeader_Get(m.get(), "Nats-Msg-Id", &id) == NATS_OK && id != nullptr) out.msg_ids.insert(id);
      out.subjects.insert(natsMsg_GetSubject(m.get()));
      if (doc.is_object() && doc.contains("sequence")) ++out.per_sequence[doc["sequence"].get<uint64_t>()];
      out.docs.push_back(std::move(doc));
      natsMsg_Ack(m.get(), nullptr);
    }
  }
  return out;
}

// Waits (bounded) until `pred(counters)` holds; returns the last counters.
template <typename Pred>
NatsForwarderCounters WaitCounters(const NatsForwarder& f, Pred pred, std::chrono::milliseconds timeout) {
  auto end = std::chrono::steady_clock::now() + timeout;
  NatsForwarderCounters c = f.counters();
  while (!pred(c) && std::chrono::steady_clock::now() < end) {
    std::this_thread::sleep_for(50ms);
    c = f.counters();
  }
  return c;
}

void ExpectEachSequenceOnce(const StreamContents& s, uint64_t n, const std::string& session_id) {
  EXPECT_EQ(s.messages, n);
  ASSERT_EQ(s.per_sequence.size(), n);
  uint64_t expect = 1;
  for (const auto& [seq, count] : s.per_sequence) {
    EXPECT_EQ(seq, expect++);
    EXPECT_EQ(count, 1) << "sequence " << seq;
  }
  EXPECT_EQ(s.msg_ids.size(), n);
  EXPECT_EQ(s.subjects, std::set<std::string>{kSubject});
  for (const json& d : s.docs) {
    ASSERT_TRUE(d.is_object());
    EXPECT_EQ(d.value("agent_id", ""), kAgentId);
    EXPECT_EQ(d.value("session_id", ""), session_id);
    // The NetworkEvent field names, values as the agent serves them to pollers.
    for (const char* k : {"sequence", "timestamp_ns", "process_id", "process_name", "source_addr", "dest_addr",
                          "bytes_sent", "bytes_received", "event_type", "extra_info"}) {
      EXPECT_TRUE(d.contains(k)) << k;
    }
  }
  EXPECT_TRUE(s.msg_ids.count(StrCat(kAgentId, "/", session_id, "/1")) == 1);
}

class AgentNatsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (!ct::NatsServer::Available()) GTEST_SKIP() << "nats-server is not installed (apt-get install nats-server)";
    nats_ = std::make_unique<ct::NatsServer>(dir_);
  }

  NatsPublishConfig Config() const {
    NatsPublishConfig c;
    c.enabled = true;
    c.urls = {nats_->url()};
    c.connect_timeout_ms = 500;
    c.ack_timeout_ms = 2000;
    c.flush_timeout_ms = 5000;
    return c;
  }

  std::unique_ptr<NatsForwarder> Forwarder(const MonitorFixture& mon, const NatsPublishConfig& c) {
    MonitorConfig mc;
    mc.address = mon.address();
    mc.security = testing::Mtls("agent", "ca", "netmon-server");
    auto f = NatsForwarder::Start(mc, kAgentId, c);
    if (!f.ok()) {
      ADD_FAILURE() << f.status();
      return nullptr;
    }
    return std::move(*f);
  }

  static AgentFixture::Options AgentFor(const MonitorFixture& mon, NatsForwarder* f) {
    auto o = AgentFixture::For(mon.address());
    o.agent.agent_id = kAgentId;
    o.agent.observer = f;
    return o;
  }

  static std::string Trigger(monitoring::AgentService::Stub& stub, grpc::Status* status = nullptr) {
    monitoring::TriggerNetworkCaptureRequest r;
    r.set_agent_id(kAgentId);
    r.set_poller_id("test-poller");
    r.set_duration_seconds(30);
    monitoring::TriggerNetworkCaptureResponse resp;
    grpc::Status s = testing::Trigger(stub, r, &resp);
    if (status != nullptr) {
      *status = s;
    } else {
      EXPECT_TRUE(s.ok()) << s.error_message();
    }
    return resp.session_id();
  }

  static json StatusNats(monitoring::AgentService::Stub& stub) {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + 10s);
    monitoring::StatusRequest req;
    req.set_service_name("netmon");
    req.set_service_type("network_capture");
    monitoring::StatusResponse resp;
    grpc::Status s = stub.GetStatus(&ctx, req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    json j = json::parse(resp.message(), nullptr, false);
    return j.is_object() ? j.value("nats", json()) : json();
  }

  ct::TempDir dir_;
  std::unique_ptr<ct::NatsServer> nats_;
};

TEST_F(AgentNatsTest, EveryEventExactlyOnceWhetherOrNotPolled) {
  ASSERT_TRUE(nats_->Start());
  MonitorFixture mon;
  auto fwd = Forwarder(mon, Config());
  ASSERT_NE(fwd, nullptr);
  EXPECT_EQ(fwd->subject(), kSubject);
  AgentFixture agent(AgentFor(mon, fwd.get()));
  auto stub = agent.Stub();
  const std::string id = Trigger(*stub);
  ASSERT_FALSE(id.empty());

  mon.Inject(testing::SyntheticEvents(1, 300));
  // A poll in the middle: it has its own cursor and neither takes events from the forwarder nor adds copies.
  testing::PollAnswer a = testing::PollStream(*stub, id, "");
  ASSERT_TRUE(a.status.ok()) << a.status.error_message();
  mon.Inject(testing::SyntheticEvents(301, 200));
  ASSERT_TRUE(mon.EndCapture(id));
  ASSERT_TRUE(fwd->WaitIdle(20s));

  auto c = WaitCounters(
      *fwd, [](const auto& c) { return c.publisher.published >= 500; }, 20s);
  EXPECT_EQ(c.sessions_followed, 1u);
  EXPECT_EQ(c.sessions_completed, 1u);
  EXPECT_EQ(c.events_seen, 500u);
  EXPECT_EQ(c.events_queued, 500u);
  EXPECT_EQ(c.events_refused, 0u);
  EXPECT_EQ(c.publisher.published, 500u);
  EXPECT_EQ(c.publisher.buffered, 0u);

  ExpectEachSequenceOnce(ReadStream(nats_->url(), 500, 20000), 500, id);

  json st = StatusNats(*stub);
  ASSERT_TRUE(st.is_object()) << "GetStatus has no \"nats\" object";
  EXPECT_EQ(st.value("published", 0), 500);
  EXPECT_EQ(st.value("sessions_completed", 0), 1);
  EXPECT_EQ(st.value("subject", ""), kSubject);
  EXPECT_TRUE(fwd->Stop().ok());
}

TEST_F(AgentNatsTest, NatsDownAtFirstThenStartedDeliversTheBuffer) {
  MonitorFixture mon;
  auto fwd = Forwarder(mon, Config());
  ASSERT_NE(fwd, nullptr);
  AgentFixture agent(AgentFor(mon, fwd.get()));
  auto stub = agent.Stub();
  const std::string id = Trigger(*stub);
  mon.Inject(testing::SyntheticEvents(1, 200));
  ASSERT_TRUE(mon.EndCapture(id));
  ASSERT_TRUE(fwd->WaitIdle(20s));

  auto c = fwd->counters();
  EXPECT_EQ(c.sessions_completed, 1u);
  EXPECT_EQ(c.events_queued, 200u);
  EXPECT_EQ(c.publisher.published, 0u);
  EXPECT_EQ(c.publisher.buffered, 200u);
  EXPECT_FALSE(c.publisher.connected);
  json st = StatusNats(*stub);
  EXPECT_EQ(st.value("buffered", 0), 200);
  EXPECT_FALSE(st.value("connected", true));

  ASSERT_TRUE(nats_->Start());
  c = WaitCounters(
      *fwd, [](const auto& c) { return c.publisher.published >= 200; }, 30s);
  EXPECT_EQ(c.publisher.published, 200u);
  EXPECT_EQ(c.publisher.buffered, 0u);
  EXPECT_GE(c.publisher.connect_failures, 1u);
  ExpectEachSequenceOnce(ReadStream(nats_->url(), 200, 20000), 200, id);
}

TEST_F(AgentNatsTest, BufferBoundExceededIsCounted) {
  NatsPublishConfig cfg = Config();
  cfg.max_buffer_events = 50;
  MonitorFixture mon;
  auto fwd = Forwarder(mon, cfg);
  ASSERT_NE(fwd, nullptr);
  AgentFixture agent(AgentFor(mon, fwd.get()));
  auto stub = agent.Stub();
  const std::string id = Trigger(*stub);
  mon.Inject(testing::SyntheticEvents(1, 200));
  ASSERT_TRUE(mon.EndCapture(id));
  ASSERT_TRUE(fwd->WaitIdle(20s));

  auto c = fwd->counters();
  EXPECT_EQ(c.events_seen, 200u);
  EXPECT_EQ(c.events_queued, 50u);
  EXPECT_EQ(c.events_refused, 150u);
  EXPECT_EQ(c.publisher.dropped_buffer_full, 150u);
  EXPECT_EQ(c.publisher.buffered, 50u);
  json st = StatusNats(*stub);
  EXPECT_EQ(st.value("events_refused", 0), 150);
  EXPECT_EQ(st.value("dropped_buffer_full", 0), 150);
  EXPECT_EQ(st.value("max_buffer_events", 0), 50);

  // What fit is delivered once NATS is there: the first 50 (the buffer fills in sequence order).
  ASSERT_TRUE(nats_->Start());
  c = WaitCounters(
      *fwd, [](const auto& c) { return c.publisher.published >= 50; }, 30s);
  EXPECT_EQ(c.publisher.published, 50u);
  ExpectEachSequenceOnce(ReadStream(nats_->url(), 50, 20000), 50, id);
}

TEST_F(AgentNatsTest, TriggerBeyondMaxFollowersIsRefusedBeforeStarting) {
  NatsPublishConfig cfg = Config();
  cfg.max_followers = 1;
  cfg.flush_timeout_ms = 200;  // NATS stays down here
  MonitorFixture mon;
  auto fwd = Forwarder(mon, cfg);
  ASSERT_NE(fwd, nullptr);
  AgentFixture agent(AgentFor(mon, fwd.get()));
  auto stub = agent.Stub();
  const std::string first = Trigger(*stub);
  ASSERT_FALSE(first.empty());
  grpc::Status s;
  Trigger(*stub, &s);
  EXPECT_EQ(s.error_code(), grpc::StatusCode::RESOURCE_EXHAUSTED) << s.error_message();
  EXPECT_NE(s.error_message().find("max_followers"), std::string::npos) << s.error_message();
  EXPECT_EQ(mon.sessions().List().size(), 1u) << "the refused trigger must not start a capture";
  EXPECT_EQ(fwd->counters().followers_refused, 1u);

  ASSERT_TRUE(mon.EndCapture(first));
  ASSERT_TRUE(fwd->WaitIdle(20s));
  EXPECT_FALSE(Trigger(*stub).empty()) << "a follower is free again once its capture ended";
}

TEST_F(AgentNatsTest, SubjectNotCoveredByTheStreamIsAConfigError) {
  NatsPublishConfig cfg = Config();
  cfg.subject = "netmon.raw.x";
  MonitorConfig mc;
  auto f = NatsForwarder::Start(mc, kAgentId, cfg);
  ASSERT_FALSE(f.ok());
  EXPECT_NE(f.status().message().find("stream_subjects"), std::string::npos) << f.status();
}

}  // namespace
}  // namespace netmon::agent
