// SPDX-License-Identifier: Apache-2.0
// JSON log documents from NATS: GELF 1.1 (what ServiceRadar publishes on logs.syslog) and OTel log records (logs.otel:
// an OTLP/JSON ExportLogsServiceRequest {"resourceLogs": [{"resource", "scopeLogs": [{"logRecords": [...]}]}]},
// camelCase or snake_case, or one flattened record {"timestamp", "severity_text", "body", "service_name",
// "attributes", "resource_attributes"}). Documents are hostile: bounded in size, nesting and record count;
// a record that does not fit is skipped and counted, a document that does not parse is an error.
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "absl/status/statusor.h"
#include "correlate/log_record.h"

namespace netmon::correlate {

struct LogJsonOptions {
  size_t max_bytes = 1u << 20;
  size_t max_records = 10000;  // per document
  size_t max_message_bytes = 8192;
  size_t max_attributes = 64;
};

struct LogJsonResult {
  std::vector<LogRecord> records;
  uint64_t skipped = 0;  // records in the document that were malformed
};

// One GELF message (or an array of them).
absl::StatusOr<LogJsonResult> ParseGelf(std::string_view json, int64_t received_ns, std::string_view origin,
                                        const LogJsonOptions& options = {});
absl::StatusOr<LogJsonResult> ParseOtelLogs(std::string_view json, int64_t received_ns, std::string_view origin,
                                            const LogJsonOptions& options = {});

}  // namespace netmon::correlate
