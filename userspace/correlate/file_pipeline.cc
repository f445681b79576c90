// SPDX-License-Identifier: Apache-2.0
#include "correlate/file_pipeline.h"

#include <poll.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/log.h"
#include "common/status.h"
#include "correlate/clock.h"
#include "correlate/json_in.h"
#include "correlate/json_out.h"

namespace netmon::correlate {
namespace {

constexpr size_t kReadChunk = 1 << 16;
constexpr size_t kFlushAt = 1 << 16;
constexpr uint64_t kWarnMalformed = 5;  // the first few malformed lines are warned about, the rest at debug

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.back() == '\r' || s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  return s;
}

}  // namespace

FilePipeline::FilePipeline(Service* service, int in_fd, int out_fd, int stop_fd)
    : service_(service),
      in_fd_(in_fd),
      out_fd_(out_fd),
      stop_fd_(stop_fd),
      hold_(service->config().hold_ms * 1'000'000, service->config().max_held) {}

void FilePipeline::AppendCounters(std::string* out) const {
  JsonOut w(out);
  w.BeginObject()
      .Field("mode", "file")
      .FieldUint("lines", counters_.lines)
      .FieldUint("events", counters_.events)
      .FieldUint("malformed", counters_.malformed)
      .FieldUint("too_long", counters_.too_long)
      .FieldUint("control", counters_.control)
      .FieldUint("output_lines", counters_.output_lines)
      .FieldUint("held", hold_.size())
      .FieldUint("released_early", counters_.released_early)
      .EndObject();
}

void FilePipeline::Enrich(const Event& ev) {
  service_->correlator().Enrich(ev, WallNowNs(), MonoNowNs(), &out_);
  out_.push_back('\n');
  ++counters_.output_lines;
}

void FilePipeline::EmitDue(bool all) {
  if (hold_.empty()) return;
  due_.clear();
  hold_.TakeDue(MonoNowNs(), all, &due_);
  for (const Event& ev : due_) Enrich(ev);
}

void FilePipeline::HandleControl(std::string_view line, bool* handled) {
  auto doc = ParseJson(line, service_->config().max_line_bytes, 16);
  if (!doc.ok() || !doc->is_object()) return;
  auto c = doc->find("control");
  if (c == doc->end()) return;
  *handled = true;
  ++counters_.control;
  std::string what;
  GetString(*c, &what);
  // Control answers are written after the events before them, so "stats" counts everything sent ahead of it.
  EmitDue(/*all=*/true);
  if (what == "stats") {
    out_.append("{\"stats\":");
    out_.append(service_->StatsJson([this](std::string* o) { AppendCounters(o); }));
    out_.append("}\n");
  } else if (what == "reverse_lookup") {
    std::string answer;
    absl::Status st = service_->AnswerReverseQuery(*doc, &answer);
    if (st.ok()) {
      out_.append("{\"reverse_lookup\":");
      out_.append(answer);
      out_.append("}\n");
    } else {
      JsonOut w(&out_);
      w.BeginObject().Field("error", std::string(st.message())).EndObject();
      out_.push_back('\n');
    }
  } else {
    JsonOut w(&out_);
    w.BeginObject().Field("error", "unknown control request (use \"stats\" or \"reverse_lookup\")").EndObject();
    out_.push_back('\n');
  }
  ++counters_.output_lines;
}

void FilePipeline::HandleLine(std::string_view raw) {
  std::string_view line = Trim(raw);
  if (line.empty()) return;
  ++counters_.lines;
  if (line.find("\"control\"") != std::string_view::npos) {
    bool handled = false;
    HandleControl(line, &handled);
    if (handled) return;
  }
  EventDecodeLimits limits;
  limits.max_bytes = service_->config().max_line_bytes;
  auto ev = DecodeEvent(line, limits);
  if (!ev.ok()) {
    if (++counters_.malformed <= kWarnMalformed) {
      NETMON_LOG(kWarn, "input", "line ", counters_.lines, " skipped: ", ev.status().message());
    } else {
      NETMON_LOG(kDebug, "input", "line ", counters_.lines, " skipped: ", ev.status().message());
    }
    return;
  }
  ++counters_.events;
  if (!hold_.enabled()) {
    Enrich(*ev);
    return;
  }
  if (hold_.full()) {
    due_.clear();
    hold_.TakeOldest(&due_);
    counters_.released_early += due_.size();
    for (const Event& e : due_) Enrich(e);
  }
  hold_.Push(std::move(*ev), MonoNowNs());
}

absl::Status FilePipeline::FlushOutput() {
  size_t off = 0;
  while (off < out_.size()) {
    ssize_t n = write(out_fd_, out_.data() + off, out_.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) {
        pollfd p{out_fd_, POLLOUT, 0};
        poll(&p, 1, 1000);
        continue;
      }
      return ErrnoError("write", "output", errno);
    }
    off += static_cast<size_t>(n);
  }
  out_.clear();
  return absl::OkStatus();
}

absl::Status FilePipeline::Run() {
  std::vector<char> buf(kReadChunk);
  std::string partial;
  bool discarding = false;  // inside a line that is already too long
  const size_t max_line = service_->config().max_line_bytes;
  pollfd fds[2] = {{in_fd_, POLLIN, 0}, {stop_fd_, POLLIN, 0}};
  while (true) {
    int timeout = -1;
    if (!hold_.empty()) {
      int64_t wait_ns = hold_.NextDueNs() - MonoNowNs();
      timeout = wait_ns <= 0 ? 0 : static_cast<int>(std::min<int64_t>(wait_ns / 1'000'000 + 1, 1000));
    }
    int pr = poll(fds, stop_fd_ >= 0 ? 2 : 1, timeout);
    if (pr < 0 && errno != EINTR) return ErrnoError("poll", "input", errno);
    if (stop_fd_ >= 0 && (fds[1].revents & POLLIN)) {
      NETMON_LOG(kInfo, "input", "stopping; enriching ", hold_.size(), " held event(s)");
      EmitDue(/*all=*/true);
      return FlushOutput();
    }
    bool eof = false;
    if (pr > 0 && (fds[0].revents & (POLLIN | POLLHUP | POLLERR))) {
      ssize_t n = read(in_fd_, buf.data(), buf.size());
      if (n < 0) {
        if (errno != EINTR && errno != EAGAIN) return ErrnoError("read", "input", errno);
      } else if (n == 0) {
        eof = true;
      } else {
        std::string_view chunk(buf.data(), static_cast<size_t>(n));
        while (!chunk.empty()) {
          size_t nl = chunk.find('\n');
          std::string_view piece = chunk.substr(0, nl);
          if (discarding) {
            if (nl != std::string_view::npos) discarding = false;
          } else if (partial.size() + piece.size() > max_line) {
            ++counters_.too_long;
            ++counters_.malformed;
            ++counters_.lines;
            NETMON_LOG(kDebug, "input", "line over ", max_line, " bytes skipped");
            partial.clear();
            discarding = nl == std::string_view::npos;
          } else if (nl == std::string_view::npos) {
            partial.append(piece);
          } else if (partial.empty()) {
            HandleLine(piece);
          } else {
            partial.append(piece);
            HandleLine(partial);
            partial.clear();
          }
          if (nl == std::string_view::npos) break;
          chunk.remove_prefix(nl + 1);
          if (out_.size() >= kFlushAt) {
            absl::Status st = FlushOutput();
            if (!st.ok()) return st;
          }
        }
      }
    }
    EmitDue(/*all=*/eof);
    if (eof) {
      if (!partial.empty() && !discarding) HandleLine(partial);
      EmitDue(/*all=*/true);
      return FlushOutput();
    }
    absl::Status st = FlushOutput();
    if (!st.ok()) return st;
  }
}

}  // namespace netmon::correlate
