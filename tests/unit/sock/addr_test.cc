// SPDX-License-Identifier: Apache-2.0
#include "sock/addr.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>

#include <cstring>

namespace netmon::sock {
namespace {

Addr V4(const char* text) {
  in_addr a{};
  EXPECT_EQ(inet_pton(AF_INET, text, &a), 1);
  return AddrFromV4(a.s_addr);
}

Addr V6(const char* text) {
  in6_addr a{};
  EXPECT_EQ(inet_pton(AF_INET6, text, &a), 1);
  return AddrFromV6(a.s6_addr);
}

TEST(Addr, V4IsStoredMapped) {
  Addr a = V4("192.0.2.1");
  const uint8_t want[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 0, 2, 1};
  EXPECT_EQ(memcmp(a.data(), want, 16), 0);
  EXPECT_TRUE(IsV4Mapped(a.data()));
}

TEST(Addr, AnyAddressIsAllZeroInBothFamilies) {
  EXPECT_EQ(V4("0.0.0.0"), Addr{});
  EXPECT_EQ(V6("::"), Addr{});
  EXPECT_EQ(V6("::ffff:0.0.0.0"), Addr{});
  EXPECT_FALSE(IsV4Mapped(Addr{}.data()));
}

TEST(Addr, V4MappedV6KeysLikeV4) {
  // A dual-stack socket talking to an IPv4 peer reports ::ffff:a.b.c.d: it must key like the IPv4 packets.
  EXPECT_EQ(V6("::ffff:192.0.2.1"), V4("192.0.2.1"));
  EXPECT_FALSE(IsV4Mapped(V6("2001:db8::1").data()));
  EXPECT_FALSE(IsV4Mapped(V6("::1").data()));
  EXPECT_FALSE(IsV4Mapped(V6("::192.0.2.1").data()));  // deprecated v4-compatible: not mapped
}

TEST(Addr, Format) {
  EXPECT_EQ(FormatAddr(V4("192.0.2.1").data(), 443), "192.0.2.1:443");
  EXPECT_EQ(FormatAddr(V6("2001:db8::1").data(), 443), "[2001:db8::1]:443");
  EXPECT_EQ(FormatAddr(V6("::ffff:10.1.2.3").data(), 80), "10.1.2.3:80");
  EXPECT_EQ(FormatAddr(Addr{}.data(), 53), "[::]:53");
  EXPECT_EQ(FormatAddr(V6("fe80::1").data(), 0), "[fe80::1]:0");
}

TEST(Addr, ParseRoundTrips) {
  for (const char* text : {"192.0.2.1:443", "[2001:db8::1]:443", "10.0.0.1:0", "[::]:53", "255.255.255.255:65535"}) {
    Addr a{};
    uint16_t port = 0;
    ASSERT_TRUE(ParseAddrPort(text, &a, &port)) << text;
    EXPECT_EQ(FormatAddr(a.data(), port), text);
  }
  Addr a{};
  uint16_t port = 0;
  ASSERT_TRUE(ParseAddrPort("[::ffff:192.0.2.7]:8080", &a, &port));
  EXPECT_EQ(FormatAddr(a.data(), port), "192.0.2.7:8080");
}

TEST(Addr, ParseRejectsGarbage) {
  Addr a{};
  uint16_t port = 0;
  for (const char* text : {"", "192.0.2.1", "192.0.2.1:", "192.0.2.1:65536", "192.0.2.1:-1", "[2001:db8::1:443",
                           "2001:db8::1]:443", "host:80", "[2001:db8::1]443", "1.2.3.4:123456", "1.2.3.4:8a"}) {
    EXPECT_FALSE(ParseAddrPort(text, &a, &port)) << text;
  }
}

TEST(Addr, FromSockaddr) {
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  sin.sin_port = htons(5353);
  inet_pton(AF_INET, "10.9.8.7", &sin.sin_addr);
  Addr a{};
  uint16_t port = 0;
  ASSERT_TRUE(FromSockaddr(reinterpret_cast<sockaddr*>(&sin), sizeof(sin), &a, &port));
  EXPECT_EQ(FormatAddr(a.data(), port), "10.9.8.7:5353");
  EXPECT_FALSE(FromSockaddr(reinterpret_cast<sockaddr*>(&sin), sizeof(sin) - 1, &a, &port));  // truncated

  sockaddr_in6 sin6{};
  sin6.sin6_family = AF_INET6;
  sin6.sin6_port = htons(443);
  inet_pton(AF_INET6, "::ffff:10.9.8.7", &sin6.sin6_addr);
  ASSERT_TRUE(FromSockaddr(reinterpret_cast<sockaddr*>(&sin6), sizeof(sin6), &a, &port));
  EXPECT_EQ(FormatAddr(a.data(), port), "10.9.8.7:443");

  sockaddr unix_sa{};
  unix_sa.sa_family = AF_UNIX;
  EXPECT_FALSE(FromSockaddr(&unix_sa, sizeof(unix_sa), &a, &port));
  EXPECT_FALSE(FromSockaddr(nullptr, 0, &a, &port));
}

TEST(Addr, TupleFromSockaddrs) {
  sockaddr_in6 local{}, remote{};
  local.sin6_family = remote.sin6_family = AF_INET6;
  inet_pton(AF_INET6, "2001:db8::1", &local.sin6_addr);
  inet_pton(AF_INET6, "2001:db8::2", &remote.sin6_addr);
  local.sin6_port = htons(40000);
  remote.sin6_port = htons(443);
  auto t = TupleFromSockaddrs(reinterpret_cast<sockaddr*>(&local), sizeof(local), reinterpret_cast<sockaddr*>(&remote),
                              sizeof(remote), IPPROTO_TCP, 77);
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(FormatTuple(*t), "tcp [2001:db8::1]:40000 -> [2001:db8::2]:443 netns 77");
  // Unconnected: no remote.
  auto u = TupleFromSockaddrs(reinterpret_cast<sockaddr*>(&local), sizeof(local), nullptr, 0, IPPROTO_UDP, 77);
  ASSERT_TRUE(u.has_value());
  EXPECT_EQ(FormatTuple(*u), "udp [2001:db8::1]:40000 -> [::]:0 netns 77");
}

TEST(Addr, LookupKeysExactThenBoundThenAny) {
  netmon_tuple t = MakeTuple(V4("10.0.0.2"), 80, V4("10.0.0.1"), 40000, IPPROTO_TCP, 5);
  auto keys = LookupKeys(t);
  ASSERT_EQ(keys.size(), 3u);
  EXPECT_EQ(FormatTuple(keys[0]), "tcp 10.0.0.2:80 -> 10.0.0.1:40000 netns 5");
  EXPECT_EQ(FormatTuple(keys[1]), "tcp 10.0.0.2:80 -> [::]:0 netns 5");
  EXPECT_EQ(FormatTuple(keys[2]), "tcp [::]:80 -> [::]:0 netns 5");
  // Already a wildcard: no duplicate keys.
  auto bound_keys = LookupKeys(keys[1]);
  ASSERT_EQ(bound_keys.size(), 2u);
  EXPECT_EQ(LookupKeys(keys[2]).size(), 1u);
}

}  // namespace
}  // namespace netmon::sock
