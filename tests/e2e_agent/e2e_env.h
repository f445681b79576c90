// SPDX-License-Identifier: Apache-2.0
// The real binaries for end-to-end tests: netmon-agent started with a config file made for the test (mTLS with
// per-run certificates), netmonctl runs with stdout and stderr captured, and netmon-server when it is built.
// Every process is a testenv::Process: bounded waits, SIGKILL and reap on every exit path.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "agent_test_env.h"
#include "nlohmann/json.hpp"
#include "testenv/process.h"

namespace netmon::e2e {

// Paths of this build's binaries ("" when a binary is not built).
const char* AgentBinary();
const char* CtlBinary();
const char* ServerBinary();

// A netmon-agent process, ready (it printed its "listening" line) when Start returns.
class AgentProcess {
 public:
  // `config` is written to a file in `dir`; "listen_addr" defaults to 127.0.0.1:0.
  static absl::StatusOr<AgentProcess> Start(const agent::testing::TempDir& dir, nlohmann::json config);
  // The usual config: mTLS as netmon-agent on both sides, netmon-server at `monitor_address`.
  static nlohmann::json Config(const std::string& monitor_address);

  AgentProcess(AgentProcess&&) noexcept = default;
  AgentProcess& operator=(AgentProcess&&) noexcept = default;

  const std::string& address() const { return address_; }
  testenv::Process& process() { return process_; }
  // SIGTERM and wait (bounded); the exit code.
  absl::StatusOr<int> Stop();

 private:
  AgentProcess(testenv::Process p, std::string address) : process_(std::move(p)), address_(std::move(address)) {}
  testenv::Process process_;
  std::string address_;
};

// One netmonctl run to completion, output captured (stdout and stderr are pipes/files: "not a terminal").
struct CtlResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};
// Runs netmonctl with `args` (bounded by timeout_ms), e.g. {"status", "--agent", addr, "--cert-dir", dir}.
CtlResult RunCtl(const agent::testing::TempDir& dir, const std::vector<std::string>& args, int timeout_ms = 60000);

// netmonctl started in the background (for captures that run while the test makes traffic); Finish collects.
class CtlProcess {
 public:
  static absl::StatusOr<CtlProcess> Start(const agent::testing::TempDir& dir, const std::vector<std::string>& args);
  CtlProcess(CtlProcess&&) noexcept = default;
  // Waits for the exit (bounded) and collects stdout and stderr.
  CtlResult Finish(int timeout_ms);

 private:
  CtlProcess(testenv::Process p, std::string err_file) : process_(std::move(p)), err_file_(std::move(err_file)) {}
  testenv::Process process_;
  std::string err_file_;
};

// netmonctl's client credentials for the dev certificates (--cert-dir DIR: client.pem, client-key.pem, ca.pem).
std::vector<std::string> CtlCredentials();

// The JSON lines of `text`, each parsed; a line that does not parse becomes a discarded value.
std::vector<nlohmann::json> JsonLines(const std::string& text);

}  // namespace netmon::e2e
