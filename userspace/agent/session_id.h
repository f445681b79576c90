// SPDX-License-Identifier: Apache-2.0
// Session ids the agent (and netmonctl, when it talks to a server directly) generates: random (version 4) UUIDs
// in lower-case canonical form, which satisfy the session id rules of docs/architecture.md §4.4.
#pragma once

#include <string>

#include "absl/status/statusor.h"

namespace netmon::agent {

// From getrandom(2); an error only if the kernel cannot provide randomness.
absl::StatusOr<std::string> NewSessionId();

}  // namespace netmon::agent
