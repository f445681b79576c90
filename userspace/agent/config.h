// SPDX-License-Identifier: Apache-2.0
// netmon-agent's configuration file (docs/architecture.md §4.5), JSON:
//   {
//     "listen_addr": "0.0.0.0:50051",           // where the poller / netmonctl reach the agent ("unix:/path" ok)
//     "agent_id": "host-1",                      // default: the host name
//     "security": {SecurityConfig},              // server side, poller -> agent (docs/architecture.md §5)
//     "allowed_clients": ["poller"],             // optional: certificate CN/SAN allowed to call (empty = any)
//     "network_monitor": {
//       "address": "127.0.0.1:50085",            // netmon-server ("unix:/path" ok)
//       "security": {SecurityConfig},            // client side, agent -> netmon-server
//       "call_timeout_ms": 5000                  // StartCapture / GetStatus / ListCaptures deadline
//     },
//     "max_chunk_bytes": 1000000,                // JSON document per ResultsChunk (ServiceRadar: under ~1 MiB)
//     "max_events_per_poll": 250000,             // one poll delivers at most this many events (has_more)
//     "poll_timeout_ms": 10000,                  // a poll reads from netmon-server at most this long
//     "log_level": "info",
//     "nats": {                                   // optional: publish every event of every triggered capture
//       "url": "nats://127.0.0.1:4222",           // required in the section (string or list)
//       "subject": "events.netmon.<agent_id>", "stream": "events", ... (NatsPublishConfig below)
//     }
//   }
// Unknown keys are errors that name the key, so a typo cannot pass silently.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "common/log.h"
#include "nlohmann/json_fwd.hpp"
#include "rpc/security_config.h"

namespace netmon::agent {

struct MonitorConfig {
  std::string address = "127.0.0.1:50085";
  rpc::SecurityConfig security;
  std::chrono::milliseconds call_timeout{5000};
};

// The "nats" section: netmon-agent publishes every NetworkEvent of the captures it triggered to JetStream
// (correlate/event_publisher.h does the publishing). The connection keys match netmon-correlate's nats.* keys.
struct NatsPublishConfig {
  bool enabled = false;  // the section is present
  std::vector<std::string> urls;
  std::string name = "netmon-agent";
  std::string user;
  std::string password;
  std::string token;
  std::string creds_file;
  std::string tls_ca_file;
  std::string tls_cert_file;
  std::string tls_key_file;
  int64_t connect_timeout_ms = 2000;
  int64_t reconnect_wait_ms = 1000;
  std::string subject;  // empty: events.netmon.<agent_id as a subject token>
  std::string stream = "events";
  bool ensure_stream = true;
  std::vector<std::string> stream_subjects{"events.>"};
  int64_t duplicate_window_ms = 120000;
  size_t max_buffer_events = 100000;
  size_t max_buffer_bytes = size_t{64} << 20;
  int64_t ack_timeout_ms = 5000;
  size_t max_followers = 16;        // captures followed at once; a trigger beyond is refused
  int64_t flush_timeout_ms = 5000;  // at exit, how long to wait for the buffer to be acknowledged
};

struct AgentConfig {
  std::string listen_addr = "0.0.0.0:50051";
  std::string agent_id;
  rpc::SecurityConfig security;
  std::vector<std::string> allowed_clients;
  MonitorConfig network_monitor;
  size_t max_chunk_bytes = 1'000'000;
  size_t max_events_per_poll = 250'000;
  std::chrono::milliseconds poll_timeout{10000};
  log::Level log_level = log::Level::kInfo;
  NatsPublishConfig nats;
};

// True if `subject` is a NATS subject to publish to: dot-separated non-empty tokens, no wildcards or blanks.
bool ValidPublishSubject(std::string_view subject);

// The host name (agent_id's default); "netmon-agent" if it cannot be read.
std::string DefaultAgentId();

absl::StatusOr<AgentConfig> ParseAgentConfig(const nlohmann::json& j);
absl::StatusOr<AgentConfig> ParseAgentConfigText(std::string_view text);
// Reads and parses FILE; errors start with the file name.
absl::StatusOr<AgentConfig> LoadAgentConfig(const std::string& path);

}  // namespace netmon::agent
