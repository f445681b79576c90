// SPDX-License-Identifier: Apache-2.0
// What a ServiceRadar ResultsRequest for network_capture carries (docs/architecture.md §4.2): the session id in `details`
// (a plain id, or JSON {"session_id": "..."} — other keys of that object are the poller's and ignored), and the
// resume cursor in `last_sequence` (the current_sequence of an earlier answer; empty = from the start). Pure.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"

namespace netmon::agent {

inline constexpr char kNetworkCaptureServiceType[] = "network_capture";

// The session id, validated by the capture rules (docs/architecture.md §4.4). INVALID_ARGUMENT naming `details` otherwise.
absl::StatusOr<std::string> SessionIdFromDetails(std::string_view details);

// "" -> 0; a decimal uint64 -> its value; anything else -> INVALID_ARGUMENT naming last_sequence.
absl::StatusOr<uint64_t> ParseLastSequence(std::string_view text);

}  // namespace netmon::agent
