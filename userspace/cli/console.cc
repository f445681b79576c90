// SPDX-License-Identifier: Apache-2.0
#include "cli/console.h"

#include <algorithm>
#include <iostream>

#include "common/str_cat.h"

namespace netmon::cli {
namespace {

int64_t WallNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::string Thousands(uint64_t n) {
  std::string digits = std::to_string(n);
  std::string out;
  out.reserve(digits.size() + digits.size() / 3);
  for (size_t i = 0; i < digits.size(); ++i) {
    if (i > 0 && (digits.size() - i) % 3 == 0) out.push_back(',');
    out.push_back(digits[i]);
  }
  return out;
}

}  // namespace

std::string ProgressText(const CaptureProgress& p, int64_t now_ns) {
  // The full id is on the "started" line; eight characters identify it here.
  std::string_view id = p.session_id;
  std::string out = StrCat("capture ", id.substr(0, 8), id.size() > 8 ? "..." : "", ": ", p.state);
  if (p.state == "RUNNING" && p.started_ns != 0 && p.duration_seconds > 0) {
    int64_t end = p.started_ns + int64_t{p.duration_seconds} * 1'000'000'000;
    int64_t left = std::max<int64_t>(0, (end - now_ns + 999'999'999) / 1'000'000'000);
    out += StrCat(", ", left, " s left");
  }
  out += StrCat(", ", Thousands(p.events_seen), " events");
  if (p.events_total > p.events_seen) out += StrCat(" of ", Thousands(p.events_total));
  if (p.events_dropped > 0) out += StrCat(" (", Thousands(p.events_dropped), " dropped)");
  out += StrCat(", ", HumanBytes(p.bytes_sent), " sent, ", HumanBytes(p.bytes_received), " received");
  return out;
}

Console::Console(std::unique_ptr<EventPrinter> printer, std::FILE* err, bool progress)
    : printer_(std::move(printer)), err_(err), progress_(progress) {
  if (progress_) ticker_ = std::thread([this] { Tick(); });
}

Console::~Console() {
  Finish();
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  stop_cv_.notify_all();
  if (ticker_.joinable()) ticker_.join();
}

void Console::Tick() {
  std::unique_lock<std::mutex> l(mu_);
  while (!stop_) {
    if (!finished_) DrawLocked();
    stop_cv_.wait_for(l, std::chrono::milliseconds(250));
  }
}

void Console::ClearLocked() {
  if (!drawn_) return;
  (void)std::fputs("\r\033[K", err_);
  (void)std::fflush(err_);
  drawn_ = false;
}

void Console::DrawLocked() {
  // Nothing to say before the first Update names the capture.
  if (!progress_ || finished_ || state_.session_id.empty()) return;
  std::string text = ProgressText(state_, WallNs());
  (void)std::fprintf(err_, "\r\033[K%s", text.c_str());
  (void)std::fflush(err_);
  drawn_ = true;
}

void Console::Event(const network_monitor::NetworkEvent& event) {
  std::lock_guard<std::mutex> l(mu_);
  ++state_.events_seen;
  state_.bytes_sent += event.bytes_sent();
  state_.bytes_received += event.bytes_received();
  if (progress_) {
    ClearLocked();
    printer_->Print(event);
    std::cout.flush();  // the line must be out before the progress line is drawn below it
    DrawLocked();
  } else {
    printer_->Print(event);
  }
}

void Console::Update(const CaptureProgress& p) {
  std::lock_guard<std::mutex> l(mu_);
  uint64_t seen = state_.events_seen;
  int64_t sent = state_.bytes_sent, recv = state_.bytes_received;
  state_ = p;
  state_.events_seen = seen;
  state_.bytes_sent = sent;
  state_.bytes_received = recv;
  DrawLocked();
}

CaptureProgress Console::progress() const {
  std::lock_guard<std::mutex> l(mu_);
  return state_;
}

void Console::Info(const std::string& line) {
  std::lock_guard<std::mutex> l(mu_);
  ClearLocked();
  std::cout.flush();
  (void)std::fprintf(err_, "%s\n", line.c_str());
  (void)std::fflush(err_);
  DrawLocked();
}

void Console::Finish() {
  std::lock_guard<std::mutex> l(mu_);
  if (finished_) return;
  ClearLocked();
  finished_ = true;
  printer_->Finish();
}

}  // namespace netmon::cli
