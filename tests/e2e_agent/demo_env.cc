// SPDX-License-Identifier: Apache-2.0
// netmon-demo-env: the test environment for scripts/demo.sh, as one process whose lifetime is the environment's.
// It builds two throwaway hosts (testenv::Topology: namespaces "client" and "server" joined by a veth pair), a
// real DNS server (dnsmasq) and a TCP server in "server", prints one JSON line describing them, and then obeys
// commands on stdin:
//   traffic SECONDS [DELAY]   after DELAY seconds (default 1), for SECONDS: TCP connections from a process named
//                             "demo-client" (known sizes), DNS queries with dig (A, AAAA, CNAME, NXDOMAIN), and
//                             UDP datagrams from "demo-udp"; every generator line is echoed on stdout, then
//                             {"traffic": "done", ...}
// End of stdin, SIGINT or SIGTERM ends it (promptly, also during a traffic run); every namespace, process and veth goes
// with it (RAII), and a killed run's leftovers are swept by the next start.
#include <poll.h>
#include <signal.h>
#include <sys/signalfd.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <sstream>
#include <string>
#include <thread>

#include "common/unique_fd.h"
#include "nlohmann/json.hpp"
#include "testenv/testenv.h"

namespace netmon::testenv {
namespace {

using nlohmann::json;
using Clock = std::chrono::steady_clock;

int g_signal_fd = -1;
bool g_stopping = false;

// Waits up to `timeout` for `fd` to be readable or a stop signal; false once a signal has come.
bool WaitFor(int fd, std::chrono::milliseconds timeout) {
  std::array<pollfd, 2> fds = {{{g_signal_fd, POLLIN, 0}, {fd, POLLIN, 0}}};
  int n = poll(fds.data(), fd >= 0 ? 2 : 1, static_cast<int>(timeout.count()));
  if (n > 0 && (fds[0].revents & POLLIN) != 0) g_stopping = true;
  return !g_stopping;
}

bool Stopping() {
  return g_stopping || !WaitFor(-1, std::chrono::milliseconds(0));
}

// Sleeps, or returns false at once when a stop signal comes.
bool Sleep(std::chrono::milliseconds d) {
  return WaitFor(-1, d) && !g_stopping;
}

// The next line of stdin; false at end of input or on a stop signal.
bool ReadLine(std::string* line) {
  static std::string buffer;
  while (true) {
    if (size_t nl = buffer.find('\n'); nl != std::string::npos) {
      *line = buffer.substr(0, nl);
      buffer.erase(0, nl + 1);
      return true;
    }
    if (!WaitFor(STDIN_FILENO, std::chrono::milliseconds(-1))) return false;
    std::array<char, 512> chunk{};
    ssize_t n = read(STDIN_FILENO, chunk.data(), chunk.size());
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) return false;
    buffer.append(chunk.data(), static_cast<size_t>(n));
  }
}

void Emit(const json& j) {
  std::cout << j.dump() << std::endl;  // a line at a time: the script reads it as it comes
}

int Fail(const std::string& what, const absl::Status& s) {
  std::fprintf(stderr, "netmon-demo-env: %s: %s\n", what.c_str(), std::string(s.message()).c_str());
  return 1;
}

struct Env {
  std::optional<Topology> topo;
  std::optional<DnsServer> dns;
  std::optional<Process> tcp_server;
  std::optional<Process> udp_server;
  std::string tcp_addr;
  std::string udp_addr;
};

void Traffic(Env& env, int seconds) {
  const std::string server_ip = env.topo->server_end().ipv4;
  const char* names[][2] = {{"a.nm.test", "A"},    {"aaaa.nm.test", "AAAA"}, {"alias.nm.test", "A"},
                            {"many.nm.test", "A"}, {"missing.nm.test", "A"}, {"txt.nm.test", "TXT"}};
  int connections = 0, queries = 0, datagrams = 0;
  auto end = Clock::now() + std::chrono::seconds(seconds);
  for (int round = 0; Clock::now() < end && !Stopping(); ++round) {
    int64_t send = 4096LL << (round % 6);  // 4 KiB .. 128 KiB
    auto c = Process::Spawn(&env.topo->client(), {TrafficgenPath(), "tcp-connect", "--name", "demo-client", "--to",
                                                  env.tcp_addr, "--send", std::to_string(send), "--recv", "2048"});
    if (c.ok()) {
      auto done = ExpectTrafficgenEvent(*c, "done", 10000);
      if (done.ok()) {
        Emit(json::parse(done->raw, nullptr, false));
        ++connections;
      }
      (void)c->Wait(5000);
    }
    const auto& q = names[round % 6];
    auto dig =
        RunCommand({"dig", "@" + server_ip, q[0], q[1], "+tries=1", "+time=2", "+short"}, &env.topo->client(), 10000);
    if (dig.ok()) {
      Emit({{"event", "dns"}, {"name", q[0]}, {"type", q[1]}, {"answer", dig->out}});
      ++queries;
    }
    auto u = Process::Spawn(&env.topo->client(), {TrafficgenPath(), "udp-send", "--name", "demo-udp", "--to",
                                                  env.udp_addr, "--bytes", "512", "--count", "4"});
    if (u.ok()) {
      if (auto done = ExpectTrafficgenEvent(*u, "done", 10000); done.ok()) {
        Emit(json::parse(done->raw, nullptr, false));
        datagrams += 4;
      }
      (void)u->Wait(5000);
    }
    Sleep(std::chrono::milliseconds(400));
  }
  Emit({{"traffic", "done"}, {"connections", connections}, {"queries", queries}, {"datagrams", datagrams}});
}

int Main() {
  // SIGINT/SIGTERM end the environment like end of stdin does: both are polled together (signalfd), so neither a
  // blocked read nor a traffic run delays the teardown.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  UniqueFd sigfd(signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK));
  if (!sigfd.valid()) return Fail("signalfd", absl::InternalError(strerror(errno)));
  g_signal_fd = sigfd.get();

  SweepLeftovers();
  Env env;
  auto topo = Topology::Create();
  if (!topo.ok()) return Fail("topology", topo.status());
  env.topo.emplace(std::move(*topo));
  const VethEnd& s = env.topo->server_end();
  auto dns = DnsServer::Start(env.topo->server(), s.ipv4, s.ipv6);
  if (!dns.ok()) return Fail("dnsmasq", dns.status());
  env.dns.emplace(std::move(*dns));
  auto tcp = Process::Spawn(&env.topo->server(), {TrafficgenPath(), "tcp-serve", "--name", "demo-server", "--listen",
                                                  s.ipv4 + ":8080", "--recv", "0", "--send", "2048", "--count",
                                                  "100000", "--accept-fork", "--timeout-ms", "3600000"});
  if (!tcp.ok()) return Fail("tcp server", tcp.status());
  auto listening = ExpectTrafficgenEvent(*tcp, "listening", 10000);
  if (!listening.ok()) return Fail("tcp server", listening.status());
  env.tcp_addr = listening->local;
  env.tcp_server.emplace(std::move(*tcp));
  auto udp = Process::Spawn(&env.topo->server(), {TrafficgenPath(), "udp-serve", "--name", "demo-udpd", "--listen",
                                                  s.ipv4 + ":9999", "--count", "1000000", "--timeout-ms", "3600000"});
  if (!udp.ok()) return Fail("udp server", udp.status());
  auto ulisten = ExpectTrafficgenEvent(*udp, "listening", 10000);
  if (!ulisten.ok()) return Fail("udp server", ulisten.status());
  env.udp_addr = ulisten->local;
  env.udp_server.emplace(std::move(*udp));

  Emit({{"client_netns", env.topo->client().path()},
        {"client_if", env.topo->client_end().ifname},
        {"client_ip", env.topo->client_end().ipv4},
        {"server_netns", env.topo->server().path()},
        {"server_ip", s.ipv4},
        {"tcp_server", env.tcp_addr},
        {"udp_server", env.udp_addr},
        {"dns_server", s.ipv4}});

  std::string line;
  while (ReadLine(&line)) {
    std::istringstream cmd(line);
    std::string verb;
    int seconds = 0, delay = 1;
    cmd >> verb >> seconds >> delay;
    if (verb == "traffic" && seconds > 0) {
      if (!Sleep(std::chrono::seconds(delay))) break;
      Traffic(env, seconds);
    } else if (!verb.empty()) {
      Emit({{"error", "unknown command: " + line}});
    }
  }
  return 0;
}

}  // namespace
}  // namespace netmon::testenv

int main() {
  return netmon::testenv::Main();
}
