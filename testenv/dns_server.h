// SPDX-License-Identifier: Apache-2.0
// A real DNS server (dnsmasq) inside a test namespace, authoritative for the test zone "nm.test": the names in
// Zone() resolve, every other name under nm.test is NXDOMAIN, and names outside it are REFUSED (no upstream).
// UDP and TCP on port 53.
#pragma once

#include <sys/types.h>

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "testenv/process.h"

namespace netmon::testenv {

class Netns;

struct DnsRecord {
  std::string name;   // "a.nm.test" (no trailing dot)
  std::string type;   // "A", "AAAA", "CNAME", "TXT"
  std::string value;  // address literal, CNAME target (no trailing dot), or TXT text
};

// A name under the zone that does not exist (the server answers NXDOMAIN).
inline constexpr char kNxDomainName[] = "missing.nm.test";
// TTL of every record in the zone.
inline constexpr int kZoneTtl = 300;

class DnsServer {
 public:
  // Starts dnsmasq in `ns` listening on both addresses (each may be empty, not both), and returns once it
  // answers a query on each of them. The addresses must already be configured in ns.
  static absl::StatusOr<DnsServer> Start(const Netns& ns, const std::string& listen_ipv4,
                                         const std::string& listen_ipv6);

  // The whole zone: a.nm.test A, aaaa.nm.test AAAA, both.nm.test A+AAAA, alias.nm.test CNAME a.nm.test,
  // chain.nm.test CNAME alias.nm.test, many.nm.test two A, txt.nm.test TXT.
  static const std::vector<DnsRecord>& Zone();

  DnsServer(DnsServer&&) noexcept = default;
  DnsServer& operator=(DnsServer&&) noexcept = default;
  ~DnsServer() = default;  // the Process member SIGKILLs and reaps dnsmasq

  pid_t pid() const { return process_.pid(); }

 private:
  explicit DnsServer(Process process) : process_(std::move(process)) {}

  Process process_;
};

}  // namespace netmon::testenv
