// SPDX-License-Identifier: Apache-2.0
// Events of one poll -> ServiceRadar ResultsChunks (docs/architecture.md §4.2). Every chunk's data is a self-contained JSON
// document of at most `max_chunk_bytes` bytes:
//   {"session_id": "...", "results": [event, ...], "chunk_index": i, "total_chunks": n, "current_sequence": s}
// and the last one (exactly one, is_final) adds "capture": {state, complete, has_more, stats, ...}. A poll with
// nothing new is that final chunk alone with "results": []. current_sequence is the sequence of the last event
// delivered up to and including the chunk (the resume point the request came with when there is none yet).
//
// Documents are cut between events, never inside one. An event whose JSON alone would not fit in a chunk (a huge
// extra_info, say) is delivered as a truncated stand-in (event_json.h: same sequence and counters, strings cut,
// no extra_info, "truncated": true, "original_bytes") and counted in capture.truncated_events: the consumer
// learns that it existed and what it was, the sequence stays gap-free, and no document ever exceeds the budget.
//
// Pure: no I/O, no clock.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "network_monitor.pb.h"

namespace netmon::agent {

struct ChunkerOptions {
  // ServiceRadar's "under ~1 MiB", with room for the ResultsChunk framing around the data.
  size_t max_chunk_bytes = 1'000'000;
  // 0 = unlimited. With a limit, Add() refuses the first event that would need one chunk more, and Finish()
  // stays within the limit (GetResults answers with one document).
  size_t max_chunks = 0;
  // Strings of a truncated stand-in are cut to this many bytes.
  size_t max_field_bytes = 256;
};

// The smallest max_chunk_bytes the chunker accepts (a stand-in and the final chunk's capture object must fit).
inline constexpr size_t kMinChunkBytes = size_t{32} * 1024;

// What the final chunk reports about the capture.
struct CaptureSummary {
  bool stats_known = false;  // false: the poll could not learn the capture's state
  network_monitor::CaptureStats stats;
  bool has_more = false;  // the poll stopped before everything available now was delivered: poll again soon
  std::string note;       // why the poll stopped early, if it did
};

struct Chunk {
  std::string data;  // the JSON document
  int32_t chunk_index = 0;
  int32_t total_chunks = 0;
  bool is_final = false;
  uint64_t current_sequence = 0;
  size_t events = 0;  // events in this chunk
};

class ResultsChunker {
 public:
  // `resume_sequence` is the request's last_sequence (what a chunk without events reports as current_sequence).
  ResultsChunker(std::string session_id, uint64_t resume_sequence, ChunkerOptions options = {});

  // Adds the next event. False (event not taken) only when max_chunks is set and the event needs another chunk.
  bool Add(const network_monitor::NetworkEvent& event);

  size_t events() const { return events_; }
  size_t truncated_events() const { return truncated_; }
  uint64_t last_sequence() const { return last_sequence_; }

  // Closes the documents: fills chunk_index/total_chunks and puts the capture object on the one final chunk.
  // There is always at least one chunk. The chunker is empty afterwards.
  std::vector<Chunk> Finish(const CaptureSummary& summary);

 private:
  struct Doc {
    std::string text;  // header + events, without the closing tail
    size_t events = 0;
    uint64_t current_sequence = 0;
  };
  void OpenDoc();
  size_t Room(const Doc& doc) const;
  size_t CaptureBudget() const { return options_.max_chunk_bytes / 4; }

  const std::string session_id_;
  const ChunkerOptions options_;
  std::string header_;  // {"session_id":"...","results":[
  std::vector<Doc> docs_;
  std::string scratch_;  // one event's JSON
  uint64_t last_sequence_;
  size_t events_ = 0;
  size_t truncated_ = 0;
};

// The "capture" object of the final chunk, e.g. {"state":"COMPLETED","complete":true,"has_more":false,...}.
// `complete` is true once the capture has ended and the consumer has everything up to its last sequence.
// `max_bytes` bounds it: a drops map that would not fit is replaced by "drops_truncated": true.
std::string CaptureJson(const CaptureSummary& summary, uint64_t current_sequence, size_t truncated_events,
                        size_t max_bytes);

// "RUNNING", "COMPLETED", "STOPPED", "FAILED", "UNKNOWN".
const char* CaptureStateName(network_monitor::CaptureState state);

}  // namespace netmon::agent
