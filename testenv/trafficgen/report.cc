// SPDX-License-Identifier: Apache-2.0
#include "testenv/trafficgen/report.h"

#include <string.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <nlohmann/json.hpp>

namespace netmon::trafficgen {
namespace {

pid_t g_pid = 0;
pid_t g_child_pid = 0;

}  // namespace

void InitReporting() {
  g_pid = getpid();
}

void MarkForkedChild() {
  g_child_pid = getpid();
}

void Emit(const Report& r) {
  nlohmann::ordered_json j;  // ordered: "event" first reads best in a test log
  j["event"] = r.event;
  j["pid"] = g_pid;
  if (g_child_pid != 0) j["child_pid"] = g_child_pid;
  if (!r.local.empty()) j["local"] = r.local;
  if (!r.remote.empty()) j["remote"] = r.remote;
  if (r.sent >= 0) j["sent"] = r.sent;
  if (r.received >= 0) j["received"] = r.received;
  if (r.datagrams >= 0) j["datagrams"] = r.datagrams;
  if (!r.op.empty()) j["op"] = r.op;
  if (!r.error.empty()) j["error"] = r.error;
  if (!r.message.empty()) j["message"] = r.message;
  // One write per line: the parent and its forked children share the pipe, and writes up to PIPE_BUF are atomic.
  std::string line = j.dump() + "\n";
  (void)fwrite(line.data(), 1, line.size(), stdout);
  (void)fflush(stdout);
}

void FailWith(const std::string& op, const std::string& error, const std::string& message) {
  Report r;
  r.event = "error";
  r.op = op;
  r.error = error;
  r.message = message;
  Emit(r);
  (void)fprintf(stderr, "netmon-trafficgen: %s: %s (%s)\n", op.c_str(), message.c_str(), error.c_str());
  exit(2);
}

void Fail(const std::string& op, int err) {
  const char* name = strerrorname_np(err);
  // snprintf, not "E" + std::to_string(): GCC 12 at -O3 reports a false -Wrestrict inside libstdc++'s
  // operator+ (GCC bug 105329).
  char unnamed[16];
  snprintf(unnamed, sizeof(unnamed), "E%d", err);
  FailWith(op, name != nullptr ? name : unnamed, strerror(err));
}

}  // namespace netmon::trafficgen
