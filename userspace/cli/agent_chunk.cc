// SPDX-License-Identifier: Apache-2.0
#include "cli/agent_chunk.h"

#include "common/str_cat.h"
#include "nlohmann/json.hpp"

namespace netmon::cli {
namespace {

using nlohmann::json;

template <typename T>
bool Get(const json& j, const char* key, T* out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return true;
  if constexpr (std::is_same_v<T, std::string>) {
    if (!it->is_string()) return false;
  } else if constexpr (std::is_same_v<T, bool>) {
    if (!it->is_boolean()) return false;
  } else {
    if (!it->is_number_integer()) return false;
  }
  *out = it->get<T>();
  return true;
}

}  // namespace

absl::StatusOr<network_monitor::NetworkEvent> EventFromJson(const json& j) {
  if (!j.is_object()) return absl::InvalidArgumentError("an event is not a JSON object");
  network_monitor::NetworkEvent ev;
  uint64_t seq = 0;
  int64_t ts = 0, sent = 0, recv = 0;
  int32_t pid = 0;
  std::string name, src, dst, type;
  bool truncated = false;
  if (!Get(j, "sequence", &seq) || !Get(j, "timestamp_ns", &ts) || !Get(j, "process_id", &pid) ||
      !Get(j, "process_name", &name) || !Get(j, "source_addr", &src) || !Get(j, "dest_addr", &dst) ||
      !Get(j, "bytes_sent", &sent) || !Get(j, "bytes_received", &recv) || !Get(j, "event_type", &type) ||
      !Get(j, "truncated", &truncated)) {
    return absl::InvalidArgumentError(
        StrCat("event ", j.value("sequence", json()).dump(), " has a field of the wrong type"));
  }
  ev.set_sequence(seq);
  ev.set_timestamp_ns(ts);
  ev.set_process_id(pid);
  ev.set_process_name(name);
  ev.set_source_addr(src);
  ev.set_dest_addr(dst);
  ev.set_bytes_sent(sent);
  ev.set_bytes_received(recv);
  ev.set_event_type(type);
  if (truncated) {
    ev.set_extra_info(
        StrCat(R"({"netmonctl_truncated":true,"original_bytes":)", j.value("original_bytes", uint64_t{0}), "}"));
  } else if (auto it = j.find("extra_info"); it != j.end()) {
    ev.set_extra_info(it->is_string() ? it->get<std::string>()
                                      : it->dump(-1, ' ', false, json::error_handler_t::replace));
  }
  return ev;
}

absl::StatusOr<AgentChunk> ParseAgentChunk(std::string_view data) {
  json doc = json::parse(data.begin(), data.end(), nullptr, /*allow_exceptions=*/false);
  if (doc.is_discarded() || !doc.is_object()) {
    return absl::InvalidArgumentError("the agent sent a chunk that is not a JSON object");
  }
  AgentChunk c;
  if (!Get(doc, "session_id", &c.session_id) || !Get(doc, "current_sequence", &c.current_sequence)) {
    return absl::InvalidArgumentError("the agent's chunk has session_id/current_sequence of the wrong type");
  }
  auto results = doc.find("results");
  if (results == doc.end() || !results->is_array()) {
    return absl::InvalidArgumentError("the agent's chunk has no \"results\" array");
  }
  c.events.reserve(results->size());
  for (const json& e : *results) {
    auto ev = EventFromJson(e);
    if (!ev.ok()) return ev.status();
    c.events.push_back(std::move(*ev));
  }
  if (auto cap = doc.find("capture"); cap != doc.end() && cap->is_object()) {
    c.has_capture = true;
    Get(*cap, "state", &c.state);
    Get(*cap, "complete", &c.complete);
    Get(*cap, "has_more", &c.has_more);
    Get(*cap, "note", &c.note);
    if (auto st = cap->find("stats"); st != cap->end() && st->is_object()) {
      Get(*st, "events_total", &c.events_total);
      Get(*st, "events_dropped", &c.events_dropped);
      Get(*st, "started_ns", &c.started_ns);
      Get(*st, "ended_ns", &c.ended_ns);
    }
  }
  return c;
}

}  // namespace netmon::cli
