// SPDX-License-Identifier: Apache-2.0
// The test DNS server answers the zone over UDP and TCP, on IPv4 and IPv6, as seen by a real client (dig) in the
// client namespace: A, AAAA, CNAME chains, NODATA and NXDOMAIN.
#include <gtest/gtest.h>

#include <optional>

#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"
#include "common/status.h"
#include "common/str_cat.h"
#include "testenv/dns_server.h"
#include "testenv/process.h"
#include "testenv/topology.h"
#include "tests/testenv/status_macros.h"

namespace netmon::testenv {
namespace {

struct Answer {
  std::string name;
  std::string type;
  std::string value;
  bool operator==(const Answer&) const = default;
};

std::ostream& operator<<(std::ostream& out, const Answer& a) {
  return out << a.name << " " << a.type << " " << a.value;
}

struct DigResult {
  std::string status;  // NOERROR, NXDOMAIN, …
  std::vector<Answer> answers;
  std::string raw;
};

// Runs dig inside `ns` and parses its header status and answer section.
absl::StatusOr<DigResult> Dig(const Netns& ns, const std::string& server, const std::string& name,
                              const std::string& type, bool tcp) {
  NETMON_ASSIGN_OR_RETURN(Process dig, Process::Spawn(&ns, {"dig", "@" + server, name, type, tcp ? "+tcp" : "+notcp",
                                                            "+noall", "+comments", "+answer", "+tries=1", "+time=3"}));
  NETMON_ASSIGN_OR_RETURN(std::string out, dig.ReadAll(15000));
  NETMON_ASSIGN_OR_RETURN(int code, dig.Wait(5000));
  if (code != 0) return absl::InternalError(StrCat("dig exited with ", code, ": ", out));
  DigResult result;
  result.raw = out;
  for (absl::string_view line : absl::StrSplit(out, '\n')) {
    if (size_t at = line.find("status: "); at != absl::string_view::npos) {
      absl::string_view rest = line.substr(at + 8);
      result.status = std::string(rest.substr(0, rest.find(',')));
      continue;
    }
    if (line.empty() || line[0] == ';') continue;
    // "chain.nm.test.  300  IN  CNAME  alias.nm.test."
    std::vector<absl::string_view> f = absl::StrSplit(line, absl::ByAnyChar(" \t"), absl::SkipEmpty());
    if (f.size() < 5) continue;
    std::string value(f[4]);
    for (size_t i = 5; i < f.size(); ++i) value += StrCat(" ", std::string(f[i]));
    result.answers.push_back(
        {std::string(absl::StripSuffix(f[0], ".")), std::string(f[3]), std::string(absl::StripSuffix(value, "."))});
  }
  return result;
}

class DnsTest : public ::testing::TestWithParam<std::tuple<bool, bool>> {
 protected:
  static void SetUpTestSuite() {
    auto topo = Topology::Create();
    ASSERT_TRUE(topo.ok()) << topo.status();
    topo_.emplace(std::move(*topo));
    auto dns = DnsServer::Start(topo_->server(), topo_->server_end().ipv4, topo_->server_end().ipv6);
    ASSERT_TRUE(dns.ok()) << dns.status();
    dns_.emplace(std::move(*dns));
  }
  static void TearDownTestSuite() {
    dns_.reset();  // dnsmasq first, then its namespace
    topo_.reset();
  }
  void SetUp() override { ASSERT_TRUE(dns_.has_value()) << "DNS server did not start"; }

  absl::StatusOr<DigResult> Query(const std::string& name, const std::string& type) {
    auto [v6, tcp] = GetParam();
    return Dig(topo_->client(), v6 ? topo_->server_end().ipv6 : topo_->server_end().ipv4, name, type, tcp);
  }

  // Suite-wide: starting dnsmasq once keeps the suite fast (gtest's suite hooks are static).
  inline static std::optional<Topology> topo_;
  inline static std::optional<DnsServer> dns_;
};

INSTANTIATE_TEST_SUITE_P(Transports, DnsTest, ::testing::Combine(::testing::Bool(), ::testing::Bool()),
                         [](const auto& info) {
                           return StrCat(std::get<0>(info.param) ? "IPv6" : "IPv4",
                                         std::get<1>(info.param) ? "Tcp" : "Udp");
                         });

TEST_P(DnsTest, A) {
  ASSERT_OK_AND_ASSIGN(DigResult r, Query("a.nm.test", "A"));
  EXPECT_EQ(r.status, "NOERROR") << r.raw;
  EXPECT_EQ(r.answers, (std::vector<Answer>{{"a.nm.test", "A", "10.53.0.1"}})) << r.raw;
}

TEST_P(DnsTest, Aaaa) {
  ASSERT_OK_AND_ASSIGN(DigResult r, Query("aaaa.nm.test", "AAAA"));
  EXPECT_EQ(r.status, "NOERROR") << r.raw;
  EXPECT_EQ(r.answers, (std::vector<Answer>{{"aaaa.nm.test", "AAAA", "fd00:53::1"}})) << r.raw;
}

TEST_P(DnsTest, BothFamilies) {
  ASSERT_OK_AND_ASSIGN(DigResult a, Query("both.nm.test", "A"));
  EXPECT_EQ(a.answers, (std::vector<Answer>{{"both.nm.test", "A", "10.53.0.2"}})) << a.raw;
  ASSERT_OK_AND_ASSIGN(DigResult aaaa, Query("both.nm.test", "AAAA"));
  EXPECT_EQ(aaaa.answers, (std::vector<Answer>{{"both.nm.test", "AAAA", "fd00:53::2"}})) << aaaa.raw;
}

TEST_P(DnsTest, CnameChain) {
  ASSERT_OK_AND_ASSIGN(DigResult r, Query("chain.nm.test", "A"));
  EXPECT_EQ(r.status, "NOERROR") << r.raw;
  EXPECT_EQ(r.answers, (std::vector<Answer>{{"chain.nm.test", "CNAME", "alias.nm.test"},
                                            {"alias.nm.test", "CNAME", "a.nm.test"},
                                            {"a.nm.test", "A", "10.53.0.1"}}))
      << r.raw;
}

TEST_P(DnsTest, NxDomainAndNoData) {
  ASSERT_OK_AND_ASSIGN(DigResult nx, Query(kNxDomainName, "A"));
  EXPECT_EQ(nx.status, "NXDOMAIN") << nx.raw;
  EXPECT_TRUE(nx.answers.empty()) << nx.raw;
  ASSERT_OK_AND_ASSIGN(DigResult nodata, Query("a.nm.test", "AAAA"));
  EXPECT_EQ(nodata.status, "NOERROR") << nodata.raw;
  EXPECT_TRUE(nodata.answers.empty()) << nodata.raw;
}

TEST_P(DnsTest, ZoneMatchesServer) {
  // Every record Zone() promises is served (tests elsewhere compare netmon's decoded answers with Zone()).
  for (const DnsRecord& record : DnsServer::Zone()) {
    SCOPED_TRACE(StrCat(record.name, " ", record.type));
    ASSERT_OK_AND_ASSIGN(DigResult r, Query(record.name, record.type));
    std::string value = record.type == "TXT" ? StrCat("\"", record.value, "\"") : record.value;
    EXPECT_NE(std::find(r.answers.begin(), r.answers.end(), Answer{record.name, record.type, value}), r.answers.end())
        << r.raw;
  }
}

}  // namespace
}  // namespace netmon::testenv
