// SPDX-License-Identifier: Apache-2.0
// The whole enrichment of one event: inventory on both ends, NetFlow, logs, and the reverse index it feeds.
#include "correlate/correlator.h"

#include <gtest/gtest.h>

#include "correlate/json_in.h"

namespace netmon::correlate {
namespace {

constexpr int64_t kSec = 1'000'000'000;
constexpr int64_t kT = 1700000000LL * kSec;

constexpr char kInventory[] = R"({
  "devices": [{"device_id": "default:10.1.1.254", "ip": "10.1.1.254", "hostname": "core-switch-01",
               "metadata": {"sys_location": "DC1 row 3"}}],
  "interfaces": [
    {"device_id": "default:10.1.1.254", "device_ip": "10.1.1.254", "if_index": 24, "if_name": "Gi1/0/24",
     "ip_addresses": ["10.1.1.1/24"]},
    {"device_id": "default:10.1.1.254", "device_ip": "10.1.1.254", "if_index": 3, "if_name": "Gi1/0/3"},
    {"device_id": "default:10.1.1.254", "device_ip": "10.1.1.254", "if_index": 5, "if_name": "Gi1/0/5"}]})";

struct Fixture {
  Fixture() : correlator(CorrelatorOptions{}, &inventory, &flows, &events, &logs) {
    EXPECT_TRUE(inventory.ReplaceFileLayer(kInventory).ok());
  }
  Json Enrich(const std::string& line) {
    auto ev = DecodeEvent(line);
    EXPECT_TRUE(ev.ok()) << ev.status();
    std::string out;
    correlator.Enrich(*ev, kT, 1, &out);
    auto doc = ParseJson(out, 1 << 20);
    EXPECT_TRUE(doc.ok()) << out;
    return *doc;
  }
  InventoryStore inventory;
  FlowStore flows;
  EventIndex events;
  LogWindow logs;
  Correlator correlator;
};

constexpr char kEvent[] = R"({"timestamp_ns":1700000000000000000,"process_id":4242,"process_name":"curl",
  "source_addr":"172.16.0.5:51234","dest_addr":"10.1.1.1:443","bytes_sent":5000,"bytes_received":20000,
  "event_type":"DATA","extra_info":"{\"protocol\":\"tcp\",\"interval_start_ns\":1699999995000000000,\"interval_end_ns\":1700000000000000000}",
  "agent_id":"agent-1","session_id":"cap-1","sequence":3})";

TEST(Correlator, EnrichesWithInventoryNetflowAndLogs) {
  Fixture f;
  FlowRecord r;
  r.tuple = {*ParseIp("172.16.0.5"), *ParseIp("10.1.1.1"), 51234, 443, 6};
  r.bytes = 5000;
  r.packets = 10;
  r.start_ns = kT - 5 * kSec;
  r.end_ns = kT;
  r.received_ns = kT;
  r.exporter = *ParseIp("10.1.1.254");
  r.version = 10;
  r.input_if = 3;
  r.output_if = 24;
  f.flows.Add(r);
  LogRecord l;
  l.time_ns = l.received_ns = kT - kSec;
  l.format = LogFormat::kRfc5424;
  l.app = "fw";
  l.message = "allow tcp 172.16.0.5:51234 -> 10.1.1.1:443";
  f.logs.Add(l);

  Json out = f.Enrich(kEvent);
  // The event itself is intact.
  EXPECT_EQ(out["process_id"], 4242);
  EXPECT_EQ(out["sequence"], 3);
  EXPECT_EQ(out["agent_id"], "agent-1");
  const Json& e = out["enrichment"];
  EXPECT_FALSE(e.contains("source"));  // 172.16.0.5 is unknown: left unenriched
  EXPECT_EQ(e["dest"]["device"], "core-switch-01");
  EXPECT_EQ(e["dest"]["interface"], "Gi1/0/24");
  EXPECT_EQ(e["dest"]["label"], "core-switch-01:Gi1/0/24");
  EXPECT_EQ(e["dest"]["location"], "DC1 row 3");
  EXPECT_EQ(e["dest"]["match"], "exact");
  EXPECT_EQ(e["netflow"]["records"], 1);
  EXPECT_EQ(e["netflow"]["fabric_bytes"], 5000);
  EXPECT_EQ(e["netflow"]["process_bytes"], 25000);
  EXPECT_EQ(e["netflow"]["share"], "large");
  const Json& x = e["netflow"]["exporters"][0];
  EXPECT_EQ(x["exporter"], "10.1.1.254");
  EXPECT_EQ(x["exporter_name"], "core-switch-01");
  EXPECT_EQ(x["input_if_name"], "Gi1/0/3");
  EXPECT_EQ(x["output_if_name"], "Gi1/0/24");
  ASSERT_EQ(e["logs"].size(), 1u);
  EXPECT_EQ(e["logs"][0]["app"], "fw");
  EXPECT_EQ(e["logs"][0]["distance_ms"], 0);

  auto c = f.correlator.counters();
  EXPECT_EQ(c.events, 1u);
  EXPECT_EQ(c.addresses_unknown, 1u);
  EXPECT_EQ(c.addresses_exact, 1u);
  EXPECT_EQ(c.events_with_netflow, 1u);
  EXPECT_EQ(c.log_links, 1u);
  EXPECT_EQ(c.events_indexed, 1u);

  // The reverse question: who produced the record?
  auto who = WhoProduced(f.events, r, MatchOptions{});
  ASSERT_EQ(who.size(), 1u);
  EXPECT_EQ(who[0].event.process_name, "curl");
  std::string answer;
  AppendAttributions(r.tuple, r.start_ns, r.end_ns, who, &answer);
  auto doc = ParseJson(answer, 1 << 20);
  ASSERT_TRUE(doc.ok());
  EXPECT_EQ((*doc)["events"][0]["process_id"], 4242);
  EXPECT_EQ((*doc)["events"][0]["direction"], "initiator");
}

TEST(Correlator, NothingKnownGivesAnEmptyEnrichment) {
  Fixture f;
  Json out = f.Enrich(
      R"({"timestamp_ns":1,"event_type":"DNS_QUERY","source_addr":"192.0.2.1:5353","dest_addr":"192.0.2.2:53"})");
  EXPECT_TRUE(out["enrichment"].is_object());
  EXPECT_TRUE(out["enrichment"].empty());
  EXPECT_EQ(f.correlator.counters().addresses_unknown, 2u);
}

TEST(Correlator, WorksWithoutStores) {
  Correlator c(CorrelatorOptions{}, nullptr, nullptr, nullptr, nullptr);
  auto ev = DecodeEvent(kEvent);
  std::string out;
  c.Enrich(*ev, kT, 1, &out);
  auto doc = ParseJson(out, 1 << 20);
  ASSERT_TRUE(doc.ok()) << out;
  EXPECT_TRUE((*doc)["enrichment"].empty());
}

}  // namespace
}  // namespace netmon::correlate
