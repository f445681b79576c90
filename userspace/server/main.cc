// SPDX-License-Identifier: Apache-2.0
// netmon-server: on-demand, process-attributed network capture (docs/architecture.md §4.5).
//   netmon-server --config FILE [--log-level debug|info|warn|error]
// Prints one JSON line on stdout once it serves ({"listening": "<address>", "port": N, "pid": P}); logs go to
// stderr. SIGINT/SIGTERM end every running capture with its final flush and final chunk, detach everything and
// exit 0. A bad configuration exits 1 with a one-line reason; bad usage exits 2.
#include <bpf/libbpf.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <string>

#include "bpf/libbpf_log.h"
#include "bpf/mounts.h"
#include "bpf/tc_attachment.h"
#include "common/log.h"
#include "common/str_cat.h"
#include "rpc/credentials.h"
#include "rpc/network_monitor_service.h"
#include "rpc/rpc_server.h"
#include "server/capabilities.h"
#include "server/config.h"
#include "server/engine.h"
#include "server/kernel_backend.h"
#include "server/stale_sweep.h"
#include "session/session_manager.h"

namespace netmon::server {
namespace {

constexpr char kUsage[] =
    "usage: netmon-server --config FILE [--log-level debug|info|warn|error]\n"
    "\n"
    "On-demand, process-attributed network capture: serves network_monitor.NetworkMonitorService and\n"
    "grpc.health.v1.Health. BPF programs are attached only while a capture runs.\n"
    "\n"
    "  --config FILE      JSON configuration (required); unknown keys are errors\n"
    "  --log-level LEVEL  overrides the configuration's log_level\n"
    "  --help             this text\n"
    "\n"
    "Configuration keys (defaults in brackets):\n"
    "  listen_addr [127.0.0.1:50085] (host:port or unix:/path), security (ServiceRadar SecurityConfig:\n"
    "  mode none|mtls, cert_dir, server_name, role, tls{cert_file,key_file,ca_file,client_ca_file}),\n"
    "  allowed_clients [any verified client], interfaces (names, or {name, ingress: tc|xdp, netns}),\n"
    "  max_sessions [8], max_duration_seconds [3600], result_ttl_seconds [600], max_events_per_session [1000000],\n"
    "  max_retained_bytes [536870912], flush_interval_ms [2000], chunk_max_events [2000], owner_map_entries,\n"
    "  tuple_map_entries, flow_map_entries [65536], sock_ringbuf_bytes, dns_ringbuf_bytes [4194304],\n"
    "  dns_ports [[53]], release_grace_ms [5000], cgroup_path [the cgroup2 mount], log_level [info]\n"
    "\n"
    "Plaintext (mode none) is refused anywhere but loopback or a unix socket. Needs root or CAP_BPF,\n"
    "CAP_PERFMON, CAP_NET_ADMIN (and CAP_SYS_ADMIN where the kernel demands it); everything else is dropped.\n";

int Fail(int code, const std::string& reason) {
  std::fprintf(stderr, "netmon-server: %s\n", reason.c_str());
  return code;
}

int Run(int argc, char** argv) {
  std::string config_path, level_override;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto value = [&](const std::string& flag, std::string* out) {
      if (a == flag) {
        if (i + 1 >= argc) return false;
        *out = argv[++i];
        return true;
      }
      if (a.rfind(flag + "=", 0) == 0) {
        *out = a.substr(flag.size() + 1);
        return true;
      }
      return false;
    };
    if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    }
    if (value("--config", &config_path) || value("--log-level", &level_override)) continue;
    return Fail(2, StrCat("unknown or incomplete argument \"", a, "\" (see --help)"));
  }
  if (config_path.empty()) return Fail(2, "--config FILE is required (see --help)");

  // Signals are taken synchronously by this thread; every thread started later inherits the mask.
  sigset_t stop_signals;
  sigemptyset(&stop_signals);
  sigaddset(&stop_signals, SIGINT);
  sigaddset(&stop_signals, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &stop_signals, nullptr);
  signal(SIGPIPE, SIG_IGN);

  auto config = LoadServerConfig(config_path);
  if (!config.ok()) return Fail(1, std::string(config.status().message()));
  log::Level level;
  std::string level_name = level_override.empty() ? config->log_level : level_override;
  if (!log::ParseLevel(level_name, &level)) {
    return Fail(2, StrCat("--log-level: \"", level_name, "\" is not debug, info, warn or error"));
  }
  log::SetLevel(level);

  // Unreadable certificates are a configuration error: say so before loading anything.
  if (config->security.mtls()) {
    if (auto m = rpc::LoadTlsMaterial(config->security); !m.ok()) return Fail(1, std::string(m.status().message()));
  }
  auto lock = InstanceLock::Acquire();
  if (!lock.ok()) return Fail(1, std::string(lock.status().message()));

  if (config->security.mtls()) {
    if (absl::Status s = rpc::RestrictTlsToVersion13(); !s.ok()) {
      NETMON_LOG(kWarn, "server", "TLS 1.2 stays enabled: ", s.message());
    }
  }
  for (auto [what, res] : {std::pair{"bpffs", bpf::EnsureBpffs()}, {"tracefs", bpf::EnsureTracefs()}}) {
    if (!res.ok()) {
      NETMON_LOG(kWarn, "server", what, " unavailable: ", res.status().message());
    } else if (res->mounted_now) {
      NETMON_LOG(kInfo, "server", "mounted ", what, " at ", res->path);
    }
  }
  std::string cgroup_root = config->cgroup_path;
  if (cgroup_root.empty()) {
    if (auto cg = bpf::FindCgroup2Mount(); cg.ok()) cgroup_root = *cg;
  }
  std::vector<std::string> netns_paths;
  for (const auto& i : config->interfaces) {
    if (!i.netns.empty()) netns_paths.push_back(i.netns);
  }
  if (lock->sole()) {
    // The sweep asks every interface for clsact filters, and libbpf reports each interface without a clsact qdisc
    // as a kernel error: expected here, so libbpf stays quiet during the sweep (removals are logged by the sweep).
    libbpf_set_print(nullptr);
    SweepReport swept = SweepStale(cgroup_root, "/sys/fs/bpf", netns_paths);
    if (swept.tc_xdp + swept.cgroup + swept.pins > 0) {
      NETMON_LOG(kWarn, "server", "removed leftovers of an earlier run: ", swept.tc_xdp, " TC/XDP, ", swept.cgroup,
                 " cgroup attachments, ", swept.pins, " pins");
    }
  } else {
    NETMON_LOG(kWarn, "server",
               "another netmon-server runs on this host: no start-up sweep (its attachments are "
               "not leftovers); two servers on one interface will conflict");
  }
  if (absl::Status s = lock->Share(); !s.ok()) NETMON_LOG(kWarn, "server", s.message());
  bpf::RouteLibbpfLog();  // from now on one log stream: libbpf's messages go through ours

  bpf::KeepCreatedClsact(true);  // see there: no qdisc churn at every capture start and end

  // Before any other thread exists (capabilities are per thread; gRPC and the engine start theirs below). What
  // loading and attaching need is kept.
  size_t colon = config->listen_addr.rfind(':');
  bool low_port = config->listen_addr.rfind("unix", 0) != 0 && colon != std::string::npos &&
                  std::atoi(config->listen_addr.c_str() + colon + 1) < 1024 &&
                  std::atoi(config->listen_addr.c_str() + colon + 1) > 0;
  if (absl::Status s = KeepOnlyCapabilities(ServerCapabilities(low_port)); !s.ok()) {
    NETMON_LOG(kWarn, "server", "could not drop capabilities: ", s.message());
  }

  // Listen first: while the programs load, a client gets UNAVAILABLE saying the server is starting (and the
  // health service NOT_SERVING), not a refused connection or a hang.
  rpc::ServiceOptions so;
  so.chunk_max_events = config->chunk_max_events;
  rpc::NetworkMonitorServiceImpl service(rpc::ClientAllowList(config->allowed_clients), so);
  auto server = rpc::RpcServer::Start(config->listen_addr, config->security, {&service}, /*serving=*/false);
  if (!server.ok()) return Fail(1, std::string(server.status().message()));

  auto backend = KernelBackend::Create(*config);
  if (!backend.ok()) {
    (*server)->Shutdown(std::chrono::milliseconds(0));
    return Fail(1, StrCat("cannot load the capture programs: ", backend.status().message()));
  }

  EngineOptions eo;
  eo.flush_interval_ms = config->flush_interval_ms;
  Engine engine(backend->get(), eo);
  session::ManagerOptions mo;
  mo.max_sessions = config->max_sessions;
  mo.max_duration_seconds = config->max_duration_seconds;
  mo.result_ttl_seconds = config->result_ttl_seconds;
  mo.max_events_per_session = config->max_events_per_session;
  mo.max_retained_bytes = config->max_retained_bytes;
  session::SessionManager sessions(
      mo, session::SystemClock::Get(),
      [&engine](const std::vector<netmon_filter>& f, size_t live) { return engine.Apply(f, live); },
      session::CheckProcessExists, [&engine] { return engine.Counters(); });
  engine.Start(&sessions);

  rpc::StatusSource status;
  status.hooks = [&engine] { return engine.Hooks(); };
  status.interfaces_not_attached = [&engine] { return engine.InterfacesNotAttached(); };
  for (const auto& i : config->interfaces) {
    status.interfaces.push_back(i.netns.empty() ? i.name : StrCat(i.name, "@", i.netns));
  }
  status.programs = (*backend)->ProgramLoads();
  uint64_t verify_ns = 0;
  for (const bpf::ProgramLoad& p : status.programs) verify_ns += p.load_ns;
  NETMON_LOG(kInfo, "server", "loaded ", status.programs.size(), " BPF programs in ", verify_ns / 1'000'000,
             " ms of verification");
  service.Ready(&sessions, std::move(status));
  (*server)->SetServing(true);
  NETMON_LOG(kInfo, "server", "serving on ", config->listen_addr, " (", config->security.mtls() ? "mtls" : "plaintext",
             "), ",
             config->all_interfaces ? std::string("every interface of its namespace")
                                    : StrCat(config->interfaces.size(), " interfaces"),
             ", capabilities ", EffectiveCapabilities());
  std::printf("{\"listening\": \"%s\", \"port\": %d, \"pid\": %d}\n", config->listen_addr.c_str(), (*server)->port(),
              static_cast<int>(getpid()));
  std::fflush(stdout);

  int sig = 0;
  sigwait(&stop_signals, &sig);
  NETMON_LOG(kInfo, "server", "got ", strsignal(sig), ": ending captures and detaching");
  engine.Stop(std::chrono::seconds(10));
  bpf::KeepCreatedClsact(false);  // whatever detaches after this (the backend's destructor) cleans up after itself
  if (int n = bpf::ReleaseKeptClsact(); n > 0)
    NETMON_LOG(kInfo, "server", "removed ", n, " clsact qdisc(s) we created");
  service.Shutdown();
  (*server)->Shutdown(std::chrono::seconds(5));
  NETMON_LOG(kInfo, "server", "stopped");
  return 0;
}

}  // namespace
}  // namespace netmon::server

int main(int argc, char** argv) {
  return netmon::server::Run(argc, argv);
}
