// SPDX-License-Identifier: Apache-2.0
// Fakes for the join's one seam (OwnerSource) and builders for kernel records, so join tests read as tables.
#pragma once

#include <arpa/inet.h>
#include <netinet/in.h>

#include <cstring>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "flow/flow_sample.h"
#include "join/owner_resolver.h"
#include "netmon/abi.h"
#include "nlohmann/json.hpp"

namespace netmon::join::testing {

// "10.0.0.1" -> ::ffff:10.0.0.1; "fd00::1" -> as is.
inline void ParseAddr(const std::string& text, uint8_t out[16]) {
  std::memset(out, 0, 16);
  in_addr v4{};
  if (inet_pton(AF_INET, text.c_str(), &v4) == 1) {
    out[10] = out[11] = 0xff;
    std::memcpy(out + 12, &v4, 4);
    return;
  }
  if (inet_pton(AF_INET6, text.c_str(), out) != 1) throw std::invalid_argument("bad address " + text);
}

inline netmon_tuple Tuple(const std::string& local, uint16_t lport, const std::string& remote, uint16_t rport,
                          uint8_t proto = IPPROTO_TCP, uint32_t netns = 4026531840u) {
  netmon_tuple t{};
  ParseAddr(local, t.local_addr);
  ParseAddr(remote, t.remote_addr);
  t.local_port = lport;
  t.remote_port = rport;
  t.proto = proto;
  t.netns = netns;
  return t;
}

inline netmon_owner Owner(uint32_t tgid, const char* comm, uint8_t source = NETMON_SRC_CONNECT,
                          uint8_t role = NETMON_ROLE_UNKNOWN) {
  netmon_owner o{};
  o.tgid = tgid;
  o.tid = tgid;
  std::strncpy(o.comm, comm, sizeof(o.comm));
  o.source = source;
  o.role = role;
  return o;
}

struct TupleLess {
  bool operator()(const netmon_tuple& a, const netmon_tuple& b) const { return std::memcmp(&a, &b, sizeof(a)) < 0; }
};

// The kernel maps as plain containers. Keys are zero-initialised tuples, so memcmp ordering is exact.
struct FakeKernel {
  std::map<uint64_t, netmon_owner> owners;
  std::map<netmon_tuple, uint64_t, TupleLess> tuples;
  int owner_lookups = 0;
  int tuple_lookups = 0;

  OwnerSource Source() {
    return OwnerSource{[this](uint64_t cookie) -> std::optional<netmon_owner> {
                         ++owner_lookups;
                         auto it = owners.find(cookie);
                         if (it == owners.end()) return std::nullopt;
                         return it->second;
                       },
                       [this](const netmon_tuple& t) -> std::optional<uint64_t> {
                         ++tuple_lookups;
                         netmon_tuple key{};  // normalise padding
                         std::memcpy(key.local_addr, t.local_addr, 16);
                         std::memcpy(key.remote_addr, t.remote_addr, 16);
                         key.local_port = t.local_port;
                         key.remote_port = t.remote_port;
                         key.proto = t.proto;
                         key.netns = t.netns;
                         auto it = tuples.find(key);
                         if (it == tuples.end()) return std::nullopt;
                         return it->second;
                       }};
  }
};

inline flow::FlowSample Sample(const netmon_tuple& t, uint64_t cookie, uint64_t sent, uint64_t recv, uint64_t psent,
                               uint64_t precv, uint64_t first_ns, uint64_t last_ns,
                               uint8_t first_dir = NETMON_DIR_EGRESS, uint8_t syn_dir = 0) {
  flow::FlowSample s;
  s.tuple = t;
  s.cookie = cookie;
  s.bytes[NETMON_DIR_EGRESS] = sent;
  s.bytes[NETMON_DIR_INGRESS] = recv;
  s.packets[NETMON_DIR_EGRESS] = psent;
  s.packets[NETMON_DIR_INGRESS] = precv;
  s.first_seen_ns = first_ns;
  s.last_seen_ns = last_ns;
  s.first_dir = first_dir;
  s.syn_dir = syn_dir;
  return s;
}

inline netmon_sock_event SockEvent(uint8_t type, const netmon_tuple& t, uint64_t cookie, uint64_t ts,
                                   const netmon_owner& owner = {}) {
  netmon_sock_event ev{};
  ev.type = type;
  ev.tuple = t;
  ev.cookie = cookie;
  ev.ts_ns = ts;
  ev.owner = owner;
  ev.family = AF_INET;
  return ev;
}

// A DNS message builder: header, one question, answers.
class DnsBuilder {
 public:
  DnsBuilder(uint16_t id, uint16_t flags, uint16_t qd, uint16_t an) {
    U16(id).U16(flags).U16(qd).U16(an).U16(0).U16(0);
  }
  DnsBuilder& U8(uint8_t v) {
    bytes.push_back(v);
    return *this;
  }
  DnsBuilder& U16(uint16_t v) { return U8(static_cast<uint8_t>(v >> 8)).U8(static_cast<uint8_t>(v)); }
  DnsBuilder& U32(uint32_t v) { return U16(static_cast<uint16_t>(v >> 16)).U16(static_cast<uint16_t>(v)); }
  DnsBuilder& Name(const std::string& dotted) {
    size_t start = 0;
    while (start < dotted.size()) {
      size_t dot = dotted.find('.', start);
      if (dot == std::string::npos) dot = dotted.size();
      U8(static_cast<uint8_t>(dot - start));
      for (size_t i = start; i < dot; ++i) U8(static_cast<uint8_t>(dotted[i]));
      start = dot + 1;
    }
    return U8(0);
  }
  DnsBuilder& Question(const std::string& name, uint16_t type) { return Name(name).U16(type).U16(1); }
  DnsBuilder& A(const std::string& name, const std::string& v4, uint32_t ttl) {
    Name(name).U16(1).U16(1).U32(ttl).U16(4);
    in_addr a{};
    inet_pton(AF_INET, v4.c_str(), &a);
    const auto* p = reinterpret_cast<const uint8_t*>(&a);
    for (int i = 0; i < 4; ++i) U8(p[i]);
    return *this;
  }
  DnsBuilder& Cname(const std::string& name, const std::string& target, uint32_t ttl) {
    std::vector<uint8_t> rdata;
    DnsBuilder tmp(0, 0, 0, 0);
    tmp.bytes.clear();
    tmp.Name(target);
    Name(name).U16(5).U16(1).U32(ttl).U16(static_cast<uint16_t>(tmp.bytes.size()));
    bytes.insert(bytes.end(), tmp.bytes.begin(), tmp.bytes.end());
    return *this;
  }
  std::vector<uint8_t> bytes;
};

inline netmon_dns_event DnsEvent(const netmon_tuple& t, uint8_t dir, uint64_t cookie, uint64_t ts,
                                 const std::vector<uint8_t>& msg, size_t wire_len = 0) {
  netmon_dns_event ev{};
  ev.ts_ns = ts;
  ev.cookie = cookie;
  ev.tuple = t;
  ev.dir = dir;
  ev.is_tcp = t.proto == IPPROTO_TCP;
  if (msg.size() >= 12) {
    ev.id = static_cast<uint16_t>(msg[0] << 8 | msg[1]);
    ev.flags = static_cast<uint16_t>(msg[2] << 8 | msg[3]);
    ev.qdcount = static_cast<uint16_t>(msg[4] << 8 | msg[5]);
  }
  ev.msg_len = static_cast<uint16_t>(wire_len != 0 ? wire_len : msg.size());
  std::vector<uint8_t> bytes;
  if (ev.is_tcp) {  // TCP records carry the segment payload, length prefix included (abi.h)
    bytes.push_back(static_cast<uint8_t>(ev.msg_len >> 8));
    bytes.push_back(static_cast<uint8_t>(ev.msg_len));
  }
  bytes.insert(bytes.end(), msg.begin(), msg.end());
  ev.cap_len = static_cast<uint16_t>(std::min<size_t>(bytes.size(), NETMON_DNS_MAX_PAYLOAD));
  std::memcpy(ev.payload, bytes.data(), ev.cap_len);
  return ev;
}

inline nlohmann::json Extra(const std::string& text) {
  return nlohmann::json::parse(text);
}

}  // namespace netmon::join::testing
