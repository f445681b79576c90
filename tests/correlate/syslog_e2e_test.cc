// SPDX-License-Identifier: Apache-2.0
// Syslog RFC 3164 and RFC 5424 datagrams sent over UDP to netmon-correlate on 127.0.0.1: an event is linked with the
// lines inside its time window that mention it, and not with the same line an hour away; malformed datagrams are
// counted and skipped.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <ctime>

#include "harness.h"

namespace netmon::correlate::test {
namespace {

std::string Rfc3339(int64_t ns) {
  time_t s = ns / 1'000'000'000;
  tm t{};
  gmtime_r(&s, &t);
  char buf[64];
  strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &t);
  return std::string(buf) + "." + std::to_string((ns / 1'000'000) % 1000 + 1000).substr(1) + "Z";
}

std::string Bsd(int64_t ns) {
  time_t s = ns / 1'000'000'000;
  tm t{};
  gmtime_r(&s, &t);  // the correlator runs with TZ=UTC
  char buf[32];
  strftime(buf, sizeof(buf), "%b %e %H:%M:%S", &t);
  return buf;
}

class SyslogE2e : public ::testing::Test {
 protected:
  void SetUp() override {
    port_ = FreePort(SOCK_DGRAM);
    correlator_ = std::make_unique<Correlator>(
        R"({"syslog":{"listen":"127.0.0.1:)" + std::to_string(port_) + R"("},"logs":{"window_ms":5000}})", dir_);
    ASSERT_TRUE(correlator_->Stats()) << correlator_->Stderr();
    fd_ = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  }
  void TearDown() override {
    if (fd_ >= 0) close(fd_);
  }
  void Send(const std::string& d) {
    sockaddr_in to{};
    to.sin_family = AF_INET;
    to.sin_port = htons(port_);
    to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ASSERT_EQ(sendto(fd_, d.data(), d.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof(to)),
              static_cast<ssize_t>(d.size()));
  }

  TempDir dir_;
  uint16_t port_ = 0;
  int fd_ = -1;
  std::unique_ptr<Correlator> correlator_;
};

TEST_F(SyslogE2e, LinksWithinTheWindowAndNotOutside) {
  const int64_t now = WallNowNs();
  const int64_t sec = 1'000'000'000;
  // In the window: an RFC 5424 firewall line naming the flow's endpoints, and an RFC 3164 line from the process.
  Send("<134>1 " + Rfc3339(now - sec) +
       " fw01 filterlog 77 - [meta src=\"10.0.0.5:51234\"] pass tcp 10.0.0.5:51234 -> "
       "10.1.1.1:443");
  Send("<30>" + Bsd(now) + " app01 curl[4242]: connecting to 10.1.1.1 port 443");
  // Outside the window: the same firewall line an hour earlier.
  Send("<134>1 " + Rfc3339(now - 3600 * sec) + " fw01 filterlog 77 - - pass tcp 10.0.0.5:51234 -> 10.1.1.1:443");
  // Unrelated.
  Send("<134>1 " + Rfc3339(now) + " fw01 filterlog 77 - - pass udp 192.0.2.1:53 -> 192.0.2.2:5353");
  // Malformed: no PRI, a broken RFC 5424 header, structured data never closed.
  Send("hello there");
  Send("<134>1 2023-99-99T00:00:00Z h a p m - x");
  Send("<134>1 - h a p m [open");
  auto st = correlator_->WaitStats([](const Json& s) { return s["logs"]["syslog_datagrams"] == 7; });
  ASSERT_TRUE(st) << correlator_->Stderr();
  EXPECT_EQ((*st)["logs"]["records"], 4);
  EXPECT_EQ((*st)["logs"]["syslog_malformed"], 3);

  std::string ev = R"({"timestamp_ns":)" + std::to_string(now) +
                   R"(,"process_id":4242,"process_name":"curl","source_addr":"10.0.0.5:51234",
      "dest_addr":"10.1.1.1:443","event_type":"CONNECT","agent_id":"a","session_id":"s","sequence":1})";
  auto out = correlator_->Ask(ev);
  ASSERT_TRUE(out);
  const Json& logs = (*out)["enrichment"]["logs"];
  ASSERT_EQ(logs.size(), 2u) << out->dump(2);
  EXPECT_EQ(logs[0]["format"], "rfc5424");  // the endpoint match ranks first
  EXPECT_EQ(logs[0]["app"], "filterlog");
  EXPECT_EQ(logs[0]["host"], "fw01");
  auto has = [](const Json& arr, const char* v) {
    for (const auto& x : arr) {
      if (x == v) return true;
    }
    return false;
  };
  EXPECT_TRUE(has(logs[0]["matched"], "source_endpoint"));
  EXPECT_TRUE(has(logs[0]["matched"], "dest_endpoint"));
  EXPECT_EQ(logs[0]["distance_ms"], 1000);
  EXPECT_EQ(logs[1]["format"], "rfc3164");
  EXPECT_EQ(logs[1]["app"], "curl");
  EXPECT_EQ(logs[1]["procid"], "4242");
  EXPECT_TRUE(has(logs[1]["matched"], "pid"));
  EXPECT_TRUE(has(logs[1]["matched"], "process_name"));
  EXPECT_TRUE(has(logs[1]["matched"], "dest_address"));
  EXPECT_TRUE(has(logs[1]["matched"], "dest_port"));

  // The same event an hour later links only to the old line... which is an hour before *it*: none in its window.
  std::string later =
      R"({"timestamp_ns":)" + std::to_string(now + 7200 * sec) +
      R"(,"process_id":1,"source_addr":"10.0.0.5:51234","dest_addr":"10.1.1.1:443","event_type":"CONNECT"})";
  auto none = correlator_->Ask(later);
  ASSERT_TRUE(none);
  EXPECT_FALSE((*none)["enrichment"].contains("logs"));
}

}  // namespace
}  // namespace netmon::correlate::test
