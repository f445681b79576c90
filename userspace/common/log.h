// SPDX-License-Identifier: Apache-2.0
// The project's logger: one line per message on stderr, with level and component. libbpf's own log is routed
// here too (bpf/libbpf_log.h), so an operator reads one stream.
#pragma once

#include <string_view>

#include "common/str_cat.h"

namespace netmon::log {

enum class Level { kDebug = 0, kInfo = 1, kWarn = 2, kError = 3 };

void SetLevel(Level level);
Level GetLevel();
// Parses "debug" | "info" | "warn" | "error"; false if unknown.
bool ParseLevel(std::string_view text, Level* out);
bool Enabled(Level level);
void Write(Level level, std::string_view component, std::string_view message);

}  // namespace netmon::log

// NETMON_LOG(kInfo, "sock", "attached ", n, " programs"): arguments are joined with netmon::StrCat and only
// formatted when the level is enabled.
#define NETMON_LOG(level, component, ...)                                                          \
  do {                                                                                             \
    if (::netmon::log::Enabled(::netmon::log::Level::level)) {                                     \
      ::netmon::log::Write(::netmon::log::Level::level, component, ::netmon::StrCat(__VA_ARGS__)); \
    }                                                                                              \
  } while (0)
