// SPDX-License-Identifier: Apache-2.0
// ServiceRadar's SecurityConfig (docs/architecture.md §5), shared by netmon-server, netmon-agent and netmonctl:
//   {"mode": "none"|"mtls", "cert_dir": "...", "server_name": "...", "role": "...",
//    "tls": {"cert_file", "key_file", "ca_file", "client_ca_file"}}
// Relative file names are joined to cert_dir; client_ca_file falls back to ca_file. Unknown keys are errors
// that name the key, so a typo cannot silently turn security off.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "nlohmann/json_fwd.hpp"

namespace netmon::rpc {

struct TlsFiles {
  std::string cert_file;       // our certificate chain (PEM)
  std::string key_file;        // its private key (PEM)
  std::string ca_file;         // CA that signs the peer (a client: the server's CA)
  std::string client_ca_file;  // CA that signs clients (server side); defaults to ca_file
};

struct SecurityConfig {
  enum class Mode { kNone, kMtls };
  Mode mode = Mode::kNone;
  std::string cert_dir;
  std::string server_name;  // client side: the name the server's certificate must carry (default: target host)
  std::string role;         // ServiceRadar's role name ("poller", "agent", ...); informational here
  TlsFiles tls;             // paths already joined to cert_dir

  bool mtls() const { return mode == Mode::kMtls; }
};

// Parses a SecurityConfig object. `where` prefixes error messages ("security", "network_monitor.security").
absl::StatusOr<SecurityConfig> ParseSecurityConfig(const nlohmann::json& j, std::string_view where = "security");
// Same, from JSON text.
absl::StatusOr<SecurityConfig> ParseSecurityConfigText(std::string_view text, std::string_view where = "security");

}  // namespace netmon::rpc
