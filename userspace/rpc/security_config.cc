// SPDX-License-Identifier: Apache-2.0
#include "rpc/security_config.h"

#include <filesystem>

#include "common/str_cat.h"
#include "nlohmann/json.hpp"

namespace netmon::rpc {
namespace {

absl::Status CheckKeys(const nlohmann::json& j, std::string_view where, std::initializer_list<std::string_view> known) {
  for (auto it = j.begin(); it != j.end(); ++it) {
    bool ok = false;
    for (std::string_view k : known) ok = ok || it.key() == k;
    if (!ok) return absl::InvalidArgumentError(StrCat(where, ": unknown key \"", it.key(), "\""));
  }
  return absl::OkStatus();
}

absl::Status GetString(const nlohmann::json& j, const char* key, std::string_view where, std::string* out) {
  auto it = j.find(key);
  if (it == j.end() || it->is_null()) return absl::OkStatus();
  if (!it->is_string()) return absl::InvalidArgumentError(StrCat(where, ".", key, ": must be a string"));
  *out = it->get<std::string>();
  return absl::OkStatus();
}

std::string Join(const std::string& dir, const std::string& file) {
  if (file.empty() || dir.empty() || std::filesystem::path(file).is_absolute()) return file;
  return (std::filesystem::path(dir) / file).string();
}

}  // namespace

absl::StatusOr<SecurityConfig> ParseSecurityConfig(const nlohmann::json& j, std::string_view where) {
  if (!j.is_object()) return absl::InvalidArgumentError(StrCat(where, ": must be an object"));
  if (absl::Status s = CheckKeys(j, where, {"mode", "cert_dir", "server_name", "role", "tls"}); !s.ok()) return s;
  SecurityConfig c;
  std::string mode;
  for (auto [key, out] :
       {std::pair{"mode", &mode}, {"cert_dir", &c.cert_dir}, {"server_name", &c.server_name}, {"role", &c.role}}) {
    if (absl::Status s = GetString(j, key, where, out); !s.ok()) return s;
  }
  if (mode.empty() || mode == "none") {
    c.mode = SecurityConfig::Mode::kNone;
  } else if (mode == "mtls") {
    c.mode = SecurityConfig::Mode::kMtls;
  } else {
    return absl::InvalidArgumentError(
        StrCat(where, ".mode: \"", mode, "\" is not supported (use \"mtls\", or \"none\" on loopback)"));
  }
  std::string tls_where = StrCat(where, ".tls");
  if (auto t = j.find("tls"); t != j.end() && !t->is_null()) {
    if (!t->is_object()) return absl::InvalidArgumentError(StrCat(tls_where, ": must be an object"));
    if (absl::Status s = CheckKeys(*t, tls_where, {"cert_file", "key_file", "ca_file", "client_ca_file"}); !s.ok()) {
      return s;
    }
    for (auto [key, out] : {std::pair{"cert_file", &c.tls.cert_file},
                            {"key_file", &c.tls.key_file},
                            {"ca_file", &c.tls.ca_file},
                            {"client_ca_file", &c.tls.client_ca_file}}) {
      if (absl::Status s = GetString(*t, key, tls_where, out); !s.ok()) return s;
    }
  }
  if (c.tls.client_ca_file.empty()) c.tls.client_ca_file = c.tls.ca_file;
  c.tls.cert_file = Join(c.cert_dir, c.tls.cert_file);
  c.tls.key_file = Join(c.cert_dir, c.tls.key_file);
  c.tls.ca_file = Join(c.cert_dir, c.tls.ca_file);
  c.tls.client_ca_file = Join(c.cert_dir, c.tls.client_ca_file);
  if (c.mtls()) {
    for (auto [key, value] :
         {std::pair{"cert_file", &c.tls.cert_file}, {"key_file", &c.tls.key_file}, {"ca_file", &c.tls.ca_file}}) {
      if (value->empty()) return absl::InvalidArgumentError(StrCat(tls_where, ".", key, ": required for mode mtls"));
    }
  }
  return c;
}

absl::StatusOr<SecurityConfig> ParseSecurityConfigText(std::string_view text, std::string_view where) {
  nlohmann::json j = nlohmann::json::parse(text.begin(), text.end(), nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return absl::InvalidArgumentError(StrCat(where, ": not valid JSON"));
  return ParseSecurityConfig(j, where);
}

}  // namespace netmon::rpc
