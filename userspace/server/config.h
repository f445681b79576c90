// SPDX-License-Identifier: Apache-2.0
// netmon-server's configuration file (docs/architecture.md §4.5): strict JSON. Every key has a default except what only the
// operator can know; unknown keys and wrong types are errors that name the key, so a typo never passes silently.
// Every key is listed in the README (see ServerConfigKeys() for the authoritative list).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "nlohmann/json_fwd.hpp"
#include "rpc/security_config.h"

namespace netmon::server {

struct InterfaceConfig {
  std::string name;
  bool xdp_ingress = false;  // "ingress": "xdp" (default "tc")
  // Extension: the network namespace the interface lives in, as an nsfs path ("/run/netns/NAME",
  // "/proc/PID/ns/net"); empty = the server's own namespace.
  std::string netns;
};

struct ServerConfig {
  std::string listen_addr = "127.0.0.1:50085";
  rpc::SecurityConfig security;              // default: mode none (plaintext), allowed on loopback only
  std::vector<std::string> allowed_clients;  // certificate CN/SAN allowed to call; empty = any verified client
  std::vector<InterfaceConfig> interfaces;   // packet layer attachment points (an explicit list)
  // No `interfaces` key: every interface of the server's namespace, lo included, and those that appear later.
  bool all_interfaces = true;

  // Capture limits (docs/architecture.md §4.4).
  int32_t max_sessions = 8;
  int32_t max_duration_seconds = 3600;
  int64_t result_ttl_seconds = 600;
  uint64_t max_events_per_session = 1'000'000;
  uint64_t max_retained_bytes = 512ull << 20;  // all sessions' retained events together

  // Pipeline.
  uint32_t flush_interval_ms = 2000;  // DATA events per flow every this often (and at close and capture end)
  uint32_t chunk_max_events = 2000;   // events per GetCaptureResults chunk (also bounded to ~1 MiB)

  // Kernel sizes.
  uint32_t owner_map_entries = 65536;
  uint32_t tuple_map_entries = 65536;
  uint32_t flow_map_entries = 65536;
  uint32_t sock_ringbuf_bytes = 4u << 20;
  uint32_t dns_ringbuf_bytes = 4u << 20;
  std::vector<uint16_t> dns_ports = {53};
  uint32_t release_grace_ms = 5000;  // how long a released socket's owner stays resolvable
  std::string cgroup_path;           // cgroup v2 root for the socket hooks; empty = found in /proc/mounts

  std::string log_level = "info";
};

// Parses and validates a whole config. Errors are one line: "<key>: <what is wrong>".
absl::StatusOr<ServerConfig> ParseServerConfig(const nlohmann::json& j);
absl::StatusOr<ServerConfig> ParseServerConfigText(std::string_view text);
absl::StatusOr<ServerConfig> LoadServerConfig(const std::string& path);

// Every top-level key the file may contain.
const std::vector<std::string>& ServerConfigKeys();

}  // namespace netmon::server
