// SPDX-License-Identifier: Apache-2.0
#include "agent/config.h"

#include <unistd.h>

#include <array>
#include <cerrno>
#include <fstream>
#include <limits>
#include <sstream>

#include "agent/chunker.h"
#include "common/status.h"
#include "common/str_cat.h"
#include "nlohmann/json.hpp"

namespace netmon::agent {
namespace {

using nlohmann::json;

absl::Status CheckKeys(const json& j, std::string_view where, std::initializer_list<std::string_view> known) {
  for (auto it = j.begin(); it != j.end(); ++it) {
    bool ok = false;
    for (std::string_view k : known) ok = ok || it.key() == k;
    if (!ok) {
      return absl::InvalidArgumentError(
          StrCat(where.empty() ? "" : StrCat(where, ": "), "unknown key \"", it.key(), "\""));
    }
  }
  return absl::OkStatus();
}

absl::Status GetString(const json& j, const char* key, std::string_view where, std::string* out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return absl::OkStatus();
  if (!it->is_string()) return absl::InvalidArgumentError(StrCat(where, key, ": must be a string"));
  *out = it->get<std::string>();
  if (out->empty()) return absl::InvalidArgumentError(StrCat(where, key, ": must not be empty"));
  return absl::OkStatus();
}

absl::Status GetInt(const json& j, const char* key, std::string_view where, int64_t min, int64_t max, int64_t* out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return absl::OkStatus();
  if (!it->is_number_integer()) return absl::InvalidArgumentError(StrCat(where, key, ": must be an integer"));
  int64_t v =
      it->is_number_unsigned() && it->get<uint64_t>() > static_cast<uint64_t>(max) ? max + 1 : it->get<int64_t>();
  if (v < min || v > max) {
    return absl::InvalidArgumentError(StrCat(where, key, ": ", it->dump(), " is out of range (", min, "..", max, ")"));
  }
  *out = v;
  return absl::OkStatus();
}

absl::Status ParseMonitor(const json& j, MonitorConfig* m) {
  if (!j.is_object()) return absl::InvalidArgumentError("network_monitor: must be an object");
  NETMON_RETURN_IF_ERROR(CheckKeys(j, "network_monitor", {"address", "security", "call_timeout_ms"}));
  NETMON_RETURN_IF_ERROR(GetString(j, "address", "network_monitor.", &m->address));
  if (auto it = j.find("security"); it != j.end() && !it->is_null()) {
    NETMON_ASSIGN_OR_RETURN(m->security, rpc::ParseSecurityConfig(*it, "network_monitor.security"));
  }
  int64_t timeout = m->call_timeout.count();
  NETMON_RETURN_IF_ERROR(GetInt(j, "call_timeout_ms", "network_monitor.", 100, 60000, &timeout));
  m->call_timeout = std::chrono::milliseconds(timeout);
  return absl::OkStatus();
}

absl::Status GetBool(const json& j, const char* key, std::string_view where, bool* out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return absl::OkStatus();
  if (!it->is_boolean()) return absl::InvalidArgumentError(StrCat(where, key, ": must be true or false"));
  *out = it->get<bool>();
  return absl::OkStatus();
}

// A string or a list of non-empty strings (NATS urls may be given either way, as in netmon-correlate).
absl::Status GetStringList(const json& j, const char* key, std::string_view where, bool allow_single,
                           std::vector<std::string>* out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return absl::OkStatus();
  std::vector<std::string> v;
  if (allow_single && it->is_string()) {
    v.push_back(it->get<std::string>());
  } else if (it->is_array()) {
    for (const json& e : *it) {
      if (!e.is_string()) return absl::InvalidArgumentError(StrCat(where, key, ": must be a list of strings"));
      v.push_back(e.get<std::string>());
    }
  } else {
    return absl::InvalidArgumentError(
        StrCat(where, key, allow_single ? ": must be a string or a list of strings" : ": must be a list of strings"));
  }
  if (v.empty()) return absl::InvalidArgumentError(StrCat(where, key, ": must not be empty"));
  for (const auto& s : v) {
    if (s.empty()) return absl::InvalidArgumentError(StrCat(where, key, ": entries must not be empty"));
  }
  *out = std::move(v);
  return absl::OkStatus();
}

absl::Status GetSize(const json& j, const char* key, std::string_view where, int64_t min, int64_t max, size_t* out) {
  int64_t v = static_cast<int64_t>(*out);
  NETMON_RETURN_IF_ERROR(GetInt(j, key, where, min, max, &v));
  *out = static_cast<size_t>(v);
  return absl::OkStatus();
}

// A filter subject for the stream: tokens may be '*', the last may be '>'.
bool ValidFilterSubject(std::string_view s) {
  if (s.empty()) return false;
  size_t start = 0;
  while (true) {
    size_t dot = s.find('.', start);
    std::string_view tok = s.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (tok.empty() || tok.find_first_of(" \t\r\n") != std::string_view::npos) return false;
    if (tok != "*" && tok != ">" && tok.find_first_of("*>") != std::string_view::npos) return false;
    if (tok == ">" && dot != std::string_view::npos) return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

absl::Status ParseNats(const json& j, NatsPublishConfig* n) {
  if (!j.is_object()) return absl::InvalidArgumentError("nats: must be an object");
  NETMON_RETURN_IF_ERROR(
      CheckKeys(j, "nats",
                {"url", "name", "user", "password", "token", "creds_file", "tls", "connect_timeout_ms",
                 "reconnect_wait_ms", "subject", "stream", "ensure_stream", "stream_subjects", "duplicate_window_ms",
                 "max_buffer_events", "max_buffer_bytes", "ack_timeout_ms", "max_followers", "flush_timeout_ms"}));
  constexpr std::string_view w = "nats.";
  n->enabled = true;
  NETMON_RETURN_IF_ERROR(GetStringList(j, "url", w, /*allow_single=*/true, &n->urls));
  if (n->urls.empty()) return absl::InvalidArgumentError("nats.url: is required when the nats section is present");
  NETMON_RETURN_IF_ERROR(GetString(j, "name", w, &n->name));
  NETMON_RETURN_IF_ERROR(GetString(j, "user", w, &n->user));
  NETMON_RETURN_IF_ERROR(GetString(j, "password", w, &n->password));
  NETMON_RETURN_IF_ERROR(GetString(j, "token", w, &n->token));
  NETMON_RETURN_IF_ERROR(GetString(j, "creds_file", w, &n->creds_file));
  if (auto it = j.find("tls"); it != j.end() && !it->is_null()) {
    if (!it->is_object()) return absl::InvalidArgumentError("nats.tls: must be an object");
    NETMON_RETURN_IF_ERROR(CheckKeys(*it, "nats.tls", {"ca_file", "cert_file", "key_file"}));
    NETMON_RETURN_IF_ERROR(GetString(*it, "ca_file", "nats.tls.", &n->tls_ca_file));
    NETMON_RETURN_IF_ERROR(GetString(*it, "cert_file", "nats.tls.", &n->tls_cert_file));
    NETMON_RETURN_IF_ERROR(GetString(*it, "key_file", "nats.tls.", &n->tls_key_file));
    if (n->tls_cert_file.empty() != n->tls_key_file.empty()) {
      return absl::InvalidArgumentError("nats.tls: cert_file and key_file go together");
    }
  }
  NETMON_RETURN_IF_ERROR(GetInt(j, "connect_timeout_ms", w, 1, 600000, &n->connect_timeout_ms));
  NETMON_RETURN_IF_ERROR(GetInt(j, "reconnect_wait_ms", w, 1, 600000, &n->reconnect_wait_ms));
  NETMON_RETURN_IF_ERROR(GetString(j, "subject", w, &n->subject));
  if (!n->subject.empty() && !ValidPublishSubject(n->subject)) {
    return absl::InvalidArgumentError(
        StrCat("nats.subject: \"", n->subject, "\" is not a NATS subject to publish to (no wildcards or blanks)"));
  }
  NETMON_RETURN_IF_ERROR(GetString(j, "stream", w, &n->stream));
  if (n->stream.find_first_of(".*> \t") != std::string::npos) {
    return absl::InvalidArgumentError("nats.stream: must be a stream name (no '.', '*', '>' or spaces)");
  }
  NETMON_RETURN_IF_ERROR(GetBool(j, "ensure_stream", w, &n->ensure_stream));
  NETMON_RETURN_IF_ERROR(GetStringList(j, "stream_subjects", w, /*allow_single=*/false, &n->stream_subjects));
  for (const auto& s : n->stream_subjects) {
    if (!ValidFilterSubject(s))
      return absl::InvalidArgumentError(StrCat("nats.stream_subjects: \"", s, "\" is not a NATS subject"));
  }
  NETMON_RETURN_IF_ERROR(
      GetInt(j, "duplicate_window_ms", w, 0, int64_t{7} * 24 * 3600 * 1000, &n->duplicate_window_ms));
  NETMON_RETURN_IF_ERROR(GetSize(j, "max_buffer_events", w, 1, 100'000'000, &n->max_buffer_events));
  NETMON_RETURN_IF_ERROR(GetSize(j, "max_buffer_bytes", w, 4096, int64_t{64} << 30, &n->max_buffer_bytes));
  NETMON_RETURN_IF_ERROR(GetInt(j, "ack_timeout_ms", w, 10, 600000, &n->ack_timeout_ms));
  NETMON_RETURN_IF_ERROR(GetSize(j, "max_followers", w, 1, 1024, &n->max_followers));
  NETMON_RETURN_IF_ERROR(GetInt(j, "flush_timeout_ms", w, 0, 600000, &n->flush_timeout_ms));
  return absl::OkStatus();
}

}  // namespace

bool ValidPublishSubject(std::string_view s) {
  if (s.empty()) return false;
  size_t start = 0;
  while (true) {
    size_t dot = s.find('.', start);
    std::string_view tok = s.substr(start, dot == std::string_view::npos ? std::string_view::npos : dot - start);
    if (tok.empty() || tok.find_first_of("*> \t\r\n") != std::string_view::npos) return false;
    if (dot == std::string_view::npos) return true;
    start = dot + 1;
  }
}

std::string DefaultAgentId() {
  std::array<char, 256> host{};
  if (gethostname(host.data(), host.size() - 1) != 0 || host[0] == '\0') return "netmon-agent";
  return host.data();
}

absl::StatusOr<AgentConfig> ParseAgentConfig(const json& j) {
  if (!j.is_object()) return absl::InvalidArgumentError("the configuration must be a JSON object");
  NETMON_RETURN_IF_ERROR(CheckKeys(j, "",
                                   {"listen_addr", "agent_id", "security", "allowed_clients", "network_monitor",
                                    "max_chunk_bytes", "max_events_per_poll", "poll_timeout_ms", "log_level", "nats"}));
  AgentConfig c;
  c.agent_id = DefaultAgentId();
  NETMON_RETURN_IF_ERROR(GetString(j, "listen_addr", "", &c.listen_addr));
  NETMON_RETURN_IF_ERROR(GetString(j, "agent_id", "", &c.agent_id));
  if (auto it = j.find("security"); it != j.end() && !it->is_null()) {
    NETMON_ASSIGN_OR_RETURN(c.security, rpc::ParseSecurityConfig(*it, "security"));
  }
  if (auto it = j.find("allowed_clients"); it != j.end() && !it->is_null()) {
    if (!it->is_array()) return absl::InvalidArgumentError("allowed_clients: must be a list of strings");
    for (const json& v : *it) {
      if (!v.is_string() || v.get<std::string>().empty()) {
        return absl::InvalidArgumentError("allowed_clients: must be a list of non-empty strings");
      }
      c.allowed_clients.push_back(v.get<std::string>());
    }
  }
  if (auto it = j.find("network_monitor"); it != j.end() && !it->is_null()) {
    NETMON_RETURN_IF_ERROR(ParseMonitor(*it, &c.network_monitor));
  }
  int64_t v = static_cast<int64_t>(c.max_chunk_bytes);
  // Upper bound: a ResultsChunk must stay under gRPC's 4 MiB message limit (docs/architecture.md §4.2).
  NETMON_RETURN_IF_ERROR(GetInt(j, "max_chunk_bytes", "", kMinChunkBytes, int64_t{3} * 1024 * 1024, &v));
  c.max_chunk_bytes = static_cast<size_t>(v);
  v = static_cast<int64_t>(c.max_events_per_poll);
  NETMON_RETURN_IF_ERROR(GetInt(j, "max_events_per_poll", "", 1, 10'000'000, &v));
  c.max_events_per_poll = static_cast<size_t>(v);
  v = c.poll_timeout.count();
  // The poller gives a poll 30 s; the agent must answer well inside that.
  NETMON_RETURN_IF_ERROR(GetInt(j, "poll_timeout_ms", "", 100, 20000, &v));
  c.poll_timeout = std::chrono::milliseconds(v);
  std::string level;
  NETMON_RETURN_IF_ERROR(GetString(j, "log_level", "", &level));
  if (!level.empty() && !log::ParseLevel(level, &c.log_level)) {
    return absl::InvalidArgumentError(StrCat("log_level: \"", level, "\" is not one of debug, info, warn, error"));
  }
  if (auto it = j.find("nats"); it != j.end() && !it->is_null()) {
    NETMON_RETURN_IF_ERROR(ParseNats(*it, &c.nats));
  }
  return c;
}

absl::StatusOr<AgentConfig> ParseAgentConfigText(std::string_view text) {
  json j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return absl::InvalidArgumentError("not valid JSON");
  return ParseAgentConfig(j);
}

absl::StatusOr<AgentConfig> LoadAgentConfig(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return ErrnoError("read config", path, errno != 0 ? errno : ENOENT);
  std::ostringstream buf;
  buf << in.rdbuf();
  auto c = ParseAgentConfigText(buf.str());
  if (!c.ok()) return absl::Status(c.status().code(), StrCat(path, ": ", c.status().message()));
  return c;
}

}  // namespace netmon::agent
