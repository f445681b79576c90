// SPDX-License-Identifier: Apache-2.0
// Golden tests for netmonctl's table / json / csv output from a fixed event list, plus the pieces: human units,
// times, DETAILS, CSV quoting, the sessions list and the progress line. NETMON_UPDATE_GOLDEN=1 rewrites the
// golden files (then review the diff).
#include "cli/format.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <fstream>
#include <sstream>

#include "cli/console.h"
#include "golden_events.h"
#include "nlohmann/json.hpp"

namespace netmon::cli {
namespace {

std::string Golden(const std::string& name) {
  return std::string(NETMON_GOLDEN_DIR) + "/" + name;
}

void ExpectGolden(const std::string& name, const std::string& actual) {
  if (const char* u = std::getenv("NETMON_UPDATE_GOLDEN"); u != nullptr && std::string(u) == "1") {
    std::ofstream(Golden(name), std::ios::binary) << actual;
  }
  std::ifstream in(Golden(name), std::ios::binary);
  ASSERT_TRUE(in) << "missing golden file " << Golden(name) << " (run with NETMON_UPDATE_GOLDEN=1)";
  std::ostringstream want;
  want << in.rdbuf();
  EXPECT_EQ(actual, want.str()) << "output differs from " << Golden(name);
}

std::string Render(Format f, bool buffered = false) {
  std::ostringstream out;
  auto p = MakePrinter(f, &out, PrinterOptions{.utc = true, .buffered = buffered});
  for (const auto& e : testing::GoldenEvents()) p->Print(e);
  p->Finish();
  return out.str();
}

// `results`: the whole list is known, every column fits its widest cell.
TEST(Golden, Table) {
  ExpectGolden("events.table.txt", Render(Format::kTable, /*buffered=*/true));
}
// Live output: columns widen when a wider cell arrives (the IPv6 rows), from that row on.
TEST(Golden, LiveTable) {
  ExpectGolden("events.table-live.txt", Render(Format::kTable));
}
TEST(Golden, JsonLines) {
  ExpectGolden("events.json.txt", Render(Format::kJson));
}
TEST(Golden, Csv) {
  ExpectGolden("events.csv.txt", Render(Format::kCsv));
}

TEST(Golden, JsonLinesAreOneParsableEventEach) {
  std::istringstream in(Render(Format::kJson));
  std::string line;
  size_t n = 0;
  auto events = testing::GoldenEvents();
  while (std::getline(in, line)) {
    auto j = nlohmann::json::parse(line);
    EXPECT_EQ(j["sequence"], events[n].sequence());
    EXPECT_EQ(j["process_name"], events[n].process_name());
    ++n;
  }
  EXPECT_EQ(n, events.size());
}

TEST(Golden, TableNeverPassesControlBytesToTheTerminal) {
  std::string t = Render(Format::kTable);
  EXPECT_EQ(t.find('\x1b'), std::string::npos);
}

TEST(Golden, EmptyTableSaysSo) {
  std::ostringstream out;
  auto p = MakePrinter(Format::kTable, &out);
  p->Finish();
  EXPECT_EQ(out.str(), "(no events)\n");
}

TEST(Format, HumanBytes) {
  EXPECT_EQ(HumanBytes(0), "0 B");
  EXPECT_EQ(HumanBytes(1023), "1023 B");
  EXPECT_EQ(HumanBytes(1024), "1.0 KiB");
  EXPECT_EQ(HumanBytes(1536), "1.5 KiB");
  EXPECT_EQ(HumanBytes(1048575), "1.0 MiB");
  EXPECT_EQ(HumanBytes(10LL * 1024 * 1024 * 1024), "10.0 GiB");
  EXPECT_EQ(HumanBytes(-2048), "-2.0 KiB");
  EXPECT_EQ(HumanBytes(INT64_MIN), "-8.0 EiB");
  EXPECT_EQ(HumanBytes(INT64_MAX), "8.0 EiB");
}

TEST(Format, Times) {
  EXPECT_EQ(ClockTime(1'732'600'000'123'456'789, true), "05:46:40.123");
  EXPECT_EQ(IsoTime(1'732'600'000'123'456'789), "2024-11-26T05:46:40.123456Z");
  EXPECT_EQ(IsoTime(0), "1970-01-01T00:00:00.000000Z");
}

TEST(Format, CsvField) {
  EXPECT_EQ(CsvField("plain"), "plain");
  EXPECT_EQ(CsvField("a,b"), "\"a,b\"");
  EXPECT_EQ(CsvField("say \"hi\""), "\"say \"\"hi\"\"\"");
  EXPECT_EQ(CsvField("two\nlines"), "\"two\nlines\"");
}

TEST(Format, Sessions) {
  SessionInfo a;
  a.session_id = "9f1c2e7a-1b2c-4d5e-8f90-123456789abc";
  a.state = "RUNNING";
  a.duration_seconds = 30;
  a.process_id = 4242;
  a.port = 443;
  a.events_total = 1234;
  a.started_ns = 1'732'600'000'000'000'000;
  SessionInfo b;
  b.session_id = "short";
  b.state = "COMPLETED";
  b.duration_seconds = 5;
  b.destination_ip = "10.0.0.0/8";
  b.events_total = 7;
  b.events_dropped = 2;
  std::ostringstream table, json, csv;
  PrintSessions(Format::kTable, {a, b}, &table, true);
  PrintSessions(Format::kJson, {a, b}, &json, true);
  PrintSessions(Format::kCsv, {a, b}, &csv, true);
  ExpectGolden("sessions.table.txt", table.str());
  ExpectGolden("sessions.json.txt", json.str());
  ExpectGolden("sessions.csv.txt", csv.str());
  std::ostringstream none;
  PrintSessions(Format::kTable, {}, &none);
  EXPECT_EQ(none.str(), "(no captures)\n");
}

TEST(Format, ProgressLine) {
  CaptureProgress p;
  p.session_id = "9f1c2e7a-1b2c-4d5e-8f90-123456789abc";
  p.state = "RUNNING";
  p.duration_seconds = 30;
  p.started_ns = 1'000'000'000'000;
  p.events_seen = 1234567;
  p.events_total = 1234600;
  p.bytes_sent = 2048;
  p.bytes_received = 5 * 1024 * 1024;
  EXPECT_EQ(ProgressText(p, p.started_ns + 12'300'000'000),
            "capture 9f1c2e7a...: RUNNING, 18 s left, 1,234,567 events of 1,234,600, 2.0 KiB sent, 5.0 MiB "
            "received");
  p.state = "COMPLETED";
  p.events_dropped = 3;
  p.events_total = 0;
  EXPECT_EQ(ProgressText(p, 0),
            "capture 9f1c2e7a...: COMPLETED, 1,234,567 events (3 dropped), 2.0 KiB sent, 5.0 MiB received");
}

}  // namespace
}  // namespace netmon::cli
