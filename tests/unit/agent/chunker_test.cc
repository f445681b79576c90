// SPDX-License-Identifier: Apache-2.0
// The chunker on its own: every document parses alone and stays within the budget, indices and total are
// right, exactly one final chunk, every event exactly once and in order, current_sequence is the last event
// delivered; huge extra_info, a single event larger than the budget, a hostile drops map, the one-document mode.
#include "agent/chunker.h"

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "nlohmann/json.hpp"

namespace netmon::agent {
namespace {

using nlohmann::json;

network_monitor::NetworkEvent Event(uint64_t seq, size_t extra_pad = 0) {
  network_monitor::NetworkEvent e;
  e.set_sequence(seq);
  e.set_timestamp_ns(1'700'000'000'000'000'000 + static_cast<int64_t>(seq));
  e.set_process_id(1234);
  e.set_process_name("curl");
  e.set_source_addr("10.0.0.1:40000");
  e.set_dest_addr("[2001:db8::1]:443");
  e.set_bytes_sent(static_cast<int64_t>(seq) * 10);
  e.set_bytes_received(7);
  e.set_event_type("DATA");
  e.set_extra_info(R"({"protocol":"tcp","pad":")" + std::string(extra_pad, 'x') + "\"}");
  return e;
}

CaptureSummary Running(uint64_t last) {
  CaptureSummary s;
  s.stats_known = true;
  s.stats.set_state(network_monitor::CAPTURE_STATE_RUNNING);
  s.stats.set_last_sequence(last);
  return s;
}

CaptureSummary Completed(uint64_t last) {
  CaptureSummary s = Running(last);
  s.stats.set_state(network_monitor::CAPTURE_STATE_COMPLETED);
  s.stats.set_events_total(last);
  s.stats.set_ended_ns(5);
  return s;
}

// Checks the shape every answer must have and returns the events in delivery order.
std::vector<json> CheckChunks(const std::vector<Chunk>& chunks, size_t budget, const std::string& session) {
  std::vector<json> events;
  EXPECT_FALSE(chunks.empty());
  uint64_t prev = 0;
  for (size_t i = 0; i < chunks.size(); ++i) {
    const Chunk& c = chunks[i];
    EXPECT_LE(c.data.size(), budget) << "chunk " << i;
    EXPECT_EQ(c.chunk_index, static_cast<int32_t>(i));
    EXPECT_EQ(c.total_chunks, static_cast<int32_t>(chunks.size()));
    EXPECT_EQ(c.is_final, i + 1 == chunks.size()) << "exactly one final chunk, the last";
    EXPECT_GE(c.current_sequence, prev);
    prev = c.current_sequence;
    json doc = json::parse(c.data, nullptr, /*allow_exceptions=*/false);
    EXPECT_FALSE(doc.is_discarded()) << "chunk " << i << " is not JSON on its own";
    if (doc.is_discarded()) continue;
    EXPECT_EQ(doc["session_id"], session);
    EXPECT_TRUE(doc["results"].is_array());
    EXPECT_EQ(doc["chunk_index"], c.chunk_index);
    EXPECT_EQ(doc["total_chunks"], c.total_chunks);
    EXPECT_EQ(doc["current_sequence"], c.current_sequence);
    EXPECT_EQ(doc.contains("capture"), c.is_final);
    EXPECT_EQ(doc["results"].size(), c.events);
    if (!doc["results"].empty()) {
      EXPECT_EQ(doc["results"].back()["sequence"], c.current_sequence);
    }
    for (auto& e : doc["results"]) events.push_back(e);
  }
  return events;
}

TEST(Chunker, NothingNewIsOneFinalChunkWithEmptyResults) {
  ResultsChunker ch("s1", 41);
  auto chunks = ch.Finish(Running(41));
  ASSERT_EQ(chunks.size(), 1u);
  CheckChunks(chunks, 1'000'000, "s1");
  json doc = json::parse(chunks[0].data);
  EXPECT_EQ(doc["results"], json::array());
  EXPECT_EQ(chunks[0].current_sequence, 41u) << "the resume point comes back, so the poller keeps its place";
  EXPECT_EQ(doc["capture"]["state"], "RUNNING");
  EXPECT_EQ(doc["capture"]["complete"], false);
}

TEST(Chunker, HundredThousandEventsStayUnderTheBudgetAndArriveOnceInOrder) {
  const size_t kN = 100'000;
  ResultsChunker ch("big", 0);
  for (uint64_t s = 1; s <= kN; ++s) ASSERT_TRUE(ch.Add(Event(s)));
  auto chunks = ch.Finish(Completed(kN));
  EXPECT_GT(chunks.size(), 10u);
  auto events = CheckChunks(chunks, 1'000'000, "big");
  ASSERT_EQ(events.size(), kN);
  for (size_t i = 0; i < kN; ++i) ASSERT_EQ(events[i]["sequence"], i + 1);
  json last = json::parse(chunks.back().data);
  EXPECT_EQ(last["capture"]["complete"], true);
  EXPECT_EQ(last["capture"]["state"], "COMPLETED");
  EXPECT_EQ(chunks.back().current_sequence, kN);
  // Documents are filled: all but the last two are near the budget.
  for (size_t i = 0; i + 2 < chunks.size(); ++i) EXPECT_GT(chunks[i].data.size(), 990'000u);
}

TEST(Chunker, SmallestBudgetToo) {
  ResultsChunker ch("small", 0, {.max_chunk_bytes = kMinChunkBytes});
  for (uint64_t s = 1; s <= 5000; ++s) ASSERT_TRUE(ch.Add(Event(s)));
  auto events = CheckChunks(ch.Finish(Completed(5000)), kMinChunkBytes, "small");
  EXPECT_EQ(events.size(), 5000u);
}

TEST(Chunker, HugeExtraInfoEventsGetChunksOfTheirOwn) {
  ResultsChunker ch("huge", 10);
  // 600 kB each: two never share a chunk, each fits alone, untruncated.
  for (uint64_t s = 11; s <= 14; ++s) ASSERT_TRUE(ch.Add(Event(s, 600'000)));
  auto chunks = ch.Finish(Running(14));
  auto events = CheckChunks(chunks, 1'000'000, "huge");
  ASSERT_EQ(events.size(), 4u);
  EXPECT_EQ(chunks.size(), 4u);
  for (auto& e : events) {
    EXPECT_FALSE(e.contains("truncated"));
    EXPECT_EQ(e["extra_info"]["pad"].get<std::string>().size(), 600'000u);
  }
}

TEST(Chunker, AnEventLargerThanTheBudgetBecomesATruncatedStandIn) {
  ResultsChunker ch("over", 0);
  ASSERT_TRUE(ch.Add(Event(1)));
  ASSERT_TRUE(ch.Add(Event(2, 3'000'000)));  // 3 MB extra_info: no chunk can hold it
  ASSERT_TRUE(ch.Add(Event(3)));
  auto chunks = ch.Finish(Completed(3));
  auto events = CheckChunks(chunks, 1'000'000, "over");
  ASSERT_EQ(events.size(), 3u) << "the sequence stays gap-free";
  const json& big = events[1];
  EXPECT_EQ(big["sequence"], 2);
  EXPECT_EQ(big["truncated"], true);
  EXPECT_GT(big["original_bytes"].get<size_t>(), 3'000'000u);
  EXPECT_FALSE(big.contains("extra_info"));
  EXPECT_EQ(big["bytes_sent"], 20) << "counters survive truncation";
  EXPECT_EQ(big["process_name"], "curl");
  EXPECT_FALSE(events[0].contains("truncated"));
  json last = json::parse(chunks.back().data);
  EXPECT_EQ(last["capture"]["truncated_events"], 1);
}

TEST(Chunker, HugeStringFieldsAreCutInTheStandIn) {
  network_monitor::NetworkEvent e = Event(1);
  e.set_process_name(std::string(2'000'000, 'p') + "\xc3\xa9");
  e.set_source_addr(std::string(300, '\x01'));  // control bytes: each escapes to six
  ResultsChunker ch("cut", 0);
  ASSERT_TRUE(ch.Add(e));
  auto events = CheckChunks(ch.Finish(Completed(1)), 1'000'000, "cut");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["truncated"], true);
  EXPECT_EQ(events[0]["process_name"].get<std::string>().size(), 256u);
  EXPECT_EQ(events[0]["source_addr"].get<std::string>().size(), 256u);
}

TEST(Chunker, OneDocumentModeRefusesWhatDoesNotFitAndKeepsRoomForTheCapture) {
  ChunkerOptions o;
  o.max_chunks = 1;
  o.max_chunk_bytes = kMinChunkBytes;
  ResultsChunker ch("one", 0, o);
  uint64_t s = 1;
  while (ch.Add(Event(s))) ++s;
  EXPECT_GT(s, 10u);
  CaptureSummary sum = Running(s + 100);
  sum.has_more = true;
  for (int i = 0; i < 50; ++i) (*sum.stats.mutable_drops())["reason." + std::to_string(i)] = i;
  auto chunks = ch.Finish(sum);
  ASSERT_EQ(chunks.size(), 1u);
  auto events = CheckChunks(chunks, kMinChunkBytes, "one");
  EXPECT_EQ(events.size(), s - 1);
  EXPECT_EQ(chunks[0].current_sequence, s - 1);
  json doc = json::parse(chunks[0].data);
  EXPECT_EQ(doc["capture"]["has_more"], true);
  EXPECT_EQ(doc["capture"]["stats"]["drops"].size(), 50u);
}

TEST(Chunker, OneDocumentModeStillTakesAnOversizedFirstEvent) {
  ChunkerOptions o;
  o.max_chunks = 1;
  o.max_chunk_bytes = kMinChunkBytes;
  ResultsChunker ch("one", 0, o);
  ASSERT_TRUE(ch.Add(Event(1, 30'000))) << "a poll that can never deliver its first event would stall forever";
  auto events = CheckChunks(ch.Finish(Running(1)), kMinChunkBytes, "one");
  ASSERT_EQ(events.size(), 1u);
  EXPECT_EQ(events[0]["truncated"], true);
}

TEST(Chunker, AHostileDropsMapIsSummarisedNotAllowedToBreakTheBudget) {
  CaptureSummary sum = Completed(0);
  for (int i = 0; i < 100'000; ++i) (*sum.stats.mutable_drops())["reason.number." + std::to_string(i)] = 1;
  ResultsChunker ch("drops", 0);
  auto chunks = ch.Finish(sum);
  CheckChunks(chunks, 1'000'000, "drops");
  json doc = json::parse(chunks.back().data);
  EXPECT_EQ(doc["capture"]["stats"]["drops_truncated"], true);
  EXPECT_EQ(doc["capture"]["state"], "COMPLETED");
}

TEST(Chunker, TheCaptureObjectMovesToAFinalChunkOfItsOwnWhenTheLastIsFull) {
  ChunkerOptions o;
  o.max_chunk_bytes = kMinChunkBytes;
  // Fill chunks until the last one has less room than the capture object needs.
  for (size_t pad = 0; pad < 2000; pad += 37) {
    ResultsChunker ch("fill", 0, o);
    for (uint64_t s = 1; s <= 40; ++s) ASSERT_TRUE(ch.Add(Event(s, pad)));
    CaptureSummary sum = Completed(40);
    for (int i = 0; i < 40; ++i) (*sum.stats.mutable_drops())["kernel.reason." + std::to_string(i)] = 1;
    auto events = CheckChunks(ch.Finish(sum), kMinChunkBytes, "fill");
    ASSERT_EQ(events.size(), 40u) << "pad " << pad;
  }
}

TEST(Chunker, CompleteOnlyWhenTheCaptureEndedAndEverythingWasDelivered) {
  auto complete = [](const CaptureSummary& s, uint64_t cur) {
    return json::parse(CaptureJson(s, cur, 0, 100000))["complete"].get<bool>();
  };
  EXPECT_FALSE(complete(Running(5), 5));
  EXPECT_TRUE(complete(Completed(5), 5));
  EXPECT_FALSE(complete(Completed(5), 4));
  CaptureSummary more = Completed(5);
  more.has_more = true;
  EXPECT_FALSE(complete(more, 5));
  CaptureSummary unknown;
  EXPECT_FALSE(complete(unknown, 5));
  EXPECT_EQ(json::parse(CaptureJson(unknown, 5, 0, 100000))["state"], "UNKNOWN");
  CaptureSummary stopped = Completed(5);
  stopped.stats.set_state(network_monitor::CAPTURE_STATE_STOPPED);
  EXPECT_TRUE(complete(stopped, 5));
}

TEST(Chunker, SessionIdIsEscaped) {
  ResultsChunker ch("a\"b\\c", 0);
  auto chunks = ch.Finish(Running(0));
  EXPECT_EQ(json::parse(chunks[0].data)["session_id"], "a\"b\\c");
}

}  // namespace
}  // namespace netmon::agent
