// SPDX-License-Identifier: Apache-2.0
// SessionManager: admission codes, the kernel union and attach/detach calls, routing to concurrent sessions,
// sequences and cursors, bounds with counted drops, duration expiry, stop, retention, and waiting readers.
#include "session/session_manager.h"

#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "session_test_util.h"

namespace netmon::session {
namespace {

using testing::Ev;
using testing::Req;
using namespace std::chrono_literals;

constexpr int64_t kSec = 1'000'000'000;

struct KernelCall {
  std::vector<netmon_filter> filters;
  size_t live;
};

class Manager : public ::testing::Test {
 protected:
  std::unique_ptr<SessionManager> Make(ManagerOptions opt = {}) {
    return std::make_unique<SessionManager>(
        opt, &clock_,
        [this](const std::vector<netmon_filter>& f, size_t live) {
          calls_.push_back({f, live});
          if (fail_next_apply_) {
            fail_next_apply_ = false;
            return absl::UnavailableError("attach failed");
          }
          return absl::OkStatus();
        },
        [](uint32_t pid) { return pid == 4242 ? absl::NotFoundError("no such process") : absl::OkStatus(); },
        [this] { return counters_; });
  }
  static std::vector<join::Event> Batch(std::initializer_list<join::Event> evs) { return evs; }
  // What the engine does at the end of a capture.
  void Pump(SessionManager& m) {
    for (auto& s : m.TakeEnding()) m.Finish(s);
  }

  ManualClock clock_;
  std::vector<KernelCall> calls_;
  bool fail_next_apply_ = false;
  std::map<std::string, uint64_t> counters_;
};

TEST_F(Manager, AdmissionCodes) {
  ManagerOptions opt;
  opt.max_sessions = 2;
  auto m = Make(opt);
  EXPECT_TRUE(m->Start(Req("a")).ok());
  EXPECT_EQ(m->Start(Req("a")).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_EQ(m->Start(Req("p", 10, 4242)).code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(m->Start(Req("bad", 0)).code(), absl::StatusCode::kInvalidArgument);
  EXPECT_TRUE(m->Start(Req("b")).ok());
  EXPECT_EQ(m->Start(Req("c")).code(), absl::StatusCode::kResourceExhausted);
  EXPECT_EQ(m->live_count(), 2u);
  // Finished but retained: still a duplicate; a new id fits again.
  ASSERT_TRUE(m->Stop("a").ok());
  Pump(*m);
  EXPECT_EQ(m->Start(Req("a")).code(), absl::StatusCode::kAlreadyExists);
  EXPECT_TRUE(m->Start(Req("c")).ok());
  EXPECT_EQ(m->Find("nope").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(m->Stop("nope").status().code(), absl::StatusCode::kNotFound);
}

TEST_F(Manager, KernelGetsTheUnionAttachOnFirstDetachAfterLast) {
  auto m = Make();
  ASSERT_TRUE(m->Start(Req("a", 10, 0, 80)).ok());
  ASSERT_EQ(calls_.size(), 1u);
  EXPECT_EQ(calls_[0].live, 1u);
  ASSERT_EQ(calls_[0].filters.size(), 1u);
  EXPECT_EQ(calls_[0].filters[0].port, 80);
  ASSERT_TRUE(m->Start(Req("b", 20, 0, 0, "10.0.0.1")).ok());
  EXPECT_EQ(calls_.back().live, 2u);
  EXPECT_EQ(calls_.back().filters.size(), 2u);
  clock_.Advance(10 * kSec);
  Pump(*m);  // a's time is up
  EXPECT_EQ(calls_.back().live, 1u);
  ASSERT_EQ(calls_.back().filters.size(), 1u);
  EXPECT_EQ(calls_.back().filters[0].flags, NETMON_FILTER_SRC);
  clock_.Advance(10 * kSec);
  Pump(*m);
  EXPECT_EQ(calls_.back().live, 0u);
  EXPECT_TRUE(calls_.back().filters.empty());
  EXPECT_EQ(m->live_count(), 0u);
  EXPECT_EQ(m->retained_count(), 2u);
}

TEST_F(Manager, FailedKernelUpdateStartsNothing) {
  auto m = Make();
  ASSERT_TRUE(m->Start(Req("a", 10, 0, 80)).ok());
  fail_next_apply_ = true;
  EXPECT_EQ(m->Start(Req("b", 10, 0, 81)).code(), absl::StatusCode::kUnavailable);
  EXPECT_EQ(m->Find("b").status().code(), absl::StatusCode::kNotFound);
  EXPECT_EQ(m->live_count(), 1u);
  // The kernel was put back to the previous set.
  EXPECT_EQ(calls_.back().live, 1u);
  ASSERT_EQ(calls_.back().filters.size(), 1u);
  EXPECT_EQ(calls_.back().filters[0].port, 80);
  // And the id is free.
  EXPECT_TRUE(m->Start(Req("b", 10, 0, 81)).ok());
}

TEST_F(Manager, ThreeConcurrentSessionsEachSeeOnlyTheirOwnEvents) {
  auto m = Make();
  ASSERT_TRUE(m->Start(Req("by-pid", 10, 100)).ok());
  ASSERT_TRUE(m->Start(Req("by-port", 10, 0, 8080)).ok());
  ASSERT_TRUE(m->Start(Req("by-dst", 10, 0, 0, "", "10.0.0.9")).ok());
  m->Route(Batch({Ev(100, "10.0.0.1", 1000, "10.0.0.2", 22),    // pid only
                  Ev(200, "10.0.0.1", 1001, "10.0.0.2", 8080),  // port only
                  Ev(300, "10.0.0.1", 1002, "10.0.0.9", 22),    // dst only
                  Ev(100, "10.0.0.1", 1003, "10.0.0.9", 8080),  // all three
                  Ev(0, "10.0.0.5", 1004, "10.0.0.6", 99)}));   // none
  auto seen = [&](const std::string& id) {
    std::vector<uint16_t> ports;
    for (const auto& e : (*m->Find(id))->Read(0, 100).events) ports.push_back(e->src.port);
    return ports;
  };
  EXPECT_EQ(seen("by-pid"), (std::vector<uint16_t>{1000, 1003}));
  EXPECT_EQ(seen("by-port"), (std::vector<uint16_t>{1001, 1003}));
  EXPECT_EQ(seen("by-dst"), (std::vector<uint16_t>{1002, 1003}));
  // The shared event is one object.
  EXPECT_EQ((*m->Find("by-pid"))->Read(1, 1).events[0].get(), (*m->Find("by-port"))->Read(1, 1).events[0].get());
}

TEST_F(Manager, SequencesAreContiguousAndTheCursorResumes) {
  auto m = Make();
  ASSERT_TRUE(m->Start(Req("s")).ok());
  std::vector<join::Event> evs;
  for (int i = 0; i < 10; ++i) evs.push_back(Ev(1, "10.0.0.1", static_cast<uint16_t>(i), "10.0.0.2", 1));
  m->Route(std::move(evs));
  auto s = *m->Find("s");
  auto b = s->Read(0, 4);
  EXPECT_EQ(b.first_sequence, 1u);
  EXPECT_EQ(b.events.size(), 4u);
  EXPECT_EQ(b.last_sequence, 10u);
  EXPECT_FALSE(b.finished);
  b = s->Read(4, 100);
  EXPECT_EQ(b.first_sequence, 5u);
  ASSERT_EQ(b.events.size(), 6u);
  EXPECT_EQ(b.events[0]->src.port, 4);
  EXPECT_TRUE(s->Read(10, 100).events.empty());
  EXPECT_TRUE(s->Read(1000, 100).events.empty());
}

TEST_F(Manager, PerSessionBoundDropsAreCountedNeverSilent) {
  ManagerOptions opt;
  opt.max_events_per_session = 3;
  auto m = Make(opt);
  ASSERT_TRUE(m->Start(Req("s")).ok());
  std::vector<join::Event> evs;
  for (int i = 0; i < 5; ++i) evs.push_back(Ev(0, "10.0.0.1", static_cast<uint16_t>(i), "10.0.0.2", 1));
  m->Route(std::move(evs));
  auto st = (*m->Find("s"))->Stats(m->counters());
  EXPECT_EQ(st.events_total, 5u);
  EXPECT_EQ(st.events_retained, 3u);
  EXPECT_EQ(st.events_dropped, 2u);
  EXPECT_EQ(st.drops["session_event_limit"], 2u);
  EXPECT_EQ(st.last_sequence, 3u);
  // Unattributed traffic is counted for every matching event, kept or not.
  EXPECT_EQ(st.unattributed_bytes, 5u * 300u);
  EXPECT_EQ(st.unattributed_packets, 15u);
}

TEST_F(Manager, MemoryBoundDropsAreCounted) {
  ManagerOptions opt;
  opt.max_retained_bytes = 2 * RetainedCost(Ev(1, "10.0.0.1", 1, "10.0.0.2", 2)) + 10;
  auto m = Make(opt);
  ASSERT_TRUE(m->Start(Req("s")).ok());
  m->Route(Batch(
      {Ev(1, "10.0.0.1", 1, "10.0.0.2", 2), Ev(1, "10.0.0.1", 1, "10.0.0.2", 2), Ev(1, "10.0.0.1", 1, "10.0.0.2", 2)}));
  auto st = (*m->Find("s"))->Stats(m->counters());
  EXPECT_EQ(st.events_retained, 2u);
  EXPECT_EQ(st.drops["memory_limit"], 1u);
  EXPECT_GT(m->retained_bytes(), 0u);
}

TEST_F(Manager, RetentionExpiryGivesNotFoundAndReleasesMemory) {
  ManagerOptions opt;
  opt.result_ttl_seconds = 60;
  auto m = Make(opt);
  ASSERT_TRUE(m->Start(Req("s", 5)).ok());
  m->Route(Batch({Ev(1, "10.0.0.1", 1, "10.0.0.2", 2)}));
  clock_.Advance(5 * kSec);
  Pump(*m);
  auto s = *m->Find("s");
  EXPECT_TRUE(s->finished());
  EXPECT_EQ(s->state(), State::kCompleted);
  clock_.Advance(59 * kSec);
  EXPECT_TRUE(m->Find("s").ok());
  clock_.Advance(1 * kSec);
  EXPECT_EQ(m->Find("s").status().code(), absl::StatusCode::kNotFound);
  s.reset();
  m->Collect();
  EXPECT_EQ(m->retained_bytes(), 0u);
  // The id can be reused once the results expired.
  EXPECT_TRUE(m->Start(Req("s", 5)).ok());
}

TEST_F(Manager, StopEndsAsStoppedAndEventsAfterTheEndAreIgnored) {
  auto m = Make();
  ASSERT_TRUE(m->Start(Req("s", 100)).ok());
  int wakes = 0;
  m->SetWakeup([&] { ++wakes; });
  auto s = m->Stop("s");
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(wakes, 1);
  // Until the engine flushed and finished it, it still takes events (its last interval).
  m->Route(Batch({Ev(1, "10.0.0.1", 1, "10.0.0.2", 2)}));
  auto ending = m->TakeEnding();
  ASSERT_EQ(ending.size(), 1u);
  EXPECT_TRUE(m->TakeEnding().empty());  // handed out once
  m->Route(Batch({Ev(1, "10.0.0.1", 1, "10.0.0.2", 2)}));
  m->Finish(ending[0]);
  m->Route(Batch({Ev(1, "10.0.0.1", 1, "10.0.0.2", 2)}));
  auto st = (*s)->Stats(m->counters());
  EXPECT_EQ(st.state, State::kStopped);
  EXPECT_EQ(st.events_total, 2u);
  EXPECT_NE(st.ended_ns, 0);
  // Stopping an ended capture is fine.
  EXPECT_TRUE(m->Stop("s").ok());
}

TEST_F(Manager, KernelIsUpdatedBeforeReadersSeeTheEnd) {
  std::shared_ptr<Session> watched;
  bool finished_at_detach = true;
  SessionManager m(ManagerOptions{}, &clock_, [&](const std::vector<netmon_filter>&, size_t live) {
    if (live == 0 && watched) finished_at_detach = watched->finished();
    return absl::OkStatus();
  });
  ASSERT_TRUE(m.Start(Req("s")).ok());
  watched = *m.Find("s");
  ASSERT_TRUE(m.Stop("s").ok());
  for (auto& s : m.TakeEnding()) m.Finish(s);
  EXPECT_FALSE(finished_at_detach);
  EXPECT_TRUE(watched->finished());
}

TEST_F(Manager, StatsReportHostCounterGrowthDuringTheCapture) {
  counters_ = {{"kernel.dns_ringbuf_full", 10}, {"join.flow_state_evicted", 0}};
  auto m = Make();
  ASSERT_TRUE(m->Start(Req("s")).ok());
  counters_["kernel.dns_ringbuf_full"] = 13;
  auto st = (*m->Find("s"))->Stats(m->counters());
  EXPECT_EQ(st.drops["kernel.dns_ringbuf_full"], 3u);
  EXPECT_EQ(st.drops.count("join.flow_state_evicted"), 0u);
  ASSERT_TRUE(m->Stop("s").ok());
  Pump(*m);
  counters_["kernel.dns_ringbuf_full"] = 100;  // after the end: frozen
  st = (*m->Find("s"))->Stats(m->counters());
  EXPECT_EQ(st.drops["kernel.dns_ringbuf_full"], 3u);
}

TEST_F(Manager, WaitingReaderWakesOnNewEventsAndOnTheEnd) {
  auto m = Make();
  ASSERT_TRUE(m->Start(Req("s")).ok());
  auto s = *m->Find("s");
  std::thread writer([&] {
    std::this_thread::sleep_for(20ms);
    m->Route(Batch({Ev(1, "10.0.0.1", 1, "10.0.0.2", 2)}));
  });
  s->WaitForMore(0, std::chrono::steady_clock::now() + 30s);  // bounded; returns when the event lands
  writer.join();
  EXPECT_EQ(s->Read(0, 10).events.size(), 1u);

  std::thread ender([&] {
    std::this_thread::sleep_for(20ms);
    ASSERT_TRUE(m->Stop("s").ok());
    Pump(*m);
  });
  EXPECT_TRUE(s->WaitFinished(std::chrono::steady_clock::now() + 30s));
  ender.join();
  s->WaitForMore(1, std::chrono::steady_clock::now() + 30s);  // returns at once: finished
  EXPECT_TRUE(s->Read(1, 10).finished);
}

TEST_F(Manager, StopAllEndsEveryLiveSession) {
  auto m = Make();
  ASSERT_TRUE(m->Start(Req("a")).ok());
  ASSERT_TRUE(m->Start(Req("b")).ok());
  m->StopAll();
  Pump(*m);
  EXPECT_EQ(m->live_count(), 0u);
  EXPECT_EQ((*m->Find("a"))->state(), State::kStopped);
  EXPECT_EQ((*m->Find("b"))->state(), State::kStopped);
  EXPECT_EQ(m->List().size(), 2u);
}

TEST_F(Manager, FailMarksFailed) {
  auto m = Make();
  ASSERT_TRUE(m->Start(Req("a")).ok());
  m->Fail(*m->Find("a"));
  EXPECT_EQ((*m->Find("a"))->state(), State::kFailed);
  EXPECT_EQ(calls_.back().live, 0u);
}

}  // namespace
}  // namespace netmon::session
