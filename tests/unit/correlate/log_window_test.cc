// SPDX-License-Identifier: Apache-2.0
#include "correlate/log_window.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "correlate/event.h"
#include "correlate/syslog_parser.h"

namespace netmon::correlate {
namespace {

constexpr int64_t kSec = 1'000'000'000;
constexpr int64_t kT = 1700000000LL * kSec;

bool Has(const std::vector<LogToken>& t, TokenKind k, const char* v) {
  return std::find(t.begin(), t.end(), LogToken{k, v}) != t.end();
}

TEST(LogTokens, FindsAddressesEndpointsPortsPidsAndNames) {
  LogRecord r;
  r.app = "sshd";
  r.procid = "812";
  r.message =
      "Accepted publickey for root from 10.0.0.5 port 51234 ssh2; peer [2001:db8::1]:443, iptables SRC=10.9.9.9 "
      "DPT=22 dst 192.0.2.1:8080. tcpdump 10.0.0.7.5353 > 10.0.0.8.53 curl[4242]: pid=99 at 22:13:20 mac "
      "aa:bb:cc:dd:ee:ff";
  r.attributes = {{"process.pid", "1234"},
                  {"client.port", "6000"},
                  {"process.executable.name", "/usr/bin/wget"},
                  {"peer", "10.3.3.3:123"}};
  auto t = ExtractTokens(r);
  EXPECT_TRUE(Has(t, TokenKind::kName, "sshd"));
  EXPECT_TRUE(Has(t, TokenKind::kPid, "812"));
  EXPECT_TRUE(Has(t, TokenKind::kAddress, "10.0.0.5"));
  EXPECT_TRUE(Has(t, TokenKind::kPort, "51234"));
  EXPECT_TRUE(Has(t, TokenKind::kAddress, "2001:db8::1"));
  EXPECT_TRUE(Has(t, TokenKind::kEndpoint, "[2001:db8::1]:443"));
  EXPECT_TRUE(Has(t, TokenKind::kAddress, "10.9.9.9"));
  EXPECT_TRUE(Has(t, TokenKind::kPort, "22"));
  EXPECT_TRUE(Has(t, TokenKind::kEndpoint, "192.0.2.1:8080"));
  EXPECT_TRUE(Has(t, TokenKind::kEndpoint, "10.0.0.7:5353"));
  EXPECT_TRUE(Has(t, TokenKind::kEndpoint, "10.0.0.8:53"));
  EXPECT_TRUE(Has(t, TokenKind::kPid, "4242"));
  EXPECT_TRUE(Has(t, TokenKind::kName, "curl"));
  EXPECT_TRUE(Has(t, TokenKind::kPid, "99"));
  EXPECT_TRUE(Has(t, TokenKind::kPid, "1234"));
  EXPECT_TRUE(Has(t, TokenKind::kPort, "6000"));
  EXPECT_TRUE(Has(t, TokenKind::kName, "wget"));
  EXPECT_TRUE(Has(t, TokenKind::kEndpoint, "10.3.3.3:123"));
  // Times and MAC addresses are not addresses; bare numbers are not ports.
  EXPECT_FALSE(Has(t, TokenKind::kPort, "13"));
  for (const auto& tok : t)
    EXPECT_NE(tok.kind == TokenKind::kAddress && tok.value.find("aa") != std::string::npos, true);
}

TEST(LogTokens, BoundedOnHostileText) {
  LogRecord r;
  r.message = std::string(1 << 20, '1');
  for (int i = 0; i < 5000; ++i) r.message += " 10.0.0." + std::to_string(i % 256) + " word" + std::to_string(i);
  auto t = ExtractTokens(r);
  EXPECT_LE(t.size(), TokenLimits{}.max_tokens);
}

Event Connect(int64_t ts) {
  auto ev = DecodeEvent(R"({"timestamp_ns":1,"event_type":"CONNECT","process_id":4242,"process_name":"curl",
      "source_addr":"10.0.0.5:51234","dest_addr":"10.1.1.1:443"})");
  Event e = *ev;
  e.timestamp_ns = e.start_ns = e.end_ns = ts;
  return e;
}

LogRecord Line(int64_t t, std::string msg, std::string app = "", std::string pid = "") {
  LogRecord r;
  r.time_ns = r.received_ns = t;
  r.message = std::move(msg);
  r.app = std::move(app);
  r.procid = std::move(pid);
  return r;
}

TEST(LogWindow, LinksWithinTheWindowAndNotOutside) {
  LogWindow w;
  w.Add(Line(kT - 1 * kSec, "fw: allowed 10.0.0.5:51234 -> 10.1.1.1:443"));   // endpoints, in window
  w.Add(Line(kT + 2 * kSec, "something about curl", "curl", "4242"));         // pid + name, in window
  w.Add(Line(kT - 60 * kSec, "fw: allowed 10.0.0.5:51234 -> 10.1.1.1:443"));  // same text, outside
  w.Add(Line(kT, "unrelated 10.200.0.1 port 80"));                            // nothing in common
  LinkOptions o;
  o.window_ns = 5 * kSec;
  auto links = w.Link(Connect(kT), o);
  ASSERT_EQ(links.size(), 2u);
  // The endpoint match ranks first.
  EXPECT_NE(links[0].record->message.find("10.0.0.5:51234"), std::string::npos);
  auto r0 = LinkReasonNames(links[0].reasons);
  EXPECT_NE(std::find(r0.begin(), r0.end(), "source_endpoint"), r0.end());
  EXPECT_NE(std::find(r0.begin(), r0.end(), "dest_endpoint"), r0.end());
  EXPECT_EQ(links[0].distance_ns, 1 * kSec);
  auto r1 = LinkReasonNames(links[1].reasons);
  EXPECT_NE(std::find(r1.begin(), r1.end(), "pid"), r1.end());
  EXPECT_NE(std::find(r1.begin(), r1.end(), "process_name"), r1.end());
  // The same event an hour later links to nothing.
  EXPECT_TRUE(w.Link(Connect(kT + 3600 * kSec), o).empty());
}

TEST(LogWindow, MatchOnAndMaxLinks) {
  LogWindow w;
  for (int i = 0; i < 20; ++i) w.Add(Line(kT, "curl did something " + std::to_string(i), "curl"));
  LinkOptions o;
  o.max_links = 3;
  EXPECT_EQ(w.Link(Connect(kT), o).size(), 3u);
  o.match_mask = kMatchAddress | kMatchEndpoint;  // names no longer count
  EXPECT_TRUE(w.Link(Connect(kT), o).empty());
}

TEST(LogWindow, BoundedByCountAndAge) {
  LogWindowOptions opt;
  opt.max_records = 5;
  opt.retention_ns = 100 * kSec;
  LogWindow w(opt);
  for (int i = 0; i < 8; ++i) w.Add(Line(kT + i, "curl " + std::to_string(i), "curl"));
  auto c = w.counters();
  EXPECT_EQ(c.size, 5u);
  EXPECT_EQ(c.evicted_full, 3u);
  LinkOptions o;
  o.max_links = 100;
  EXPECT_EQ(w.Link(Connect(kT), o).size(), 5u);
  w.ExpireOlderThan(kT + 1000 * kSec);
  EXPECT_EQ(w.counters().size, 0u);
  EXPECT_TRUE(w.Link(Connect(kT), o).empty());
}

}  // namespace
}  // namespace netmon::correlate
