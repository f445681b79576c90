// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the event codec and the correlator's output: a decoded event re-encodes to JSON that
// decodes to the same event, and the enriched output is always valid JSON whatever the strings held.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "correlate/correlator.h"
#include "correlate/event.h"
#include "correlate/json_in.h"
#include "fuzz_check.h"

namespace {

using namespace netmon::correlate;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  auto ev = DecodeEvent(text);
  if (!ev.ok()) return 0;
  std::string encoded = EncodeEvent(*ev);
  auto again = DecodeEvent(encoded, EventDecodeLimits{1 << 22, 32});
  Check(again.ok());
  Check(again->timestamp_ns == ev->timestamp_ns && again->process_id == ev->process_id &&
        again->process_name == ev->process_name && again->source_addr == ev->source_addr &&
        again->dest_addr == ev->dest_addr && again->bytes_sent == ev->bytes_sent &&
        again->bytes_received == ev->bytes_received && again->event_type == ev->event_type &&
        again->extra_info == ev->extra_info && again->agent_id == ev->agent_id && again->session_id == ev->session_id &&
        again->sequence == ev->sequence && again->start_ns == ev->start_ns && again->end_ns == ev->end_ns &&
        again->protocol == ev->protocol);
  static InventoryStore inventory;
  static FlowStore flows({16, 0});
  static EventIndex events({16, 0});
  static LogWindow logs;
  Correlator c(CorrelatorOptions{}, &inventory, &flows, &events, &logs);
  std::string out;
  c.Enrich(*ev, 1, 1, &out);
  auto doc = ParseJson(out, 1 << 24, 64);
  Check(doc.ok() && doc->is_object() && doc->contains("enrichment"));
  return 0;
}
