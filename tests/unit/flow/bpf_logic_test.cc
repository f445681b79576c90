// SPDX-License-Identifier: Apache-2.0
// The BPF programs' pure logic, compiled as C++: DNS header plausibility and first-question extraction
// (netmon/dns.bpf.h) and the kernel filter match (netmon/filter.bpf.h). The test-run tests (tests/bpf/tc, xdp)
// cover the same code inside the programs; here the edge cases are cheap to enumerate.
#include <arpa/inet.h>
#include <gtest/gtest.h>

#include <cstring>
#include <string>
#include <vector>

// clang-format off
#include "bpf_shim.h"
#include "netmon/dns.bpf.h"
#include "netmon/filter.bpf.h"
// clang-format on

namespace {

std::vector<uint8_t> Header(uint16_t id, uint16_t flags, uint16_t qd, uint16_t an = 0, uint16_t ns = 0,
                            uint16_t ar = 0) {
  std::vector<uint8_t> h;
  for (uint16_t v : {id, flags, qd, an, ns, ar}) {
    h.push_back(static_cast<uint8_t>(v >> 8));
    h.push_back(static_cast<uint8_t>(v));
  }
  return h;
}

TEST(DnsHeader, AcceptsOrdinaryMessages) {
  EXPECT_TRUE(netmon_dns_header_ok(Header(1, 0x0100, 1).data(), 12 + 5));
  EXPECT_TRUE(netmon_dns_header_ok(Header(1, 0x8180, 1, 1).data(), 12 + 5 + 11));
  EXPECT_TRUE(netmon_dns_header_ok(Header(1, 0x2800, 1, 0, 1).data(), 40));  // UPDATE (opcode 5)
  EXPECT_TRUE(netmon_dns_header_ok(Header(1, 0x0000, 0).data(), 12));        // bare header (cookies-only query)
}

TEST(DnsHeader, RejectsWhatCannotBeDns) {
  EXPECT_FALSE(netmon_dns_header_ok(Header(1, 0x0100, 1).data(), 11));          // shorter than a header
  EXPECT_FALSE(netmon_dns_header_ok(Header(1, 0x1800, 1).data(), 40));          // opcode 3 (unassigned)
  EXPECT_FALSE(netmon_dns_header_ok(Header(1, 0x3800, 1).data(), 40));          // opcode 7
  EXPECT_FALSE(netmon_dns_header_ok(Header(1, 0x0100, 3).data(), 12 + 14));     // 3 questions need 15 bytes
  EXPECT_FALSE(netmon_dns_header_ok(Header(1, 0x8180, 1, 65535).data(), 512));  // counts that cannot fit
  EXPECT_FALSE(netmon_dns_header_ok(Header(1, 0x8180, 65535, 65535, 65535, 65535).data(), 65535));
}

// --- filter.bpf.h ---

netmon_tuple MakeTuple(const char* local, uint16_t lport, const char* remote, uint16_t rport) {
  netmon_tuple t{};
  auto put = [](uint8_t* out, const char* a) {
    in_addr v4{};
    if (inet_pton(AF_INET, a, &v4) == 1) {
      out[10] = out[11] = 0xff;
      std::memcpy(out + 12, &v4, 4);
    } else {
      ASSERT_EQ(inet_pton(AF_INET6, a, out), 1);
    }
  };
  put(t.local_addr, local);
  put(t.remote_addr, remote);
  t.local_port = lport;
  t.remote_port = rport;
  t.proto = 6;
  return t;
}

// Match against a tuple built in place (the BPF function takes pointers).
bool Match(const netmon_filter& f, const netmon_tuple& t, uint32_t tgid) {
  return netmon_filter_match_one(&f, &t, tgid);
}

TEST(Filter, EmptyEntryMatchesEverything) {
  netmon_filter f{};
  EXPECT_TRUE(Match(f, MakeTuple("10.0.0.1", 1, "10.0.0.2", 2), 0));
}

TEST(Filter, PortMatchesEitherSide) {
  netmon_filter f{};
  f.flags = NETMON_FILTER_PORT;
  f.port = 443;
  EXPECT_TRUE(Match(f, MakeTuple("10.0.0.1", 443, "10.0.0.2", 5000), 0));
  EXPECT_TRUE(Match(f, MakeTuple("10.0.0.1", 5000, "10.0.0.2", 443), 0));
  EXPECT_FALSE(Match(f, MakeTuple("10.0.0.1", 5000, "10.0.0.2", 80), 0));
}

TEST(Filter, PidNeverMatchesUnattributed) {
  netmon_filter f{};
  f.flags = NETMON_FILTER_PID;
  f.tgid = 1234;
  netmon_tuple t = MakeTuple("10.0.0.1", 1, "10.0.0.2", 2);
  EXPECT_TRUE(netmon_filter_match_one(&f, &t, 1234));
  EXPECT_FALSE(netmon_filter_match_one(&f, &t, 0));
  EXPECT_FALSE(netmon_filter_match_one(&f, &t, 1235));
}

TEST(Filter, PrefixesOverMappedAddresses) {
  netmon_filter f{};
  f.flags = NETMON_FILTER_SRC;
  netmon_tuple net = MakeTuple("10.1.2.0", 0, "::", 0);
  std::memcpy(f.src_addr, net.local_addr, 16);
  f.src_prefix = 96 + 24;  // 10.1.2.0/24
  EXPECT_TRUE(Match(f, MakeTuple("10.1.2.77", 1, "192.0.2.1", 2), 0));
  EXPECT_TRUE(Match(f, MakeTuple("192.0.2.1", 1, "10.1.2.1", 2), 0));  // either side
  EXPECT_FALSE(Match(f, MakeTuple("10.1.3.1", 1, "192.0.2.1", 2), 0));
  f.src_prefix = 96 + 23;  // 10.1.2.0/23 includes 10.1.3.x
  EXPECT_TRUE(Match(f, MakeTuple("10.1.3.1", 1, "192.0.2.1", 2), 0));
  f.src_prefix = 200;  // clamped to 128: exact match
  EXPECT_FALSE(Match(f, MakeTuple("10.1.2.1", 1, "192.0.2.1", 2), 0));
  EXPECT_TRUE(Match(f, MakeTuple("10.1.2.0", 1, "192.0.2.1", 2), 0));
}

}  // namespace
