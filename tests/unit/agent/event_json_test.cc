// SPDX-License-Identifier: Apache-2.0
// Event JSON: the NetworkEvent field names with their values unchanged, extra_info embedded as JSON when it is
// JSON and kept as a string when not, and a valid document whatever bytes the strings hold.
#include "agent/event_json.h"

#include <gtest/gtest.h>

#include "nlohmann/json.hpp"

namespace netmon::agent {
namespace {

using nlohmann::json;

network_monitor::NetworkEvent Sample() {
  network_monitor::NetworkEvent e;
  e.set_sequence(18446744073709551615ull);
  e.set_timestamp_ns(1'732'600'000'123'456'789);
  e.set_process_id(2147483647);
  e.set_process_name("nginx: worker");
  e.set_source_addr("[2001:db8::1]:443");
  e.set_dest_addr("192.0.2.7:51000");
  e.set_bytes_sent(-1);  // whatever the server says, unchanged
  e.set_bytes_received(9'007'199'254'740'993);
  e.set_event_type("DNS_RESPONSE");
  e.set_extra_info(R"({"id":7,"name":"a.nm.test","answers":["10.0.0.1"],"rcode":"NOERROR"})");
  return e;
}

json ToJson(const network_monitor::NetworkEvent& e) {
  std::string s;
  AppendEventJson(&s, e);
  json j = json::parse(s, nullptr, false);
  EXPECT_FALSE(j.is_discarded()) << s;
  return j;
}

TEST(EventJson, FieldNamesAndValuesUnchanged) {
  network_monitor::NetworkEvent e = Sample();
  json j = ToJson(e);
  EXPECT_EQ(j.size(), 10u);
  EXPECT_EQ(j["sequence"].get<uint64_t>(), e.sequence());
  EXPECT_EQ(j["timestamp_ns"].get<int64_t>(), e.timestamp_ns());
  EXPECT_EQ(j["process_id"], e.process_id());
  EXPECT_EQ(j["process_name"], e.process_name());
  EXPECT_EQ(j["source_addr"], e.source_addr());
  EXPECT_EQ(j["dest_addr"], e.dest_addr());
  EXPECT_EQ(j["bytes_sent"], e.bytes_sent());
  EXPECT_EQ(j["bytes_received"].get<int64_t>(), e.bytes_received());
  EXPECT_EQ(j["event_type"], e.event_type());
  EXPECT_EQ(j["extra_info"], json::parse(e.extra_info())) << "embedded as an object";
}

TEST(EventJson, ExtraInfoIsEmbeddedByteForByte) {
  network_monitor::NetworkEvent e = Sample();
  std::string s;
  AppendEventJson(&s, e);
  EXPECT_NE(s.find(e.extra_info()), std::string::npos);
}

TEST(EventJson, ExtraInfoThatIsNotJsonStaysAString) {
  for (const char* bad : {"", "{", "not json", "{\"a\":1}}", "{\"a\":\"\xff\"}", "{} {}"}) {
    network_monitor::NetworkEvent e = Sample();
    e.set_extra_info(bad);
    json j = ToJson(e);
    ASSERT_TRUE(j["extra_info"].is_string()) << bad;
    if (std::string(bad).find('\xff') == std::string::npos) {
      EXPECT_EQ(j["extra_info"], bad);
    }
  }
}

TEST(EventJson, StringsAreEscapedIntoValidJson) {
  network_monitor::NetworkEvent e = Sample();
  e.set_process_name(std::string("a\"b\\c\n\t\x01\x7f") + "\xc3\xa9" + "\xe2\x82\xac" + "\xf0\x9f\x98\x80");
  e.set_source_addr("\xff\xfe\xc3");  // not UTF-8
  e.set_dest_addr("\xed\xa0\x80");    // a surrogate: not valid UTF-8 either
  json j = ToJson(e);
  EXPECT_EQ(j["process_name"], e.process_name()) << "valid UTF-8 and escapes round-trip exactly";
  EXPECT_EQ(j["source_addr"], "\xc3\xbf\xc3\xbe\xc3\x83") << "invalid bytes read as Latin-1";
  EXPECT_EQ(j["dest_addr"].get<std::string>().size(), 6u);
}

TEST(EventJson, ValidatorSurvivesHostileNesting) {
  std::string deep(1'000'000, '[');
  EXPECT_FALSE(IsValidJson(deep));
  deep += std::string(1'000'000, ']');
  EXPECT_FALSE(IsValidJson(deep)) << "deeper than 512: kept as a string, never recursed into";
  EXPECT_TRUE(IsValidJson(std::string(512, '[') + std::string(512, ']')));
  EXPECT_FALSE(IsValidJson(std::string(513, '[') + std::string(513, ']')));
  EXPECT_FALSE(IsValidJson(""));
  EXPECT_TRUE(IsValidJson(" {\"a\": [1, 2.5, null, true]} "));
}

// The hand-written validator agrees with nlohmann's on a corpus and on random mutations of it.
TEST(EventJson, ValidatorAgreesWithNlohmann) {
  std::vector<std::string> corpus = {
      "{}",
      "[]",
      "0",
      "-0",
      "-0.5e+10",
      "1E5",
      "01",
      "1.",
      ".5",
      "-",
      "1e",
      "+1",
      "\"\"",
      "\"\\u00e9\"",
      "\"\\u00g9\"",
      "\"\\x\"",
      "\"a\tb\"",
      "\"\xc3\xa9\"",
      "\"\xc3\"",
      "\"\xed\xa0\x80\"",
      "\"\xf4\x90\x80\x80\"",
      "true",
      "tru",
      "nul",
      "null ",
      "[1,]",
      "[,1]",
      "{\"a\"}",
      "{\"a\":}",
      "{\"a\":1,}",
      "{,}",
      "{1:2}",
      "[1 2]",
      "{\"a\":1 \"b\":2}",
      "[[[]]]",
      "[[[]]",
      "{\"a\":{\"b\":[1,{\"c\":null}]}}",
      "\"unterminated",
      "[\"a\",\"b\"]]",
      "{} {}",
      "\t[ ]\n",
      R"({"protocol":"tcp","packets_sent":12,"packets_received":800,"attribution":{"via":"socket","hook":"cgroup"}})",
      R"({"id":7,"name":"a.nm.test","answers":[{"name":"a","type":"A","ttl":300,"data":"10.0.0.1"}],"latency_us":12})",
  };
  for (const std::string& c : corpus) {
    EXPECT_EQ(IsValidJson(c), nlohmann::json::accept(c)) << c;
  }
  // Mutations: flip, insert or delete one byte of the valid documents, many times.
  uint64_t seed = 12345;
  auto next = [&] {
    seed = seed * 6364136223846793005ull + 1442695040888963407ull;
    return static_cast<uint32_t>(seed >> 33);
  };
  const std::string alphabet = "{}[]\",:.-+eE0123456789 \t\\/untrfalse\xc3\xa9\x80\x01";
  for (int i = 0; i < 200000; ++i) {
    std::string m = corpus[corpus.size() - 1 - (next() % 3)];
    size_t pos = next() % (m.size() + 1);
    char ch = alphabet[next() % alphabet.size()];
    switch (next() % 3) {
      case 0:
        if (pos < m.size()) m[pos] = ch;
        break;
      case 1: m.insert(m.begin() + static_cast<long>(pos), ch); break;
      default:
        if (pos < m.size()) m.erase(pos, 1);
        break;
    }
    ASSERT_EQ(IsValidJson(m), nlohmann::json::accept(m)) << m;
  }
}

TEST(EventJson, TruncatedStandIn) {
  network_monitor::NetworkEvent e = Sample();
  e.set_process_name(std::string(1000, 'x') + "\xe2\x82\xac");
  e.set_dest_addr(std::string(255, 'y') + "\xe2\x82\xac");  // the cut must not split the euro sign
  std::string s;
  AppendTruncatedEventJson(&s, e, 12345, 256);
  json j = json::parse(s);
  EXPECT_EQ(j["truncated"], true);
  EXPECT_EQ(j["original_bytes"], 12345);
  EXPECT_EQ(j["sequence"].get<uint64_t>(), e.sequence());
  EXPECT_EQ(j["process_name"], std::string(256, 'x'));
  EXPECT_EQ(j["dest_addr"], std::string(255, 'y'));
  EXPECT_FALSE(j.contains("extra_info"));
}

TEST(EventJson, JsonStringHelper) {
  std::string s;
  AppendJsonString(&s, std::string_view("\0x", 2));
  EXPECT_EQ(s, "\"\\u0000x\"");
}

}  // namespace
}  // namespace netmon::agent
