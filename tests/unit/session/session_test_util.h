// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <arpa/inet.h>

#include <cstring>
#include <string>

#include "join/event.h"
#include "session/validation.h"

namespace netmon::session::testing {

inline join::Endpoint Ep(const std::string& ip, uint16_t port) {
  join::Endpoint ep;
  in_addr v4{};
  if (inet_pton(AF_INET, ip.c_str(), &v4) == 1) {
    ep.addr[10] = ep.addr[11] = 0xff;
    std::memcpy(ep.addr.data() + 12, &v4, 4);
  } else {
    inet_pton(AF_INET6, ip.c_str(), ep.addr.data());
  }
  ep.port = port;
  return ep;
}

inline join::Event Ev(uint32_t pid, const std::string& src, uint16_t sport, const std::string& dst, uint16_t dport,
                      join::EventType type = join::EventType::kData, int64_t sent = 100, int64_t recv = 200) {
  join::Event e;
  e.pid = pid;
  e.type = type;
  e.src = Ep(src, sport);
  e.dst = Ep(dst, dport);
  e.source_addr = src + ":" + std::to_string(sport);
  e.dest_addr = dst + ":" + std::to_string(dport);
  e.bytes_sent = sent;
  e.bytes_received = recv;
  e.packets = 3;
  e.process_name = pid != 0 ? "proc" : "";
  e.extra_info = "{}";
  return e;
}

inline CaptureRequest Req(const std::string& id, int32_t duration = 10, int32_t pid = 0, int32_t port = 0,
                          const std::string& src = "", const std::string& dst = "") {
  CaptureRequest r;
  r.session_id = id;
  r.duration_seconds = duration;
  r.process_id = pid;
  r.port = port;
  r.source_ip = src;
  r.destination_ip = dst;
  return r;
}

}  // namespace netmon::session::testing
