// SPDX-License-Identifier: Apache-2.0
// The engine's sequencing against a fake backend: attach on the first capture and detach after the last, the
// filter union, refused starts leave nothing attached, DATA flushed on the interval / before a CLOSE / at the end
// as deltas, and shutdown ending every capture with its final flush.
#include "server/engine.h"

#include <gtest/gtest.h>
#include <netinet/in.h>

#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include "session/session_manager.h"

namespace netmon::server {
namespace {

using namespace std::chrono_literals;
constexpr int64_t kSec = 1'000'000'000;

class FakeBackend final : public CaptureBackend {
 public:
  absl::Status Attach() override {
    std::lock_guard<std::mutex> l(mu_);
    if (fail_attach) return absl::PermissionDeniedError("no CAP_BPF");
    attached_ = true;
    ++attaches;
    return absl::OkStatus();
  }
  void Detach() override {
    std::lock_guard<std::mutex> l(mu_);
    if (attached_) ++detaches;
    attached_ = false;
  }
  bool attached() const override {
    std::lock_guard<std::mutex> l(mu_);
    return attached_;
  }
  absl::Status SeedExistingSockets() override {
    ++seeds;
    return absl::OkStatus();
  }
  absl::Status SetFilters(const std::vector<netmon_filter>& f) override {
    std::lock_guard<std::mutex> l(mu_);
    filters.push_back(f);
    return absl::OkStatus();
  }
  int PollSockEvents(int timeout_ms, const std::function<void(const netmon_sock_event&)>& cb) override {
    std::unique_lock<std::mutex> l(mu_);
    cv_.wait_for(l, std::chrono::milliseconds(timeout_ms), [&] { return !sock_.empty(); });
    int n = 0;
    while (!sock_.empty()) {
      auto ev = sock_.front();
      sock_.pop_front();
      cb(ev);
      ++n;
    }
    return n;
  }
  int PollDnsEvents(const std::function<void(const netmon_dns_event&)>&) override { return 0; }
  absl::Status ReadFlows(std::vector<flow::FlowSample>* out) override {
    std::lock_guard<std::mutex> l(mu_);
    ++reads;
    out->insert(out->end(), flows_.begin(), flows_.end());
    flows_.clear();
    return absl::OkStatus();
  }
  absl::Status TakeClosedFlows(std::span<const netmon_tuple> keys, std::vector<flow::FlowSample>* out) override {
    std::lock_guard<std::mutex> l(mu_);
    ++takes;
    std::erase_if(flows_, [&](const flow::FlowSample& s) {
      for (const netmon_tuple& k : keys) {
        if (std::memcmp(&k, &s.tuple, sizeof(k)) == 0) {
          out->push_back(s);
          return true;
        }
      }
      return false;
    });
    return absl::OkStatus();
  }
  void SweepReleased(uint64_t) override {}
  join::OwnerSource Owners() override {
    return {[](uint64_t cookie) -> std::optional<netmon_owner> {
              netmon_owner o{};
              o.tgid = static_cast<uint32_t>(cookie);
              std::strcpy(o.comm, "fake");
              return o;
            },
            {}};
  }
  std::vector<bpf::HookInfo> Hooks() const override { return {{"fake.hook", "tc", attached(), false, ""}}; }
  std::map<std::string, uint64_t> Counters() override {
    std::lock_guard<std::mutex> l(mu_);
    return {{"kernel.dns_ringbuf_full", ringbuf_full}};
  }

  void PushSock(const netmon_sock_event& ev) {
    std::lock_guard<std::mutex> l(mu_);
    sock_.push_back(ev);
    cv_.notify_all();
  }
  void PushFlow(const flow::FlowSample& s) {
    std::lock_guard<std::mutex> l(mu_);
    flows_.push_back(s);
  }
  int Reads() {
    std::lock_guard<std::mutex> l(mu_);
    return reads;
  }
  int Takes() {
    std::lock_guard<std::mutex> l(mu_);
    return takes;
  }
  std::vector<netmon_filter> LastFilters() {
    std::lock_guard<std::mutex> l(mu_);
    return filters.empty() ? std::vector<netmon_filter>{} : filters.back();
  }

  bool fail_attach = false;
  int attaches = 0, detaches = 0, reads = 0, takes = 0;
  std::atomic<int> seeds{0};
  uint64_t ringbuf_full = 0;
  std::vector<std::vector<netmon_filter>> filters;

 private:
  mutable std::mutex mu_;
  std::condition_variable cv_;
  bool attached_ = false;
  std::deque<netmon_sock_event> sock_;
  std::vector<flow::FlowSample> flows_;
};

netmon_tuple Tuple(uint16_t lport, uint16_t rport, uint8_t proto = IPPROTO_TCP) {
  netmon_tuple t{};
  t.local_addr[10] = t.local_addr[11] = t.remote_addr[10] = t.remote_addr[11] = 0xff;
  t.local_addr[12] = t.remote_addr[12] = 10;
  t.local_addr[15] = 1;
  t.remote_addr[15] = 2;
  t.local_port = lport;
  t.remote_port = rport;
  t.proto = proto;
  return t;
}

flow::FlowSample Flow(uint16_t lport, uint16_t rport, uint64_t cookie, uint64_t sent, uint64_t recv) {
  flow::FlowSample s;
  s.tuple = Tuple(lport, rport);
  s.cookie = cookie;
  s.bytes[NETMON_DIR_EGRESS] = sent;
  s.bytes[NETMON_DIR_INGRESS] = recv;
  s.packets[NETMON_DIR_EGRESS] = s.packets[NETMON_DIR_INGRESS] = 1;
  s.first_seen_ns = 1;
  s.last_seen_ns = 2;
  s.syn_dir = 1 + NETMON_DIR_EGRESS;
  return s;
}

template <typename Pred>
bool WaitUntil(Pred pred) {
  auto deadline = std::chrono::steady_clock::now() + 30s;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(2ms);
  }
  return true;
}

session::CaptureRequest Req(const std::string& id, int duration = 10, int port = 0) {
  session::CaptureRequest r;
  r.session_id = id;
  r.duration_seconds = duration;
  r.port = port;
  return r;
}

class EngineTest : public ::testing::Test {
 protected:
  void SetUp() override { Make(EngineOptions{}); }
  void Make(EngineOptions eo) {
    eo.poll_ms = 5;
    engine_ = std::make_unique<Engine>(&backend_, eo);
    sessions_ = std::make_unique<session::SessionManager>(
        session::ManagerOptions{}, &clock_,
        [this](const std::vector<netmon_filter>& f, size_t live) { return engine_->Apply(f, live); },
        session::PidChecker{}, [this] { return engine_->Counters(); });
    engine_->Start(sessions_.get());
  }
  void TearDown() override { engine_->Stop(5s); }
  std::vector<join::Event> Events(const std::string& id) {
    std::vector<join::Event> out;
    for (const auto& e : (*sessions_->Find(id))->Read(0, 100000).events) out.push_back(*e);
    return out;
  }

  FakeBackend backend_;
  session::ManualClock clock_;
  std::unique_ptr<Engine> engine_;
  std::unique_ptr<session::SessionManager> sessions_;
};

TEST_F(EngineTest, AttachedOnlyWhileCapturesRun) {
  EXPECT_FALSE(backend_.attached());
  ASSERT_TRUE(sessions_->Start(Req("a", 10, 80)).ok());
  EXPECT_TRUE(backend_.attached());  // synchronously: the first event is possible when Start returns
  EXPECT_EQ(backend_.seeds.load(), 1);
  ASSERT_TRUE(sessions_->Start(Req("b", 20, 443)).ok());
  EXPECT_EQ(backend_.attaches, 1);
  EXPECT_EQ(backend_.LastFilters().size(), 2u);
  clock_.Advance(10 * kSec);
  ASSERT_TRUE((*sessions_->Find("a"))->WaitFinished(std::chrono::steady_clock::now() + 30s));
  EXPECT_TRUE(backend_.attached());
  ASSERT_EQ(backend_.LastFilters().size(), 1u);
  EXPECT_EQ(backend_.LastFilters()[0].port, 443);
  clock_.Advance(10 * kSec);
  ASSERT_TRUE((*sessions_->Find("b"))->WaitFinished(std::chrono::steady_clock::now() + 30s));
  // Detached before the end was visible to readers.
  EXPECT_FALSE(backend_.attached());
  EXPECT_EQ(backend_.detaches, 1);
  EXPECT_TRUE(backend_.LastFilters().empty());
  // And again for the next capture.
  ASSERT_TRUE(sessions_->Start(Req("c")).ok());
  EXPECT_TRUE(backend_.attached());
  EXPECT_EQ(backend_.attaches, 2);
}

TEST_F(EngineTest, FailedAttachRefusesTheStartAndLeavesNothing) {
  backend_.fail_attach = true;
  absl::Status s = sessions_->Start(Req("a"));
  EXPECT_EQ(s.code(), absl::StatusCode::kInternal);
  EXPECT_NE(s.message().find("CAP_BPF"), std::string::npos);
  EXPECT_FALSE(backend_.attached());
  EXPECT_TRUE(backend_.LastFilters().empty());
  EXPECT_EQ(sessions_->Find("a").status().code(), absl::StatusCode::kNotFound);
  backend_.fail_attach = false;
  EXPECT_TRUE(sessions_->Start(Req("a")).ok());
}

TEST_F(EngineTest, DataOnTheIntervalAndAFinalFlushAtTheEnd) {
  engine_->Stop(5s);
  EngineOptions eo;
  eo.flush_interval_ms = 20;
  Make(eo);
  ASSERT_TRUE(sessions_->Start(Req("a", 10)).ok());
  backend_.PushFlow(Flow(40000, 80, 1234, 100, 1000));
  ASSERT_TRUE(WaitUntil([&] { return Events("a").size() == 1; }));
  backend_.PushFlow(Flow(40000, 80, 1234, 50, 500));
  ASSERT_TRUE(WaitUntil([&] { return Events("a").size() == 2; }));
  // Traffic of the last interval is flushed by the end of the capture, not lost.
  engine_->Stop(5s);
  Make(EngineOptions{});  // interval 2 s: only the final flush can deliver what follows
  ASSERT_TRUE(sessions_->Start(Req("b", 10)).ok());
  backend_.PushFlow(Flow(40001, 80, 1234, 7, 9));
  ASSERT_TRUE(sessions_->Stop("b").ok());
  ASSERT_TRUE((*sessions_->Find("b"))->WaitFinished(std::chrono::steady_clock::now() + 30s));
  auto evs = Events("b");
  ASSERT_EQ(evs.size(), 1u);
  EXPECT_EQ(evs[0].bytes_sent, 7);
  EXPECT_EQ(evs[0].pid, 1234u);
  EXPECT_EQ(evs[0].process_name, "fake");
}

netmon_sock_event Close(const netmon_tuple& tuple, uint64_t cookie) {
  netmon_sock_event close{};
  close.type = NETMON_SOCK_CLOSE;
  close.tuple = tuple;
  close.cookie = cookie;
  close.role = NETMON_ROLE_ACTIVE;
  close.bytes_sent = 60;
  return close;
}

// A CLOSE waits for its own flow's last delta, taken by tuple: the other flows wait for the interval, and the
// whole flow map is not read (under connection churn that read cost more than every hook together).
TEST_F(EngineTest, ACloseFlushesItsOwnFlowFirst) {
  engine_->Stop(5s);
  EngineOptions eo;
  eo.flush_interval_ms = 3'600'000;  // never on the interval during this test
  Make(eo);
  ASSERT_TRUE(sessions_->Start(Req("a", 10)).ok());
  const int reads_before = backend_.Reads(), takes_before = backend_.Takes();
  backend_.PushFlow(Flow(40000, 80, 1234, 100, 1000));
  backend_.PushFlow(Flow(40001, 80, 1235, 5, 5));  // still open
  backend_.PushSock(Close(Tuple(40000, 80), 1234));
  ASSERT_TRUE(WaitUntil([&] { return Events("a").size() == 2; }));
  auto evs = Events("a");
  EXPECT_EQ(evs[0].type, join::EventType::kData);
  EXPECT_EQ(evs[0].bytes_sent, 100);
  EXPECT_EQ(evs[1].type, join::EventType::kClose);
  EXPECT_GT(backend_.Takes(), takes_before);
  EXPECT_EQ(backend_.Reads(), reads_before);
  // The open flow comes with the capture's final flush.
  ASSERT_TRUE(sessions_->Stop("a").ok());
  ASSERT_TRUE((*sessions_->Find("a"))->WaitFinished(std::chrono::steady_clock::now() + 30s));
  evs = Events("a");
  ASSERT_EQ(evs.size(), 3u);
  EXPECT_EQ(evs[2].type, join::EventType::kData);
  EXPECT_EQ(evs[2].bytes_sent, 5);
}

// An unconnected UDP socket's CLOSE carries no remote: its flows (one per peer) cannot be named by tuple, so
// that CLOSE waits for a full read.
TEST_F(EngineTest, ACloseWithoutARemoteFlushesEveryFlow) {
  engine_->Stop(5s);
  EngineOptions eo;
  eo.flush_interval_ms = 3'600'000;
  Make(eo);
  ASSERT_TRUE(sessions_->Start(Req("a", 10)).ok());
  const int reads_before = backend_.Reads();
  flow::FlowSample udp = Flow(5353, 53, 77, 40, 120);
  udp.tuple.proto = IPPROTO_UDP;
  backend_.PushFlow(udp);
  backend_.PushSock(Close(Tuple(5353, 0, IPPROTO_UDP), 77));
  ASSERT_TRUE(WaitUntil([&] { return Events("a").size() == 2; }));
  auto evs = Events("a");
  EXPECT_EQ(evs[0].type, join::EventType::kData);
  EXPECT_EQ(evs[1].type, join::EventType::kClose);
  EXPECT_GT(backend_.Reads(), reads_before);
}

TEST_F(EngineTest, EachSessionGetsWhatMatchesIt) {
  ASSERT_TRUE(sessions_->Start(Req("p80", 10, 80)).ok());
  ASSERT_TRUE(sessions_->Start(Req("p443", 10, 443)).ok());
  backend_.PushFlow(Flow(40000, 80, 1, 1, 1));
  backend_.PushFlow(Flow(40001, 443, 2, 1, 1));
  backend_.PushFlow(Flow(40002, 22, 3, 1, 1));
  ASSERT_TRUE(sessions_->Stop("p80").ok());
  ASSERT_TRUE(sessions_->Stop("p443").ok());
  ASSERT_TRUE((*sessions_->Find("p443"))->WaitFinished(std::chrono::steady_clock::now() + 30s));
  ASSERT_TRUE((*sessions_->Find("p80"))->WaitFinished(std::chrono::steady_clock::now() + 30s));
  auto a = Events("p80"), b = Events("p443");
  ASSERT_EQ(a.size(), 1u);
  EXPECT_EQ(a[0].pid, 1u);
  ASSERT_EQ(b.size(), 1u);
  EXPECT_EQ(b[0].pid, 2u);
}

TEST_F(EngineTest, StopEndsEveryCaptureWithItsFinalFlushAndDetaches) {
  ASSERT_TRUE(sessions_->Start(Req("a", 100)).ok());
  ASSERT_TRUE(sessions_->Start(Req("b", 100)).ok());
  backend_.PushFlow(Flow(40000, 80, 1, 3, 4));
  engine_->Stop(10s);
  for (const char* id : {"a", "b"}) {
    auto s = *sessions_->Find(id);
    EXPECT_TRUE(s->finished());
    EXPECT_EQ(s->state(), session::State::kStopped);
    EXPECT_EQ(Events(id).size(), 1u) << id;
  }
  EXPECT_FALSE(backend_.attached());
}

TEST_F(EngineTest, CountersReachTheSessionsStats) {
  ASSERT_TRUE(sessions_->Start(Req("a", 100)).ok());
  backend_.ringbuf_full = 5;
  auto st = (*sessions_->Find("a"))->Stats(sessions_->counters());
  EXPECT_EQ(st.drops["kernel.dns_ringbuf_full"], 5u);
  auto all = engine_->Counters();
  EXPECT_TRUE(all.count("join.dns_decode_errors") == 1 || all.count("kernel.dns_ringbuf_full") == 1);
  EXPECT_EQ(engine_->Hooks().size(), 1u);
}

}  // namespace
}  // namespace netmon::server
