// SPDX-License-Identifier: Apache-2.0
// Syslog over UDP: RFC 5424 ("<PRI>1 TIMESTAMP HOST APP PROCID MSGID [SD] MSG") and the BSD format RFC 3164
// describes ("<PRI>Mmm dd hh:mm:ss HOST TAG[PID]: MSG", where most fields are optional in practice). A datagram
// without a valid <PRI>, or an RFC 5424 header or structured data that does not parse, is malformed: counted by
// the caller and skipped. RFC 3164 content is free-form, so anything after a valid PRI is accepted.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "correlate/log_record.h"

namespace netmon::correlate {

struct SyslogOptions {
  size_t max_message_bytes = 8192;  // kept of MSG (the datagram may be longer; the rest is cut)
  size_t max_attributes = 64;       // structured-data parameters kept
};

// Parses one datagram. `received_ns` is used as the time when the line has none (and to pick the year of an RFC
// 3164 timestamp, which has none); `origin` is the sender, kept as the record's origin and as host if the line
// names none.
absl::StatusOr<LogRecord> ParseSyslog(std::string_view datagram, int64_t received_ns, std::string_view origin,
                                      const SyslogOptions& options = {});

// RFC 3339 timestamp ("2024-05-01T10:00:00.123456+02:00" / "...Z") to Unix nanoseconds.
std::optional<int64_t> ParseRfc3339(std::string_view text);

}  // namespace netmon::correlate
