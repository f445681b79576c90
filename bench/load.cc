// SPDX-License-Identifier: Apache-2.0
// netmon-bench-load: the two loads of bench/ that no stock tool generates at a useful rate (iperf3 covers bulk TCP
// and small-packet UDP): TCP connection churn and DNS queries. Both are single-threaded loops, so the rate they
// reach measures the cost the kernel (and any monitor hooked into it) adds per connection or per query. Every run
// is bounded in time and stops by itself; its result is one JSON line on stdout.
//
//   netmon-bench-load churn-serve --listen IP:PORT [--seconds S]     accept, read to EOF, close (server side)
//   netmon-bench-load churn --to IP:PORT --seconds S [--rate R] [--bytes B]
//   netmon-bench-load dns --server IP[:PORT] --seconds S [--rate R] [--window W] [--name NAME]
//
// churn: connect, send B bytes (default 100), close; one connection at a time; --rate paces the attempts (0 = as
// fast as possible). dns: A queries for NAME (default a.nm.test) over one UDP socket with at most W outstanding
// (default 32); an answer must come within 500 ms or the query counts as a timeout; --rate paces the queries.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <unordered_map>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

volatile sig_atomic_t g_stop = 0;

struct Args {
  std::string mode;
  std::string addr;
  double seconds = 3;
  double rate = 0;
  int bytes = 100;
  int window = 32;
  std::string name = "a.nm.test";
};

[[noreturn]] void Usage() {
  std::fprintf(stderr,
               "usage: netmon-bench-load churn-serve --listen IP:PORT [--seconds S]\n"
               "       netmon-bench-load churn --to IP:PORT --seconds S [--rate R] [--bytes B]\n"
               "       netmon-bench-load dns --server IP[:PORT] --seconds S [--rate R] [--window W] [--name N]\n");
  std::exit(2);
}

[[noreturn]] void Die(const char* what) {
  std::fprintf(stderr, "netmon-bench-load: %s: %s\n", what, std::strerror(errno));
  std::exit(1);
}

// "10.1.2.3:80" (IPv4 only: the bench topology's client and server talk IPv4).
sockaddr_in ParseAddr(const std::string& s, uint16_t default_port) {
  sockaddr_in sin{};
  sin.sin_family = AF_INET;
  size_t colon = s.rfind(':');
  std::string host = colon == std::string::npos ? s : s.substr(0, colon);
  int port = colon == std::string::npos ? default_port : std::atoi(s.c_str() + colon + 1);
  if (inet_pton(AF_INET, host.c_str(), &sin.sin_addr) != 1 || port <= 0 || port > 65535) {
    std::fprintf(stderr, "netmon-bench-load: not an IPv4 address:port: %s\n", s.c_str());
    std::exit(2);
  }
  sin.sin_port = htons(static_cast<uint16_t>(port));
  return sin;
}

double Since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

// Sleeps until attempt `n` is due under `rate` per second (no sleep when the loop is behind or unpaced).
void Pace(Clock::time_point t0, double rate, uint64_t n) {
  if (rate <= 0) return;
  auto due = t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(n / rate));
  auto now = Clock::now();
  if (due > now) {
    auto us = std::chrono::duration_cast<std::chrono::microseconds>(due - now).count();
    usleep(static_cast<useconds_t>(us));
  }
}

int ChurnServe(const Args& a) {
  sockaddr_in sin = ParseAddr(a.addr, 0);
  int ls = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (ls < 0) Die("socket");
  int one = 1;
  setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (bind(ls, reinterpret_cast<sockaddr*>(&sin), sizeof(sin)) != 0) Die("bind");
  if (listen(ls, 4096) != 0) Die("listen");
  socklen_t len = sizeof(sin);
  getsockname(ls, reinterpret_cast<sockaddr*>(&sin), &len);
  char ip[INET_ADDRSTRLEN];
  inet_ntop(AF_INET, &sin.sin_addr, ip, sizeof(ip));
  std::printf("{\"listening\": \"%s:%u\", \"pid\": %d}\n", ip, ntohs(sin.sin_port), static_cast<int>(getpid()));
  std::fflush(stdout);
  // The server outlives many client runs; --seconds bounds it anyway (default one hour) so it can never linger.
  const double limit = a.seconds > 3 ? a.seconds : 3600;
  auto t0 = Clock::now();
  uint64_t accepted = 0;
  std::vector<char> buf(65536);
  while (!g_stop && Since(t0) < limit) {
    pollfd p{ls, POLLIN, 0};
    if (poll(&p, 1, 200) <= 0) continue;
    int c = accept4(ls, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) continue;
    ++accepted;
    // Read to EOF (the client closes right after its send); the 1 s bound keeps a stuck client from stalling us.
    pollfd q{c, POLLIN, 0};
    while (poll(&q, 1, 1000) > 0) {
      ssize_t n = read(c, buf.data(), buf.size());
      if (n <= 0) break;
    }
    close(c);
  }
  close(ls);
  std::printf("{\"mode\": \"churn-serve\", \"accepted\": %llu}\n", static_cast<unsigned long long>(accepted));
  return 0;
}

int Churn(const Args& a) {
  sockaddr_in to = ParseAddr(a.addr, 0);
  std::vector<char> payload(static_cast<size_t>(a.bytes), 'x');
  uint64_t done = 0, errors = 0, attempts = 0, slow = 0;
  double max_ms = 0;
  int last_errno = 0;
  auto t0 = Clock::now();
  while (!g_stop && Since(t0) < a.seconds) {
    Pace(t0, a.rate, attempts++);
    auto c0 = Clock::now();
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) Die("socket");
    bool ok = connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof(to)) == 0;
    if (ok && !payload.empty()) ok = send(fd, payload.data(), payload.size(), MSG_NOSIGNAL) == a.bytes;
    if (!ok) last_errno = errno;
    close(fd);
    ok ? ++done : ++errors;
    // A connection that took a SYN retransmit (>= 1 s) or more: a lost packet, not a slow machine.
    double ms = Since(c0) * 1e3;
    max_ms = std::max(max_ms, ms);
    if (ms >= 500) ++slow;
  }
  double secs = Since(t0);
  std::printf(
      "{\"mode\": \"churn\", \"pid\": %d, \"connections\": %llu, \"errors\": %llu, \"last_error\": \"%s\", "
      "\"seconds\": %.4f, \"per_second\": %.1f, \"max_ms\": %.2f, \"over_500ms\": %llu}\n",
      static_cast<int>(getpid()), static_cast<unsigned long long>(done), static_cast<unsigned long long>(errors),
      errors ? std::strerror(last_errno) : "", secs, static_cast<double>(done) / secs, max_ms,
      static_cast<unsigned long long>(slow));
  return done > 0 ? 0 : 1;
}

// An RD A/IN query for `name` with `id`.
std::vector<uint8_t> DnsQuery(const std::string& name, uint16_t id) {
  std::vector<uint8_t> q = {
      static_cast<uint8_t>(id >> 8), static_cast<uint8_t>(id), 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
  size_t start = 0;
  while (start <= name.size()) {
    size_t dot = name.find('.', start);
    if (dot == std::string::npos) dot = name.size();
    if (dot > start) {
      q.push_back(static_cast<uint8_t>(dot - start));
      q.insert(q.end(), name.begin() + static_cast<long>(start), name.begin() + static_cast<long>(dot));
    }
    start = dot + 1;
  }
  q.insert(q.end(), {0, 0, 1, 0, 1});
  return q;
}

int Dns(const Args& a) {
  sockaddr_in to = ParseAddr(a.addr, 53);
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) Die("socket");
  if (connect(fd, reinterpret_cast<sockaddr*>(&to), sizeof(to)) != 0) Die("connect");
  const auto timeout = std::chrono::milliseconds(500);
  std::unordered_map<uint16_t, Clock::time_point> outstanding;
  uint64_t sent = 0, answers = 0, timeouts = 0, send_errors = 0;
  uint16_t next_id = static_cast<uint16_t>(getpid());
  uint8_t buf[1500];
  auto t0 = Clock::now();
  auto sweep = t0;
  while (!g_stop) {
    double elapsed = Since(t0);
    bool sending = elapsed < a.seconds;
    if (!sending && outstanding.empty()) break;
    if (!sending &&
        Clock::now() - (t0 + std::chrono::duration_cast<Clock::duration>(std::chrono::duration<double>(a.seconds))) >
            timeout) {
      break;  // whatever is still outstanding after the last query's timeout is counted below
    }
    // Send while the window has room and the pace allows.
    while (sending && outstanding.size() < static_cast<size_t>(a.window)) {
      if (a.rate > 0 && sent >= static_cast<uint64_t>(elapsed * a.rate)) break;
      uint16_t id = next_id++;
      if (outstanding.count(id)) break;
      auto q = DnsQuery(a.name, id);
      if (send(fd, q.data(), q.size(), 0) != static_cast<ssize_t>(q.size())) {
        ++send_errors;
        break;
      }
      outstanding[id] = Clock::now();
      ++sent;
    }
    pollfd p{fd, POLLIN, 0};
    int wait_ms = a.rate > 0 && outstanding.size() < static_cast<size_t>(a.window) ? 1 : 50;
    if (poll(&p, 1, wait_ms) > 0) {
      ssize_t n;
      while ((n = recv(fd, buf, sizeof(buf), 0)) >= 12) {
        uint16_t id = static_cast<uint16_t>(buf[0] << 8 | buf[1]);
        if (outstanding.erase(id)) ++answers;
      }
    }
    if (Clock::now() - sweep > std::chrono::milliseconds(50)) {
      sweep = Clock::now();
      for (auto it = outstanding.begin(); it != outstanding.end();) {
        if (sweep - it->second > timeout) {
          ++timeouts;
          it = outstanding.erase(it);
        } else {
          ++it;
        }
      }
    }
  }
  timeouts += outstanding.size();
  double secs = std::min(Since(t0), a.seconds);
  std::printf(
      "{\"mode\": \"dns\", \"pid\": %d, \"queries\": %llu, \"answers\": %llu, \"timeouts\": %llu, "
      "\"send_errors\": %llu, \"seconds\": %.4f, \"per_second\": %.1f}\n",
      static_cast<int>(getpid()), static_cast<unsigned long long>(sent), static_cast<unsigned long long>(answers),
      static_cast<unsigned long long>(timeouts), static_cast<unsigned long long>(send_errors), secs,
      static_cast<double>(answers) / secs);
  close(fd);
  return answers > 0 ? 0 : 1;
}

void OnSignal(int) {
  g_stop = 1;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 2) Usage();
  Args a;
  a.mode = argv[1];
  for (int i = 2; i < argc; ++i) {
    std::string k = argv[i];
    if (i + 1 >= argc) Usage();
    const char* v = argv[++i];
    if (k == "--listen" || k == "--to" || k == "--server") {
      a.addr = v;
    } else if (k == "--seconds") {
      a.seconds = std::atof(v);
    } else if (k == "--rate") {
      a.rate = std::atof(v);
    } else if (k == "--bytes") {
      a.bytes = std::atoi(v);
    } else if (k == "--window") {
      a.window = std::atoi(v);
    } else if (k == "--name") {
      a.name = v;
    } else {
      Usage();
    }
  }
  if (a.addr.empty() || a.seconds <= 0 || a.seconds > 3600 || a.bytes < 0 || a.window < 1) Usage();
  // Ends with the driver even when the driver is SIGKILLed (inherited through `ip netns exec`'s exec).
  prctl(PR_SET_PDEATHSIG, SIGTERM);
  struct sigaction sa {};
  sa.sa_handler = OnSignal;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  if (a.mode == "churn-serve") return ChurnServe(a);
  if (a.mode == "churn") return Churn(a);
  if (a.mode == "dns") return Dns(a);
  Usage();
}
