// SPDX-License-Identifier: Apache-2.0
// The join's small helpers: the JSON writer (always valid JSON, whatever the input bytes), address text as §4.3
// writes it, comm sanitising and the clock conversion.
#include <gtest/gtest.h>

#include <ctime>

#include "join/endpoint.h"
#include "join/event.h"
#include "join/json_writer.h"
#include "join/wall_clock.h"
#include "join_test_util.h"
#include "nlohmann/json.hpp"

namespace netmon::join {
namespace {

using testing::ParseAddr;

TEST(JsonWriter, NestedObjectsAndArraysHaveCommasInTheRightPlaces) {
  JsonWriter w;
  w.BeginObject().FieldInt("a", -1).FieldUint("b", 18446744073709551615ull).FieldBool("c", false);
  w.Key("list").BeginArray().Int(1).BeginObject().Field("x", "y").EndObject().BeginArray().EndArray().EndArray();
  w.Key("empty").BeginObject().EndObject();
  w.EndObject();
  std::string text = w.Take();
  EXPECT_EQ(text, R"({"a":-1,"b":18446744073709551615,"c":false,"list":[1,{"x":"y"},[]],"empty":{}})");
  auto j = nlohmann::json::parse(text);
  EXPECT_EQ(j["b"].get<uint64_t>(), 18446744073709551615ull);
}

TEST(JsonWriter, EscapesEverythingThatWouldBreakJsonOrUtf8) {
  std::string hostile = "q\"b\\s/\n\r\t\x01\x1f\x7f\xff\xc3(";
  hostile.push_back('\0');
  JsonWriter w;
  w.BeginObject().Field("k", hostile).FieldLiteral("lit", "tcp").EndObject();
  std::string text = w.Take();
  // Every byte of the output is printable ASCII.
  for (char c : text) EXPECT_TRUE(c >= 0x20 && c < 0x7f) << static_cast<int>(c);
  auto j = nlohmann::json::parse(text);
  std::string back = j["k"].get<std::string>();
  EXPECT_EQ(j["lit"], "tcp");
  // Printable ASCII and the named escapes round-trip; other bytes come back as their Latin-1 code points.
  EXPECT_EQ(back.substr(0, 11), "q\"b\\s/\n\r\t\x01\x1f");
  EXPECT_EQ(text.find("\\u007f") != std::string::npos, true);
  EXPECT_EQ(text.find("\\u00ff") != std::string::npos, true);
  EXPECT_EQ(text.find("\\u0000") != std::string::npos, true);
}

TEST(Endpoint, FormatsIpv4MappedAsDottedQuadAndIpv6InBrackets) {
  uint8_t a[16];
  ParseAddr("192.0.2.1", a);
  EXPECT_EQ(FormatEndpoint(a, 443), "192.0.2.1:443");
  EXPECT_EQ(FormatIp(a), "192.0.2.1");
  ParseAddr("2001:db8::1", a);
  EXPECT_EQ(FormatEndpoint(a, 443), "[2001:db8::1]:443");
  EXPECT_EQ(FormatIp(a), "2001:db8::1");
  ParseAddr("::", a);
  EXPECT_EQ(FormatEndpoint(a, 0), "[::]:0");
  ParseAddr("0.0.0.0", a);
  EXPECT_EQ(FormatEndpoint(a, 65535), "0.0.0.0:65535");
  ParseAddr("::ffff:10.1.2.3", a);
  EXPECT_EQ(FormatEndpoint(a, 53), "10.1.2.3:53");
}

TEST(Endpoint, LocalAndRemoteOfATuple) {
  netmon_tuple t = testing::Tuple("10.0.0.1", 40000, "10.0.0.2", 80);
  EXPECT_EQ(FormatEndpoint(LocalOf(t)), "10.0.0.1:40000");
  EXPECT_EQ(FormatEndpoint(RemoteOf(t)), "10.0.0.2:80");
}

TEST(Endpoint, SanitizeCommStopsAtNulAndReplacesUnprintable) {
  char comm[16] = {'c', 'u', 'r', 'l', 0, 'x'};
  EXPECT_EQ(SanitizeComm(comm), "curl");
  char odd[16] = {'a', '\n', '\xff', 'b', '\x7f'};
  EXPECT_EQ(SanitizeComm(odd), "a??b?");
  char full[16];
  std::memset(full, 'z', sizeof(full));  // no terminating NUL: exactly 16 bytes
  EXPECT_EQ(SanitizeComm(full), std::string(16, 'z'));
}

TEST(EventType, WireNames) {
  EXPECT_EQ(EventTypeName(EventType::kConnect), "CONNECT");
  EXPECT_EQ(EventTypeName(EventType::kAccept), "ACCEPT");
  EXPECT_EQ(EventTypeName(EventType::kClose), "CLOSE");
  EXPECT_EQ(EventTypeName(EventType::kData), "DATA");
  EXPECT_EQ(EventTypeName(EventType::kDnsQuery), "DNS_QUERY");
  EXPECT_EQ(EventTypeName(EventType::kDnsResponse), "DNS_RESPONSE");
}

TEST(WallClock, FixedOffsetConverts) {
  WallClock c(1'700'000'000'000'000'000);
  EXPECT_EQ(c.ToWall(5), 1'700'000'000'000'000'005);
}

TEST(WallClock, SampledOffsetMapsNowToNow) {
  WallClock c = WallClock::Sample();
  uint64_t mono = MonotonicNowNs();
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  int64_t wall = static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
  // Same instant through both paths: equal up to the scheduling between the reads (a generous bound, this
  // checks the arithmetic, not the speed).
  EXPECT_LT(std::llabs(c.ToWall(mono) - wall), 1'000'000'000);
}

}  // namespace
}  // namespace netmon::join
