// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the NetFlow v5/v9/IPFIX parser, its template cache and pending queue, the flow store and the
// matcher. One input is a sequence of datagrams (each prefixed by a 2-byte length), so templates, options, data
// before templates, withdrawals and expiry all interact within an input. Besides "no crash, no sanitizer report"
// it checks that the parser's bounds hold: records have ordered times and a sampling interval, the template cache
// and the pending queue stay within their limits, and everything a datagram yields is matched back to itself.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <vector>

#include "correlate/event.h"
#include "correlate/event_index.h"
#include "correlate/flow_matcher.h"
#include "correlate/netflow_parser.h"
#include "fuzz_check.h"

namespace {

using namespace netmon::correlate;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  NetflowParserOptions o;
  o.max_templates = 8;
  o.max_pending_sets = 4;
  o.max_pending_bytes = 4096;
  o.template_timeout_ns = 1000;
  o.pending_timeout_ns = 1000;
  NetflowParser parser(o);
  FlowStore store({/*max_entries=*/64, /*retention_ns=*/1'000'000});
  IpAddr exporters[2] = {*ParseIp("10.0.0.1"), *ParseIp("2001:db8::1")};
  int64_t now = 1'700'000'000'000'000'000;
  size_t off = 0;
  std::vector<FlowRecord> recs;
  while (off + 3 <= size) {
    size_t len = static_cast<size_t>(data[off] << 8 | data[off + 1]) % 2048;
    uint8_t flags = data[off + 2];
    off += 3;
    if (len > size - off) len = size - off;
    // The flags byte picks the exporter and how much time passes: enough, sometimes, to expire templates.
    now += (flags & 0x7f) * 20;
    recs.clear();
    parser.Parse(exporters[flags >> 7], data + off, len, now, &recs);
    off += len;
    Check(parser.template_count() <= o.max_templates);
    Check(parser.pending_count() <= o.max_pending_sets);
    for (const FlowRecord& r : recs) {
      Check(r.start_ns <= r.end_ns);
      Check(r.sampling_interval >= 1);
      Check(r.version == 5 || r.version == 9 || r.version == 10);
      store.Add(r);
    }
    // Whatever the datagram yielded, the matcher finds it again by its own tuple and time. (Protocol 0 is excluded:
    // an event's protocol 0 means "not known, TCP or UDP", so it never asks for IP protocol 0.)
    if (!recs.empty() && recs.back().tuple.protocol != 0) {
      const FlowRecord& r = recs.back();
      Event ev;
      ev.kind = EventKind::kData;
      ev.src = Endpoint{r.tuple.src, r.tuple.src_port};
      ev.dst = Endpoint{r.tuple.dst, r.tuple.dst_port};
      ev.protocol = r.tuple.protocol;
      ev.start_ns = r.start_ns;
      ev.end_ns = r.end_ns;
      ev.bytes_sent = 1;
      auto m = MatchEvent(store, ev, MatchOptions{});
      Check(m.has_value() && m->records >= 1);
    }
  }
  parser.Expire(now + 1'000'000'000);
  Check(parser.pending_count() == 0);
  return 0;
}
