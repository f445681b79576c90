// SPDX-License-Identifier: Apache-2.0
// Exact per-session filter matching, address/prefix parsing, and the kernel union.
#include "session/filter.h"

#include <gtest/gtest.h>

#include "session_test_util.h"

namespace netmon::session {
namespace {

using testing::Ep;
using testing::Ev;

TEST(IpPrefix, ParsesAddressesAndPrefixes) {
  struct Case {
    const char* text;
    bool ok;
    const char* canonical;
  } cases[] = {
      {"10.0.0.1", true, "10.0.0.1"},
      {"10.1.2.3/8", true, "10.0.0.0/8"},  // host bits cleared
      {"10.0.0.0/32", true, "10.0.0.0"},
      {"0.0.0.0/0", true, "0.0.0.0/0"},
      {"2001:db8::1", true, "2001:db8::1"},
      {"2001:db8::/32", true, "2001:db8::/32"},
      {"::ffff:192.0.2.1", true, "192.0.2.1"},
      {"::/0", true, "::/0"},
      {"", false, ""},
      {"abc", false, ""},
      {"10.0.0.256", false, ""},
      {"10.0.0.1/33", false, ""},
      {"2001:db8::/129", false, ""},
      {"10.0.0.1/", false, ""},
      {"/8", false, ""},
      {"10.0.0.1/-1", false, ""},
      {"10.0.0.1/8x", false, ""},
      {"10.0.0.1 ", false, ""},
      {"[::1]", false, ""},
  };
  for (const Case& c : cases) {
    auto p = ParseIpOrPrefix(c.text);
    EXPECT_EQ(p.ok(), c.ok) << c.text;
    if (p.ok() && c.ok) {
      EXPECT_EQ(p->ToString(), c.canonical) << c.text;
    }
    if (!p.ok()) {
      EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
    }
  }
}

TEST(IpPrefix, ContainsOverTheMappedForm) {
  auto p = *ParseIpOrPrefix("10.0.0.0/8");
  EXPECT_TRUE(p.Contains(Ep("10.255.0.1", 0).addr));
  EXPECT_FALSE(p.Contains(Ep("11.0.0.1", 0).addr));
  EXPECT_FALSE(p.Contains(Ep("::a00:1", 0).addr));  // not IPv4-mapped
  auto v6 = *ParseIpOrPrefix("fd00::/8");
  EXPECT_TRUE(v6.Contains(Ep("fd12::1", 0).addr));
  EXPECT_FALSE(v6.Contains(Ep("fe80::1", 0).addr));
  auto any = *ParseIpOrPrefix("::/0");
  EXPECT_TRUE(any.Contains(Ep("10.0.0.1", 0).addr));
}

TEST(Filter, EachFieldAloneAndTogether) {
  Filter pid;
  pid.pid = 42;
  EXPECT_TRUE(pid.Matches(Ev(42, "10.0.0.1", 1, "10.0.0.2", 2)));
  EXPECT_FALSE(pid.Matches(Ev(43, "10.0.0.1", 1, "10.0.0.2", 2)));
  EXPECT_FALSE(pid.Matches(Ev(0, "10.0.0.1", 1, "10.0.0.2", 2)));  // unattributed never matches a PID

  Filter port;
  port.port = 80;
  EXPECT_TRUE(port.Matches(Ev(1, "10.0.0.1", 40000, "10.0.0.2", 80)));  // remote
  EXPECT_TRUE(port.Matches(Ev(1, "10.0.0.1", 80, "10.0.0.2", 40000)));  // local / source
  EXPECT_FALSE(port.Matches(Ev(1, "10.0.0.1", 81, "10.0.0.2", 8080)));

  Filter src;
  src.source = *ParseIpOrPrefix("10.0.0.1");
  EXPECT_TRUE(src.Matches(Ev(1, "10.0.0.1", 1, "10.0.0.2", 2)));
  EXPECT_FALSE(src.Matches(Ev(1, "10.0.0.2", 2, "10.0.0.1", 1)));  // the initiator side only

  Filter dst;
  dst.destination = *ParseIpOrPrefix("10.0.0.0/24");
  EXPECT_TRUE(dst.Matches(Ev(1, "10.9.0.1", 1, "10.0.0.2", 2)));
  EXPECT_FALSE(dst.Matches(Ev(1, "10.0.0.2", 2, "10.9.0.1", 1)));

  Filter all;
  all.pid = 7;
  all.port = 443;
  all.source = *ParseIpOrPrefix("fd00::1");
  all.destination = *ParseIpOrPrefix("fd00::2");
  EXPECT_TRUE(all.Matches(Ev(7, "fd00::1", 5000, "fd00::2", 443)));
  EXPECT_FALSE(all.Matches(Ev(8, "fd00::1", 5000, "fd00::2", 443)));
  EXPECT_FALSE(all.Matches(Ev(7, "fd00::1", 5000, "fd00::2", 444)));
  EXPECT_FALSE(all.Matches(Ev(7, "fd00::3", 5000, "fd00::2", 443)));
  EXPECT_FALSE(all.Matches(Ev(7, "fd00::1", 5000, "fd00::3", 443)));

  EXPECT_TRUE(Filter{}.MatchesAll());
  EXPECT_TRUE(Filter{}.Matches(Ev(0, "1.2.3.4", 1, "5.6.7.8", 2)));
}

TEST(Filter, KernelFormCarriesFlagsAndPrefixLengths) {
  Filter f;
  f.pid = 9;
  f.port = 53;
  f.source = *ParseIpOrPrefix("10.0.0.0/8");
  f.destination = *ParseIpOrPrefix("2001:db8::/32");
  netmon_filter k = f.ToKernel();
  EXPECT_EQ(k.flags, NETMON_FILTER_PID | NETMON_FILTER_PORT | NETMON_FILTER_SRC | NETMON_FILTER_DST);
  EXPECT_EQ(k.tgid, 9u);
  EXPECT_EQ(k.port, 53);
  EXPECT_EQ(k.src_prefix, 104);
  EXPECT_EQ(k.dst_prefix, 32);
  EXPECT_EQ(k.src_addr[10], 0xff);
  EXPECT_EQ(k.src_addr[12], 10);
  EXPECT_EQ(Filter{}.ToKernel().flags, 0u);
}

TEST(Filter, KernelUnionDeduplicatesAndCollapses) {
  Filter a, b;
  a.port = 80;
  b.pid = 5;
  auto u = KernelUnion({a, b, a});
  ASSERT_EQ(u.size(), 2u);
  EXPECT_EQ(u[0].flags, NETMON_FILTER_PORT);
  EXPECT_EQ(u[1].flags, NETMON_FILTER_PID);
  // A match-all session makes the union match-all.
  u = KernelUnion({a, Filter{}, b});
  ASSERT_EQ(u.size(), 1u);
  EXPECT_EQ(u[0].flags, 0u);
  // More distinct filters than the kernel table: one match-all entry (over-approximation).
  std::vector<Filter> many;
  for (int i = 1; i <= NETMON_MAX_FILTERS + 1; ++i) {
    Filter f;
    f.port = static_cast<uint16_t>(i);
    many.push_back(f);
  }
  u = KernelUnion(many);
  ASSERT_EQ(u.size(), 1u);
  EXPECT_EQ(u[0].flags, 0u);
  many.pop_back();
  EXPECT_EQ(KernelUnion(many).size(), static_cast<size_t>(NETMON_MAX_FILTERS));
  EXPECT_TRUE(KernelUnion({}).empty());
}

}  // namespace
}  // namespace netmon::session
