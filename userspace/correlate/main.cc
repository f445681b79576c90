// SPDX-License-Identifier: Apache-2.0
// netmon-correlate: enriches netmon NetworkEvents with the device inventory, NetFlow/IPFIX records and syslog/OTel
// logs (docs/architecture.md §2, FR-4). Reads JSON lines from a file or stdin and writes enriched JSON lines (the default on one
// machine), or consumes and publishes on NATS JetStream when nats.url is configured. docs/correlate.md documents
// the configuration.
#include <fcntl.h>
#include <signal.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <string>
#include <string_view>
#include <thread>

#include "common/log.h"
#include "common/str_cat.h"
#include "common/unique_fd.h"
#include "correlate/config.h"
#include "correlate/file_pipeline.h"
#include "correlate/nats_pipeline.h"
#include "correlate/service.h"

namespace {

using netmon::UniqueFd;
namespace nc = netmon::correlate;

constexpr char kUsage[] =
    "usage: netmon-correlate [--config FILE] [--log-level debug|info|warn|error] [--input FILE|-] [--output FILE|-]\n"
    "\n"
    "Enriches netmon NetworkEvents (JSON, one object per line) with the device inventory (Network Mapper),\n"
    "NetFlow v5/v9/IPFIX records and syslog/GELF/OTel logs.\n"
    "\n"
    "  --config FILE     JSON configuration (see docs/correlate.md); unknown keys are an error\n"
    "  --log-level L     debug, info, warn or error (overrides log_level in the config)\n"
    "  --input FILE|-    read events from FILE or stdin (the default when nats.url is not set)\n"
    "  --output FILE|-   write enriched events to FILE or stdout (default -)\n"
    "  --help            this text\n"
    "\n"
    "With nats.url configured and no --input, events are consumed from JetStream (nats.input_subject) and enriched\n"
    "events published to nats.output_subject. SIGINT/SIGTERM stop cleanly; SIGHUP reloads the inventory file.\n"
    "Counters are logged at exit.\n";

int Fail(std::string_view why) {
  std::fprintf(stderr, "netmon-correlate: %.*s\n", static_cast<int>(why.size()), why.data());
  return 1;
}
int Fail(const absl::Status& st) {
  return Fail(std::string(st.message()));
}

}  // namespace

int main(int argc, char** argv) {
  std::string config_path, log_level, input, output = "-";
  bool input_given = false;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    auto value = [&](std::string* out) {
      if (i + 1 >= argc) return false;
      *out = argv[++i];
      return true;
    };
    bool ok = true;
    if (a == "--help" || a == "-h") {
      std::fputs(kUsage, stdout);
      return 0;
    } else if (a == "--config") {
      ok = value(&config_path);
    } else if (a == "--log-level") {
      ok = value(&log_level);
    } else if (a == "--input") {
      ok = value(&input);
      input_given = true;
    } else if (a == "--output") {
      ok = value(&output);
    } else {
      std::fprintf(stderr, "netmon-correlate: unknown argument %s\n%s", argv[i], kUsage);
      return 2;
    }
    if (!ok) {
      std::fprintf(stderr, "netmon-correlate: %s needs a value\n", argv[i]);
      return 2;
    }
  }

  nc::Config config;
  if (!config_path.empty()) {
    auto loaded = nc::LoadConfig(config_path);
    if (!loaded.ok()) return Fail(loaded.status());
    config = std::move(*loaded);
  }
  if (log_level.empty()) log_level = config.log_level;
  if (!log_level.empty()) {
    netmon::log::Level level;
    if (!netmon::log::ParseLevel(log_level, &level)) return Fail(netmon::StrCat("bad log level \"", log_level, "\""));
    netmon::log::SetLevel(level);
  }
  const bool nats_mode = config.nats.enabled() && !input_given;
  // assign(count, char), not = "-": GCC 12 at -O3 reports a false -Wrestrict inside libstdc++'s assignment of a
  // one-character literal here (GCC bug 105329).
  if (!nats_mode && input.empty()) input.assign(1, '-');

  UniqueFd in_file, out_file;
  int in_fd = STDIN_FILENO, out_fd = STDOUT_FILENO;
  if (!nats_mode && input != "-") {
    in_file.Reset(open(input.c_str(), O_RDONLY | O_CLOEXEC));
    if (!in_file.valid()) return Fail(netmon::StrCat("--input ", input, ": ", std::strerror(errno)));
    in_fd = in_file.get();
  }
  if (output != "-") {
    out_file.Reset(open(output.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644));
    if (!out_file.valid()) return Fail(netmon::StrCat("--output ", output, ": ", std::strerror(errno)));
    out_fd = out_file.get();
  }

  // Signals are taken by one thread with sigwait; every other thread (listeners, NATS, housekeeping) inherits the
  // blocked mask, so a signal can never interrupt them halfway. A closed output pipe is an error return, not death.
  signal(SIGPIPE, SIG_IGN);
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);
  sigaddset(&signals, SIGUSR1);  // used internally to wake the signal thread at exit
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);

  UniqueFd stop_fd(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!stop_fd.valid()) return Fail(netmon::StrCat("eventfd: ", std::strerror(errno)));
  std::atomic<bool> stop{false};

  nc::Service service(std::move(config));
  absl::Status st = service.Start();
  if (!st.ok()) return Fail(st);

  std::thread signal_thread([&] {
    while (true) {
      int sig = 0;
      if (sigwait(&signals, &sig) != 0) continue;
      if (sig == SIGHUP) {
        service.ReloadInventory();
        continue;
      }
      if (sig == SIGUSR1 && stop.load()) return;
      NETMON_LOG(kInfo, "correlate", "signal ", sig, ": stopping");
      stop.store(true);
      uint64_t one = 1;
      if (write(stop_fd.get(), &one, sizeof(one)) < 0) {
        // The eventfd counter cannot overflow from a handful of signals; the atomic flag is set anyway.
      }
      return;
    }
  });

  std::unique_ptr<nc::FilePipeline> file_pipeline;
  std::unique_ptr<nc::NatsPipeline> nats_pipeline;
  std::function<void(std::string*)> pipeline_stats;
  if (nats_mode) {
    nats_pipeline = std::make_unique<nc::NatsPipeline>(&service);
    pipeline_stats = [p = nats_pipeline.get()](std::string* o) { p->AppendCounters(o); };
    service.SetPipelineStats(pipeline_stats);
    st = nats_pipeline->Run(stop);
  } else {
    file_pipeline = std::make_unique<nc::FilePipeline>(&service, in_fd, out_fd, stop_fd.get());
    // The file pipeline's counters are plain fields of its own thread: they are logged at exit only.
    pipeline_stats = [p = file_pipeline.get()](std::string* o) { p->AppendCounters(o); };
    st = file_pipeline->Run();
  }

  // End the signal thread (if a signal ended it already, the SIGUSR1 stays pending in a blocked mask: harmless).
  stop.store(true);
  pthread_kill(signal_thread.native_handle(), SIGUSR1);
  signal_thread.join();
  service.SetPipelineStats(nullptr);
  service.Stop();
  NETMON_LOG(kInfo, "correlate", "counters ", service.StatsJson(pipeline_stats));
  if (!st.ok()) return Fail(st);
  return 0;
}
