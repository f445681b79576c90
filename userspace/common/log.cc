// SPDX-License-Identifier: Apache-2.0
#include "common/log.h"

#include <atomic>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace netmon::log {
namespace {

std::atomic<int> g_level{static_cast<int>(Level::kInfo)};
std::mutex g_write_mu;

const char* LevelName(Level level) {
  switch (level) {
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarn: return "warn";
    case Level::kError: return "error";
  }
  return "?";
}

}  // namespace

void SetLevel(Level level) {
  g_level.store(static_cast<int>(level));
}
Level GetLevel() {
  return static_cast<Level>(g_level.load());
}

bool ParseLevel(std::string_view text, Level* out) {
  for (Level l : {Level::kDebug, Level::kInfo, Level::kWarn, Level::kError}) {
    if (text == LevelName(l)) {
      *out = l;
      return true;
    }
  }
  return false;
}

bool Enabled(Level level) {
  return static_cast<int>(level) >= g_level.load(std::memory_order_relaxed);
}

void Write(Level level, std::string_view component, std::string_view message) {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  tm utc{};
  gmtime_r(&ts.tv_sec, &utc);
  char when[32];
  strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%S", &utc);
  // Strip a trailing newline (libbpf's lines carry one) so every record is exactly one line.
  while (!message.empty() && (message.back() == '\n' || message.back() == '\r')) message.remove_suffix(1);
  std::lock_guard<std::mutex> lock(g_write_mu);
  fprintf(stderr, "%s.%03ldZ %-5s %.*s: %.*s\n", when, ts.tv_nsec / 1000000, LevelName(level),
          static_cast<int>(component.size()), component.data(), static_cast<int>(message.size()), message.data());
}

}  // namespace netmon::log
