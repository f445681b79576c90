// SPDX-License-Identifier: Apache-2.0
// The agent's chunk documents read back by netmonctl: what the chunker writes comes back as the same events.
#include "cli/agent_chunk.h"

#include <gtest/gtest.h>

#include "agent/chunker.h"
#include "golden_events.h"
#include "google/protobuf/util/message_differencer.h"
#include "nlohmann/json.hpp"

namespace netmon::cli {
namespace {

TEST(AgentChunk, RoundTripThroughTheChunker) {
  auto events = testing::GoldenEvents();
  agent::ResultsChunker ch("s-1", 0);
  for (const auto& e : events) ASSERT_TRUE(ch.Add(e));
  agent::CaptureSummary sum;
  sum.stats_known = true;
  sum.stats.set_state(network_monitor::CAPTURE_STATE_COMPLETED);
  sum.stats.set_last_sequence(8);
  sum.stats.set_events_total(9);
  sum.stats.set_events_dropped(1);
  sum.stats.set_started_ns(77);
  auto chunks = ch.Finish(sum);
  ASSERT_EQ(chunks.size(), 1u);
  auto parsed = ParseAgentChunk(chunks[0].data);
  ASSERT_TRUE(parsed.ok()) << parsed.status();
  EXPECT_EQ(parsed->session_id, "s-1");
  EXPECT_EQ(parsed->current_sequence, 8u);
  ASSERT_EQ(parsed->events.size(), events.size());
  for (size_t i = 0; i < events.size(); ++i) {
    network_monitor::NetworkEvent want = events[i];
    // extra_info comes back as compact JSON text of the same value (or the same string if it was not JSON).
    auto a = nlohmann::json::parse(want.extra_info(), nullptr, false);
    if (!a.is_discarded()) want.set_extra_info(a.dump());
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(parsed->events[i], want))
        << parsed->events[i].DebugString() << " vs " << want.DebugString();
  }
  EXPECT_TRUE(parsed->has_capture);
  EXPECT_EQ(parsed->state, "COMPLETED");
  EXPECT_TRUE(parsed->complete);
  EXPECT_EQ(parsed->events_total, 9u);
  EXPECT_EQ(parsed->events_dropped, 1u);
  EXPECT_EQ(parsed->started_ns, 77);
}

TEST(AgentChunk, TruncatedStandInIsMarked) {
  network_monitor::NetworkEvent e = testing::GoldenEvents()[0];
  e.set_extra_info("{\"pad\":\"" + std::string(2'000'000, 'x') + "\"}");
  agent::ResultsChunker ch("s", 0);
  ASSERT_TRUE(ch.Add(e));
  auto parsed = ParseAgentChunk(ch.Finish({}).front().data);
  ASSERT_TRUE(parsed.ok());
  ASSERT_EQ(parsed->events.size(), 1u);
  EXPECT_NE(parsed->events[0].extra_info().find("netmonctl_truncated"), std::string::npos);
  EXPECT_EQ(parsed->events[0].sequence(), e.sequence());
}

TEST(AgentChunk, Malformed) {
  for (const char* bad : {"", "[]", "{\"results\": 5}", "{\"session_id\": 1, \"results\": []}",
                          "{\"results\": [{\"sequence\": \"x\"}]}", "{\"results\": [5]}"}) {
    EXPECT_FALSE(ParseAgentChunk(bad).ok()) << bad;
  }
}

}  // namespace
}  // namespace netmon::cli
