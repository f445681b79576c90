// SPDX-License-Identifier: Apache-2.0
// One flow's traffic since the previous read of the packet layer: what the join turns into DATA events.
#pragma once

#include <cstdint>

#include "netmon/abi.h"

namespace netmon::flow {

struct FlowSample {
  netmon_tuple tuple{};                      // local/remote from this host's point of view
  uint64_t cookie = 0;                       // owning socket as the packet layer saw it; 0 = none
  uint64_t bytes[NETMON_DIR_COUNT] = {};     // L3 bytes since the previous read, [NETMON_DIR_EGRESS] = sent
  uint64_t packets[NETMON_DIR_COUNT] = {};   // packets since the previous read
  uint64_t segments[NETMON_DIR_COUNT] = {};  // wire segments of those packets (GSO/GRO counted apart)
  uint64_t first_seen_ns = 0;                // monotonic; when the flow was first seen at all
  uint64_t last_seen_ns = 0;                 // monotonic; last packet
  uint8_t tcp_flags[NETMON_DIR_COUNT] = {};  // OR of flags seen so far per direction
  uint8_t first_dir = 0;                     // enum netmon_dir of the flow's first packet
  uint8_t syn_dir = 0;                       // 1 + dir of a pure SYN (the initiator), 0 = none seen
};

}  // namespace netmon::flow
