// SPDX-License-Identifier: Apache-2.0
#include "server/engine.h"

#include "common/log.h"
#include "common/str_cat.h"
#include "join/wall_clock.h"

namespace netmon::server {
namespace {

using Clock = std::chrono::steady_clock;

}  // namespace

Engine::Engine(CaptureBackend* backend, EngineOptions options)
    : backend_(backend), options_(options), joiner_(backend->Owners(), options.join) {}

Engine::~Engine() {
  Stop(std::chrono::milliseconds(0));
}

void Engine::Wake() {
  {
    std::lock_guard<std::mutex> lock(wake_mu_);
    woken_ = true;
  }
  wake_cv_.notify_all();
}

absl::Status Engine::Apply(const std::vector<netmon_filter>& filters, size_t live_sessions) {
  absl::Status result;
  {
    std::lock_guard<std::mutex> lock(backend_mu_);
    if (live_sessions > 0) {
      // The filter goes in before the programs, so they apply it from their first packet.
      result = backend_->SetFilters(filters);
      if (result.ok() && !backend_->attached()) {
        absl::Status a = backend_->Attach();
        if (!a.ok()) {
          backend_->Detach();
          (void)backend_->SetFilters({});
          std::string why = StrCat("cannot attach the capture programs: ", a.message());
          // No interface at all could be attached: a fact of the host the caller can act on, not a fault here.
          result = a.code() == absl::StatusCode::kFailedPrecondition ? absl::FailedPreconditionError(why)
                                                                     : absl::InternalError(why);
        } else {
          NETMON_LOG(kInfo, "engine", "capture programs attached");
          if (absl::Status s = backend_->SeedExistingSockets(); !s.ok()) {
            NETMON_LOG(kWarn, "engine", "existing sockets not attributed: ", s.message());
          }
          reset_join_ = true;
          next_flush_ = Clock::now() + std::chrono::milliseconds(options_.flush_interval_ms);
        }
      }
    } else {
      (void)backend_->SetFilters({});
      if (backend_->attached()) {
        backend_->Detach();
        // Records still queued belong to the captures that just ended.
        backend_->PollSockEvents(0, [](const netmon_sock_event&) {});
        backend_->PollDnsEvents([](const netmon_dns_event&) {});
        reset_join_ = true;
        NETMON_LOG(kInfo, "engine", "no capture running: programs detached");
      }
    }
  }
  Wake();
  return result;
}

void Engine::Start(session::SessionManager* sessions) {
  sessions_ = sessions;
  sessions_->SetWakeup([this] { Wake(); });
  running_ = true;
  thread_ = std::thread([this] { Loop(); });
}

void Engine::Stop(std::chrono::milliseconds grace) {
  if (!thread_.joinable()) return;
  // Let the loop end the live captures properly (final flush, final chunk) before it stops.
  sessions_->StopAll();
  auto deadline = Clock::now() + grace;
  while (sessions_->live_count() > 0 && Clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  running_ = false;
  Wake();
  if (thread_.joinable()) thread_.join();
  // Whatever did not end in time ends now, without its last flush.
  for (auto& s : sessions_->TakeEnding()) sessions_->Finish(s);
  std::lock_guard<std::mutex> lock(backend_mu_);
  backend_->Detach();
  sessions_->SetWakeup({});
}

std::vector<bpf::HookInfo> Engine::Hooks() const {
  std::lock_guard<std::mutex> lock(backend_mu_);
  return backend_->Hooks();
}

std::map<std::string, std::string> Engine::InterfacesNotAttached() const {
  std::lock_guard<std::mutex> lock(backend_mu_);
  return backend_->InterfacesNotAttached();
}

bool Engine::attached() const {
  std::lock_guard<std::mutex> lock(backend_mu_);
  return backend_->attached();
}

std::map<std::string, uint64_t> Engine::Counters() {
  std::map<std::string, uint64_t> out;
  {
    std::lock_guard<std::mutex> lock(backend_mu_);
    out = backend_->Counters();
  }
  std::lock_guard<std::mutex> lock(join_stats_mu_);
  for (const auto& [k, v] : join_counters_) out[k] = v;
  return out;
}

void Engine::Loop() {
  auto last_housekeeping = Clock::now();
  while (running_) {
    bool attached;
    {
      std::lock_guard<std::mutex> lock(backend_mu_);
      attached = backend_->attached();
    }
    if (attached) {
      Turn(false);
    } else {
      // Nothing to read: end captures whose time is up (nothing to flush) and sleep until woken.
      for (auto& s : sessions_->TakeEnding()) sessions_->Finish(s);
      std::unique_lock<std::mutex> lock(wake_mu_);
      wake_cv_.wait_for(lock, std::chrono::milliseconds(100), [&] { return woken_; });
      woken_ = false;
    }
    if (Clock::now() - last_housekeeping >= std::chrono::seconds(1)) {
      last_housekeeping = Clock::now();
      sessions_->Collect();
      joiner_.Expire(join::MonotonicNowNs());
    }
  }
}

void Engine::Turn(bool final_flush) {
  std::vector<std::shared_ptr<session::Session>> ending = sessions_->TakeEnding();
  if (reset_join_.exchange(false)) {
    joiner_.Reset(join::MonotonicNowNs());
    pending_closes_.clear();  // CLOSEs of a previous attach: their flows are gone with it
  }
  joiner_.SetClock(join::WallClock::Sample());
  std::vector<join::Event> out;
  std::vector<flow::FlowSample>& flows = flows_buf_;
  flows.clear();
  bool flushed = false;
  {
    std::lock_guard<std::mutex> lock(backend_mu_);
    if (backend_->attached()) {
      int wait = ending.empty() && !final_flush ? static_cast<int>(options_.poll_ms) : 0;
      // Records are joined straight from the ring buffers, not copied out first: under a DNS load the copies
      // (and the page faults of the vectors that held them) were a fifth of the server's CPU (perf).
      std::vector<netmon_tuple> closed;
      bool unkeyed_close = false;  // an unconnected socket's flows have other tuples than its CLOSE
      auto note_close = [&](const netmon_sock_event& ev) {
        if (ev.tuple.remote_port == 0) {
          unkeyed_close = true;
        } else {
          closed.push_back(ev.tuple);
        }
      };
      for (const auto& ev : pending_closes_) note_close(ev);
      backend_->PollSockEvents(wait, [&](const netmon_sock_event& ev) {
        if (ev.type == NETMON_SOCK_CLOSE) {
          pending_closes_.push_back(ev);
          note_close(ev);
        } else {
          joiner_.OnSockEvent(ev, &out);
        }
      });
      backend_->PollDnsEvents([&](const netmon_dns_event& ev) { joiner_.OnDnsEvent(ev, &out); });
      auto now = Clock::now();
      bool closes = !closed.empty() || unkeyed_close;
      bool full = final_flush || !ending.empty() || now >= next_flush_;
      bool for_closes = closes && now - last_close_flush_ >= std::chrono::milliseconds(options_.close_flush_min_ms);
      if (full || for_closes) {
        // Closed flows first: their last deltas, and out of the kernel's map, which a full read then skips.
        if (absl::Status s = backend_->TakeClosedFlows(closed, &flows); !s.ok()) {
          NETMON_LOG(kWarn, "engine", "reading closed flows: ", s.message());
        }
        if (full || unkeyed_close) {
          if (absl::Status s = backend_->ReadFlows(&flows); !s.ok()) {
            NETMON_LOG(kWarn, "engine", "reading flow counters: ", s.message());
          }
          next_flush_ = now + std::chrono::milliseconds(options_.flush_interval_ms);
        }
        flushed = true;
        if (closes) last_close_flush_ = now;
      }
      if (now - last_sweep_ >= std::chrono::milliseconds(options_.sweep_interval_ms)) {
        backend_->SweepReleased(join::MonotonicNowNs());
        last_sweep_ = now;
      }
    }
  }

  if (flushed) {
    joiner_.OnFlows(flows, &out);
    for (const auto& ev : pending_closes_) joiner_.OnSockEvent(ev, &out);
    pending_closes_.clear();
  }
  if (!out.empty()) {
    events_routed_ += out.size();
    sessions_->Route(std::move(out));
  }
  {
    const join::JoinStats& st = joiner_.stats();
    const dns::TcpReassembler::Stats& tcp = joiner_.dns_tcp_stats();
    std::lock_guard<std::mutex> lock(join_stats_mu_);
    join_counters_["join.dns_decode_errors"] = st.dns_decode_errors;
    join_counters_["join.dns_unanswered"] = st.dns_timeouts;
    join_counters_["join.flow_state_evicted"] = st.flow_state_evicted;
    join_counters_["join.dns_tcp_resets"] = tcp.resets_malformed + tcp.resets_oversize;
    join_counters_["join.dns_tcp_streams_evicted"] = tcp.streams_evicted;
  }
  for (auto& s : ending) sessions_->Finish(s);
}

}  // namespace netmon::server
