// SPDX-License-Identifier: Apache-2.0
#include "agent_test_env.h"

#include <chrono>
#include <stdexcept>

#include "common/str_cat.h"
#include "rpc/credentials.h"

namespace netmon::agent::testing {

using namespace std::chrono_literals;

nlohmann::json MtlsJson(const std::string& cert, const std::string& ca, const std::string& server_name) {
  nlohmann::json j = {
      {"mode", "mtls"},
      {"cert_dir", CertDir()},
      {"tls", {{"cert_file", cert + ".pem"}, {"key_file", cert + "-key.pem"}, {"ca_file", ca + ".pem"}}}};
  if (!server_name.empty()) j["server_name"] = server_name;
  return j;
}

join::Event SyntheticEvent(uint64_t seq, size_t extra_pad, uint32_t pid) {
  join::Event e;
  e.type = seq % 7 == 0 ? join::EventType::kDnsQuery : join::EventType::kData;
  e.pid = pid;
  e.process_name = pid != 0 ? "synthetic" : "";
  e.timestamp_ns = 1'700'000'000'000'000'000 + static_cast<int64_t>(seq) * 1000;
  e.src.addr[10] = e.src.addr[11] = 0xff;
  e.src.addr[12] = 10;
  e.src.addr[15] = 1;
  e.src.port = static_cast<uint16_t>(1024 + seq % 60000);
  e.dst = e.src;
  e.dst.addr[15] = 2;
  e.dst.port = 443;
  e.proto = 6;
  e.source_addr = StrCat("10.0.0.1:", e.src.port);
  e.dest_addr = "10.0.0.2:443";
  e.bytes_sent = static_cast<int64_t>(seq * 3);
  e.bytes_received = static_cast<int64_t>(seq * 5);
  e.packets = 2;
  e.extra_info = StrCat(R"({"protocol":"tcp","n":)", seq, R"(,"pad":")", std::string(extra_pad, 'x'), "\"}");
  return e;
}

std::vector<join::Event> SyntheticEvents(uint64_t first, size_t n, size_t extra_pad) {
  std::vector<join::Event> out;
  out.reserve(n);
  for (size_t i = 0; i < n; ++i) out.push_back(SyntheticEvent(first + i, extra_pad));
  return out;
}

MonitorFixture::MonitorFixture(Options options) {
  sessions_ =
      std::make_unique<session::SessionManager>(options.manager, &clock_, session::KernelApply{}, options.pid_checker);
  service_ = std::make_unique<rpc::NetworkMonitorServiceImpl>(sessions_.get(), rpc::ClientAllowList{},
                                                              rpc::StatusSource{}, options.service);
  auto server = rpc::RpcServer::Start(options.listen, Mtls("server"), {service_.get()});
  if (!server.ok()) throw std::runtime_error(std::string(server.status().message()));
  server_ = std::move(*server);
  pump_ = std::thread([this] {
    while (!stop_) {
      for (auto& s : sessions_->TakeEnding()) sessions_->Finish(s);
      std::this_thread::sleep_for(2ms);
    }
  });
}

MonitorFixture::~MonitorFixture() {
  sessions_->StopAll();
  stop_ = true;
  pump_.join();
  for (auto& s : sessions_->TakeEnding()) sessions_->Finish(s);
  service_->Shutdown();
  server_->Shutdown(2000ms);
}

int MonitorFixture::port() const {
  return server_->port();
}
std::string MonitorFixture::address() const {
  return StrCat("127.0.0.1:", server_->port());
}

bool MonitorFixture::EndCapture(const std::string& id) {
  auto s = sessions_->Find(id);
  if (!s.ok()) return false;
  int64_t now = clock_.MonotonicNs();
  if ((*s)->deadline_mono() >= now) clock_.Advance((*s)->deadline_mono() - now + 1);
  return (*s)->WaitFinished(std::chrono::steady_clock::now() + 20s);
}

AgentFixture::AgentFixture(const std::string& monitor_address) : AgentFixture(For(monitor_address)) {}

AgentFixture::AgentFixture(Options options) {
  MonitorConfig mc;
  mc.address = options.monitor_address;
  mc.security = options.monitor_security.mtls() ? options.monitor_security : Mtls("agent", "ca", "netmon-server");
  mc.call_timeout = options.call_timeout;
  auto monitor = MonitorClient::Create(mc);
  if (!monitor.ok()) throw std::runtime_error(std::string(monitor.status().message()));
  monitor_ = std::move(*monitor);
  if (options.agent.agent_id.empty()) options.agent.agent_id = "test-agent";
  service_ = std::make_unique<AgentServiceImpl>(monitor_.get(), options.agent);
  auto server = rpc::RpcServer::Start("127.0.0.1:0", Mtls("agent"), {service_.get()});
  if (!server.ok()) throw std::runtime_error(std::string(server.status().message()));
  server_ = std::move(*server);
}

AgentFixture::~AgentFixture() {
  server_->Shutdown(2000ms);
}

std::string AgentFixture::address() const {
  return StrCat("127.0.0.1:", server_->port());
}

std::unique_ptr<monitoring::AgentService::Stub> AgentFixture::Stub(const std::string& cert, const std::string& ca) {
  auto ch = rpc::CreateChannel(address(), Mtls(cert, ca, "netmon-agent"));
  if (!ch.ok()) throw std::runtime_error(std::string(ch.status().message()));
  return monitoring::AgentService::NewStub(*ch);
}

monitoring::ResultsRequest ResultsRequestFor(const std::string& details, const std::string& last_sequence) {
  monitoring::ResultsRequest r;
  r.set_service_name("netmon");
  r.set_service_type("network_capture");
  r.set_agent_id("test-agent");
  r.set_poller_id("test-poller");
  r.set_details(details);
  r.set_last_sequence(last_sequence);
  return r;
}

PollAnswer PollStream(monitoring::AgentService::Stub& stub, const std::string& details,
                      const std::string& last_sequence, size_t max_chunk_bytes, int deadline_s) {
  PollAnswer a;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(deadline_s));
  auto reader = stub.StreamResults(&ctx, ResultsRequestFor(details, last_sequence));
  monitoring::ResultsChunk c;
  while (reader->Read(&c)) a.chunks.push_back(c);
  a.status = reader->Finish();
  if (!a.status.ok()) return a;
  auto problem = [&](const std::string& p) { a.problems.push_back(p); };
  if (a.chunks.empty()) problem("no chunk at all");
  uint64_t prev_seq = 0;
  int finals = 0;
  for (size_t i = 0; i < a.chunks.size(); ++i) {
    const auto& ch = a.chunks[i];
    std::string where = StrCat("chunk ", i, ": ");
    if (ch.data().size() > max_chunk_bytes) problem(StrCat(where, ch.data().size(), " bytes > ", max_chunk_bytes));
    if (ch.chunk_index() != static_cast<int32_t>(i)) problem(StrCat(where, "chunk_index ", ch.chunk_index()));
    if (ch.total_chunks() != static_cast<int32_t>(a.chunks.size())) {
      problem(StrCat(where, "total_chunks ", ch.total_chunks(), " but ", a.chunks.size(), " chunks came"));
    }
    if (ch.is_final()) ++finals;
    if (ch.is_final() != (i + 1 == a.chunks.size())) problem(StrCat(where, "is_final on a chunk that is not last"));
    nlohmann::json doc = nlohmann::json::parse(ch.data(), nullptr, false);
    if (doc.is_discarded() || !doc.is_object()) {
      problem(StrCat(where, "data is not a JSON object on its own"));
      continue;
    }
    if (!doc.contains("session_id") || !doc.contains("results") || !doc["results"].is_array()) {
      problem(StrCat(where, "no session_id or results array"));
      continue;
    }
    uint64_t seq = std::stoull(ch.current_sequence().empty() ? "x" : ch.current_sequence());
    if (seq < prev_seq) problem(StrCat(where, "current_sequence went back"));
    prev_seq = seq;
    if (doc.value("current_sequence", uint64_t{0}) != seq) problem(StrCat(where, "JSON current_sequence differs"));
    for (auto& e : doc["results"]) a.events.push_back(e);
    if (!doc["results"].empty() && doc["results"].back().value("sequence", uint64_t{0}) != seq) {
      problem(StrCat(where, "current_sequence is not the last event's sequence"));
    }
    if (ch.is_final()) a.capture = doc.value("capture", nlohmann::json());
    a.docs.push_back(std::move(doc));
  }
  if (finals != 1) problem(StrCat(finals, " final chunks"));
  if (!a.chunks.empty()) a.current_sequence = a.chunks.back().current_sequence();
  return a;
}

grpc::Status Trigger(monitoring::AgentService::Stub& stub, const monitoring::TriggerNetworkCaptureRequest& req,
                     monitoring::TriggerNetworkCaptureResponse* resp, int deadline_s) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(deadline_s));
  return stub.TriggerNetworkCapture(&ctx, req, resp);
}

}  // namespace netmon::agent::testing
