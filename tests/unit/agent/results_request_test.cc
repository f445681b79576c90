// SPDX-License-Identifier: Apache-2.0
// The session id from ResultsRequest.details (plain or JSON) and the last_sequence cursor.
#include "agent/results_request.h"

#include <gtest/gtest.h>

namespace netmon::agent {
namespace {

TEST(ResultsRequest, SessionIdPlainOrJson) {
  struct Case {
    std::string details;
    std::string id;
  } ok[] = {
      {"abc", "abc"},
      {"  9f1c2e7a-1b2c-4d5e-8f90-123456789abc \n", "9f1c2e7a-1b2c-4d5e-8f90-123456789abc"},
      {R"({"session_id":"s-1"})", "s-1"},
      {R"( {"session_id": "s.2", "poller": "p1", "n": 5} )", "s.2"},
      {R"("quoted")", "quoted"},
      {std::string(128, 'a'), std::string(128, 'a')},
  };
  for (const auto& c : ok) {
    auto id = SessionIdFromDetails(c.details);
    ASSERT_TRUE(id.ok()) << c.details << ": " << id.status();
    EXPECT_EQ(*id, c.id);
  }
  for (std::string bad :
       {std::string(""), std::string("   "), std::string("{"), std::string(R"({"id":"x"})"),
        std::string(R"({"session_id":5})"), std::string(R"({"session_id":""})"), std::string("a b"), std::string("a/b"),
        std::string(129, 'a'), std::string("[1]"), std::string(R"({"session_id":"a/b"})")}) {
    auto id = SessionIdFromDetails(bad);
    ASSERT_FALSE(id.ok()) << bad;
    EXPECT_EQ(id.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(id.status().message().find("details"), std::string::npos) << id.status();
  }
}

TEST(ResultsRequest, LastSequence) {
  EXPECT_EQ(*ParseLastSequence(""), 0u);
  EXPECT_EQ(*ParseLastSequence(" 42 "), 42u);
  EXPECT_EQ(*ParseLastSequence("18446744073709551615"), 18446744073709551615ull);
  for (const char* bad : {"-1", "1.5", "abc", "18446744073709551616", "0x10", "1 2"}) {
    auto v = ParseLastSequence(bad);
    ASSERT_FALSE(v.ok()) << bad;
    EXPECT_EQ(v.status().code(), absl::StatusCode::kInvalidArgument);
    EXPECT_NE(v.status().message().find("last_sequence"), std::string::npos);
  }
}

}  // namespace
}  // namespace netmon::agent
