// SPDX-License-Identifier: Apache-2.0
#include "agent/results_request.h"

#include <charconv>

#include "common/str_cat.h"
#include "nlohmann/json.hpp"
#include "session/validation.h"

namespace netmon::agent {
namespace {

std::string_view Trim(std::string_view s) {
  constexpr std::string_view kSpace = " \t\r\n";
  size_t b = s.find_first_not_of(kSpace);
  if (b == std::string_view::npos) return {};
  size_t e = s.find_last_not_of(kSpace);
  return s.substr(b, e - b + 1);
}

// Error messages quote what they got; a hostile request must not make them huge.
std::string Quote(std::string_view s) {
  constexpr size_t kMax = 80;
  std::string out =
      nlohmann::json(std::string(s.substr(0, kMax))).dump(-1, ' ', true, nlohmann::json::error_handler_t::replace);
  if (s.size() > kMax) out += "...";
  return out;
}

}  // namespace

absl::StatusOr<std::string> SessionIdFromDetails(std::string_view details) {
  std::string_view d = Trim(details);
  if (d.empty()) {
    return absl::InvalidArgumentError(
        "details: empty; a network_capture request carries its session id in details (plain, or "
        "{\"session_id\": \"...\"})");
  }
  std::string id;
  if (d.front() == '{' || d.front() == '"') {
    nlohmann::json j = nlohmann::json::parse(d.begin(), d.end(), nullptr, /*allow_exceptions=*/false);
    if (j.is_discarded()) return absl::InvalidArgumentError(StrCat("details: not valid JSON: ", Quote(d)));
    if (j.is_string()) {
      id = j.get<std::string>();
    } else {
      auto it = j.find("session_id");
      if (it == j.end() || !it->is_string()) {
        return absl::InvalidArgumentError("details: JSON object without a string \"session_id\"");
      }
      id = it->get<std::string>();
    }
  } else {
    id = std::string(d);
  }
  if (absl::Status s = session::ValidateSessionId(id); !s.ok()) {
    return absl::InvalidArgumentError(StrCat("details: ", s.message()));
  }
  return id;
}

absl::StatusOr<uint64_t> ParseLastSequence(std::string_view text) {
  std::string_view t = Trim(text);
  if (t.empty()) return uint64_t{0};
  uint64_t v = 0;
  auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
  if (ec != std::errc() || end != t.data() + t.size()) {
    return absl::InvalidArgumentError(StrCat("last_sequence: ", Quote(t),
                                             " is not a sequence number (send back the current_sequence of an "
                                             "earlier answer, or nothing to start from the beginning)"));
  }
  return v;
}

}  // namespace netmon::agent
