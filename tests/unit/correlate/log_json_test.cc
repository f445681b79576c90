// SPDX-License-Identifier: Apache-2.0
#include "correlate/log_json.h"

#include <gtest/gtest.h>

namespace netmon::correlate {
namespace {

constexpr int64_t kNow = 1700000000LL * 1'000'000'000;

TEST(Gelf, ServiceRadarSyslogAsGelf) {
  auto r = ParseGelf(
      R"({"version":"1.1","host":"fw01","short_message":"DROP IN=eth0 SRC=10.0.0.5 DST=10.1.1.1 SPT=51234 DPT=443",
      "full_message":"details","timestamp":1699999999.5,"level":4,"_appname":"kernel","_procid":"0","_facility":"kern",
      "_nested":{"ignored":true}})",
      kNow, "logs.syslog");
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->records.size(), 1u);
  const LogRecord& l = r->records[0];
  EXPECT_EQ(l.format, LogFormat::kGelf);
  EXPECT_EQ(l.host, "fw01");
  EXPECT_EQ(l.app, "kernel");
  EXPECT_EQ(l.procid, "0");
  EXPECT_EQ(l.severity, 4);
  EXPECT_EQ(l.time_ns, kNow - 500'000'000);
  EXPECT_EQ(l.message, "DROP IN=eth0 SRC=10.0.0.5 DST=10.1.1.1 SPT=51234 DPT=443\ndetails");
  EXPECT_EQ(l.origin, "logs.syslog");
  EXPECT_EQ(l.attributes.size(), 3u);  // appname, procid, facility; the nested one is not a GELF field value
}

TEST(Gelf, ArraysAndMalformed) {
  auto r = ParseGelf(R"([{"short_message":"a","host":"h"},{"host":"no message"},5])", kNow, "s");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->records.size(), 1u);
  EXPECT_EQ(r->skipped, 2u);
  EXPECT_FALSE(ParseGelf(R"({"host":"h"})", kNow, "s").ok());
  EXPECT_FALSE(ParseGelf("not json", kNow, "s").ok());
  EXPECT_FALSE(ParseGelf("42", kNow, "s").ok());
  // A timestamp that is not a time falls back to the received time.
  auto t = ParseGelf(R"({"short_message":"x","timestamp":-5})", kNow, "s");
  ASSERT_TRUE(t.ok());
  EXPECT_EQ(t->records[0].time_ns, kNow);
}

TEST(Otel, OtlpJsonExportRequest) {
  auto r = ParseOtelLogs(R"({"resourceLogs":[{
      "resource":{"attributes":[{"key":"service.name","value":{"stringValue":"checkout"}},
                                {"key":"process.pid","value":{"intValue":"4242"}},
                                {"key":"process.executable.name","value":{"stringValue":"/usr/bin/curl"}},
                                {"key":"host.name","value":{"stringValue":"app01"}}]},
      "scopeLogs":[{"scope":{"name":"x"},"logRecords":[
         {"timeUnixNano":"1699999999000000000","severityNumber":17,"severityText":"ERROR",
          "body":{"stringValue":"connect to 10.1.1.1:443 failed"},
          "attributes":[{"key":"net.peer.port","value":{"intValue":443}},{"key":"retry","value":{"boolValue":true}}]},
         {"observedTimeUnixNano":1699999998000000000,"body":{"kvlistValue":{"values":[{"key":"k","value":{"stringValue":"v"}}]}}},
         {"no":"body"}]}]}]})",
                         kNow, "logs.otel");
  ASSERT_TRUE(r.ok()) << r.status();
  ASSERT_EQ(r->records.size(), 2u);
  EXPECT_EQ(r->skipped, 1u);
  const LogRecord& a = r->records[0];
  EXPECT_EQ(a.format, LogFormat::kOtel);
  EXPECT_EQ(a.time_ns, kNow - 1'000'000'000);
  EXPECT_EQ(a.severity, 3);
  EXPECT_EQ(a.app, "curl");  // the process beats the service name for matching comm
  EXPECT_EQ(a.procid, "4242");
  EXPECT_EQ(a.host, "app01");
  EXPECT_EQ(a.message, "connect to 10.1.1.1:443 failed");
  ASSERT_EQ(a.attributes.size(), 2u);
  EXPECT_EQ(a.attributes[0].second, "443");
  EXPECT_EQ(r->records[1].time_ns, kNow - 2'000'000'000);
  EXPECT_NE(r->records[1].message.find("kvlistValue"), std::string::npos);
}

TEST(Otel, SnakeCaseAndFlattenedRecords) {
  auto snake = ParseOtelLogs(
      R"({"resource_logs":[{"scope_logs":[{"log_records":[{"time_unix_nano":"5","body":{"string_value":"x"}}]}]}]})",
      kNow, "s");
  ASSERT_TRUE(snake.ok());
  ASSERT_EQ(snake->records.size(), 1u);
  EXPECT_EQ(snake->records[0].message, "x");
  auto flat = ParseOtelLogs(R"({"timestamp":"2023-11-14T22:13:19Z","severity_text":"WARN","body":"disk slow",
      "service_name":"db","attributes":"{\"process.pid\":\"77\"}"})",
                            kNow, "s");
  ASSERT_TRUE(flat.ok()) << flat.status();
  ASSERT_EQ(flat->records.size(), 1u);
  EXPECT_EQ(flat->records[0].time_ns, kNow - 1'000'000'000);
  EXPECT_EQ(flat->records[0].app, "db");
  EXPECT_EQ(flat->records[0].procid, "77");
  EXPECT_EQ(flat->records[0].severity, 4);
  EXPECT_FALSE(ParseOtelLogs(R"({"resourceLogs":5})", kNow, "s").ok());
  EXPECT_FALSE(ParseOtelLogs(R"({"nobody":1})", kNow, "s").ok());
  EXPECT_FALSE(ParseOtelLogs("[", kNow, "s").ok());
}

TEST(Otel, RecordsPerDocumentAreBounded) {
  std::string doc = R"({"resourceLogs":[{"scopeLogs":[{"logRecords":[)";
  for (int i = 0; i < 50; ++i) doc += std::string(i ? "," : "") + R"({"body":{"stringValue":"x"}})";
  doc += "]}]}]}";
  LogJsonOptions o;
  o.max_records = 10;
  auto r = ParseOtelLogs(doc, kNow, "s", o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->records.size(), 10u);
  EXPECT_EQ(r->skipped, 40u);
}

}  // namespace
}  // namespace netmon::correlate
