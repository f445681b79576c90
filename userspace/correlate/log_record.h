// SPDX-License-Identifier: Apache-2.0
// One log line as the correlator keeps it, whatever it came as (RFC 3164 or RFC 5424 syslog over UDP, GELF JSON
// from logs.syslog, an OTel log record from logs.otel), and the tokens it is linked to events by: IP addresses,
// IP:port endpoints, ports named as such ("port 22", "dpt=443", "sport:5353"), PIDs ("sshd[812]", "pid=812",
// the syslog PROCID, OTel process.pid), and process names (the syslog APP-NAME/TAG and the words of the message).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace netmon::correlate {

enum class LogFormat : uint8_t { kRfc3164, kRfc5424, kGelf, kOtel };
std::string_view LogFormatName(LogFormat f);

struct LogRecord {
  int64_t time_ns = 0;      // the line's own time (or when it was received, if it has none)
  int64_t received_ns = 0;  // when the correlator got it
  LogFormat format = LogFormat::kRfc3164;
  int severity = -1;  // syslog severity 0..7 (GELF level, OTel mapped), -1 unknown
  std::string host;
  std::string app;     // APP-NAME / TAG / service
  std::string procid;  // PROCID / pid as text
  std::string msgid;
  std::string message;
  std::vector<std::pair<std::string, std::string>> attributes;  // structured data, GELF _fields, OTel attributes
  std::string origin;                                           // the sender address (UDP) or the NATS subject
};

enum class TokenKind : uint8_t { kAddress = 0, kEndpoint = 1, kPort = 2, kPid = 3, kName = 4 };

struct LogToken {
  TokenKind kind;
  std::string value;  // canonical text: "10.1.1.1", "10.1.1.1:443" / "[2001:db8::1]:443", "443", "812", "sshd"
  bool operator==(const LogToken&) const = default;
};

struct TokenLimits {
  size_t max_scan_bytes = 4096;  // of message text and of each attribute value
  size_t max_tokens = 96;
  size_t max_name_tokens = 32;  // words kept as possible process names (comm is at most 15 bytes)
};

// The distinct tokens of a record, bounded by `limits`.
std::vector<LogToken> ExtractTokens(const LogRecord& rec, const TokenLimits& limits = {});
// Appends the tokens found in free text (addresses, endpoints, keyed ports and PIDs, name[pid], words).
void ExtractTextTokens(std::string_view text, const TokenLimits& limits, std::vector<LogToken>* out);

uint64_t TokenHash(TokenKind kind, std::string_view value);

}  // namespace netmon::correlate
