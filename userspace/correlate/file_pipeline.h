// SPDX-License-Identifier: Apache-2.0
// The NATS-less pipeline, netmon-correlate's default on one machine: JSON lines in (a file or stdin), enriched JSON
// lines out (a file or stdout), one per event, in input order. Besides events, a line may be a control request:
//   {"control": "stats"}                          -> {"stats": {...all counters...}}
//   {"control": "reverse_lookup", "source": "IP:port", "dest": "IP:port", "protocol": "tcp",
//    "start_ns": N, "end_ns": N}                   -> {"reverse_lookup": {"query": {...}, "events": [...]}}
// Malformed lines are counted and skipped. Runs until end of input or until `stop_fd` (an eventfd) is signalled;
// either way held events are enriched and written before it returns.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "absl/status/status.h"
#include "correlate/event.h"
#include "correlate/hold_queue.h"
#include "correlate/service.h"

namespace netmon::correlate {

struct FilePipelineCounters {
  uint64_t lines = 0;
  uint64_t events = 0;
  uint64_t malformed = 0;  // lines that are neither an event nor a control request
  uint64_t too_long = 0;   // lines over events.max_line_bytes (also counted as malformed)
  uint64_t control = 0;
  uint64_t output_lines = 0;
  uint64_t released_early = 0;  // held events enriched before their hold ended because the queue was full
};

class FilePipeline {
 public:
  FilePipeline(Service* service, int in_fd, int out_fd, int stop_fd);

  absl::Status Run();
  const FilePipelineCounters& counters() const { return counters_; }
  void AppendCounters(std::string* out) const;

 private:
  void HandleLine(std::string_view line);
  void HandleControl(std::string_view line, bool* handled);
  void EmitDue(bool all);
  void Enrich(const Event& ev);
  absl::Status FlushOutput();

  Service* service_;
  int in_fd_;
  int out_fd_;
  int stop_fd_;
  HoldQueue<Event> hold_;
  std::vector<Event> due_;
  std::string out_;
  FilePipelineCounters counters_;
};

}  // namespace netmon::correlate
