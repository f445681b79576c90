// SPDX-License-Identifier: Apache-2.0
#include "cli/options.h"

#include <cerrno>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>

#include "common/status.h"
#include "common/str_cat.h"

namespace netmon::cli {

const char kUsage[] =
    "usage: netmonctl COMMAND [ARGS] [FLAGS]\n"
    "\n"
    "Commands:\n"
    "  capture            start a capture and print its events live until it ends\n"
    "  follow SESSION     print a capture's events live until it ends\n"
    "  results SESSION    print the events a capture has now, then exit\n"
    "  sessions           list captures (running and retained)\n"
    "  status             netmon-agent / netmon-server status and capabilities\n"
    "  stop SESSION       end a capture early (--server only)\n"
    "\n"
    "Where (one of):\n"
    "  --agent ADDR       a netmon-agent, as ServiceRadar's poller reaches it (default 127.0.0.1:50051)\n"
    "  --server ADDR      a netmon-server directly (e.g. 127.0.0.1:50085 or unix:/run/netmon.sock)\n"
    "Credentials (mTLS unless --insecure):\n"
    "  --security FILE    a SecurityConfig JSON file (also: NETMON_SECURITY=FILE)\n"
    "  --cert FILE --key FILE --ca FILE   client certificate, its key, and the CA that signs the server\n"
    "  --cert-dir DIR     base for relative --cert/--key/--ca; alone: DIR/client.pem, client-key.pem, ca.pem\n"
    "  --server-name NAME the name the server's certificate must carry (default: the address's host)\n"
    "  --insecure         plaintext, only to loopback or a unix socket\n"
    "capture:\n"
    "  --duration S       seconds (default 10)\n"
    "  --pid N  --port N  --src IP  --dst IP   filters (AND); 0 / empty = any\n"
    "  --session-id ID    with --server: use this id (default: a new UUID)\n"
    "  --no-follow        print the session id and return while the capture runs\n"
    "Output:\n"
    "  --format F         table (default), json (one event per line) or csv\n"
    "  --since SEQ        follow/results: only events after this sequence\n"
    "  --progress / --no-progress   the countdown line on stderr (default: when on a terminal)\n"
    "  --utc              table times in UTC      --quiet   no informational lines on stderr\n"
    "  --interval MS      poll interval through an agent (default 1000)\n"
    "  --timeout S        per call (default 30)\n"
    "\n"
    "Exit status: 0 done, 1 the agent/server refused or failed, 2 usage or local configuration,\n"
    "3 agent/server unreachable, 130 interrupted.\n";

namespace {

absl::Status Usage(const std::string& message) {
  return absl::InvalidArgumentError(message);
}

template <typename T>
absl::Status ParseInt(const std::string& flag, const std::string& text, T min, T max, T* out) {
  T v{};
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || end != text.data() + text.size() || text.empty()) {
    return Usage(StrCat(flag, " needs a whole number, got \"", text, "\""));
  }
  if (v < min || v > max) return Usage(StrCat(flag, " ", text, " is out of range (", min, "..", max, ")"));
  *out = v;
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<CliOptions> ParseArgs(const std::vector<std::string>& args) {
  CliOptions o;
  std::vector<std::string> positional;
  constexpr int32_t kI32Max = 2147483647;
  constexpr int32_t kI32Min = -2147483647 - 1;
  // Flags that take a value, and what to do with it.
  std::map<std::string, std::function<absl::Status(const std::string&)>> valued = {
      {"--agent", [&](const std::string& v) { return o.agent = v, absl::OkStatus(); }},
      {"--server", [&](const std::string& v) { return o.server = v, absl::OkStatus(); }},
      {"--security", [&](const std::string& v) { return o.security_file = v, absl::OkStatus(); }},
      {"--cert-dir", [&](const std::string& v) { return o.cert_dir = v, absl::OkStatus(); }},
      {"--cert", [&](const std::string& v) { return o.cert = v, absl::OkStatus(); }},
      {"--key", [&](const std::string& v) { return o.key = v, absl::OkStatus(); }},
      {"--ca", [&](const std::string& v) { return o.ca = v, absl::OkStatus(); }},
      {"--server-name", [&](const std::string& v) { return o.server_name = v, absl::OkStatus(); }},
      {"--pid", [&](const std::string& v) { return ParseInt("--pid", v, kI32Min, kI32Max, &o.pid); }},
      {"--port", [&](const std::string& v) { return ParseInt("--port", v, kI32Min, kI32Max, &o.port); }},
      {"--src", [&](const std::string& v) { return o.src = v, absl::OkStatus(); }},
      {"--dst", [&](const std::string& v) { return o.dst = v, absl::OkStatus(); }},
      {"--duration", [&](const std::string& v) { return ParseInt("--duration", v, kI32Min, kI32Max, &o.duration); }},
      {"--session-id", [&](const std::string& v) { return o.session_id = v, absl::OkStatus(); }},
      {"--format",
       [&](const std::string& v) {
         return ParseFormat(v, &o.format) ? absl::OkStatus()
                                          : Usage(StrCat("--format \"", v, "\" is not table, json or csv"));
       }},
      {"--since", [&](const std::string& v) { return ParseInt<uint64_t>("--since", v, 0, UINT64_MAX, &o.since); }},
      {"--interval", [&](const std::string& v) { return ParseInt("--interval", v, 50, 60000, &o.interval_ms); }},
      {"--timeout", [&](const std::string& v) { return ParseInt("--timeout", v, 1, 3600, &o.timeout_s); }},
  };
  std::map<std::string, std::function<void()>> flags = {
      {"--insecure", [&] { o.insecure = true; }},
      {"--no-follow", [&] { o.follow = false; }},
      {"--progress", [&] { o.progress = true; }},
      {"--no-progress", [&] { o.progress = false; }},
      {"--utc", [&] { o.utc = true; }},
      {"--quiet", [&] { o.quiet = true; }},
      {"-q", [&] { o.quiet = true; }},
  };
  bool help = false, version = false;
  for (size_t i = 0; i < args.size(); ++i) {
    const std::string& a = args[i];
    if (a == "-h" || a == "--help") {
      help = true;
      continue;
    }
    if (a == "--version") {
      version = true;
      continue;
    }
    if (a.size() > 1 && a[0] == '-') {
      std::string name = a, value;
      bool inline_value = false;
      if (size_t eq = a.find('='); eq != std::string::npos && a.rfind("--", 0) == 0) {
        name = a.substr(0, eq);
        value = a.substr(eq + 1);
        inline_value = true;
      }
      if (auto f = flags.find(name); f != flags.end() && !inline_value) {
        f->second();
        continue;
      }
      auto v = valued.find(name);
      if (v == valued.end()) return Usage(StrCat("unknown flag ", name, " (see netmonctl --help)"));
      if (!inline_value) {
        if (i + 1 >= args.size()) return Usage(StrCat(name, " needs a value"));
        value = args[++i];
      }
      NETMON_RETURN_IF_ERROR(v->second(value));
      continue;
    }
    positional.push_back(a);
  }
  if (help) {
    o.command = Command::kHelp;
    return o;
  }
  if (version) {
    o.command = Command::kVersion;
    return o;
  }
  if (positional.empty())
    return Usage("no command given (capture, follow, results, sessions, status, stop; see --help)");
  const std::string& cmd = positional[0];
  static const std::map<std::string, std::pair<Command, bool>> kCommands = {
      {"capture", {Command::kCapture, false}}, {"follow", {Command::kFollow, true}},
      {"results", {Command::kResults, true}},  {"sessions", {Command::kSessions, false}},
      {"status", {Command::kStatus, false}},   {"stop", {Command::kStop, true}},
      {"help", {Command::kHelp, false}},
  };
  auto c = kCommands.find(cmd);
  if (c == kCommands.end()) return Usage(StrCat("unknown command \"", cmd, "\" (see netmonctl --help)"));
  o.command = c->second.first;
  bool wants_session = c->second.second;
  if (wants_session) {
    if (positional.size() < 2) return Usage(StrCat(cmd, " needs a SESSION id"));
    o.session = positional[1];
  }
  if (positional.size() > (wants_session ? 2u : 1u)) {
    return Usage(StrCat("unexpected argument \"", positional[wants_session ? 2 : 1], "\""));
  }
  if (!o.agent.empty() && !o.server.empty()) return Usage("--agent and --server exclude each other");
  if (o.server.empty() && o.agent.empty()) o.agent = kDefaultAgent;
  if (o.command == Command::kStop && o.via_agent()) {
    return Usage("stop needs --server: ServiceRadar's AgentService has no way to stop a capture");
  }
  if (!o.session_id.empty() && o.via_agent()) {
    return Usage("--session-id needs --server: the agent generates the session id itself");
  }
  return o;
}

absl::StatusOr<rpc::SecurityConfig> ResolveSecurity(const CliOptions& o, const char* env_security) {
  auto from_file = [](const std::string& path) -> absl::StatusOr<rpc::SecurityConfig> {
    std::ifstream in(path, std::ios::binary);
    if (!in) return ErrnoError("read --security file", path, errno != 0 ? errno : ENOENT);
    std::ostringstream buf;
    buf << in.rdbuf();
    auto c = rpc::ParseSecurityConfigText(buf.str(), path);
    if (!c.ok()) return absl::InvalidArgumentError(std::string(c.status().message()));
    return c;
  };
  if (!o.security_file.empty()) {
    auto c = from_file(o.security_file);
    if (c.ok() && !o.server_name.empty()) c->server_name = o.server_name;
    return c;
  }
  auto join = [&](const std::string& f) {
    if (f.empty() || o.cert_dir.empty() || std::filesystem::path(f).is_absolute()) return f;
    return (std::filesystem::path(o.cert_dir) / f).string();
  };
  if (!o.cert.empty() || !o.key.empty() || !o.ca.empty() || !o.cert_dir.empty()) {
    rpc::SecurityConfig c;
    c.mode = rpc::SecurityConfig::Mode::kMtls;
    c.cert_dir = o.cert_dir;
    c.server_name = o.server_name;
    bool dev_layout = o.cert.empty() && o.key.empty() && o.ca.empty();
    c.tls.cert_file = join(dev_layout ? "client.pem" : o.cert);
    c.tls.key_file = join(dev_layout ? "client-key.pem" : o.key);
    c.tls.ca_file = join(dev_layout ? "ca.pem" : o.ca);
    c.tls.client_ca_file = c.tls.ca_file;
    for (auto [flag, value] :
         {std::pair{"--cert", &c.tls.cert_file}, {"--key", &c.tls.key_file}, {"--ca", &c.tls.ca_file}}) {
      if (value->empty()) return Usage(StrCat("mTLS needs --cert, --key and --ca; ", flag, " is missing"));
    }
    return c;
  }
  if (o.insecure) return rpc::SecurityConfig{};
  if (env_security != nullptr && env_security[0] != '\0') return from_file(env_security);
  return Usage(
      "no credentials: pass --security FILE, --cert/--key/--ca (or --cert-dir DIR), or --insecure for a "
      "plaintext loopback server");
}

}  // namespace netmon::cli
