// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>
#include <stdlib.h>
#include <time.h>

#include "correlate/syslog_parser.h"

namespace netmon::correlate {
namespace {

constexpr int64_t kSec = 1'000'000'000;
// 2023-11-14T22:13:20Z
constexpr int64_t kNow = 1700000000LL * kSec;

class SyslogTest : public ::testing::Test {
 protected:
  // RFC 3164 times are local time; pin the zone so the expectations are exact.
  void SetUp() override {
    setenv("TZ", "UTC", 1);
    tzset();
  }
};

TEST_F(SyslogTest, Rfc3164WithHostTagAndPid) {
  auto r =
      ParseSyslog("<38>Nov 14 22:13:18 fw01 sshd[812]: Accepted publickey for root from 10.0.0.5 port 51234 ssh2\n",
                  kNow, "192.0.2.9");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->format, LogFormat::kRfc3164);
  EXPECT_EQ(r->severity, 6);
  EXPECT_EQ(r->time_ns, kNow - 2 * kSec);
  EXPECT_EQ(r->host, "fw01");
  EXPECT_EQ(r->app, "sshd");
  EXPECT_EQ(r->procid, "812");
  EXPECT_EQ(r->message, "Accepted publickey for root from 10.0.0.5 port 51234 ssh2");
  EXPECT_EQ(r->origin, "192.0.2.9");
}

TEST_F(SyslogTest, Rfc3164Variants) {
  // No hostname (what local relays often send), single-digit day, year rollover.
  auto a = ParseSyslog("<13>Nov  4 01:02:03 myproc: hello", kNow, "10.0.0.1");
  ASSERT_TRUE(a.ok());
  EXPECT_EQ(a->app, "myproc");
  EXPECT_EQ(a->host, "10.0.0.1");  // the sender stands in
  EXPECT_EQ(a->message, "hello");
  auto dec = ParseSyslog("<13>Dec 31 23:59:59 h app: x", 1704067205LL * kSec /* 2024-01-01T00:00:05Z */, "h");
  ASSERT_TRUE(dec.ok());
  EXPECT_EQ(dec->time_ns, 1704067199LL * kSec);  // last year, not this one
  // No timestamp at all: free text after the PRI, received time.
  auto b = ParseSyslog("<14>kernel: martian source 10.1.1.1 from 10.0.0.5", kNow, "h");
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->time_ns, kNow);
  EXPECT_EQ(b->app, "kernel");
  // An RFC 3339 timestamp where the BSD one goes (rsyslog's forward format).
  auto c = ParseSyslog("<30>2023-11-14T22:13:19.500Z web01 nginx[77]: GET /", kNow, "h");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->time_ns, kNow - kSec / 2);
  EXPECT_EQ(c->host, "web01");
  EXPECT_EQ(c->procid, "77");
  // Hostname followed by untagged text.
  auto d = ParseSyslog("<30>Nov 14 22:13:20 web01 just words here", kNow, "h");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->host, "web01");
  EXPECT_EQ(d->app, "");
  EXPECT_EQ(d->message, "just words here");
}

TEST_F(SyslogTest, Rfc5424WithStructuredData) {
  auto r = ParseSyslog(
      "<165>1 2023-11-14T22:13:19.25+01:00 mymachine.example.com evntslog 4242 ID47 "
      "[exampleSDID@32473 iut=\"3\" eventSource=\"App\\\"lication\" src=\"10.0.0.5:51234\"][meta sequenceId=\"1\"] "
      "\xEF\xBB\xBF"
      "An application event log entry",
      kNow, "h");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->format, LogFormat::kRfc5424);
  EXPECT_EQ(r->severity, 5);
  EXPECT_EQ(r->time_ns, kNow - kSec - 3600 * kSec + kSec / 4);
  EXPECT_EQ(r->host, "mymachine.example.com");
  EXPECT_EQ(r->app, "evntslog");
  EXPECT_EQ(r->procid, "4242");
  EXPECT_EQ(r->msgid, "ID47");
  ASSERT_EQ(r->attributes.size(), 4u);
  EXPECT_EQ(r->attributes[1].first, "exampleSDID@32473.eventSource");
  EXPECT_EQ(r->attributes[1].second, "App\"lication");
  EXPECT_EQ(r->message, "An application event log entry");
}

TEST_F(SyslogTest, Rfc5424NilFieldsAndNoMessage) {
  auto r = ParseSyslog("<14>1 - - - - - -", kNow, "10.0.0.1");
  ASSERT_TRUE(r.ok()) << r.status();
  EXPECT_EQ(r->time_ns, kNow);
  EXPECT_EQ(r->host, "10.0.0.1");
  EXPECT_TRUE(r->message.empty());
}

TEST_F(SyslogTest, MalformedDatagramsAreRefused) {
  const char* bad[] = {
      "",
      "no pri at all",
      "<>1 - - - - - -",
      "<192>too big",
      "<1234>x",
      "<13",
      "<14>1 2023-13-45T00:00:00Z h a p m -",  // impossible date
      "<14>1 - h a p m [unterminated",         // SD never closed
      "<14>1 - h a p m [id key=unquoted]",     // PARAM-VALUE must be quoted
      "<14>1 - h a p m [id key=\"open]",       // value never closed
      "<14>1 - h a p m -nospace",              // MSG must follow a space
      "<14>1 - h",                             // header cut short
      "<14>1 - h a p "
      "ABCDEFGHIJKLMNOPQRSTUVWXYZABCDEFG -",  // MSGID over 32
  };
  for (const char* text : bad) EXPECT_FALSE(ParseSyslog(text, kNow, "h").ok()) << text;
}

TEST_F(SyslogTest, AnOverlongHostnameIsMessageText) {
  // Found by fuzz_syslog: a 300-character first word after the timestamp is not a HOSTNAME (RFC 5424 §6.2.4: 255).
  std::string word(300, 'h');
  auto r = ParseSyslog("<13>Nov 14 22:13:20 " + word + " rest", kNow, "192.0.2.1");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->host, "192.0.2.1");
  EXPECT_EQ(r->message, word + " rest");
}

TEST_F(SyslogTest, LongMessagesAreCut) {
  std::string msg = "<13>Nov 14 22:13:20 h app: " + std::string(100000, 'x');
  SyslogOptions o;
  o.max_message_bytes = 100;
  auto r = ParseSyslog(msg, kNow, "h", o);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->message.size(), 100u);
}

TEST(Rfc3339, ParsesAndRefuses) {
  EXPECT_EQ(*ParseRfc3339("2023-11-14T22:13:20Z"), kNow);
  EXPECT_EQ(*ParseRfc3339("2023-11-14T23:13:20+01:00"), kNow);
  EXPECT_EQ(*ParseRfc3339("2023-11-14t22:13:20.123456789z"), kNow + 123456789);
  EXPECT_EQ(*ParseRfc3339("2024-02-29T00:00:00Z"), 1709164800LL * kSec);
  for (const char* bad : {"2023-02-29T00:00:00Z", "2023-11-14T22:13:20", "2023-11-14T24:00:00Z", "2023-11-14",
                          "1969-12-31T23:59:59Z", "2023-11-14T22:13:20+1:00", "2023-11-14T22:13:20Zjunk"}) {
    EXPECT_FALSE(ParseRfc3339(bad)) << bad;
  }
}

}  // namespace
}  // namespace netmon::correlate
