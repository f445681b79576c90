// SPDX-License-Identifier: Apache-2.0
#include "session/validation.h"

#include <cerrno>
#include <charconv>
#include <cstdio>
#include <fstream>
#include <string>

#include "common/str_cat.h"

namespace netmon::session {
namespace {

bool IdChar(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
         c == ':' || c == '-';
}

}  // namespace

absl::Status ValidateSessionId(std::string_view id) {
  if (id.empty()) return absl::InvalidArgumentError("session_id is required");
  if (id.size() > kMaxSessionIdLength) {
    return absl::InvalidArgumentError(
        StrCat("session_id is ", id.size(), " characters long; at most ", kMaxSessionIdLength, " are allowed"));
  }
  for (size_t i = 0; i < id.size(); ++i) {
    if (!IdChar(id[i])) {
      return absl::InvalidArgumentError(StrCat("session_id has a character not in [A-Za-z0-9._:-] at offset ", i));
    }
  }
  return absl::OkStatus();
}

absl::StatusOr<Filter> ValidateRequest(const CaptureRequest& req, int32_t max_duration_seconds) {
  if (absl::Status s = ValidateSessionId(req.session_id); !s.ok()) return s;
  if (req.duration_seconds < 1 || req.duration_seconds > max_duration_seconds) {
    return absl::InvalidArgumentError(
        StrCat("duration_seconds is ", req.duration_seconds, "; it must be 1..", max_duration_seconds));
  }
  if (req.process_id < 0) {
    return absl::InvalidArgumentError(StrCat("process_id is ", req.process_id, "; it must be 0 (any) or a PID"));
  }
  if (req.port < 0 || req.port > 65535) {
    return absl::InvalidArgumentError(StrCat("port is ", req.port, "; it must be 0 (any) or 1..65535"));
  }
  Filter f;
  f.pid = static_cast<uint32_t>(req.process_id);
  f.port = static_cast<uint16_t>(req.port);
  if (!req.source_ip.empty()) {
    auto p = ParseIpOrPrefix(req.source_ip);
    if (!p.ok()) return absl::InvalidArgumentError(StrCat("source_ip: ", p.status().message()));
    f.source = *p;
  }
  if (!req.destination_ip.empty()) {
    auto p = ParseIpOrPrefix(req.destination_ip);
    if (!p.ok()) return absl::InvalidArgumentError(StrCat("destination_ip: ", p.status().message()));
    f.destination = *p;
  }
  return f;
}

absl::Status CheckProcessExists(uint32_t pid) {
  // /proc/<tid> exists for every thread too (hidden from readdir), so read the Tgid: events carry process ids,
  // and a filter on a thread id would silently match nothing.
  std::ifstream status(StrCat("/proc/", pid, "/status"));
  if (!status) return absl::NotFoundError(StrCat("process_id ", pid, ": no such process"));
  std::string line;
  while (std::getline(status, line)) {
    if (line.rfind("Tgid:", 0) != 0) continue;
    std::string_view v(line);
    v.remove_prefix(5);
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    uint32_t tgid = 0;
    std::from_chars(v.data(), v.data() + v.size(), tgid);
    if (tgid != pid) {
      return absl::NotFoundError(
          StrCat("process_id ", pid, " is a thread of process ", tgid, "; capture by the process id"));
    }
    return absl::OkStatus();
  }
  return absl::NotFoundError(StrCat("process_id ", pid, ": no such process"));
}

}  // namespace netmon::session
