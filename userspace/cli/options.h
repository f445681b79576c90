// SPDX-License-Identifier: Apache-2.0
// netmonctl's command line: a command, its argument, and flags (before or after the command, "--flag value" or
// "--flag=value"). Pure: parsing and the credentials it implies; no I/O except reading a --security file.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "cli/format.h"
#include "rpc/security_config.h"

namespace netmon::cli {

enum class Command { kCapture, kFollow, kResults, kSessions, kStatus, kStop, kHelp, kVersion };

inline constexpr char kDefaultAgent[] = "127.0.0.1:50051";

struct CliOptions {
  Command command = Command::kHelp;
  std::string session;  // follow / results / stop

  // Target: an agent (the poller's path, default) or a server directly.
  std::string agent;
  std::string server;

  // Credentials.
  std::string security_file;  // a SecurityConfig JSON file (also $NETMON_SECURITY)
  std::string cert_dir, cert, key, ca, server_name;
  bool insecure = false;

  // capture
  int32_t pid = 0;
  int32_t port = 0;
  std::string src, dst;
  int32_t duration = 10;
  std::string session_id;  // --session-id (server only: the agent makes its own)
  bool follow = true;      // --no-follow: print the session id and return

  // Output.
  Format format = Format::kTable;
  std::optional<bool> progress;  // unset: on when stdout and stderr are terminals
  bool utc = false;
  bool quiet = false;
  uint64_t since = 0;      // follow / results: after this sequence
  int interval_ms = 1000;  // between polls through an agent
  int timeout_s = 30;      // per call

  bool via_agent() const { return server.empty(); }
  const std::string& target() const { return server.empty() ? agent : server; }
};

// Usage errors are INVALID_ARGUMENT with a one-line message.
absl::StatusOr<CliOptions> ParseArgs(const std::vector<std::string>& args);

// The credentials the flags describe. Order: --security FILE, then --cert/--key/--ca (each may be relative to
// --cert-dir), then --cert-dir alone (the dev layout: client.pem, client-key.pem, ca.pem), then --insecure, then
// $NETMON_SECURITY (`env_security`). None of them is an error that says what to pass.
absl::StatusOr<rpc::SecurityConfig> ResolveSecurity(const CliOptions& options, const char* env_security);

extern const char kUsage[];

}  // namespace netmon::cli
