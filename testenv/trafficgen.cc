// SPDX-License-Identifier: Apache-2.0
#include "testenv/trafficgen.h"

#include <chrono>
#include <nlohmann/json.hpp>

#include "common/str_cat.h"
#include "testenv/process.h"

namespace netmon::testenv {

std::string TrafficgenPath() {
  return NETMON_TRAFFICGEN_PATH;
}

absl::StatusOr<TrafficgenEvent> ParseTrafficgenEvent(const std::string& line) {
  nlohmann::json j = nlohmann::json::parse(line, nullptr, /*allow_exceptions=*/false);
  if (!j.is_object() || !j.contains("event") || !j["event"].is_string()) {
    return absl::InvalidArgumentError(StrCat("not a trafficgen event: ", line));
  }
  TrafficgenEvent e;
  e.raw = line;
  e.event = j["event"].get<std::string>();
  e.pid = j.value("pid", 0);
  e.child_pid = j.value("child_pid", 0);
  e.local = j.value("local", "");
  e.remote = j.value("remote", "");
  e.sent = j.value("sent", int64_t{0});
  e.received = j.value("received", int64_t{0});
  e.datagrams = j.value("datagrams", int64_t{0});
  e.error = j.value("error", "");
  e.op = j.value("op", "");
  return e;
}

absl::StatusOr<TrafficgenEvent> ExpectTrafficgenEvent(Process& process, const std::string& event, int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (true) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now());
    auto line = process.ReadLine(std::max<int>(0, static_cast<int>(left.count())));
    if (!line.ok()) {
      return absl::Status(line.status().code(), StrCat("waiting for \"", event, "\" from trafficgen pid ",
                                                       process.pid(), ": ", line.status().message()));
    }
    auto parsed = ParseTrafficgenEvent(*line);
    if (!parsed.ok()) return parsed.status();
    if (parsed->event == event) return parsed;
    if (parsed->event == "error") {
      return absl::FailedPreconditionError(
          StrCat("trafficgen pid ", process.pid(), " reported an error while \"", event, "\" was expected: ", *line));
    }
  }
}

}  // namespace netmon::testenv
