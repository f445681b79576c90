// SPDX-License-Identifier: Apache-2.0
// libbpf ring-buffer readers as the socket and packet layers use them.
#pragma once

#include <bpf/libbpf.h>

#include <memory>

namespace netmon::bpf {

struct RingBufferFree {
  void operator()(struct ring_buffer* rb) const { ring_buffer__free(rb); }
};
using RingBuffer = std::unique_ptr<struct ring_buffer, RingBufferFree>;

// Waits up to timeout_ms for a wakeup, then takes whatever is queued anyway: netmon's producers wake the reader
// once per batch, not per record (bpf/include/netmon/ringbuf.bpf.h), so a wait can end with records waiting and
// no wakeup. Returns the records consumed, or -errno.
inline int PollThenDrain(struct ring_buffer* rb, int timeout_ms) {
  int n = timeout_ms > 0 ? ring_buffer__poll(rb, timeout_ms) : 0;
  if (n == 0) n = ring_buffer__consume(rb);
  return n;
}

}  // namespace netmon::bpf
