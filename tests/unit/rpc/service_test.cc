// SPDX-License-Identifier: Apache-2.0
// NetworkMonitorService over real gRPC and real mTLS on loopback, with synthetic events injected where the
// engine would put them (SessionManager::Route): the §4.4 bad-input table with exact codes, live follow,
// replay, snapshot, chunk bounds, the resume cursor, retention, drops, StopCapture/ListCaptures/GetStatus, and
// grpc.health.v1.
#include <grpcpp/generic/generic_stub.h>
#include <gtest/gtest.h>

#include <chrono>
#include <future>
#include <set>
#include <thread>

#include "nlohmann/json.hpp"
#include "rpc_test_env.h"

namespace netmon::rpc {
namespace {

using namespace std::chrono_literals;
using network_monitor::GetCaptureResultsRequest;
using network_monitor::StartCaptureRequest;
using testing::ReadAll;
using testing::ServerFixture;

constexpr int64_t kSec = 1'000'000'000;

join::Event Ev(uint16_t port, uint32_t pid = 77, size_t extra_pad = 0) {
  join::Event e;
  e.type = join::EventType::kData;
  e.pid = pid;
  e.process_name = pid != 0 ? "curl" : "";
  e.timestamp_ns = 1'700'000'000'000'000'000 + port;
  e.src.addr[10] = e.src.addr[11] = 0xff;
  e.src.addr[12] = 10;
  e.src.addr[15] = 1;
  e.src.port = port;
  e.dst = e.src;
  e.dst.addr[15] = 2;
  e.dst.port = 80;
  e.source_addr = "10.0.0.1:" + std::to_string(port);
  e.dest_addr = "10.0.0.2:80";
  e.bytes_sent = 10;
  e.bytes_received = 20;
  e.packets = 2;
  e.extra_info = R"({"protocol":"tcp","pad":")" + std::string(extra_pad, 'x') + "\"}";
  return e;
}

std::vector<join::Event> Evs(int n, uint16_t first_port = 1000, size_t pad = 0) {
  std::vector<join::Event> out;
  for (int i = 0; i < n; ++i) out.push_back(Ev(static_cast<uint16_t>(first_port + i), 77, pad));
  return out;
}

StartCaptureRequest Start(const std::string& id, int duration = 30, int pid = 0, int port = 0,
                          const std::string& src = "", const std::string& dst = "") {
  StartCaptureRequest r;
  r.set_session_id(id);
  r.set_duration_seconds(duration);
  r.mutable_filter()->set_process_id(pid);
  r.mutable_filter()->set_port(port);
  r.mutable_filter()->set_source_ip(src);
  r.mutable_filter()->set_destination_ip(dst);
  return r;
}

grpc::Status Call(network_monitor::NetworkMonitorService::Stub& stub, const StartCaptureRequest& req) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 30s);
  network_monitor::StartCaptureResponse resp;
  return stub.StartCapture(&ctx, req, &resp);
}

GetCaptureResultsRequest Results(const std::string& id, uint64_t after = 0,
                                 network_monitor::ResultsMode mode = network_monitor::RESULTS_MODE_FOLLOW) {
  GetCaptureResultsRequest r;
  r.set_session_id(id);
  r.set_after_sequence(after);
  r.set_mode(mode);
  return r;
}

grpc::Status StopCall(network_monitor::NetworkMonitorService::Stub& stub, const std::string& id,
                      network_monitor::StopCaptureResponse* resp) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 30s);
  network_monitor::StopCaptureRequest req;
  req.set_session_id(id);
  return stub.StopCapture(&ctx, req, resp);
}

void CheckStreamShape(const testing::StreamResult& r) {
  ASSERT_TRUE(r.status.ok()) << r.status.error_message();
  ASSERT_FALSE(r.chunks.empty());
  for (size_t i = 0; i < r.chunks.size(); ++i) {
    EXPECT_EQ(r.chunks[i].chunk_index(), static_cast<int32_t>(i));
    EXPECT_EQ(r.chunks[i].is_final(), i + 1 == r.chunks.size()) << "exactly one final chunk, the last";
  }
  EXPECT_TRUE(r.chunks.back().has_stats());
}

TEST(Service, BadInputTableThenASuccessfulCapture) {
  ServerFixture::Options opt;
  opt.manager.max_sessions = 2;
  opt.manager.max_duration_seconds = 3600;
  ServerFixture f(opt);
  auto stub = f.Stub();
  struct Case {
    const char* what;
    StartCaptureRequest req;
    grpc::StatusCode code;
  } cases[] = {
      {"no session_id", Start(""), grpc::INVALID_ARGUMENT},
      {"session_id 129 chars", Start(std::string(129, 'a')), grpc::INVALID_ARGUMENT},
      {"session_id with /", Start("a/b"), grpc::INVALID_ARGUMENT},
      {"session_id with space", Start("a b"), grpc::INVALID_ARGUMENT},
      {"duration 0", Start("d0", 0), grpc::INVALID_ARGUMENT},
      {"duration negative", Start("dn", -5), grpc::INVALID_ARGUMENT},
      {"duration above max", Start("dm", 3601), grpc::INVALID_ARGUMENT},
      {"negative pid", Start("pn", 10, -1), grpc::INVALID_ARGUMENT},
      {"pid that does not exist", Start("px", 10, 4194311), grpc::NOT_FOUND},
      {"port negative", Start("po", 10, 0, -1), grpc::INVALID_ARGUMENT},
      {"port 65536", Start("po", 10, 0, 65536), grpc::INVALID_ARGUMENT},
      {"source_ip garbage", Start("si", 10, 0, 0, "10.0.0.300"), grpc::INVALID_ARGUMENT},
      {"source_ip hostname", Start("si", 10, 0, 0, "example.com"), grpc::INVALID_ARGUMENT},
      {"source_ip with an embedded NUL", Start("sn", 10, 0, 0, std::string("10.0.0.1\0/8", 11)),
       grpc::INVALID_ARGUMENT},
      {"destination_ip garbage", Start("di", 10, 0, 0, "", "::g"), grpc::INVALID_ARGUMENT},
      {"destination_ip bad prefix", Start("di", 10, 0, 0, "", "10.0.0.0/33"), grpc::INVALID_ARGUMENT},
  };
  for (const Case& c : cases) {
    grpc::Status s = Call(*stub, c.req);
    EXPECT_EQ(s.error_code(), c.code) << c.what << ": " << s.error_message();
    EXPECT_FALSE(s.error_message().empty()) << c.what;
  }
  // Nothing was half-started by any of them.
  EXPECT_EQ(f.sessions().live_count(), 0u);
  EXPECT_TRUE(f.sessions().List().empty());

  ASSERT_TRUE(Call(*stub, Start("ok-1", 10, static_cast<int>(getpid()), 443, "10.0.0.0/8", "2001:db8::1")).ok());
  EXPECT_EQ(Call(*stub, Start("ok-1")).error_code(), grpc::ALREADY_EXISTS);
  ASSERT_TRUE(Call(*stub, Start("ok-2")).ok());
  EXPECT_EQ(Call(*stub, Start("ok-3")).error_code(), grpc::RESOURCE_EXHAUSTED);
  auto unknown = ReadAll(*stub, Results("never-started"));
  EXPECT_EQ(unknown.status.error_code(), grpc::NOT_FOUND);
  EXPECT_TRUE(unknown.chunks.empty());
  network_monitor::StopCaptureResponse stop;
  EXPECT_EQ(StopCall(*stub, "never-started", &stop).error_code(), grpc::NOT_FOUND);

  // The successful capture delivers what it is fed.
  f.sessions().Route(Evs(3));
  ASSERT_TRUE(StopCall(*stub, "ok-2", &stop).ok());
  EXPECT_TRUE(stop.success());
  auto r = ReadAll(*stub, Results("ok-2"));
  CheckStreamShape(r);
  EXPECT_EQ(r.events().size(), 3u);
  EXPECT_EQ(r.chunks.back().stats().state(), network_monitor::CAPTURE_STATE_STOPPED);
  // The retained id stays taken.
  EXPECT_EQ(Call(*stub, Start("ok-2")).error_code(), grpc::ALREADY_EXISTS);
}

// An error that quotes a client's string quotes a bounded prefix: echoed whole, a 3 MB session id would put a
// 3 MB status message in the trailers, past the client's metadata limit, and the caller would see another code.
TEST(Service, HugeClientStringsKeepTheirStatusCode) {
  ServerFixture f;
  auto stub = f.Stub();
  const std::string huge(3 << 20, 'x');
  auto results = ReadAll(*stub, Results(huge));
  EXPECT_EQ(results.status.error_code(), grpc::NOT_FOUND) << results.status.error_message().substr(0, 200);
  EXPECT_LT(results.status.error_message().size(), 256u);
  EXPECT_NE(results.status.error_message().find("(3145728 bytes)"), std::string::npos)
      << results.status.error_message();
  network_monitor::StopCaptureResponse stop;
  grpc::Status st = StopCall(*stub, huge, &stop);
  EXPECT_EQ(st.error_code(), grpc::NOT_FOUND) << st.error_message().substr(0, 200);
  EXPECT_LT(st.error_message().size(), 256u);
  grpc::Status bad_ip = Call(*stub, Start("big-ip", 10, 0, 0, huge));
  EXPECT_EQ(bad_ip.error_code(), grpc::INVALID_ARGUMENT) << bad_ip.error_message().substr(0, 200);
  EXPECT_LT(bad_ip.error_message().size(), 256u);
  // Control characters arrive escaped, so the message stays one printable line.
  grpc::Status binary = Call(*stub, Start("bin-ip", 10, 0, 0, std::string("10.0.0.1\n\x01", 10)));
  EXPECT_EQ(binary.error_code(), grpc::INVALID_ARGUMENT);
  EXPECT_NE(binary.error_message().find("\\x0a\\x01"), std::string::npos) << binary.error_message();
}

TEST(Service, EventFieldsOnTheWire) {
  ServerFixture f;
  auto stub = f.Stub();
  ASSERT_TRUE(Call(*stub, Start("wire", 5)).ok());
  join::Event e = Ev(4242);
  e.type = join::EventType::kDnsResponse;
  f.sessions().Route({e});
  f.clock().Advance(5 * kSec);  // its duration is up
  auto r = ReadAll(*stub, Results("wire"));
  CheckStreamShape(r);
  auto evs = r.events();
  ASSERT_EQ(evs.size(), 1u);
  const auto& pe = evs[0];
  EXPECT_EQ(pe.timestamp_ns(), e.timestamp_ns);
  EXPECT_EQ(pe.process_id(), 77);
  EXPECT_EQ(pe.process_name(), "curl");
  EXPECT_EQ(pe.source_addr(), "10.0.0.1:4242");
  EXPECT_EQ(pe.dest_addr(), "10.0.0.2:80");
  EXPECT_EQ(pe.bytes_sent(), 10);
  EXPECT_EQ(pe.bytes_received(), 20);
  EXPECT_EQ(pe.event_type(), "DNS_RESPONSE");
  EXPECT_EQ(nlohmann::json::parse(pe.extra_info())["protocol"], "tcp");
  EXPECT_EQ(pe.sequence(), 1u);
  const auto& st = r.chunks.back().stats();
  EXPECT_EQ(st.state(), network_monitor::CAPTURE_STATE_COMPLETED);
  EXPECT_EQ(st.events_total(), 1u);
  EXPECT_EQ(st.last_sequence(), 1u);
  EXPECT_NE(st.started_ns(), 0);
  EXPECT_NE(st.ended_ns(), 0);
}

TEST(Service, FollowDeliversEventsWhileTheCaptureRuns) {
  ServerFixture f;
  auto stub = f.Stub();
  ASSERT_TRUE(Call(*stub, Start("live", 60)).ok());
  std::promise<void> first_seen;
  std::atomic<size_t> received{0};
  testing::StreamResult result;
  std::thread reader([&] {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + 60s);
    auto rd = stub->GetCaptureResults(&ctx, Results("live"));
    network_monitor::NetworkCaptureChunk chunk;
    bool signalled = false;
    while (rd->Read(&chunk)) {
      received += static_cast<size_t>(chunk.events_size());
      result.chunks.push_back(chunk);
      if (!signalled && received >= 5) {
        signalled = true;
        first_seen.set_value();
      }
    }
    result.status = rd->Finish();
    if (!signalled) first_seen.set_value();
  });
  f.sessions().Route(Evs(5));
  // The first events reach the client while the capture is still running (bounded wait, no timing assertion).
  ASSERT_EQ(first_seen.get_future().wait_for(60s), std::future_status::ready);
  EXPECT_GE(received.load(), 5u);
  EXPECT_FALSE((*f.sessions().Find("live"))->finished());
  f.sessions().Route(Evs(7, 2000));
  network_monitor::StopCaptureResponse stop;
  ASSERT_TRUE(StopCall(*stub, "live", &stop).ok());
  reader.join();
  CheckStreamShape(result);
  auto evs = result.events();
  ASSERT_EQ(evs.size(), 12u);
  for (size_t i = 0; i < evs.size(); ++i) EXPECT_EQ(evs[i].sequence(), i + 1);
  EXPECT_EQ(result.chunks.back().stats().events_total(), 12u);
}

TEST(Service, FinishedCaptureReplaysAndSnapshotOfARunningOne) {
  ServerFixture f;
  auto stub = f.Stub();
  ASSERT_TRUE(Call(*stub, Start("snap", 60)).ok());
  f.sessions().Route(Evs(4));
  auto snap = ReadAll(*stub, Results("snap", 0, network_monitor::RESULTS_MODE_SNAPSHOT));
  CheckStreamShape(snap);
  EXPECT_EQ(snap.events().size(), 4u);
  EXPECT_EQ(snap.chunks.back().stats().state(), network_monitor::CAPTURE_STATE_RUNNING);
  EXPECT_EQ(snap.chunks.back().stats().ended_ns(), 0);
  // "Nothing new" is a single final chunk.
  auto nothing = ReadAll(*stub, Results("snap", 4, network_monitor::RESULTS_MODE_SNAPSHOT));
  CheckStreamShape(nothing);
  ASSERT_EQ(nothing.chunks.size(), 1u);
  EXPECT_EQ(nothing.chunks[0].events_size(), 0);

  f.sessions().Route(Evs(2, 3000));
  f.clock().Advance(60 * kSec);
  ASSERT_TRUE((*f.sessions().Find("snap"))->WaitFinished(std::chrono::steady_clock::now() + 30s));
  for (int replay = 0; replay < 2; ++replay) {  // replays are repeatable
    auto r = ReadAll(*stub, Results("snap"));
    CheckStreamShape(r);
    EXPECT_EQ(r.events().size(), 6u);
    EXPECT_EQ(r.chunks.back().stats().state(), network_monitor::CAPTURE_STATE_COMPLETED);
  }
}

TEST(Service, ChunksAreBoundedByEventsAndBytes) {
  ServerFixture::Options opt;
  opt.service.chunk_max_events = 100;
  ServerFixture f(opt);
  auto stub = f.Stub();
  network_monitor::StopCaptureResponse stop;
  ASSERT_TRUE(Call(*stub, Start("many", 60)).ok());
  f.sessions().Route(Evs(1050));
  ASSERT_TRUE(StopCall(*stub, "many", &stop).ok());
  ASSERT_TRUE(Call(*stub, Start("big", 60)).ok());
  // ~50 KiB per event: a byte-bounded chunk holds about twenty.
  f.sessions().Route(Evs(100, 5000, 50 * 1024));
  ASSERT_TRUE(StopCall(*stub, "big", &stop).ok());

  auto many = ReadAll(*stub, Results("many"));
  CheckStreamShape(many);
  EXPECT_EQ(many.events().size(), 1050u);
  for (const auto& c : many.chunks) EXPECT_LE(c.events_size(), 100);
  EXPECT_GE(many.chunks.size(), 11u);

  auto big = ReadAll(*stub, Results("big"));
  CheckStreamShape(big);
  EXPECT_EQ(big.events().size(), 100u);
  for (const auto& c : big.chunks) EXPECT_LE(c.ByteSizeLong(), 1024u * 1024u);
  EXPECT_GE(big.chunks.size(), 5u);
  std::set<uint64_t> seqs;
  for (const auto& e : big.events()) seqs.insert(e.sequence());
  EXPECT_EQ(seqs.size(), 100u);
}

TEST(Service, ReconnectWithTheResumeCursorGetsTheRestExactlyOnce) {
  ServerFixture::Options opt;
  opt.service.chunk_max_events = 10;
  ServerFixture f(opt);
  auto stub = f.Stub();
  ASSERT_TRUE(Call(*stub, Start("resume", 60)).ok());
  f.sessions().Route(Evs(35));
  std::vector<network_monitor::NetworkEvent> got;
  uint64_t cursor = 0;
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + 60s);
    auto rd = stub->GetCaptureResults(&ctx, Results("resume"));
    network_monitor::NetworkCaptureChunk chunk;
    for (int i = 0; i < 2 && rd->Read(&chunk); ++i) {
      for (const auto& e : chunk.events()) {
        got.push_back(e);
        cursor = e.sequence();
      }
    }
    ctx.TryCancel();  // the client goes away mid-stream
    while (rd->Read(&chunk)) {
    }
    rd->Finish();
  }
  ASSERT_EQ(cursor, 20u);
  f.sessions().Route(Evs(5, 9000));  // more arrives while it is away
  network_monitor::StopCaptureResponse stop;
  ASSERT_TRUE(StopCall(*stub, "resume", &stop).ok());
  auto rest = ReadAll(*stub, Results("resume", cursor));
  CheckStreamShape(rest);
  for (const auto& e : rest.events()) got.push_back(e);
  ASSERT_EQ(got.size(), 40u);
  for (size_t i = 0; i < got.size(); ++i) EXPECT_EQ(got[i].sequence(), i + 1) << "exactly once, in order";
  // A cursor past the end is just the final chunk.
  auto past = ReadAll(*stub, Results("resume", 1000));
  CheckStreamShape(past);
  EXPECT_EQ(past.events().size(), 0u);
}

TEST(Service, RetentionExpiryGivesNotFound) {
  ServerFixture::Options opt;
  opt.manager.result_ttl_seconds = 120;
  ServerFixture f(opt);
  auto stub = f.Stub();
  ASSERT_TRUE(Call(*stub, Start("ttl", 1)).ok());
  f.sessions().Route(Evs(1));
  f.clock().Advance(1 * kSec);
  ASSERT_TRUE((*f.sessions().Find("ttl"))->WaitFinished(std::chrono::steady_clock::now() + 30s));
  f.clock().Advance(119 * kSec);
  EXPECT_TRUE(ReadAll(*stub, Results("ttl")).status.ok());
  f.clock().Advance(1 * kSec);
  auto gone = ReadAll(*stub, Results("ttl"));
  EXPECT_EQ(gone.status.error_code(), grpc::NOT_FOUND);
}

TEST(Service, PerSessionBoundReportsItsDrops) {
  ServerFixture::Options opt;
  opt.manager.max_events_per_session = 10;
  ServerFixture f(opt);
  auto stub = f.Stub();
  ASSERT_TRUE(Call(*stub, Start("bound", 60)).ok());
  auto evs = Evs(25);
  evs[3].pid = 0;  // one unattributed DATA event
  evs[3].process_name.clear();
  f.sessions().Route(std::move(evs));
  network_monitor::StopCaptureResponse stop;
  ASSERT_TRUE(StopCall(*stub, "bound", &stop).ok());
  auto r = ReadAll(*stub, Results("bound"));
  CheckStreamShape(r);
  EXPECT_EQ(r.events().size(), 10u);
  const auto& st = r.chunks.back().stats();
  EXPECT_EQ(st.events_total(), 25u);
  EXPECT_EQ(st.events_retained(), 10u);
  EXPECT_EQ(st.events_dropped(), 15u);
  EXPECT_EQ(st.drops().at("session_event_limit"), 15u);
  EXPECT_EQ(st.unattributed_bytes(), 30u);
  EXPECT_EQ(st.unattributed_packets(), 2u);
}

TEST(Service, StopListAndStatus) {
  ServerFixture::Options opt;
  opt.status.interfaces = {"veth0", "eth1"};
  opt.status.hooks = [] {
    return std::vector<bpf::HookInfo>{{"sock.connect", "tp_btf", true, false, ""},
                                      {"sock.send", "raw_tp", false, true, "sock_send_length missing"}};
  };
  ServerFixture f(opt);
  auto stub = f.Stub();
  ASSERT_TRUE(Call(*stub, Start("l1", 30, 0, 53)).ok());
  ASSERT_TRUE(Call(*stub, Start("l2", 30)).ok());
  network_monitor::StopCaptureResponse stop;
  ASSERT_TRUE(StopCall(*stub, "l2", &stop).ok());
  EXPECT_TRUE(stop.success());
  EXPECT_NE(stop.message().find("stopped"), std::string::npos);
  ASSERT_TRUE(StopCall(*stub, "l2", &stop).ok());  // again: fine

  grpc::ClientContext lctx;
  network_monitor::ListCapturesResponse list;
  ASSERT_TRUE(stub->ListCaptures(&lctx, {}, &list).ok());
  ASSERT_EQ(list.captures_size(), 2);
  std::map<std::string, network_monitor::CaptureInfo> by_id;
  for (const auto& c : list.captures()) by_id[c.session_id()] = c;
  EXPECT_EQ(by_id["l1"].filter().port(), 53);
  EXPECT_EQ(by_id["l1"].duration_seconds(), 30);
  EXPECT_EQ(by_id["l1"].stats().state(), network_monitor::CAPTURE_STATE_RUNNING);
  EXPECT_EQ(by_id["l2"].stats().state(), network_monitor::CAPTURE_STATE_STOPPED);

  grpc::ClientContext sctx;
  network_monitor::GetStatusResponse status;
  ASSERT_TRUE(stub->GetStatus(&sctx, {}, &status).ok());
  EXPECT_FALSE(status.version().empty());
  EXPECT_NE(status.kernel().find("Linux"), std::string::npos);
  EXPECT_EQ(status.live_sessions(), 1);
  EXPECT_EQ(status.retained_sessions(), 1);
  ASSERT_EQ(status.hooks_size(), 2);
  EXPECT_EQ(status.hooks(1).name(), "sock.send");
  EXPECT_TRUE(status.hooks(1).degraded());
  EXPECT_EQ(status.hooks(1).detail(), "sock_send_length missing");
  ASSERT_EQ(status.interfaces_size(), 2);
}

// grpc.health.v1.Health/Check for the whole server: the response bytes (status 1 = SERVING, 2 = NOT_SERVING).
std::string HealthCheck(ServerFixture& f) {
  grpc::GenericStub generic(f.Channel());
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 30s);
  grpc::ByteBuffer request, response;  // HealthCheckRequest{service: ""} is the empty message
  grpc::Slice empty("");
  request = grpc::ByteBuffer(&empty, 1);
  std::promise<grpc::Status> done;
  generic.UnaryCall(&ctx, "/grpc.health.v1.Health/Check", grpc::StubOptions(), &request, &response,
                    [&](grpc::Status s) { done.set_value(s); });
  auto fut = done.get_future();
  if (fut.wait_for(60s) != std::future_status::ready) return "timeout";
  grpc::Status s = fut.get();
  if (!s.ok()) return "error: " + s.error_message();
  std::vector<grpc::Slice> slices;
  if (!response.Dump(&slices).ok()) return "unreadable";
  std::string bytes;
  for (const auto& sl : slices) bytes.append(reinterpret_cast<const char*>(sl.begin()), sl.size());
  return bytes;
}

TEST(Service, HealthServiceServes) {
  ServerFixture f;
  EXPECT_EQ(HealthCheck(f), std::string("\x08\x01", 2));  // status: SERVING
}

// While netmon-server loads its programs it already listens: calls get UNAVAILABLE saying it is starting (not a
// refused connection, not a hang), health says NOT_SERVING; once ready, the same calls succeed.
TEST(Service, AStartingServerAnswersUnavailableUntilReady) {
  ServerFixture::Options o;
  o.starting = true;
  o.status.programs = {{"netmon_sock", "netmon_set_state", 15473, 9'000'000}};
  ServerFixture f(o);
  auto stub = f.Stub();
  grpc::Status s = Call(*stub, Start("early"));
  EXPECT_EQ(s.error_code(), grpc::StatusCode::UNAVAILABLE);
  EXPECT_NE(s.error_message().find("starting"), std::string::npos) << s.error_message();
  {
    grpc::ClientContext ctx;
    ctx.set_deadline(std::chrono::system_clock::now() + 30s);
    network_monitor::GetStatusResponse status;
    EXPECT_EQ(stub->GetStatus(&ctx, network_monitor::GetStatusRequest(), &status).error_code(),
              grpc::StatusCode::UNAVAILABLE);
  }
  EXPECT_EQ(HealthCheck(f), std::string("\x08\x02", 2));  // NOT_SERVING
  f.MakeReady();
  s = Call(*stub, Start("early"));
  EXPECT_TRUE(s.ok()) << s.error_message();
  EXPECT_EQ(HealthCheck(f), std::string("\x08\x01", 2));
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 30s);
  network_monitor::GetStatusResponse status;
  ASSERT_TRUE(stub->GetStatus(&ctx, network_monitor::GetStatusRequest(), &status).ok());
  ASSERT_EQ(status.programs_size(), 1);
  EXPECT_EQ(status.programs(0).name(), "netmon_set_state");
  EXPECT_EQ(status.programs(0).verified_insns(), 15473u);
  EXPECT_EQ(status.programs(0).load_ns(), 9'000'000);
}

}  // namespace
}  // namespace netmon::rpc
