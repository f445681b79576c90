// SPDX-License-Identifier: Apache-2.0
#include "cli/commands.h"

#include <cstdio>
#include <iostream>

#include "cli/console.h"
#include "cli/format.h"
#include "cli/interrupt.h"
#include "cli/options.h"
#include "cli/target.h"
#include "common/str_cat.h"

#ifndef NETMON_VERSION
#define NETMON_VERSION "0.0.0"
#endif

namespace netmon::cli {
namespace {

using nlohmann::json;

int Fail(const std::string& what, const absl::Status& s) {
  std::string msg(s.message());
  (void)fprintf(stderr, "netmonctl: %s%s%s\n", what.c_str(), what.empty() ? "" : ": ", msg.c_str());
  return ExitCodeFor(s);
}

void PrintStatus(const json& j, std::ostream& out) {
  auto line = [&](const std::string& key, const std::string& value) {
    out << key << std::string(key.size() < 15 ? 15 - key.size() : 1, ' ') << value << '\n';
  };
  if (j.contains("agent_id")) {
    line("agent", StrCat(j.value("agent_id", ""), " (", j.value("agent_address", ""), ")"));
  }
  const json& m = j.value("monitor", json::object());
  if (!m.value("reachable", false)) {
    line("netmon-server", StrCat(m.value("address", ""), ": UNREACHABLE: ", m.value("error", "")));
    return;
  }
  line("netmon-server",
       StrCat(m.value("address", ""), ": reachable, version ", m.value("version", ""), ", ", m.value("kernel", "")));
  line("captures", StrCat(m.value("live_sessions", 0), " running, ", m.value("retained_sessions", 0), " retained"));
  std::string ifs;
  for (const auto& i : m.value("interfaces", json::array())) ifs += (ifs.empty() ? "" : ", ") + i.get<std::string>();
  line("interfaces", ifs.empty() ? "(none configured)" : ifs);
  std::string hooks, degraded;
  for (const auto& h : m.value("hooks", json::array())) {
    std::string name = h.value("name", "");
    hooks += StrCat(hooks.empty() ? "" : ", ", name, "=", h.value("rung", "").empty() ? "-" : h.value("rung", ""),
                    h.value("active", false) ? "" : " (idle)");
    if (h.value("degraded", false)) {
      degraded += StrCat(degraded.empty() ? "" : "; ", name, ": ", h.value("detail", ""));
    }
  }
  line("hooks", hooks.empty() ? "(none reported)" : hooks);
  if (!degraded.empty()) line("degraded", degraded);
}

int DoRead(Target& target, const CliOptions& o, const std::string& session, bool follow, bool progress,
           const std::string& verb) {
  PrinterOptions po;
  po.utc = o.utc;
  po.buffered = !follow;  // `results` is complete before it is shown: align every column exactly
  Console console(MakePrinter(o.format, &std::cout, po), stderr, progress);
  absl::Status s = target.Read(session, o.since, follow, &console);
  CaptureProgress p = console.progress();
  console.Finish();
  if (s.code() == absl::StatusCode::kCancelled && Interrupt::Get().requested()) {
    (void)fprintf(stderr,
                  "netmonctl: interrupted; capture %s keeps running until its end (netmonctl follow %s picks it "
                  "up again)\n",
                  session.c_str(), session.c_str());
    return kExitInterrupted;
  }
  if (!s.ok()) return Fail(verb, s);
  if (!o.quiet) {
    std::string summary = StrCat("capture ", session, ": ", p.state, ", ", p.events_seen, " events shown");
    if (p.events_dropped > 0) summary += StrCat(", ", p.events_dropped, " dropped by the server (limits)");
    (void)fprintf(stderr, "%s\n", summary.c_str());
  }
  return kExitOk;
}

}  // namespace

int ExitCodeFor(const absl::Status& s) {
  switch (s.code()) {
    case absl::StatusCode::kOk: return kExitOk;
    case absl::StatusCode::kCancelled: return kExitInterrupted;
    case absl::StatusCode::kUnavailable:
    case absl::StatusCode::kDeadlineExceeded: return kExitUnreachable;
    default: return kExitFailed;
  }
}

int Run(const std::vector<std::string>& args, bool terminal, const char* env_security) {
  auto parsed = ParseArgs(args);
  if (!parsed.ok()) {
    (void)fprintf(stderr, "netmonctl: %s\n", std::string(parsed.status().message()).c_str());
    return kExitUsage;
  }
  const CliOptions& o = *parsed;
  if (o.command == Command::kHelp) {
    std::cout << kUsage;
    return kExitOk;
  }
  if (o.command == Command::kVersion) {
    std::cout << "netmonctl " << NETMON_VERSION << "\n";
    return kExitOk;
  }
  auto security = ResolveSecurity(o, env_security);
  if (!security.ok()) {
    (void)fprintf(stderr, "netmonctl: %s\n", std::string(security.status().message()).c_str());
    return kExitUsage;
  }
  auto target = o.via_agent() ? MakeAgentTarget(o, *security) : MakeServerTarget(o, *security);
  if (!target.ok()) {
    (void)fprintf(stderr, "netmonctl: %s\n", std::string(target.status().message()).c_str());
    return kExitUsage;
  }
  Target& t = **target;
  const bool progress = o.progress.value_or(terminal);
  switch (o.command) {
    case Command::kCapture: {
      auto id = t.StartCapture(o);
      if (!id.ok()) return Fail("capture", id.status());
      if (!o.follow) {
        std::cout << *id << "\n";
        return kExitOk;
      }
      if (!o.quiet) {
        (void)fprintf(stderr, "netmonctl: capture %s started on %s for %d s\n", id->c_str(), t.Describe().c_str(),
                      o.duration);
      }
      return DoRead(t, o, *id, /*follow=*/true, progress, "capture");
    }
    case Command::kFollow: return DoRead(t, o, o.session, /*follow=*/true, progress, "follow");
    case Command::kResults: return DoRead(t, o, o.session, /*follow=*/false, false, "results");
    case Command::kSessions: {
      auto list = t.Sessions();
      if (!list.ok()) return Fail("sessions", list.status());
      PrintSessions(o.format, *list, &std::cout, o.utc);
      return kExitOk;
    }
    case Command::kStatus: {
      auto st = t.Status();
      if (!st.ok()) return Fail("status", st.status());
      if (o.format == Format::kJson) {
        std::cout << st->dump(2, ' ', false, json::error_handler_t::replace) << "\n";
      } else {
        PrintStatus(*st, std::cout);
      }
      bool reachable = st->value("monitor", json::object()).value("reachable", false);
      return reachable ? kExitOk : kExitUnreachable;
    }
    case Command::kStop: {
      absl::Status s = t.Stop(o.session);
      if (!s.ok()) return Fail("stop", s);
      if (!o.quiet) (void)fprintf(stderr, "netmonctl: capture %s stopped\n", o.session.c_str());
      return kExitOk;
    }
    case Command::kHelp:
    case Command::kVersion: break;
  }
  return kExitOk;
}

}  // namespace netmon::cli
