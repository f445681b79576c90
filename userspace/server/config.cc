// SPDX-License-Identifier: Apache-2.0
#include "server/config.h"

#include <net/if.h>

#include <cerrno>
#include <fstream>
#include <limits>
#include <sstream>

#include "common/log.h"
#include "common/status.h"
#include "common/str_cat.h"
#include "netmon/abi.h"
#include "nlohmann/json.hpp"
#include "rpc/credentials.h"

namespace netmon::server {
namespace {

using nlohmann::json;

template <typename T>
absl::Status GetInt(const json& j, const char* key, T lo, T hi, T* out) {
  auto it = j.find(key);
  if (it == j.end()) return absl::OkStatus();
  if (!it->is_number_integer()) return absl::InvalidArgumentError(StrCat(key, ": must be an integer"));
  // Compare in the widest type so a huge or negative number cannot wrap into range.
  if (it->is_number_unsigned()) {
    auto v = it->get<uint64_t>();
    if (v > static_cast<uint64_t>(hi) || (lo > 0 && v < static_cast<uint64_t>(lo))) {
      return absl::InvalidArgumentError(StrCat(key, ": ", v, " is out of range ", +lo, "..", +hi));
    }
    *out = static_cast<T>(v);
  } else {
    auto v = it->get<int64_t>();
    if (v < static_cast<int64_t>(lo) || (v > 0 && static_cast<uint64_t>(v) > static_cast<uint64_t>(hi))) {
      return absl::InvalidArgumentError(StrCat(key, ": ", v, " is out of range ", +lo, "..", +hi));
    }
    *out = static_cast<T>(v);
  }
  return absl::OkStatus();
}

absl::Status GetString(const json& j, const char* key, std::string* out) {
  auto it = j.find(key);
  if (it == j.end()) return absl::OkStatus();
  if (!it->is_string()) return absl::InvalidArgumentError(StrCat(key, ": must be a string"));
  *out = it->get<std::string>();
  return absl::OkStatus();
}

bool PowerOfTwo(uint64_t v) {
  return v != 0 && (v & (v - 1)) == 0;
}

absl::Status ParseInterface(const json& e, size_t index, InterfaceConfig* out) {
  std::string where = StrCat("interfaces[", index, "]");
  if (e.is_string()) {
    out->name = e.get<std::string>();
  } else if (e.is_object()) {
    for (auto it = e.begin(); it != e.end(); ++it) {
      if (it.key() != "name" && it.key() != "ingress" && it.key() != "netns") {
        return absl::InvalidArgumentError(StrCat(where, ": unknown key \"", it.key(), "\""));
      }
    }
    auto name = e.find("name");
    if (name == e.end() || !name->is_string()) {
      return absl::InvalidArgumentError(StrCat(where, ".name: required string"));
    }
    out->name = name->get<std::string>();
    if (auto ing = e.find("ingress"); ing != e.end()) {
      if (!ing->is_string() || (*ing != "tc" && *ing != "xdp")) {
        return absl::InvalidArgumentError(StrCat(where, ".ingress: must be \"tc\" or \"xdp\""));
      }
      out->xdp_ingress = *ing == "xdp";
    }
    if (auto ns = e.find("netns"); ns != e.end()) {
      if (!ns->is_string()) return absl::InvalidArgumentError(StrCat(where, ".netns: must be a string"));
      out->netns = ns->get<std::string>();
    }
  } else {
    return absl::InvalidArgumentError(StrCat(where, ": must be an interface name or {\"name\", \"ingress\"}"));
  }
  if (out->name.empty() || out->name.size() >= IFNAMSIZ || out->name.find('/') != std::string::npos) {
    return absl::InvalidArgumentError(StrCat(where, ": \"", out->name, "\" is not a valid interface name"));
  }
  return absl::OkStatus();
}

}  // namespace

const std::vector<std::string>& ServerConfigKeys() {
  static const std::vector<std::string> keys = {"listen_addr",        "security",
                                                "allowed_clients",    "interfaces",
                                                "max_sessions",       "max_duration_seconds",
                                                "result_ttl_seconds", "max_events_per_session",
                                                "max_retained_bytes", "flush_interval_ms",
                                                "chunk_max_events",   "owner_map_entries",
                                                "tuple_map_entries",  "flow_map_entries",
                                                "sock_ringbuf_bytes", "dns_ringbuf_bytes",
                                                "dns_ports",          "release_grace_ms",
                                                "cgroup_path",        "log_level"};
  return keys;
}

absl::StatusOr<ServerConfig> ParseServerConfig(const json& j) {
  if (!j.is_object()) return absl::InvalidArgumentError("the configuration must be a JSON object");
  const auto& keys = ServerConfigKeys();
  for (auto it = j.begin(); it != j.end(); ++it) {
    if (std::find(keys.begin(), keys.end(), it.key()) == keys.end()) {
      return absl::InvalidArgumentError(StrCat("unknown key \"", it.key(), "\""));
    }
  }
  ServerConfig c;
  NETMON_RETURN_IF_ERROR(GetString(j, "listen_addr", &c.listen_addr));
  if (c.listen_addr.empty()) return absl::InvalidArgumentError("listen_addr: must not be empty");
  if (auto s = j.find("security"); s != j.end()) {
    NETMON_ASSIGN_OR_RETURN(c.security, rpc::ParseSecurityConfig(*s, "security"));
  }
  if (auto a = j.find("allowed_clients"); a != j.end()) {
    if (!a->is_array()) return absl::InvalidArgumentError("allowed_clients: must be a list of strings");
    for (const auto& e : *a) {
      if (!e.is_string() || e.get<std::string>().empty()) {
        return absl::InvalidArgumentError("allowed_clients: every entry must be a non-empty string");
      }
      c.allowed_clients.push_back(e.get<std::string>());
    }
  }
  if (auto ifs = j.find("interfaces"); ifs != j.end()) {
    if (!ifs->is_array()) return absl::InvalidArgumentError("interfaces: must be a list");
    c.all_interfaces = false;
    for (size_t i = 0; i < ifs->size(); ++i) {
      InterfaceConfig ic;
      NETMON_RETURN_IF_ERROR(ParseInterface((*ifs)[i], i, &ic));
      for (const auto& other : c.interfaces) {
        if (other.name == ic.name && other.netns == ic.netns) {
          return absl::InvalidArgumentError(StrCat("interfaces: \"", ic.name, "\" is listed twice"));
        }
      }
      c.interfaces.push_back(std::move(ic));
    }
  }
  NETMON_RETURN_IF_ERROR(GetInt<int32_t>(j, "max_sessions", 1, 1024, &c.max_sessions));
  NETMON_RETURN_IF_ERROR(GetInt<int32_t>(j, "max_duration_seconds", 1, 7 * 24 * 3600, &c.max_duration_seconds));
  NETMON_RETURN_IF_ERROR(GetInt<int64_t>(j, "result_ttl_seconds", 0, 30 * 24 * 3600, &c.result_ttl_seconds));
  NETMON_RETURN_IF_ERROR(
      GetInt<uint64_t>(j, "max_events_per_session", 1, uint64_t{1} << 40, &c.max_events_per_session));
  NETMON_RETURN_IF_ERROR(GetInt<uint64_t>(j, "max_retained_bytes", 1 << 20, uint64_t{1} << 46, &c.max_retained_bytes));
  NETMON_RETURN_IF_ERROR(GetInt<uint32_t>(j, "flush_interval_ms", 10, 3'600'000, &c.flush_interval_ms));
  NETMON_RETURN_IF_ERROR(GetInt<uint32_t>(j, "chunk_max_events", 1, 100'000, &c.chunk_max_events));
  NETMON_RETURN_IF_ERROR(GetInt<uint32_t>(j, "owner_map_entries", 1024, 1u << 24, &c.owner_map_entries));
  NETMON_RETURN_IF_ERROR(GetInt<uint32_t>(j, "tuple_map_entries", 1024, 1u << 24, &c.tuple_map_entries));
  NETMON_RETURN_IF_ERROR(GetInt<uint32_t>(j, "flow_map_entries", 1024, 1u << 24, &c.flow_map_entries));
  NETMON_RETURN_IF_ERROR(GetInt<uint32_t>(j, "sock_ringbuf_bytes", 4096, 1u << 30, &c.sock_ringbuf_bytes));
  NETMON_RETURN_IF_ERROR(GetInt<uint32_t>(j, "dns_ringbuf_bytes", 4096, 1u << 30, &c.dns_ringbuf_bytes));
  for (auto [key, v] :
       {std::pair{"sock_ringbuf_bytes", c.sock_ringbuf_bytes}, {"dns_ringbuf_bytes", c.dns_ringbuf_bytes}}) {
    // BPF ring buffers are a power-of-two number of pages.
    if (!PowerOfTwo(v)) return absl::InvalidArgumentError(StrCat(key, ": ", v, " is not a power of two"));
  }
  if (auto p = j.find("dns_ports"); p != j.end()) {
    if (!p->is_array() || p->size() > NETMON_MAX_DNS_PORTS) {
      return absl::InvalidArgumentError(
          StrCat("dns_ports: must be a list of at most ", NETMON_MAX_DNS_PORTS, " ports"));
    }
    c.dns_ports.clear();
    for (const auto& e : *p) {
      if (!e.is_number_unsigned() || e.get<uint64_t>() < 1 || e.get<uint64_t>() > 65535) {
        return absl::InvalidArgumentError("dns_ports: every port must be 1..65535");
      }
      c.dns_ports.push_back(static_cast<uint16_t>(e.get<uint64_t>()));
    }
  }
  NETMON_RETURN_IF_ERROR(GetInt<uint32_t>(j, "release_grace_ms", 0, 3'600'000, &c.release_grace_ms));
  NETMON_RETURN_IF_ERROR(GetString(j, "cgroup_path", &c.cgroup_path));
  NETMON_RETURN_IF_ERROR(GetString(j, "log_level", &c.log_level));
  log::Level level;
  if (!log::ParseLevel(c.log_level, &level)) {
    return absl::InvalidArgumentError(StrCat("log_level: \"", c.log_level, "\" is not debug, info, warn or error"));
  }

  // Cross-key rules (docs/architecture.md §5).
  if (!c.security.mtls() && !rpc::IsLoopbackOrUnix(c.listen_addr)) {
    return absl::InvalidArgumentError(StrCat("security: mode \"none\" (plaintext) is refused on ", c.listen_addr,
                                             "; listen on loopback or a unix socket, or configure mode \"mtls\""));
  }
  if (!c.allowed_clients.empty() && !c.security.mtls()) {
    return absl::InvalidArgumentError(
        "allowed_clients: needs security mode \"mtls\" (identities come from certificates)");
  }
  return c;
}

absl::StatusOr<ServerConfig> ParseServerConfigText(std::string_view text) {
  json j = json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return absl::InvalidArgumentError("not valid JSON");
  return ParseServerConfig(j);
}

absl::StatusOr<ServerConfig> LoadServerConfig(const std::string& path) {
  std::ifstream in(path);
  if (!in) return ErrnoError("read config", path, errno != 0 ? errno : ENOENT);
  std::ostringstream buf;
  buf << in.rdbuf();
  auto c = ParseServerConfigText(buf.str());
  if (!c.ok()) return absl::Status(c.status().code(), StrCat(path, ": ", c.status().message()));
  return c;
}

}  // namespace netmon::server
