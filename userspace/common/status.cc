// SPDX-License-Identifier: Apache-2.0
#include "common/status.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>

#include "absl/strings/cord.h"
#include "absl/strings/numbers.h"
#include "common/str_cat.h"

namespace netmon {
namespace {

constexpr char kErrnoPayload[] = "netmon/errno";
// The kernel's internal ENOTSUPP leaks to userspace from BPF syscalls; libc has no name for it.
constexpr int kKernelENOTSUPP = 524;

const char* Hint(int err) {
  switch (err) {
    case EPERM:
    case EACCES: return " (run as root, or grant CAP_BPF, CAP_NET_ADMIN and CAP_PERFMON)";
    case kKernelENOTSUPP:
    case EOPNOTSUPP: return " (this kernel does not support it)";
    case E2BIG: return " (too large for this kernel or map)";
    default: return "";
  }
}

}  // namespace

absl::StatusCode CodeFromErrno(int err) {
  switch (err) {
    case 0: return absl::StatusCode::kOk;
    case EPERM:
    case EACCES: return absl::StatusCode::kPermissionDenied;
    case ENOENT:
    case ESRCH:
    case ENODEV:
    case ENXIO: return absl::StatusCode::kNotFound;
    case EEXIST: return absl::StatusCode::kAlreadyExists;
    case EINVAL:
    case E2BIG:
    case EBADF: return absl::StatusCode::kInvalidArgument;
    case ENOMEM:
    case ENOSPC:
    case EMFILE:
    case ENFILE: return absl::StatusCode::kResourceExhausted;
    case EBUSY:
    case EAGAIN: return absl::StatusCode::kUnavailable;
    case kKernelENOTSUPP:
    case EOPNOTSUPP:
    case ENOSYS: return absl::StatusCode::kUnimplemented;
    case ETIMEDOUT: return absl::StatusCode::kDeadlineExceeded;
    default: return absl::StatusCode::kInternal;
  }
}

absl::Status ErrnoError(std::string_view op, std::string_view object, int err) {
  if (err < 0) err = -err;
  if (err == 0) err = EIO;  // a failure reported without an errno still must not read as success
  char buf[128];
  const char* text = strerror_r(err, buf, sizeof(buf));
  std::string what = object.empty() ? std::string(op) : StrCat(op, " ", object);
  absl::Status status(CodeFromErrno(err), StrCat(what, ": ", text, " (errno ", err, ")", Hint(err)));
  status.SetPayload(kErrnoPayload, absl::Cord(StrCat(err)));
  return status;
}

int ErrnoOf(const absl::Status& status) {
  auto payload = status.GetPayload(kErrnoPayload);
  if (!payload) return 0;
  int err = 0;
  return absl::SimpleAtoi(std::string(*payload), &err) ? err : 0;
}

}  // namespace netmon
