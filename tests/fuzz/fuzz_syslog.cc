// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the syslog parser (RFC 3164 and RFC 5424), the log token extractor and the log window's
// linker. Checks: parsed fields stay within their documented bounds, token extraction stays within its limits and
// yields canonical values, and a parsed line is found again by the tokens it carries.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "correlate/event.h"
#include "correlate/log_window.h"
#include "correlate/syslog_parser.h"
#include "fuzz_check.h"

namespace {

using namespace netmon::correlate;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  SyslogOptions o;
  o.max_message_bytes = 512;
  o.max_attributes = 8;
  constexpr int64_t kNow = 1'700'000'000'000'000'000;
  auto rec = ParseSyslog(text, kNow, "192.0.2.1", o);
  if (!rec.ok()) return 0;
  Check(rec->message.size() <= o.max_message_bytes);
  Check(rec->attributes.size() <= o.max_attributes);
  Check(rec->severity >= 0 && rec->severity <= 7);
  Check(rec->host.size() <= 255 || rec->host == "192.0.2.1");
  TokenLimits limits;
  auto tokens = ExtractTokens(*rec, limits);
  Check(tokens.size() <= limits.max_tokens);
  for (const auto& t : tokens) {
    Check(!t.value.empty());
    if (t.kind == TokenKind::kAddress) Check(ParseIp(t.value).has_value());
    if (t.kind == TokenKind::kEndpoint) Check(ParseEndpoint(t.value).has_value());
    if (t.kind == TokenKind::kName) Check(t.value.size() <= 15);
  }
  // The window links an event carrying the line's first address or PID back to the line.
  LogWindow window({/*max_records=*/4, /*retention_ns=*/0, limits, /*max_candidates_per_token=*/16});
  LogRecord copy = *rec;
  window.Add(std::move(copy));
  Event ev;
  ev.start_ns = ev.end_ns = rec->time_ns;
  for (const auto& t : tokens) {
    if (t.kind == TokenKind::kEndpoint) {
      ev.dst = ParseEndpoint(t.value);
      LinkOptions lo;
      auto links = window.Link(ev, lo);
      Check(!links.empty() && (links[0].reasons & kMatchEndpoint));
      break;
    }
  }
  return 0;
}
