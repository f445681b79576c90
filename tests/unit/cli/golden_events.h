// SPDX-License-Identifier: Apache-2.0
// The fixed event list the golden files were made from: every event type, an unattributed flow, IPv6, a long
// address that widens a column, a process name with a control byte and UTF-8, values from 0 B to GiB.
#pragma once

#include <vector>

#include "network_monitor.pb.h"

namespace netmon::cli::testing {

inline network_monitor::NetworkEvent Ev(uint64_t seq, int64_t ts, int32_t pid, const char* name, const char* src,
                                        const char* dst, int64_t sent, int64_t recv, const char* type,
                                        const char* extra) {
  network_monitor::NetworkEvent e;
  e.set_sequence(seq);
  e.set_timestamp_ns(ts);
  e.set_process_id(pid);
  e.set_process_name(name);
  e.set_source_addr(src);
  e.set_dest_addr(dst);
  e.set_bytes_sent(sent);
  e.set_bytes_received(recv);
  e.set_event_type(type);
  e.set_extra_info(extra);
  return e;
}

inline std::vector<network_monitor::NetworkEvent> GoldenEvents() {
  constexpr int64_t t0 = 1'732'600'000'000'000'000;  // 2024-11-26T05:46:40Z
  return {
      Ev(1, t0 + 1'234'567, 4242, "curl", "10.200.1.1:40000", "10.200.1.2:80", 0, 0, "CONNECT",
         R"({"protocol":"tcp","outcome":"established","latency_us":87,"attribution":{"via":"socket","hook":"cgroup"}})"),
      Ev(2, t0 + 2'000'000, 777, "nginx", "10.200.1.1:40000", "10.200.1.2:80", 0, 0, "ACCEPT", R"({"protocol":"tcp"})"),
      Ev(3, t0 + 15'000'000, 4242, "curl", "10.200.1.1:40000", "10.200.1.2:80", 1'536, 1'073'741'824, "DATA",
         R"({"protocol":"tcp","packets_sent":12,"packets_received":800,"interval_start_ns":1,"interval_end_ns":2})"),
      Ev(4, t0 + 16'500'000, 4242, "curl", "10.200.1.1:40000", "10.200.1.2:80", 1'536, 1'073'741'824, "CLOSE",
         R"({"protocol":"tcp","duration_ms":15,"packets_sent":12,"packets_received":800})"),
      Ev(5, t0 + 20'000'000, 31337, "dig", "[fd00:6e6d:c8:1::1]:53111", "[fd00:6e6d:c8:1::2]:53", 52, 0, "DNS_QUERY",
         R"({"id":4660,"name":"a.nm.test","type":"AAAA","protocol":"udp"})"),
      Ev(6, t0 + 21'250'000, 31337, "dig", "[fd00:6e6d:c8:1::2]:53", "[fd00:6e6d:c8:1::1]:53111", 0, 120,
         "DNS_RESPONSE",
         R"({"id":4660,"name":"alias.nm.test","type":"A","protocol":"udp","rcode":"NOERROR","answers":[{"name":"alias.nm.test","type":"CNAME","ttl":300,"data":"a.nm.test"},{"name":"a.nm.test","type":"A","ttl":300,"data":"10.0.0.1"}],"latency_us":1250})"),
      Ev(7, t0 + 30'000'000, 0, "", "192.0.2.10:5353", "224.0.0.251:5353", 0, 0, "DATA",
         R"({"protocol":"udp","packets_sent":0,"packets_received":3,"note":"forwarded, \"quoted\", with commas"})"),
      Ev(8, t0 + 999'999'999, 555, "evil\x1b[31m\xc3\xa9", "[2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff]:65535",
         "10.0.0.9:443", -1, 1023, "CUSTOM", "not json, at all"),
  };
}

}  // namespace netmon::cli::testing
