// SPDX-License-Identifier: Apache-2.0
// One NetFlow/IPFIX flow record as the collector keeps it, whatever the export version, and the flow tuple both the
// records and the events are indexed by.
#pragma once

#include <cstdint>
#include <cstring>

#include "correlate/ip.h"

namespace netmon::correlate {

// A directed 5-tuple.
struct FlowTuple {
  IpAddr src;
  IpAddr dst;
  uint16_t src_port = 0;
  uint16_t dst_port = 0;
  uint8_t protocol = 0;
  bool operator==(const FlowTuple&) const = default;
};

// The same flow whichever way it is written: the lower (address, port) end first. Records of both directions and
// the event that owns them land on one key.
struct FlowKey {
  IpAddr a;
  IpAddr b;
  uint16_t a_port = 0;
  uint16_t b_port = 0;
  uint8_t protocol = 0;
  bool operator==(const FlowKey&) const = default;

  static FlowKey Of(const FlowTuple& t) {
    FlowKey k;
    k.protocol = t.protocol;
    bool swap = t.dst < t.src || (t.dst == t.src && t.dst_port < t.src_port);
    k.a = swap ? t.dst : t.src;
    k.b = swap ? t.src : t.dst;
    k.a_port = swap ? t.dst_port : t.src_port;
    k.b_port = swap ? t.src_port : t.dst_port;
    return k;
  }
};

struct FlowKeyHash {
  size_t operator()(const FlowKey& k) const {
    IpHash h;
    uint64_t x = h(k.a) * 0x9e3779b97f4a7c15ULL ^ h(k.b);
    x ^= (uint64_t{k.a_port} << 24 | uint64_t{k.b_port} << 8 | k.protocol) * 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 31;
    return static_cast<size_t>(x);
  }
};

enum class FlowDirection : uint8_t { kIngress = 0, kEgress = 1, kUnknown = 255 };

struct FlowRecord {
  FlowTuple tuple;
  uint64_t bytes = 0;  // octets as exported (sampled: multiply by sampling_interval for an estimate)
  uint64_t packets = 0;
  uint64_t reverse_bytes = 0;  // RFC 5103 biflow reverse counters, 0 if none
  uint64_t reverse_packets = 0;
  int64_t start_ns = 0;  // wall clock; 0 if the exporter gave no usable time (then the export time is used)
  int64_t end_ns = 0;
  int64_t received_ns = 0;  // when the collector got it
  IpAddr exporter;
  uint32_t observation_domain = 0;  // v9 source ID / IPFIX observation domain / v5 engine type<<8|id
  uint16_t version = 0;             // 5, 9, 10
  uint32_t input_if = 0;
  uint32_t output_if = 0;
  uint32_t sampling_interval = 1;  // 1 = every packet
  FlowDirection direction = FlowDirection::kUnknown;
  uint8_t tcp_flags = 0;
};

}  // namespace netmon::correlate
