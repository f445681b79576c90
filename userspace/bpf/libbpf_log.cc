// SPDX-License-Identifier: Apache-2.0
#include "bpf/libbpf_log.h"

#include <bpf/libbpf.h>

#include <cstdarg>
#include <cstdio>

#include "common/log.h"

namespace netmon::bpf {
namespace {

int PrintToLog(enum libbpf_print_level level, const char* format, va_list args) {
  log::Level ours = level == LIBBPF_WARN ? log::Level::kWarn : log::Level::kDebug;
  if (!log::Enabled(ours)) return 0;
  char buf[1024];
  int n = vsnprintf(buf, sizeof(buf), format, args);
  log::Write(ours, "libbpf", buf);
  return n;
}

}  // namespace

void RouteLibbpfLog() {
  libbpf_set_print(PrintToLog);
}

}  // namespace netmon::bpf
