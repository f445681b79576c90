// SPDX-License-Identifier: Apache-2.0
// Errors from the kernel and libbpf, converted once into absl::Status: the code follows errno, the message names
// the operation and the object and says what to do next where that is known.
#pragma once

#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

namespace netmon {

// Maps an errno value to the closest absl status code (EPERM -> PermissionDenied, ENOENT -> NotFound, ...).
absl::StatusCode CodeFromErrno(int err);

// "op object: strerror (errno N)" plus a hint for errors operators commonly meet (EPERM: needs root/CAP_BPF ...).
// `err` may be negative (libbpf's convention) or positive.
absl::Status ErrnoError(std::string_view op, std::string_view object, int err);

// The errno carried by a status made by ErrnoError, or 0.
int ErrnoOf(const absl::Status& status);

}  // namespace netmon

// Propagates a non-OK absl::Status from an expression.
#define NETMON_RETURN_IF_ERROR(expr)                 \
  do {                                               \
    ::absl::Status netmon_status_ = (expr);          \
    if (!netmon_status_.ok()) return netmon_status_; \
  } while (0)

#define NETMON_CONCAT_INNER(a, b) a##b
#define NETMON_CONCAT(a, b) NETMON_CONCAT_INNER(a, b)
#define NETMON_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                                 \
  if (!tmp.ok()) return tmp.status();                \
  lhs = std::move(*tmp)
// NETMON_ASSIGN_OR_RETURN(auto x, MakeX()); returns the error status if MakeX() failed.
#define NETMON_ASSIGN_OR_RETURN(lhs, expr) \
  NETMON_ASSIGN_OR_RETURN_IMPL(NETMON_CONCAT(netmon_statusor_, __LINE__), lhs, expr)
