// SPDX-License-Identifier: Apache-2.0
#include <gtest/gtest.h>

#include <limits>

#include "correlate/ip.h"
#include "correlate/json_in.h"
#include "correlate/json_out.h"

namespace netmon::correlate {
namespace {

TEST(Ip, ParsesAndFormatsBothFamilies) {
  auto v4 = ParseIp("10.1.1.1");
  ASSERT_TRUE(v4);
  EXPECT_TRUE(v4->IsV4());
  EXPECT_EQ(v4->ToString(), "10.1.1.1");
  auto mapped = ParseIp("::ffff:10.1.1.1");
  ASSERT_TRUE(mapped);
  EXPECT_EQ(*mapped, *v4);  // one address, however it is written
  auto v6 = ParseIp("2001:db8::1");
  ASSERT_TRUE(v6);
  EXPECT_FALSE(v6->IsV4());
  EXPECT_EQ(v6->ToString(), "2001:db8::1");
  for (const char* bad : {"", "10.1.1", "10.1.1.256", "example.com", "2001:db8:::1", "10.1.1.1 ", "fe80::1%eth0"}) {
    EXPECT_FALSE(ParseIp(bad)) << bad;
  }
  using namespace std::string_literals;
  EXPECT_FALSE(ParseIp("10.1.1.1\0junk"s)) << "inet_pton must not judge by the prefix before a NUL";
}

TEST(Ip, EndpointsAsDesignSection43WritesThem) {
  auto a = ParseEndpoint("192.0.2.1:443");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->port, 443);
  EXPECT_EQ(a->ToString(), "192.0.2.1:443");
  auto b = ParseEndpoint("[2001:db8::1]:53");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->ToString(), "[2001:db8::1]:53");
  for (const char* bad : {"192.0.2.1", "192.0.2.1:", "192.0.2.1:65536", "2001:db8::1:53", "[10.0.0.1]:80",
                          "[2001:db8::1]53", "[2001:db8::1]:", ":80", "192.0.2.1:8o"}) {
    EXPECT_FALSE(ParseEndpoint(bad)) << bad;
  }
}

TEST(Ip, PrefixesClearHostBits) {
  auto p = ParsePrefix("10.1.1.77/24");
  ASSERT_TRUE(p);
  EXPECT_EQ(p->length, 96 + 24);
  EXPECT_EQ(p->network, *ParseIp("10.1.1.0"));
  auto h = ParsePrefix("10.1.1.77");
  ASSERT_TRUE(h);
  EXPECT_EQ(h->length, 128);
  auto v6 = ParsePrefix("2001:db8:ffff::1/32");
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->network, *ParseIp("2001:db8::"));
  EXPECT_FALSE(ParsePrefix("10.1.1.0/33"));
  EXPECT_FALSE(ParsePrefix("10.1.1.0/"));
  EXPECT_FALSE(ParsePrefix("10.1.1.0/-1"));
}

TEST(JsonOut, EscapesEverythingIntoValidJson) {
  std::string out;
  JsonOut w(&out);
  w.BeginObject()
      .Field("s", std::string_view("q\"b\\n\n\x01\x7f", 8))
      .Field("utf8", "caf\xc3\xa9")
      .Field("bad", std::string_view("\xff\xc3(\xed\xa0\x80", 6))
      .FieldInt("i", -5)
      .FieldDouble("nan", std::numeric_limits<double>::quiet_NaN())
      .Key("a")
      .BeginArray()
      .Uint(1)
      .Bool(true)
      .Null()
      .EndArray()
      .EndObject();
  auto parsed = ParseJson(out, 1 << 20);
  ASSERT_TRUE(parsed.ok()) << out;
  EXPECT_EQ((*parsed)["s"], std::string("q\"b\\n\n\x01\x7f"));
  EXPECT_EQ((*parsed)["utf8"], "caf\xc3\xa9");
  // Invalid UTF-8 bytes become Latin-1 code points, never invalid output.
  EXPECT_EQ((*parsed)["bad"], "\xc3\xbf\xc3\x83(\xc3\xad\xc2\xa0\xc2\x80");
  EXPECT_TRUE((*parsed)["nan"].is_null());
  EXPECT_EQ((*parsed)["a"].size(), 3u);
}

TEST(JsonIn, BoundsSizeAndNesting) {
  EXPECT_FALSE(ParseJson("[1,2,3]", 3).ok());
  EXPECT_TRUE(ParseJson("[[1]]", 100, 2).ok());
  EXPECT_FALSE(ParseJson("[[[1]]]", 100, 2).ok());
  // Brackets inside strings do not count.
  EXPECT_TRUE(ParseJson("[\"[[[[\\\"[[\"]", 100, 2).ok());
  EXPECT_FALSE(ParseJson("{\"a\":", 100).ok());
  EXPECT_FALSE(ParseJson("\"\xff\"", 100).ok());  // invalid UTF-8 in a string
}

TEST(JsonIn, StrictScalars) {
  int64_t i = 0;
  uint64_t u = 0;
  EXPECT_TRUE(GetInt64(Json(-3), &i));
  EXPECT_EQ(i, -3);
  EXPECT_TRUE(GetInt64(Json("1700000000000000000"), &i));  // proto3 JSON writes int64 as a string
  EXPECT_EQ(i, 1700000000000000000);
  EXPECT_FALSE(GetInt64(Json(1.5), &i));
  EXPECT_FALSE(GetInt64(Json("12a"), &i));
  EXPECT_FALSE(GetInt64(Json(18446744073709551615ULL), &i));
  EXPECT_FALSE(GetUint64(Json(-1), &u));
  EXPECT_TRUE(GetUint64(Json(18446744073709551615ULL), &u));
  auto st = CheckKnownKeys(Json::parse(R"({"a":1,"typo":2})"), {"a"}, "cfg");
  EXPECT_FALSE(st.ok());
  EXPECT_NE(std::string(st.message()).find("typo"), std::string::npos);
}

}  // namespace
}  // namespace netmon::correlate
