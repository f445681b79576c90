// SPDX-License-Identifier: Apache-2.0
// netmonctl's output formats, pure (an ostream in, text out; golden-tested):
//   table  aligned columns with human units: TIME PID PROCESS EVENT SOURCE DESTINATION SENT RECV DETAILS
//   json   one event per line, the same object the agent puts in its chunks (agent/event_json.h)
//   csv    RFC 4180, a header line, one event per line, extra_info as its JSON text
#pragma once

#include <cstdint>
#include <memory>
#include <ostream>
#include <string>
#include <vector>

#include "cli/model.h"
#include "network_monitor.pb.h"

namespace netmon::cli {

enum class Format { kTable, kJson, kCsv };

// "table" | "json" | "csv"; false if unknown.
bool ParseFormat(const std::string& text, Format* out);

// 0 B, 999 B, 1.0 KiB, 12.3 MiB, 1.5 GiB ... (binary units; one decimal from KiB up). Negative values keep their
// sign.
std::string HumanBytes(int64_t bytes);
// HH:MM:SS.mmm of a Unix-epoch nanosecond time, in local time or UTC.
std::string ClockTime(int64_t timestamp_ns, bool utc);
// 2024-01-02T03:04:05.123456Z (UTC, microseconds).
std::string IsoTime(int64_t timestamp_ns);
// A short, human summary of extra_info for the table's DETAILS column (DNS names and answers, connect outcome
// and latency, packets); the compact JSON for anything it does not recognise.
std::string EventDetails(const network_monitor::NetworkEvent& event);

class EventPrinter {
 public:
  virtual ~EventPrinter() = default;
  virtual void Print(const network_monitor::NetworkEvent& event) = 0;
  // After the last event (the table says "(no events)" if there were none).
  virtual void Finish() {}
};

struct PrinterOptions {
  bool utc = false;  // table times in UTC instead of local time
  // Table only: keep the rows until Finish() and size every column to its widest cell (for output that is
  // complete before it is shown). Unbuffered, a column widens when a wider cell comes, from that row on.
  bool buffered = false;
};

std::unique_ptr<EventPrinter> MakePrinter(Format format, std::ostream* out, PrinterOptions options = {});

// Sessions: a table, JSON lines or CSV.
void PrintSessions(Format format, const std::vector<SessionInfo>& sessions, std::ostream* out, bool utc = false);

// Terminal columns a string takes: one per UTF-8 character (wide CJK characters are not special-cased).
size_t DisplayWidth(std::string_view s);

// One CSV field, quoted when it holds a comma, quote, CR or LF (quotes doubled).
std::string CsvField(const std::string& value);

}  // namespace netmon::cli
