// SPDX-License-Identifier: Apache-2.0
#include "testenv/dns_server.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <map>
#include <thread>

#include "common/netns.h"
#include "common/status.h"
#include "common/str_cat.h"
#include "common/unique_fd.h"
#include "testenv/netns.h"

namespace netmon::testenv {
namespace {

constexpr int kStartTimeoutMs = 5000;

// dnsmasq options that serve Zone(). host-record holds at most one address per family, so names with several
// addresses of one family use --address (which also answers for their subdomains; no test relies on that).
std::vector<std::string> ZoneOptions() {
  std::map<std::string, std::vector<const DnsRecord*>> by_name;
  std::vector<std::string> order;
  for (const DnsRecord& r : DnsServer::Zone()) {
    if (r.type != "A" && r.type != "AAAA") continue;
    if (by_name[r.name].empty()) order.push_back(r.name);
    by_name[r.name].push_back(&r);
  }
  std::vector<std::string> options;
  for (const std::string& name : order) {
    int v4 = 0, v6 = 0;
    for (const DnsRecord* r : by_name[name]) (r->type == "A" ? v4 : v6)++;
    if (v4 <= 1 && v6 <= 1) {
      std::string record = StrCat("--host-record=", name);
      for (const DnsRecord* r : by_name[name]) record += StrCat(",", r->value);
      options.push_back(StrCat(record, ",", kZoneTtl));
    } else {
      for (const DnsRecord* r : by_name[name]) options.push_back(StrCat("--address=/", name, "/", r->value));
    }
  }
  for (const DnsRecord& r : DnsServer::Zone()) {
    if (r.type == "CNAME") options.push_back(StrCat("--cname=", r.name, ",", r.value, ",", kZoneTtl));
    if (r.type == "TXT") options.push_back(StrCat("--txt-record=", r.name, ",", r.value));
  }
  return options;
}

// A minimal A query for a.nm.test: enough to know dnsmasq has bound its sockets and loaded the zone.
std::string ProbeQuery(uint16_t id) {
  std::string q = {static_cast<char>(id >> 8), static_cast<char>(id & 0xff), 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0};
  for (const char* label : {"a", "nm", "test"}) {
    q += static_cast<char>(strlen(label));
    q += label;
  }
  q += std::string("\0\0\x01\0\x01", 5);  // root label, QTYPE A, QCLASS IN
  return q;
}

// Sends one probe from inside ns and waits up to wait_ms for its answer.
absl::StatusOr<bool> ProbeOnce(const Netns& ns, const std::string& address, uint16_t id, int wait_ms) {
  sockaddr_storage ss{};
  socklen_t len = 0;
  int family;
  if (auto* sin = reinterpret_cast<sockaddr_in*>(&ss); inet_pton(AF_INET, address.c_str(), &sin->sin_addr) == 1) {
    family = sin->sin_family = AF_INET;
    sin->sin_port = htons(53);
    len = sizeof(*sin);
  } else if (auto* sin6 = reinterpret_cast<sockaddr_in6*>(&ss);
             inet_pton(AF_INET6, address.c_str(), &sin6->sin6_addr) == 1) {
    family = sin6->sin6_family = AF_INET6;
    sin6->sin6_port = htons(53);
    len = sizeof(*sin6);
  } else {
    return absl::InvalidArgumentError(StrCat("DNS listen address \"", address, "\" is not an IP literal"));
  }
  UniqueFd sock;
  {
    NetnsGuard guard(ns.fd());  // a socket stays in the namespace it was created in
    if (!guard.ok()) return guard.status();
    sock.Reset(socket(family, SOCK_DGRAM | SOCK_CLOEXEC, 0));
    if (!sock.valid()) return ErrnoError("socket", StrCat("DNS probe in ", ns.name()), errno);
  }
  std::string query = ProbeQuery(id);
  if (sendto(sock.get(), query.data(), query.size(), 0, reinterpret_cast<sockaddr*>(&ss), len) < 0) {
    return false;  // e.g. ECONNREFUSED from an earlier attempt: not listening yet
  }
  pollfd pfd{sock.get(), POLLIN, 0};
  if (poll(&pfd, 1, wait_ms) <= 0) return false;
  unsigned char reply[512];
  ssize_t n = recv(sock.get(), reply, sizeof(reply), 0);
  return n >= 12 && reply[0] == (id >> 8) && reply[1] == (id & 0xff) && (reply[2] & 0x80) != 0;
}

}  // namespace

const std::vector<DnsRecord>& DnsServer::Zone() {
  static const std::vector<DnsRecord> zone = {
      {"a.nm.test", "A", "10.53.0.1"},
      {"aaaa.nm.test", "AAAA", "fd00:53::1"},
      {"both.nm.test", "A", "10.53.0.2"},
      {"both.nm.test", "AAAA", "fd00:53::2"},
      {"many.nm.test", "A", "10.53.0.3"},
      {"many.nm.test", "A", "10.53.0.4"},
      {"alias.nm.test", "CNAME", "a.nm.test"},
      {"chain.nm.test", "CNAME", "alias.nm.test"},
      {"txt.nm.test", "TXT", "netmon test zone"},
  };
  return zone;
}

absl::StatusOr<DnsServer> DnsServer::Start(const Netns& ns, const std::string& listen_ipv4,
                                           const std::string& listen_ipv6) {
  std::vector<std::string> listen;
  for (const std::string* addr : {&listen_ipv4, &listen_ipv6}) {
    if (!addr->empty()) listen.push_back(*addr);
  }
  if (listen.empty()) return absl::InvalidArgumentError("DnsServer::Start needs at least one listen address");

  std::vector<std::string> argv = {
      "dnsmasq", "--keep-in-foreground", "--no-resolv", "--no-hosts", "--no-poll",
      // /dev/null instead of a generated file: nothing to clean up after a crash, and the system's
      // /etc/dnsmasq.conf (if any) is never read.
      "--conf-file=/dev/null", "--bind-interfaces", "--port=53", "--log-facility=-", "--local=/nm.test/",
      StrCat("--local-ttl=", kZoneTtl),
      // The pid is known from fork(); a pid file would only be one more thing to leave behind.
      "--pid-file=",
      // Staying root matters: a uid or gid change (dnsmasq's defaults are nobody/dip) clears PR_SET_PDEATHSIG,
      // and then a killed test run would leave dnsmasq running until the next sweep.
      "--user=root", "--group=root"};
  for (const std::string& addr : listen) argv.push_back(StrCat("--listen-address=", addr));
  for (std::string& option : ZoneOptions()) argv.push_back(std::move(option));

  NETMON_ASSIGN_OR_RETURN(Process process, Process::Spawn(&ns, argv));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(kStartTimeoutMs);
  uint16_t id = static_cast<uint16_t>(process.pid());
  for (const std::string& addr : listen) {
    while (true) {
      if (auto code = process.TryWait()) {
        return absl::InternalError(StrCat("dnsmasq in ", ns.name(), " exited with code ", *code,
                                          " before answering on ", addr, " (its stderr is in the test log)"));
      }
      NETMON_ASSIGN_OR_RETURN(bool answered, ProbeOnce(ns, addr, ++id, 100));
      if (answered) break;
      if (std::chrono::steady_clock::now() >= deadline) {
        return absl::DeadlineExceededError(
            StrCat("dnsmasq in ", ns.name(), " did not answer on ", addr, " within ", kStartTimeoutMs, " ms"));
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  return DnsServer(std::move(process));
}

}  // namespace netmon::testenv
