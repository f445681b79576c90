// SPDX-License-Identifier: Apache-2.0
#include "e2e_env.h"

#include <signal.h>

#include <atomic>
#include <fstream>
#include <sstream>

#include "common/str_cat.h"

namespace netmon::e2e {

const char* AgentBinary() {
  return NETMON_AGENT_BIN;
}
const char* CtlBinary() {
  return NETMONCTL_BIN;
}
const char* ServerBinary() {
  return NETMON_SERVER_BIN;
}

nlohmann::json AgentProcess::Config(const std::string& monitor_address) {
  return {{"listen_addr", "127.0.0.1:0"},
          {"agent_id", "e2e-agent"},
          {"security", agent::testing::MtlsJson("agent")},
          {"network_monitor",
           {{"address", monitor_address}, {"security", agent::testing::MtlsJson("agent", "ca", "netmon-server")}}}};
}

absl::StatusOr<AgentProcess> AgentProcess::Start(const agent::testing::TempDir& dir, nlohmann::json config) {
  static std::atomic<int> n{0};
  if (!config.contains("listen_addr")) config["listen_addr"] = "127.0.0.1:0";
  std::string path = StrCat(dir.path(), "/agent-", n++, ".json");
  std::ofstream(path) << config.dump(2);
  auto p = testenv::Process::Spawn(nullptr, {AgentBinary(), "--config", path, "--log-level", "warn"});
  if (!p.ok()) return p.status();
  auto line = p->ReadLine(20000);
  if (!line.ok())
    return absl::Status(line.status().code(), StrCat("netmon-agent did not get ready: ", line.status().message()));
  auto j = nlohmann::json::parse(*line, nullptr, false);
  if (j.is_discarded() || !j.contains("port")) return absl::InternalError("netmon-agent printed: " + *line);
  std::string listen = j.value("listening", "");
  std::string address = listen.rfind("unix", 0) == 0 ? listen : StrCat("127.0.0.1:", j["port"].get<int>());
  return AgentProcess(std::move(*p), address);
}

absl::StatusOr<int> AgentProcess::Stop() {
  if (absl::Status s = process_.Signal(SIGTERM); !s.ok()) return s;
  return process_.Wait(20000);
}

std::vector<std::string> CtlCredentials() {
  return {"--cert-dir", agent::testing::CertDir(), "--server-name", "netmon-agent"};
}

namespace {

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

// sh -c 'exec netmonctl "$@" 2>ERR' -- args...: stderr to a file so the test sees it without a second pipe.
std::vector<std::string> ShellArgv(const std::string& err_file, const std::vector<std::string>& args) {
  std::vector<std::string> argv = {"/bin/sh", "-c", StrCat("exec \"$0\" \"$@\" 2>'", err_file, "'"), CtlBinary()};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

std::string NextErrFile(const agent::testing::TempDir& dir) {
  static std::atomic<int> n{0};
  return StrCat(dir.path(), "/netmonctl-", n++, ".err");
}

}  // namespace

absl::StatusOr<CtlProcess> CtlProcess::Start(const agent::testing::TempDir& dir, const std::vector<std::string>& args) {
  std::string err = NextErrFile(dir);
  auto p = testenv::Process::Spawn(nullptr, ShellArgv(err, args));
  if (!p.ok()) return p.status();
  return CtlProcess(std::move(*p), err);
}

CtlResult CtlProcess::Finish(int timeout_ms) {
  CtlResult r;
  process_.CloseStdin();
  auto out = process_.ReadAll(timeout_ms);
  if (out.ok()) r.out = *out;
  auto code = process_.Wait(out.ok() ? 10000 : 0);
  r.exit_code = code.ok() ? *code : -1;
  r.err = ReadFile(err_file_);
  return r;
}

CtlResult RunCtl(const agent::testing::TempDir& dir, const std::vector<std::string>& args, int timeout_ms) {
  auto p = CtlProcess::Start(dir, args);
  if (!p.ok()) return CtlResult{-1, "", std::string(p.status().message())};
  return p->Finish(timeout_ms);
}

std::vector<nlohmann::json> JsonLines(const std::string& text) {
  std::vector<nlohmann::json> out;
  std::istringstream in(text);
  std::string line;
  while (std::getline(in, line)) {
    if (!line.empty()) out.push_back(nlohmann::json::parse(line, nullptr, false));
  }
  return out;
}

}  // namespace netmon::e2e
