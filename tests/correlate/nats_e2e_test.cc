// SPDX-License-Identifier: Apache-2.0
// netmon-correlate with a real JetStream server (nats-server -js on a free loopback port, store in a temporary
// directory): GELF and OTel logs from NATS linked within the window and not outside it, inventory updates from a
// NATS subject, the reverse lookup as a NATS request, and the whole path: events published by EventPublisher,
// consumed by the correlator's durable consumer, enriched events on the output subject, with NATS killed and
// restarted mid-way losing nothing that was acknowledged.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include <set>

#include "correlate/event_publisher.h"
#include "correlate/nats_client.h"
#include "harness.h"

namespace netmon::correlate::test {
namespace {

constexpr int64_t kSec = 1'000'000'000;

constexpr char kInventory[] =
    R"({"devices":[{"device_id":"default:10.1.1.254","ip":"10.1.1.254","hostname":"core-switch-01",
  "metadata":{"sys_location":"DC1 row 3"}}],
 "interfaces":[{"device_id":"default:10.1.1.254","device_ip":"10.1.1.254","if_index":24,"if_name":"Gi1/0/24",
                "ip_addresses":["10.1.1.1/24"]}]})";

#define REQUIRE_NATS_SERVER() \
  if (!NatsServer::Available()) GTEST_SKIP() << "nats-server not installed (apt-get install nats-server)"

NatsConnectOptions ClientOptions(const NatsServer& s) {
  NatsConnectOptions o;
  o.urls = {s.url()};
  o.name = "netmon-correlate-test";
  o.reconnect_wait_ms = 100;
  return o;
}

std::string EventJson(int64_t ts, uint64_t seq) {
  return R"({"timestamp_ns":)" + std::to_string(ts) + R"(,"process_id":4242,"process_name":"curl",
    "source_addr":"10.0.0.5:51234","dest_addr":"10.1.1.1:443","event_type":"CONNECT","agent_id":"agent-1",
    "session_id":"cap-1","sequence":)" +
         std::to_string(seq) + "}";
}

bool Has(const Json& arr, const char* v) {
  for (const auto& x : arr) {
    if (x == v) return true;
  }
  return false;
}

TEST(NatsE2e, GelfAndOtelLogsInventoryUpdatesAndReverseLookupOverNats) {
  REQUIRE_NATS_SERVER();
  TempDir dir;
  NatsServer server(dir);
  ASSERT_TRUE(server.Start()) << ReadFile(dir.path() + "/nats-server.log");
  Correlator c(R"({"nats":{"url":")" + server.url() + R"(","reconnect_wait_ms":100},
                   "inventory":{"nats_subject":"mapper.inventory"},"logs":{"window_ms":5000}})",
               dir);
  auto ready = c.WaitStats([](const Json& s) { return s["nats"]["subscriptions"] == 4; }, 20000);
  ASSERT_TRUE(ready && (*ready)["nats"]["subscriptions"] == 4) << c.Stderr();

  auto conn = NatsConnection::Connect(ClientOptions(server));
  ASSERT_TRUE(conn.ok()) << conn.status();
  natsConnection* nc = (*conn)->get();
  const int64_t now = WallNowNs();
  auto secs = [](int64_t ns) {
    return std::to_string(ns / kSec) + "." + std::to_string((ns / 1'000'000) % 1000 + 1000).substr(1);
  };
  // GELF (ServiceRadar's syslog on logs.syslog): one in the window, one an hour before.
  std::string gelf_in =
      R"({"version":"1.1","host":"fw01","short_message":"DROP SRC=10.0.0.5 DST=10.1.1.1 SPT=51234 DPT=443",
      "timestamp":)" +
      secs(now - kSec) + R"(,"level":4,"_appname":"kernel"})";
  std::string gelf_out =
      R"({"version":"1.1","host":"fw01","short_message":"DROP SRC=10.0.0.5 DST=10.1.1.1 SPT=51234 DPT=443",
      "timestamp":)" +
      secs(now - 3600 * kSec) + R"(,"level":4,"_appname":"kernel"})";
  // OTel (logs.otel): the process itself, by PID.
  std::string otel = R"({"resourceLogs":[{"resource":{"attributes":[
      {"key":"process.pid","value":{"intValue":"4242"}},{"key":"service.name","value":{"stringValue":"fetcher"}}]},
      "scopeLogs":[{"logRecords":[{"timeUnixNano":")" +
                     std::to_string(now + 2 * kSec) + R"(","severityText":"ERROR",
      "body":{"stringValue":"TLS handshake with 10.1.1.1:443 failed"}}]}]}]})";
  for (const auto& [subject, body] : std::vector<std::pair<std::string, std::string>>{{"logs.syslog", gelf_in},
                                                                                      {"logs.syslog", gelf_out},
                                                                                      {"logs.otel", otel},
                                                                                      {"logs.syslog", "{not json"},
                                                                                      {"logs.otel", "[1,2"}}) {
    ASSERT_EQ(natsConnection_Publish(nc, subject.c_str(), body.data(), static_cast<int>(body.size())), NATS_OK);
  }
  // Inventory from the mapper, as an array of device and interface updates.
  std::string inv =
      R"([{"device_id":"sw9","ip":"10.1.1.254","hostname":"core-switch-09","metadata":{"sys_location":"DC9"}},
      {"device_id":"sw9","device_ip":"10.1.1.254","if_index":7,"if_name":"Te1/1/7","ip_addresses":["10.1.1.1/24"]}])";
  ASSERT_EQ(natsConnection_Publish(nc, "mapper.inventory", inv.data(), static_cast<int>(inv.size())), NATS_OK);
  natsConnection_Flush(nc);

  auto st = c.WaitStats([](const Json& s) {
    return s["logs"]["records"] == 3 && s["logs"]["gelf_malformed"] == 1 && s["logs"]["otel_malformed"] == 1 &&
           s["inventory"]["nats_updates"] == 1;
  });
  ASSERT_TRUE(st);
  ASSERT_EQ((*st)["logs"]["records"], 3) << st->dump(2);

  auto out = c.Ask(EventJson(now, 1));
  ASSERT_TRUE(out);
  const Json& e = (*out)["enrichment"];
  EXPECT_EQ(e["dest"]["label"], "core-switch-09:Te1/1/7");
  EXPECT_EQ(e["dest"]["location"], "DC9");
  const Json& logs = e["logs"];
  ASSERT_EQ(logs.size(), 2u) << out->dump(2);
  // The PID and an exact endpoint beat addresses and ports mentioned separately.
  EXPECT_EQ(logs[0]["format"], "otel");
  EXPECT_TRUE(Has(logs[0]["matched"], "pid"));
  EXPECT_TRUE(Has(logs[0]["matched"], "dest_endpoint"));
  EXPECT_EQ(logs[0]["distance_ms"], 2000);
  EXPECT_EQ(logs[0]["origin"], "logs.otel");
  EXPECT_EQ(logs[1]["format"], "gelf");
  EXPECT_TRUE(Has(logs[1]["matched"], "source_address"));
  EXPECT_TRUE(Has(logs[1]["matched"], "source_port"));
  EXPECT_TRUE(Has(logs[1]["matched"], "dest_port"));
  EXPECT_EQ(logs[1]["origin"], "logs.syslog");
  EXPECT_EQ(logs[1]["host"], "fw01");

  // The reverse question as a NATS request.
  natsMsg* reply = nullptr;
  std::string q = R"({"source":"10.0.0.5:51234","dest":"10.1.1.1:443","protocol":"tcp","start_ns":)" +
                  std::to_string(now - kSec) + R"(,"end_ns":)" + std::to_string(now + kSec) + "}";
  ASSERT_EQ(natsConnection_RequestString(&reply, nc, "netmon.correlate.reverse", q.c_str(), 5000), NATS_OK);
  NatsMsgPtr owned(reply);
  auto answer = ParseJson(std::string_view(natsMsg_GetData(reply), natsMsg_GetDataLength(reply)), 1 << 20);
  ASSERT_TRUE(answer.ok());
  ASSERT_EQ((*answer)["events"].size(), 1u) << answer->dump();
  EXPECT_EQ((*answer)["events"][0]["process_name"], "curl");
  EXPECT_EQ((*answer)["events"][0]["sequence"], 1);
}

// Reads enriched events from the output subject with a durable pull consumer of the test's own.
class OutputReader {
 public:
  OutputReader(NatsConnection* conn) : conn_(conn) {}
  // Fetches until `want` distinct sequences were seen or timeout_ms passed. Tolerates NATS being away.
  void ReadUntil(size_t want, int timeout_ms) {
    for (int waited = 0; seqs.size() < want && waited < timeout_ms; waited += 250) {
      if (!consumer_) {
        auto pc = PullConsumer::Create(conn_, {"events", "test-reader", "events.netmon.enriched.>", 30000, 100000});
        if (!pc.ok()) {
          usleep(250000);
          continue;
        }
        consumer_ = std::move(*pc);
      }
      auto batch = consumer_->Fetch(500, 250);
      if (!batch.ok()) {
        usleep(250000);
        continue;
      }
      for (auto& m : *batch) {
        auto doc = ParseJson(std::string_view(natsMsg_GetData(m.get()), natsMsg_GetDataLength(m.get())), 1 << 20);
        if (doc.ok()) {
          seqs.insert((*doc)["sequence"].get<uint64_t>());
          subjects.insert(natsMsg_GetSubject(m.get()));
          last = *doc;
        }
        natsMsg_Ack(m.get(), nullptr);
      }
    }
  }
  std::set<uint64_t> seqs;
  std::set<std::string> subjects;
  Json last;

 private:
  NatsConnection* conn_;
  std::unique_ptr<PullConsumer> consumer_;
};

TEST(NatsE2e, JetStreamEndToEndSurvivesANatsRestart) {
  REQUIRE_NATS_SERVER();
  TempDir dir;
  NatsServer server(dir);
  ASSERT_TRUE(server.Start()) << ReadFile(dir.path() + "/nats-server.log");
  std::string inv = dir.Write("inventory.json", kInventory);

  // The agent's side: the publisher the agent links.
  EventPublisherOptions po;
  po.nats = ClientOptions(server);
  po.ack_timeout_ms = 1000;
  po.retry_backoff_ms = 50;
  po.retry_backoff_max_ms = 500;
  auto pub = EventPublisher::Start(po);
  ASSERT_TRUE(pub.ok()) << pub.status();

  Correlator c(R"({"nats":{"url":")" + server.url() + R"(","reconnect_wait_ms":100,"durable":"corr-e2e",
                   "fetch_timeout_ms":200,"publish_timeout_ms":1000,"ack_wait_ms":5000},
                   "inventory":{"file":")" +
                   inv + R"("},"stats_interval_s":0})",
               dir, /*file_mode=*/false);

  const int64_t now = WallNowNs();
  const uint64_t kFirst = 300, kTotal = 600;
  // Half the events as the agent will publish them: its own JSON (no provenance, extra_info embedded as an object)
  // handed to PublishEventJson; the other half as Event structs.
  auto publish = [&](uint64_t seq) {
    if (seq % 2 == 1) {
      return (*pub)->PublishEventJson(
          "agent-1", "cap-1", seq,
          R"({"sequence":)" + std::to_string(seq) + R"(,"timestamp_ns":)" +
              std::to_string(now + static_cast<int64_t>(seq)) +
              R"(,"process_id":4242,"process_name":"curl","source_addr":"10.0.0.5:51234","dest_addr":"10.1.1.1:443",)"
              R"("bytes_sent":0,"bytes_received":0,"event_type":"CONNECT","extra_info":{"protocol":"tcp"}})");
    }
    auto ev = DecodeEvent(EventJson(now + static_cast<int64_t>(seq), seq));
    return ev.ok() && (*pub)->PublishEvent(*ev);
  };
  for (uint64_t seq = 1; seq <= kFirst; ++seq) ASSERT_TRUE(publish(seq));
  ASSERT_TRUE((*pub)->Flush(20000).ok()) << (*pub)->counters().buffered;

  auto reader_conn = NatsConnection::Connect(ClientOptions(server));
  ASSERT_TRUE(reader_conn.ok());
  OutputReader reader(reader_conn->get());
  reader.ReadUntil(50, 30000);
  ASSERT_GE(reader.seqs.size(), 50u) << c.Stderr();
  EXPECT_EQ(*reader.subjects.begin(), "events.netmon.enriched.agent-1");
  EXPECT_EQ(reader.last["enrichment"]["dest"]["label"], "core-switch-01:Gi1/0/24");

  // Mid-way: the correlator is still working through the first batch. NATS dies without a chance to flush.
  server.Kill();
  for (uint64_t seq = kFirst + 1; seq <= kTotal; ++seq) ASSERT_TRUE(publish(seq));  // buffered while NATS is away
  auto away = (*pub)->counters();
  EXPECT_GT(away.buffered, 0u);
  ASSERT_TRUE(server.Start()) << ReadFile(dir.path() + "/nats-server.log");
  ASSERT_TRUE((*pub)->Flush(30000).ok()) << "buffered " << (*pub)->counters().buffered;
  auto pc = (*pub)->counters();
  EXPECT_EQ(pc.published, kTotal);  // each message acknowledged exactly once from the publisher's view
  EXPECT_EQ(pc.dropped_buffer_full + pc.dropped_max_attempts, 0u);

  // Everything acknowledged comes out enriched, each sequence at least once.
  reader.ReadUntil(kTotal, 60000);

  // The correlator stops cleanly on SIGTERM and logs its counters (shown below if anything is missing).
  auto status = c.child().Signal(SIGTERM, 10000);
  ASSERT_TRUE(status);
  EXPECT_TRUE(WIFEXITED(*status) && WEXITSTATUS(*status) == 0);
  std::string log = c.Stderr();
  EXPECT_NE(log.find("\"mode\":\"nats\""), std::string::npos);
  EXPECT_NE(log.find("counters"), std::string::npos);

  std::string missing;
  for (uint64_t seq = 1, shown = 0; seq <= kTotal && shown < 20; ++seq) {
    if (!reader.seqs.contains(seq)) missing += " " + std::to_string(seq), ++shown;
  }
  EXPECT_EQ(reader.seqs.size(), kTotal) << "missing:" << missing << "\n" << log;
  EXPECT_EQ(*reader.seqs.begin(), 1u);
  EXPECT_EQ(*reader.seqs.rbegin(), kTotal);
}

}  // namespace
}  // namespace netmon::correlate::test
