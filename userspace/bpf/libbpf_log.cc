// SPDX-License-Identifier: Apache-2.0
#include "bpf/libbpf_log.h"

#include <bpf/libbpf.h>
#include <sys/utsname.h>

#include <cstdarg>
#include <cstdio>
#include <cstring>
#include <utility>

#include "common/log.h"

namespace netmon::bpf {
namespace {

thread_local std::vector<ProgramRefusal> refusals;

// Since 5.11 BPF memory is charged to the memory cgroup, not RLIMIT_MEMLOCK: libbpf's "try raising 'ulimit -l'"
// hint then points an operator at the wrong knob (it follows any EPERM/EACCES, verifier refusals included).
bool MemcgAccounted() {
  static const bool accounted = [] {
    utsname u{};
    int major = 0, minor = 0;
    if (uname(&u) != 0 || sscanf(u.release, "%d.%d", &major, &minor) != 2) return false;
    return major > 5 || (major == 5 && minor >= 11);
  }();
  return accounted;
}

// "libbpf: prog 'NAME': REST" -> NAME and REST; false for other messages.
bool SplitProgramMessage(std::string_view msg, std::string_view* name, std::string_view* rest) {
  constexpr std::string_view kLibbpf = "libbpf: ";
  if (msg.substr(0, kLibbpf.size()) == kLibbpf) msg.remove_prefix(kLibbpf.size());
  constexpr std::string_view kPrefix = "prog '";
  if (msg.substr(0, kPrefix.size()) != kPrefix) return false;
  size_t end = msg.find("': ", kPrefix.size());
  if (end == std::string_view::npos) return false;
  *name = msg.substr(kPrefix.size(), end - kPrefix.size());
  *rest = msg.substr(end + 3);
  return true;
}

ProgramRefusal& RefusalOf(std::string_view program) {
  if (refusals.empty() || refusals.back().program != program) refusals.push_back({std::string(program), "", ""});
  return refusals.back();
}

// Remembers what libbpf says of a refused program: its verifier log and its error.
void Note(std::string_view msg) {
  std::string_view name, rest;
  if (!SplitProgramMessage(msg, &name, &rest)) return;
  constexpr std::string_view kBegin = "-- BEGIN PROG LOAD LOG --\n";
  constexpr std::string_view kEnd = "-- END PROG LOAD LOG --";
  constexpr std::string_view kFailed = "failed to load: ";
  if (rest.substr(0, kBegin.size()) == kBegin) {
    std::string_view log = rest.substr(kBegin.size());
    if (size_t e = log.rfind(kEnd); e != std::string_view::npos) log = log.substr(0, e);
    ProgramRefusal& r = RefusalOf(name);
    r.log = std::string(log);
    r.reason = VerifierVerdict(log);
  } else if (rest.substr(0, kFailed.size()) == kFailed) {
    ProgramRefusal& r = RefusalOf(name);
    if (r.reason.empty()) {
      std::string_view code = rest.substr(kFailed.size());
      while (!code.empty() && code.back() == '\n') code.remove_suffix(1);
      r.reason = "load failed: " + std::string(code);
    }
  }
}

int PrintToLog(enum libbpf_print_level level, const char* format, va_list args) {
  const log::Level ours = level == LIBBPF_WARN ? log::Level::kWarn : log::Level::kDebug;
  if (level != LIBBPF_WARN && !log::Enabled(ours)) return 0;
  // Two passes: a verifier log can be megabytes, and a cut one hides the verdict, which comes last.
  va_list again;
  va_copy(again, args);
  char small[1024];
  int n = vsnprintf(small, sizeof(small), format, args);
  std::string msg;
  if (n >= 0 && static_cast<size_t>(n) >= sizeof(small)) {
    msg.resize(static_cast<size_t>(n) + 1);
    vsnprintf(msg.data(), msg.size(), format, again);
    msg.resize(static_cast<size_t>(n));
  } else if (n >= 0) {
    msg.assign(small, static_cast<size_t>(n));
  }
  va_end(again);
  if (level == LIBBPF_WARN) Note(msg);
  if (MemcgAccounted() && msg.find("ulimit -l") != std::string::npos) return n;
  if (!log::Enabled(ours)) return n;
  while (!msg.empty() && msg.back() == '\n') msg.pop_back();
  log::Write(ours, "libbpf", msg);
  return n;
}

}  // namespace

void RouteLibbpfLog() {
  libbpf_set_print(PrintToLog);
}

std::vector<ProgramRefusal> TakeProgramRefusals() {
  return std::exchange(refusals, {});
}

std::string VerifierVerdict(std::string_view log) {
  constexpr std::string_view kStats[] = {"processed ",          "verification time", "stack depth",
                                         "max_states_per_insn", "peak_states",       "mark_read"};
  while (!log.empty()) {
    size_t nl = log.find_last_of('\n', log.size() - 1);
    std::string_view line = nl == std::string_view::npos ? log : log.substr(nl + 1);
    log = nl == std::string_view::npos ? std::string_view() : log.substr(0, nl);
    if (line.empty()) continue;
    bool stat = false;
    for (std::string_view s : kStats) stat = stat || line.substr(0, s.size()) == s;
    if (!stat) return std::string(line);
  }
  return "";
}

}  // namespace netmon::bpf
