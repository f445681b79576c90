// SPDX-License-Identifier: Apache-2.0
#include "agent/chunker.h"

#include <algorithm>
#include <utility>

#include "agent/event_json.h"
#include "common/str_cat.h"

namespace netmon::agent {
namespace {

// Room kept free in every document for its closing tail:
// ],"chunk_index":<int32>,"total_chunks":<int32>,"current_sequence":<uint64>}  (93 bytes at most).
constexpr size_t kTailReserve = 128;
constexpr std::string_view kCaptureKey = ",\"capture\":";
constexpr size_t kMaxNoteBytes = 512;

void AppendStats(std::string* out, const network_monitor::CaptureStats& s, bool with_drops) {
  out->append(StrCat("{\"events_total\":", s.events_total(), ",\"events_retained\":", s.events_retained(),
                     ",\"events_dropped\":", s.events_dropped(), ",\"unattributed_bytes\":", s.unattributed_bytes(),
                     ",\"unattributed_packets\":", s.unattributed_packets()));
  if (with_drops) {
    out->append(",\"drops\":{");
    // A protobuf map iterates in no fixed order; sorted keys keep the document deterministic.
    std::vector<std::pair<std::string, uint64_t>> drops(s.drops().begin(), s.drops().end());
    std::sort(drops.begin(), drops.end());
    bool first = true;
    for (const auto& [reason, count] : drops) {
      if (!first) out->push_back(',');
      first = false;
      AppendJsonString(out, reason);
      out->append(StrCat(":", count));
    }
    out->push_back('}');
  } else {
    out->append(",\"drops_truncated\":true");
  }
  out->append(StrCat(",\"started_ns\":", s.started_ns(), ",\"ended_ns\":", s.ended_ns(),
                     ",\"last_sequence\":", s.last_sequence(), "}"));
}

std::string BuildCaptureJson(const CaptureSummary& summary, uint64_t current_sequence, size_t truncated,
                             bool with_drops) {
  const auto& st = summary.stats;
  bool ended = summary.stats_known && st.state() != network_monitor::CAPTURE_STATE_RUNNING &&
               st.state() != network_monitor::CAPTURE_STATE_UNSPECIFIED;
  bool complete = ended && !summary.has_more && current_sequence >= st.last_sequence();
  std::string out = "{\"state\":";
  AppendJsonString(&out, summary.stats_known ? CaptureStateName(st.state()) : "UNKNOWN");
  out.append(StrCat(",\"complete\":", complete ? "true" : "false",
                    ",\"has_more\":", summary.has_more ? "true" : "false", ",\"truncated_events\":", truncated));
  if (summary.stats_known) {
    out.append(",\"stats\":");
    AppendStats(&out, st, with_drops);
  }
  if (!summary.note.empty()) {
    out.append(",\"note\":");
    std::string_view note = summary.note;
    AppendJsonString(&out, note.substr(0, kMaxNoteBytes));
  }
  out.push_back('}');
  return out;
}

}  // namespace

const char* CaptureStateName(network_monitor::CaptureState state) {
  switch (state) {
    case network_monitor::CAPTURE_STATE_RUNNING: return "RUNNING";
    case network_monitor::CAPTURE_STATE_COMPLETED: return "COMPLETED";
    case network_monitor::CAPTURE_STATE_STOPPED: return "STOPPED";
    case network_monitor::CAPTURE_STATE_FAILED: return "FAILED";
    default: return "UNKNOWN";
  }
}

std::string CaptureJson(const CaptureSummary& summary, uint64_t current_sequence, size_t truncated_events,
                        size_t max_bytes) {
  std::string out = BuildCaptureJson(summary, current_sequence, truncated_events, /*with_drops=*/true);
  // Only a hostile or broken server sends thousands of drop reasons; the totals still go through.
  if (out.size() > max_bytes) out = BuildCaptureJson(summary, current_sequence, truncated_events, false);
  return out;
}

ResultsChunker::ResultsChunker(std::string session_id, uint64_t resume_sequence, ChunkerOptions options)
    : session_id_(std::move(session_id)), options_(options), last_sequence_(resume_sequence) {
  header_ = "{\"session_id\":";
  AppendJsonString(&header_, session_id_);
  header_.append(",\"results\":[");
}

void ResultsChunker::OpenDoc() {
  Doc d;
  d.text.reserve(std::min<size_t>(options_.max_chunk_bytes, 1 << 20));
  d.text = header_;
  d.current_sequence = last_sequence_;
  docs_.push_back(std::move(d));
}

size_t ResultsChunker::Room(const Doc& doc) const {
  size_t used = doc.text.size() + kTailReserve;
  // The last chunk a limited chunker may open must also hold the capture object (at most a quarter of the
  // budget), so Finish never needs a chunk beyond the limit.
  if (options_.max_chunks != 0 && docs_.size() >= options_.max_chunks) {
    used += kCaptureKey.size() + CaptureBudget();
  }
  return used >= options_.max_chunk_bytes ? 0 : options_.max_chunk_bytes - used;
}

bool ResultsChunker::Add(const network_monitor::NetworkEvent& event) {
  scratch_.clear();
  AppendEventJson(&scratch_, event);
  bool truncated = false;
  // The largest event JSON an empty chunk can take (the last chunk of a limited chunker has the least room).
  size_t fixed = header_.size() + kTailReserve;
  if (options_.max_chunks != 0) fixed += kCaptureKey.size() + CaptureBudget();
  size_t max_event = options_.max_chunk_bytes - std::min(options_.max_chunk_bytes, fixed);
  if (scratch_.size() > max_event) {
    size_t original = scratch_.size();
    scratch_.clear();
    AppendTruncatedEventJson(&scratch_, event, original, options_.max_field_bytes);
    truncated = true;
  }
  if (docs_.empty()) OpenDoc();
  if (scratch_.size() + (docs_.back().events > 0 ? 1 : 0) > Room(docs_.back())) {
    if (options_.max_chunks != 0 && docs_.size() >= options_.max_chunks) return false;
    OpenDoc();
  }
  Doc& d = docs_.back();
  if (d.events > 0) d.text.push_back(',');
  d.text.append(scratch_);
  ++d.events;
  ++events_;
  if (truncated) ++truncated_;
  last_sequence_ = std::max(last_sequence_, event.sequence());
  d.current_sequence = last_sequence_;
  return true;
}

std::vector<Chunk> ResultsChunker::Finish(const CaptureSummary& summary) {
  if (docs_.empty()) OpenDoc();
  std::string capture = CaptureJson(summary, docs_.back().current_sequence, truncated_, CaptureBudget());
  // The capture object goes on the final chunk; if it does not fit there, a final chunk of its own follows.
  if (docs_.back().text.size() + kCaptureKey.size() + capture.size() + kTailReserve > options_.max_chunk_bytes) {
    OpenDoc();
  }
  std::vector<Chunk> out;
  out.reserve(docs_.size());
  const auto total = static_cast<int32_t>(docs_.size());
  for (size_t i = 0; i < docs_.size(); ++i) {
    Doc& d = docs_[i];
    Chunk c;
    c.chunk_index = static_cast<int32_t>(i);
    c.total_chunks = total;
    c.is_final = i + 1 == docs_.size();
    c.current_sequence = d.current_sequence;
    c.events = d.events;
    d.text.append(StrCat("],\"chunk_index\":", c.chunk_index, ",\"total_chunks\":", total,
                         ",\"current_sequence\":", c.current_sequence));
    if (c.is_final) {
      d.text.append(kCaptureKey);
      d.text.append(capture);
    }
    d.text.push_back('}');
    c.data = std::move(d.text);
    out.push_back(std::move(c));
  }
  docs_.clear();
  events_ = 0;
  truncated_ = 0;
  return out;
}

}  // namespace netmon::agent
