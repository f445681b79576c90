// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the JSON log documents from NATS (GELF on logs.syslog, OTel on logs.otel) and for the
// correlator's config file (also a document from outside). Checks the documented bounds: records per document,
// message and attribute sizes; a config that parses has consistent limits.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "correlate/config.h"
#include "correlate/log_json.h"
#include "correlate/log_record.h"
#include "fuzz_check.h"

namespace {

using namespace netmon::correlate;

void CheckRecords(const LogJsonResult& r, const LogJsonOptions& o) {
  Check(r.records.size() <= o.max_records);
  for (const auto& rec : r.records) {
    Check(rec.message.size() <= o.max_message_bytes);
    Check(rec.attributes.size() <= o.max_attributes);
    Check(rec.severity >= -1 && rec.severity <= 7);
    Check(ExtractTokens(rec).size() <= TokenLimits{}.max_tokens);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  LogJsonOptions o;
  o.max_records = 16;
  o.max_message_bytes = 256;
  o.max_attributes = 8;
  if (auto g = ParseGelf(text, 1, "logs.syslog", o); g.ok()) CheckRecords(*g, o);
  if (auto t = ParseOtelLogs(text, 1, "logs.otel", o); t.ok()) CheckRecords(*t, o);
  if (auto c = ParseConfig(text); c.ok()) {
    Check(c->correlator.netflow.small_ratio <= c->correlator.netflow.large_ratio);
    Check(c->netflow_parser.max_templates >= 1);
  }
  return 0;
}
