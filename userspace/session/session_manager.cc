// SPDX-License-Identifier: Apache-2.0
#include "session/session_manager.h"

#include <algorithm>
#include <utility>

#include "common/log.h"
#include "common/quote.h"
#include "common/str_cat.h"

namespace netmon::session {

SessionManager::SessionManager(ManagerOptions options, const Clock* clock, KernelApply apply, PidChecker pid_checker,
                               CounterSource counters)
    : options_(options),
      clock_(clock),
      apply_(std::move(apply)),
      pid_checker_(std::move(pid_checker)),
      counters_(std::move(counters)),
      budget_(options.max_retained_bytes) {}

SessionManager::~SessionManager() = default;

std::vector<Filter> SessionManager::LiveFiltersLocked() const {
  std::vector<Filter> out;
  out.reserve(live_.size());
  for (const auto& s : live_) out.push_back(s->filter());
  return out;
}

void SessionManager::CollectLocked(int64_t now) {
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    const auto& s = it->second;
    it = (s->finished() && s->expires_mono() <= now) ? sessions_.erase(it) : std::next(it);
  }
}

absl::Status SessionManager::Start(const CaptureRequest& request) {
  absl::StatusOr<Filter> filter = ValidateRequest(request, options_.max_duration_seconds);
  if (!filter.ok()) return filter.status();

  std::lock_guard<std::mutex> change(change_mu_);
  std::vector<Filter> filters;
  {
    std::lock_guard<std::mutex> lock(mu_);
    CollectLocked(clock_->MonotonicNs());
    if (sessions_.count(request.session_id) != 0) {
      return absl::AlreadyExistsError(StrCat("session_id ", QuoteUntrusted(request.session_id), " is already in use"));
    }
    if (live_.size() >= static_cast<size_t>(options_.max_sessions)) {
      return absl::ResourceExhaustedError(
          StrCat(live_.size(), " captures are running; at most ", options_.max_sessions, " may run at once"));
    }
    filters = LiveFiltersLocked();
  }
  if (filter->pid != 0 && pid_checker_) {
    if (absl::Status s = pid_checker_(filter->pid); !s.ok()) return s;
  }
  filters.push_back(*filter);
  size_t live = filters.size();
  if (apply_) {
    if (absl::Status s = apply_(KernelUnion(filters), live); !s.ok()) {
      // Nothing half-started: put the kernel back to the previous live set.
      filters.pop_back();
      if (absl::Status undo = apply_(KernelUnion(filters), filters.size()); !undo.ok()) {
        NETMON_LOG(kWarn, "session", "restoring the kernel filter after a failed start: ", undo.message());
      }
      return s;
    }
  }
  auto session = std::make_shared<Session>(request, *filter, clock_->MonotonicNs(), clock_->WallNs(),
                                           options_.max_events_per_session, &budget_,
                                           counters_ ? counters_() : std::map<std::string, uint64_t>{});
  {
    std::lock_guard<std::mutex> lock(mu_);
    sessions_[request.session_id] = session;
    live_.push_back(session);
  }
  NETMON_LOG(kInfo, "session", "capture \"", request.session_id, "\" started for ", request.duration_seconds,
             " s (pid ", request.process_id, ", port ", request.port, ", src \"", request.source_ip, "\", dst \"",
             request.destination_ip, "\"), ", live, " live");
  return absl::OkStatus();
}

absl::StatusOr<std::shared_ptr<Session>> SessionManager::Stop(const std::string& id) {
  std::shared_ptr<Session> s;
  std::function<void()> wake;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = sessions_.find(id);
    if (it == sessions_.end() || (it->second->finished() && it->second->expires_mono() <= clock_->MonotonicNs())) {
      return absl::NotFoundError(StrCat("no capture ", QuoteUntrusted(id)));
    }
    s = it->second;
    wake = wakeup_;
  }
  if (!s->finished()) {
    s->RequestStop();
    if (wake) wake();
  }
  return s;
}

absl::StatusOr<std::shared_ptr<Session>> SessionManager::Find(const std::string& id) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = sessions_.find(id);
  if (it == sessions_.end()) return absl::NotFoundError(StrCat("no capture ", QuoteUntrusted(id)));
  if (it->second->finished() && it->second->expires_mono() <= clock_->MonotonicNs()) {
    sessions_.erase(it);
    return absl::NotFoundError(StrCat("capture ", QuoteUntrusted(id), " ended and its results have expired"));
  }
  return it->second;
}

std::vector<std::shared_ptr<Session>> SessionManager::List() {
  std::lock_guard<std::mutex> lock(mu_);
  CollectLocked(clock_->MonotonicNs());
  std::vector<std::shared_ptr<Session>> out;
  for (const auto& [id, s] : sessions_) out.push_back(s);
  return out;
}

size_t SessionManager::live_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return live_.size();
}

size_t SessionManager::retained_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return sessions_.size() - live_.size();
}

void SessionManager::Route(std::vector<join::Event>&& events) {
  if (events.empty()) return;
  std::vector<std::shared_ptr<Session>> live;
  {
    std::lock_guard<std::mutex> lock(mu_);
    live = live_;
  }
  if (live.empty()) return;
  // Which sessions want which event; the kept events move into one shared block, and each session holds aliasing
  // pointers into it: one allocation per batch instead of one per event, one copy however many sessions keep an
  // event, and nothing kept that no session matched.
  std::vector<std::vector<size_t>> per(live.size());
  std::vector<size_t> kept;
  kept.reserve(events.size());
  for (size_t e = 0; e < events.size(); ++e) {
    bool any = false;
    for (size_t i = 0; i < live.size(); ++i) {
      if (!live[i]->filter().Matches(events[e])) continue;
      if (!any) kept.push_back(e);
      any = true;
      per[i].push_back(kept.size() - 1);
    }
  }
  if (kept.empty()) return;
  auto block = std::make_shared<std::vector<join::Event>>();
  if (kept.size() == events.size()) {
    *block = std::move(events);
  } else {
    block->reserve(kept.size());
    for (size_t e : kept) block->push_back(std::move(events[e]));
  }
  std::vector<EventPtr> ptrs;
  for (size_t i = 0; i < live.size(); ++i) {
    if (per[i].empty()) continue;
    ptrs.clear();
    ptrs.reserve(per[i].size());
    for (size_t k : per[i]) ptrs.emplace_back(block, &(*block)[k]);
    live[i]->Append(ptrs);
  }
}

std::vector<std::shared_ptr<Session>> SessionManager::TakeEnding() {
  int64_t now = clock_->MonotonicNs();
  std::vector<std::shared_ptr<Session>> out;
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& s : live_) {
    if (s->ending()) continue;
    if (s->stop_requested() || now >= s->deadline_mono()) {
      s->MarkEnding();
      out.push_back(s);
    }
  }
  return out;
}

void SessionManager::End(const std::shared_ptr<Session>& session, State state) {
  std::lock_guard<std::mutex> change(change_mu_);
  std::vector<Filter> filters;
  bool was_live = false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = std::find(live_.begin(), live_.end(), session);
    if (it != live_.end()) {
      live_.erase(it);
      was_live = true;
    }
    filters = LiveFiltersLocked();
  }
  // Shrink the kernel filter (or detach after the last capture) before readers see the end, so a client that
  // got its final chunk finds the kernel already idle.
  if (was_live && apply_) {
    if (absl::Status s = apply_(KernelUnion(filters), filters.size()); !s.ok()) {
      NETMON_LOG(kWarn, "session", "updating the kernel after capture \"", session->id(), "\" ended: ", s.message());
    }
  }
  int64_t now = clock_->MonotonicNs();
  session->Finish(state, clock_->WallNs(), now + options_.result_ttl_seconds * 1'000'000'000,
                  counters_ ? counters_() : std::map<std::string, uint64_t>{});
  if (was_live) {
    SessionStats st = session->Stats(counters_);
    NETMON_LOG(kInfo, "session", "capture \"", session->id(), "\" ", StateName(state), ": ", st.events_total,
               " events, ", st.events_dropped, " dropped, ", filters.size(), " live");
  }
}

void SessionManager::Finish(const std::shared_ptr<Session>& session) {
  End(session, session->stop_requested() ? State::kStopped : State::kCompleted);
}

void SessionManager::Fail(const std::shared_ptr<Session>& session) {
  End(session, State::kFailed);
}

void SessionManager::StopAll() {
  std::vector<std::shared_ptr<Session>> live;
  std::function<void()> wake;
  {
    std::lock_guard<std::mutex> lock(mu_);
    live = live_;
    wake = wakeup_;
  }
  for (const auto& s : live) s->RequestStop();
  if (wake) wake();
}

void SessionManager::Collect() {
  std::lock_guard<std::mutex> lock(mu_);
  CollectLocked(clock_->MonotonicNs());
}

void SessionManager::SetWakeup(std::function<void()> wakeup) {
  std::lock_guard<std::mutex> lock(mu_);
  wakeup_ = std::move(wakeup);
}

}  // namespace netmon::session
