// SPDX-License-Identifier: Apache-2.0
// netmon-agent --config FILE [--log-level LEVEL]: ServiceRadar's AgentService for network captures, in front of
// netmon-server (docs/architecture.md §2, §4.5). Stops cleanly on SIGINT/SIGTERM.
#include <signal.h>
#include <unistd.h>

#include <cstdio>
#include <cstring>
#include <memory>
#include <string>
#include <string_view>

#include "agent/agent_service.h"
#include "agent/config.h"
#include "agent/monitor_client.h"
#include "common/log.h"
#ifdef NETMON_AGENT_HAVE_NATS
#include "agent/nats_forwarder.h"
#endif
#include "rpc/credentials.h"
#include "rpc/rpc_server.h"

namespace netmon::agent {
namespace {

constexpr int kExitUsage = 2;
constexpr int kExitRuntime = 1;

constexpr char kHelp[] =
    "usage: netmon-agent --config FILE [--log-level debug|info|warn|error]\n"
    "\n"
    "Serves ServiceRadar's monitoring.AgentService (TriggerNetworkCapture; StreamResults, GetResults and\n"
    "GetStatus for service_type \"network_capture\") and grpc.health.v1.Health, and calls netmon-server.\n"
    "\n"
    "FILE is JSON; every key is optional, unknown keys are errors:\n"
    "  listen_addr          where pollers reach the agent (default 0.0.0.0:50051; unix:/path allowed)\n"
    "  agent_id             reported in answers (default: the host name)\n"
    "  security             SecurityConfig for the server side: {\"mode\": \"mtls\"|\"none\", \"cert_dir\",\n"
    "                       \"server_name\", \"role\", \"tls\": {\"cert_file\", \"key_file\", \"ca_file\",\n"
    "                       \"client_ca_file\"}}; mode none only on loopback or a unix socket\n"
    "  allowed_clients      certificate CN/SANs allowed to call (default: any client the CA signed)\n"
    "  network_monitor      {\"address\" (default 127.0.0.1:50085), \"security\" (client side),\n"
    "                       \"call_timeout_ms\" (default 5000)}\n"
    "  max_chunk_bytes      JSON bytes per ResultsChunk (default 1000000)\n"
    "  max_events_per_poll  events one poll delivers at most (default 250000)\n"
    "  poll_timeout_ms      how long one poll reads from netmon-server at most (default 10000)\n"
    "  log_level            debug|info|warn|error (default info; --log-level wins)\n"
    "  nats                 optional: publish every event of every triggered capture to NATS JetStream:\n"
    "                       {\"url\" (required), \"subject\" (default events.netmon.<agent_id>), \"stream\"\n"
    "                       (default events), \"max_buffer_events\", \"max_followers\", ... (see README)}\n";

int Fail(int code, const std::string& message) {
  (void)fprintf(stderr, "netmon-agent: %s\n", message.c_str());
  return code;
}
int Fail(int code, const absl::Status& status) {
  return Fail(code, std::string(status.message()));
}

int Run(int argc, char** argv) {
  std::string config_path;
  std::string level_flag;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    auto value = [&](std::string_view name, std::string* out) {
      if (a == name) {
        if (i + 1 >= argc) return false;
        *out = argv[++i];
        return true;
      }
      if (a.substr(0, name.size() + 1) == std::string(name) + "=") {
        *out = std::string(a.substr(name.size() + 1));
        return true;
      }
      return false;
    };
    if (a == "-h" || a == "--help") {
      (void)fputs(kHelp, stdout);
      return 0;
    }
    if (value("--config", &config_path) || value("--log-level", &level_flag)) continue;
    if (a == "--config" || a == "--log-level") return Fail(kExitUsage, StrCat(a, " needs a value (see --help)"));
    return Fail(kExitUsage, StrCat("unknown argument \"", a, "\" (see --help)"));
  }
  if (config_path.empty()) return Fail(kExitUsage, "--config FILE is required (see --help)");
  auto config = LoadAgentConfig(config_path);
  if (!config.ok()) return Fail(kExitUsage, config.status());
  log::Level level = config->log_level;
  if (!level_flag.empty() && !log::ParseLevel(level_flag, &level)) {
    return Fail(kExitUsage, StrCat("--log-level \"", level_flag, "\" is not one of debug, info, warn, error"));
  }
  log::SetLevel(level);

  // Signals are taken by sigwait below; block them before gRPC starts its threads, which inherit the mask.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  if ((config->security.mtls() || config->network_monitor.security.mtls())) {
    if (absl::Status s = rpc::RestrictTlsToVersion13(); !s.ok()) {
      NETMON_LOG(kWarn, "agent", "TLS stays at gRPC's minimum (1.2): ", s.message());
    }
  }
  auto monitor = MonitorClient::Create(config->network_monitor);
  if (!monitor.ok()) return Fail(kExitUsage, monitor.status());

    // Started before the gRPC server, so no trigger can slip past it; it connects to NATS in the background.
#ifdef NETMON_AGENT_HAVE_NATS
  std::unique_ptr<NatsForwarder> forwarder;
  if (config->nats.enabled) {
    auto f = NatsForwarder::Start(config->network_monitor, config->agent_id, config->nats);
    if (!f.ok()) return Fail(kExitUsage, f.status());
    forwarder = std::move(*f);
  }
#else
  if (config->nats.enabled) return Fail(kExitUsage, "nats: this netmon-agent was built without libnats");
#endif

  AgentOptions opts;
  opts.agent_id = config->agent_id;
  opts.max_chunk_bytes = config->max_chunk_bytes;
  opts.max_events_per_poll = config->max_events_per_poll;
  opts.poll_timeout = config->poll_timeout;
  opts.allow = rpc::ClientAllowList(config->allowed_clients);
#ifdef NETMON_AGENT_HAVE_NATS
  opts.observer = forwarder.get();
#endif
  AgentServiceImpl service(monitor->get(), opts);

  auto server = rpc::RpcServer::Start(config->listen_addr, config->security, {&service});
  if (!server.ok()) {
    bool config_problem = server.status().code() == absl::StatusCode::kFailedPrecondition ||
                          server.status().code() == absl::StatusCode::kInvalidArgument ||
                          server.status().code() == absl::StatusCode::kNotFound;
    return Fail(config_problem ? kExitUsage : kExitRuntime, server.status());
  }
  std::string where = config->listen_addr;
  if ((*server)->port() != 0 && where.size() >= 2 && where.substr(where.size() - 2) == ":0") {
    where = StrCat(where.substr(0, where.size() - 1), (*server)->port());
  }
  NETMON_LOG(kInfo, "agent", "agent \"", config->agent_id, "\" listening on ", where, " (",
             config->security.mtls() ? "mTLS" : "plaintext", "), netmon-server at ", config->network_monitor.address);

  // One JSON line on stdout when ready (as netmon-server does), so scripts and tests learn an ephemeral port.
  std::printf("{\"listening\": \"%s\", \"port\": %d, \"pid\": %d}\n", config->listen_addr.c_str(), (*server)->port(),
              static_cast<int>(getpid()));
  std::fflush(stdout);

  int sig = 0;
  sigwait(&signals, &sig);
  NETMON_LOG(kInfo, "agent", "stopping on ", strsignal(sig));
  (*server)->Shutdown(std::chrono::milliseconds(5000));
#ifdef NETMON_AGENT_HAVE_NATS
  // After the server: no trigger can arrive any more. Bounded by nats.flush_timeout_ms; logs the counters.
  if (forwarder) (void)forwarder->Stop();
#endif
  return 0;
}

}  // namespace
}  // namespace netmon::agent

int main(int argc, char** argv) {
  return netmon::agent::Run(argc, argv);
}
