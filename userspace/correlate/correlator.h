// SPDX-License-Identifier: Apache-2.0
// The enrichment step: one event in, one enriched JSON object out. It reads the inventory snapshot, the NetFlow
// store and the log window (any of which may be absent), adds the event to the reverse index, and writes
//   {<the event's fields>, "enrichment": {"source": {...}, "dest": {...}, "netflow": {...}, "logs": [...]}}
// Members are present only when something matched. Not thread-safe by itself: one pipeline thread calls Enrich;
// the stores it reads are thread-safe and filled by other threads.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "correlate/event.h"
#include "correlate/event_index.h"
#include "correlate/flow_matcher.h"
#include "correlate/inventory.h"
#include "correlate/log_window.h"
#include "correlate/tuple_store.h"

namespace netmon::correlate {

struct CorrelatorOptions {
  MatchOptions netflow;
  LinkOptions logs;
  size_t max_log_message_bytes = 1024;  // of each linked line in the output
};

struct CorrelatorCounters {
  uint64_t events = 0;
  uint64_t addresses_looked_up = 0;
  uint64_t addresses_exact = 0;
  uint64_t addresses_subnet = 0;
  uint64_t addresses_unknown = 0;  // left unenriched
  uint64_t events_with_inventory = 0;
  uint64_t events_with_netflow = 0;
  uint64_t netflow_records_matched = 0;
  uint64_t events_with_logs = 0;
  uint64_t log_links = 0;
  uint64_t events_indexed = 0;  // remembered for reverse lookups
};

class Correlator {
 public:
  // Any of the stores may be null (that enrichment is then off). They must outlive the correlator.
  Correlator(CorrelatorOptions options, InventoryStore* inventory, const FlowStore* flows, EventIndex* events,
             const LogWindow* logs);

  // Appends the enriched event (one JSON object, no newline) to *out. `now_ns` is the wall clock; `mono_ns` paces
  // inventory rebuilds.
  void Enrich(const Event& ev, int64_t now_ns, int64_t mono_ns, std::string* out);

  CorrelatorCounters counters() const;

 private:
  // Writes "<key>": {...} for one address; returns false (writing nothing) if it is unknown.
  bool WriteAddress(const Inventory& inv, const char* key, const Endpoint& ep, bool* first, std::string* out);

  CorrelatorOptions options_;
  InventoryStore* inventory_;
  const FlowStore* flows_;
  EventIndex* events_;
  const LogWindow* logs_;
  struct AtomicCounters {
    std::atomic<uint64_t> events{0}, addresses_looked_up{0}, addresses_exact{0}, addresses_subnet{0},
        addresses_unknown{0}, events_with_inventory{0}, events_with_netflow{0}, netflow_records_matched{0},
        events_with_logs{0}, log_links{0}, events_indexed{0};
  } c_;
};

// Writes a reverse-lookup answer: {"query": {...}, "events": [{pid, process_name, ...}, ...]}.
void AppendAttributions(const FlowTuple& tuple, int64_t from_ns, int64_t to_ns, const std::vector<Attribution>& found,
                        std::string* out);

}  // namespace netmon::correlate
