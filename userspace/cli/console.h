// SPDX-License-Identifier: Apache-2.0
// Where netmonctl's output meets the terminal: events go to stdout through an EventPrinter; the progress line
// (capture, state, countdown, events, bytes) lives on stderr and is cleared before each event is printed and
// redrawn after it, so the two never mix on one line. A ticker keeps the countdown moving while no event comes.
// Thread-safe: the reader thread prints events, the ticker redraws.
#pragma once

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include "cli/format.h"
#include "cli/model.h"

namespace netmon::cli {

// The progress line's text, e.g. "capture 3f2a…: RUNNING, 7 s left, 1,204 events, 1.2 MiB sent, 40.0 KiB
// received". `now_ns` is the wall clock.
std::string ProgressText(const CaptureProgress& progress, int64_t now_ns);

class Console {
 public:
  // `progress` draws the line on `err` (a terminal); `out` gets the events.
  Console(std::unique_ptr<EventPrinter> printer, std::FILE* err, bool progress);
  ~Console();
  Console(const Console&) = delete;
  Console& operator=(const Console&) = delete;

  void Event(const network_monitor::NetworkEvent& event);
  void Update(const CaptureProgress& progress);
  CaptureProgress progress() const;
  // An informational line on stderr (the progress line is cleared first).
  void Info(const std::string& line);
  // Clears the progress line and finishes the printer.
  void Finish();

 private:
  void ClearLocked();
  void DrawLocked();
  void Tick();

  mutable std::mutex mu_;
  std::unique_ptr<EventPrinter> printer_;
  std::FILE* err_;
  const bool progress_;
  CaptureProgress state_;
  bool drawn_ = false;
  bool finished_ = false;
  std::condition_variable stop_cv_;
  bool stop_ = false;
  std::thread ticker_;
};

}  // namespace netmon::cli
