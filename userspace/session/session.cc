// SPDX-License-Identifier: Apache-2.0
#include "session/session.h"

#include <utility>

namespace netmon::session {
namespace {

uint64_t HeapString(const std::string& s) {
  // libstdc++ keeps up to 15 characters inline; longer strings own capacity + 1 bytes on the heap.
  return s.capacity() > 15 ? s.capacity() + 1 : 0;
}

}  // namespace

std::string_view StateName(State state) {
  switch (state) {
    case State::kRunning: return "running";
    case State::kCompleted: return "completed";
    case State::kStopped: return "stopped";
    case State::kFailed: return "failed";
  }
  return "unknown";
}

bool RetainedBudget::TryTake(uint64_t bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  if (used_ + bytes > limit_) return false;
  used_ += bytes;
  return true;
}

void RetainedBudget::Give(uint64_t bytes) {
  std::lock_guard<std::mutex> lock(mu_);
  used_ = bytes > used_ ? 0 : used_ - bytes;
}

uint64_t RetainedBudget::used() const {
  std::lock_guard<std::mutex> lock(mu_);
  return used_;
}

uint64_t RetainedCost(const join::Event& ev) {
  // Events live in per-batch blocks (SessionManager::Route): no control block of their own.
  constexpr uint64_t kQueueSlot = sizeof(EventPtr);
  return sizeof(join::Event) + kQueueSlot + HeapString(ev.process_name) + HeapString(ev.source_addr) +
         HeapString(ev.dest_addr) + HeapString(ev.extra_info);
}

Session::Session(CaptureRequest request, Filter filter, int64_t started_mono, int64_t started_wall, uint64_t max_events,
                 RetainedBudget* budget, std::map<std::string, uint64_t> counter_baseline)
    : request_(std::move(request)),
      filter_(std::move(filter)),
      max_events_(max_events),
      budget_(budget),
      counter_baseline_(std::move(counter_baseline)) {
  deadline_mono_ = started_mono + static_cast<int64_t>(request_.duration_seconds) * 1'000'000'000;
  stats_.started_ns = started_wall;
}

Session::~Session() {
  if (budget_ != nullptr) budget_->Give(retained_bytes_);
}

void Session::Append(std::span<const EventPtr> events) {
  if (events.empty()) return;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stats_.ended_ns != 0) return;
    for (const EventPtr& ev : events) {
      ++stats_.events_total;
      if (ev->pid == 0 && ev->type == join::EventType::kData) {
        stats_.unattributed_bytes += static_cast<uint64_t>(ev->bytes_sent + ev->bytes_received);
        stats_.unattributed_packets += ev->packets;
      }
      if (events_.size() >= max_events_) {
        ++stats_.events_dropped;
        ++stats_.drops["session_event_limit"];
        continue;
      }
      uint64_t cost = RetainedCost(*ev);
      if (budget_ != nullptr && !budget_->TryTake(cost)) {
        ++stats_.events_dropped;
        ++stats_.drops["memory_limit"];
        continue;
      }
      retained_bytes_ += cost;
      events_.push_back(ev);
    }
    stats_.events_retained = events_.size();
    stats_.last_sequence = events_.size();
  }
  cv_.notify_all();
}

Session::Batch Session::Read(uint64_t after, size_t max_events) const {
  Batch b;
  std::lock_guard<std::mutex> lock(mu_);
  b.finished = stats_.ended_ns != 0;
  b.last_sequence = events_.size();
  b.first_sequence = after + 1;
  if (after >= events_.size()) return b;
  size_t n = std::min<size_t>(max_events, events_.size() - after);
  b.events.assign(events_.begin() + static_cast<ptrdiff_t>(after), events_.begin() + static_cast<ptrdiff_t>(after + n));
  return b;
}

void Session::WaitForMore(uint64_t after, std::chrono::steady_clock::time_point deadline) const {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_until(lock, deadline, [&] { return events_.size() > after || stats_.ended_ns != 0; });
}

bool Session::WaitFinished(std::chrono::steady_clock::time_point deadline) const {
  std::unique_lock<std::mutex> lock(mu_);
  return cv_.wait_until(lock, deadline, [&] { return stats_.ended_ns != 0; });
}

SessionStats Session::Stats(const CounterSource& counters) const {
  SessionStats out;
  std::map<std::string, uint64_t> now_counters;
  bool finished;
  {
    std::lock_guard<std::mutex> lock(mu_);
    out = stats_;
    finished = stats_.ended_ns != 0;
    if (finished) now_counters = counter_final_;
  }
  if (!finished && counters) now_counters = counters();
  for (const auto& [name, value] : now_counters) {
    auto base = counter_baseline_.find(name);
    uint64_t b = base == counter_baseline_.end() ? 0 : base->second;
    if (value > b) out.drops[name] = value - b;
  }
  return out;
}

bool Session::finished() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_.ended_ns != 0;
}

State Session::state() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_.state;
}

bool Session::stop_requested() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stop_requested_;
}

void Session::RequestStop() {
  std::lock_guard<std::mutex> lock(mu_);
  stop_requested_ = true;
}

void Session::Finish(State state, int64_t ended_wall, int64_t expires_mono,
                     std::map<std::string, uint64_t> counters_now) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stats_.ended_ns != 0) return;
    stats_.state = state;
    stats_.ended_ns = ended_wall != 0 ? ended_wall : 1;
    expires_mono_ = expires_mono;
    counter_final_ = std::move(counters_now);
  }
  cv_.notify_all();
}

int64_t Session::expires_mono() const {
  std::lock_guard<std::mutex> lock(mu_);
  return expires_mono_;
}

}  // namespace netmon::session
