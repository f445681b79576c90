// SPDX-License-Identifier: Apache-2.0
// netmon-trafficgen: real processes with known PIDs, names and exact byte counts, for tests that compare what
// netmon reports with what was really sent. See Usage() for the modes.
#include <sys/prctl.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <set>
#include <string>

#include "testenv/trafficgen/modes.h"
#include "testenv/trafficgen/net.h"
#include "testenv/trafficgen/report.h"

namespace netmon::trafficgen {
namespace {

constexpr int kUsageExit = 64;  // EX_USAGE

const char kUsage[] =
    "usage: netmon-trafficgen MODE [--name COMM] [--timeout-ms T] OPTIONS\n"
    "  tcp-connect --to ADDR:PORT [--bind ADDR[:PORT]] [--send N] [--recv M] [--wait-go] [--hold-ms T]\n"
    "  tcp-serve   --listen ADDR:PORT [--recv N] [--send M] [--count K] [--accept-fork] [--reuseport]\n"
    "              [--accept-delay-ms T]\n"
    "  udp-send    --to ADDR:PORT [--bytes N] [--count K] [--connect] [--recv-reply] [--bind ADDR[:PORT]]\n"
    "              [--interval-ms T] [--wait-go]\n"
    "  udp-serve   --listen ADDR:PORT [--count K] [--reply N] [--reuseport]\n"
    "Prints one JSON object per line on stdout: {\"event\": listening|connected|accepted|child|done|error, \"pid\",\n"
    "\"child_pid\"?, \"local\", \"remote\", \"sent\", \"received\", \"datagrams\"?, \"op\"?, \"error\"?}. IPv6 "
    "addresses\n"
    "print as [addr]:port; port 0 listens on an ephemeral port (see \"local\"). Every wait is bounded by\n"
    "--timeout-ms (default 10000). Exit status: 0 done, 2 error (after an \"error\" line), 64 usage.\n";

[[noreturn]] void UsageError(const std::string& message) {
  Report r;
  r.event = "error";
  r.op = "usage";
  r.error = "EINVAL";
  r.message = message;
  Emit(r);
  (void)fprintf(stderr, "netmon-trafficgen: %s\n%s", message.c_str(), kUsage);
  exit(kUsageExit);
}

struct Mode {
  const char* name;
  int (*run)(const Options&, const Common&);
  std::set<std::string> valued;
  std::set<std::string> flags;
};

const std::set<std::string> kCommonValued = {"name", "timeout-ms"};

}  // namespace

Endpoint RequireEndpoint(const Options& opts, const char* key, bool allow_no_port) {
  if (!opts.Has(key)) UsageError(std::string("--") + key + " is required");
  Endpoint ep;
  if (!ParseEndpoint(opts.Str(key), allow_no_port, &ep)) {
    UsageError(std::string("--") + key + " \"" + opts.Str(key) + "\" is not " +
               (allow_no_port ? "an address or ADDR:PORT" : "ADDR:PORT (IPv6 as [addr]:port)"));
  }
  return ep;
}

int64_t IntOption(const Options& opts, const char* key, int64_t fallback) {
  bool ok = true;
  int64_t value = opts.Int(key, fallback, &ok);
  if (!ok) UsageError(std::string("--") + key + " needs a non-negative integer, got \"" + opts.Str(key) + "\"");
  return value;
}

int Main(int argc, char** argv) {
  InitReporting();
  const Mode modes[] = {
      {"tcp-connect", TcpConnect, {"to", "bind", "send", "recv", "hold-ms"}, {"wait-go"}},
      {"tcp-serve", TcpServe, {"listen", "recv", "send", "count", "accept-delay-ms"}, {"accept-fork", "reuseport"}},
      {"udp-send", UdpSend, {"to", "bind", "bytes", "count", "interval-ms"}, {"connect", "recv-reply", "wait-go"}},
      {"udp-serve", UdpServe, {"listen", "count", "reply"}, {"reuseport"}},
  };
  if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0) {
    (void)fputs(kUsage, argc < 2 ? stderr : stdout);
    return argc < 2 ? kUsageExit : 0;
  }
  for (const Mode& mode : modes) {
    if (strcmp(argv[1], mode.name) != 0) continue;
    std::set<std::string> valued = mode.valued;
    valued.insert(kCommonValued.begin(), kCommonValued.end());
    Options opts;
    std::string error;
    if (!opts.Parse(argc, argv, valued, mode.flags, &error)) UsageError(error);
    // First, so every event and every packet of this run belongs to the comm the test asked for.
    std::string comm = opts.Str("name", "nm-trafficgen");
    if (prctl(PR_SET_NAME, comm.c_str(), 0, 0, 0) != 0) Fail("prctl PR_SET_NAME", errno);
    Common common;
    common.timeout_ms = static_cast<int>(IntOption(opts, "timeout-ms", 10000));
    return mode.run(opts, common);
  }
  UsageError(std::string("unknown mode \"") + argv[1] + "\"");
}

}  // namespace netmon::trafficgen

int main(int argc, char** argv) {
  return netmon::trafficgen::Main(argc, argv);
}
