// SPDX-License-Identifier: Apache-2.0
#include "e2e_env.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <thread>

#include "bpf/mounts.h"
#include "common/str_cat.h"
#include "rpc/credentials.h"

namespace netmon::e2e {
namespace {

using nlohmann::json;

std::string Slurp(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

json RunJson(const std::string& cmd) {
  std::string out;
  if (rpc::testing::RunCommand(cmd + " 2>/dev/null", &out) != 0) return json::array();
  json j = json::parse(out, nullptr, false);
  return j.is_discarded() ? json::array() : j;
}

// Every integer found under `key` anywhere in `j`.
void CollectIds(const json& j, const std::string& key, std::set<uint64_t>* out) {
  if (j.is_object()) {
    for (auto it = j.begin(); it != j.end(); ++it) {
      if (it.key() == key && it->is_number_unsigned()) out->insert(it->get<uint64_t>());
      CollectIds(*it, key, out);
    }
  } else if (j.is_array()) {
    for (const auto& e : j) CollectIds(e, key, out);
  }
}

}  // namespace

std::string ServerBinary() {
#ifdef NETMON_SERVER_BINARY
  return NETMON_SERVER_BINARY;
#else
  return "";
#endif
}

std::string TalkerScript() {
  return StrCat(NETMON_SOURCE_DIR, "/tests/e2e/talker.py");
}

bool Eventually(const std::function<bool()>& pred, int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  return true;
}

absl::StatusOr<std::unique_ptr<ServerProcess>> ServerProcess::Start(const json& config) {
  std::unique_ptr<ServerProcess> sp(new ServerProcess());  // private constructor
  sp->dir_ = std::make_unique<rpc::testing::TempDir>();
  std::string path = sp->dir_->path() + "/netmon-server.json";
  std::ofstream(path) << config.dump(2);
  auto proc = testenv::Process::Spawn(nullptr, {ServerBinary(), "--config", path});
  if (!proc.ok()) return proc.status();
  sp->process_ = std::make_unique<testenv::Process>(std::move(*proc));
  auto line = sp->process_->ReadLine(60000);
  if (!line.ok()) return absl::UnavailableError(StrCat("netmon-server did not come up: ", line.status().message()));
  json j = json::parse(*line, nullptr, false);
  if (j.is_discarded() || !j.contains("port")) return absl::InternalError("unexpected first line: " + *line);
  std::string listen = j["listening"].get<std::string>();
  sp->address_ = listen.rfind("unix", 0) == 0 ? listen : StrCat("127.0.0.1:", j["port"].get<int>());
  return sp;
}

ServerProcess::~ServerProcess() {
  if (process_) (void)Stop();
}

absl::StatusOr<int> ServerProcess::Stop() {
  if (!process_) return absl::FailedPreconditionError("not running");
  if (!process_->TryWait()) (void)process_->Signal(SIGTERM);
  auto rc = process_->Wait(60000);
  return rc;
}

std::unique_ptr<network_monitor::NetworkMonitorService::Stub> ServerProcess::Stub(const std::string& cert,
                                                                                  const std::string& ca) const {
  rpc::SecurityConfig c = rpc::testing::Mtls(cert, ca);
  c.server_name = "netmon-server";
  auto ch = rpc::CreateChannel(address_, c);
  return network_monitor::NetworkMonitorService::NewStub(*ch);
}

RunResult RunServerExpectingExit(const std::string& config_text, const std::vector<std::string>& extra_args) {
  rpc::testing::TempDir dir;
  std::string path = dir.path() + "/c.json";
  std::ofstream(path) << config_text;
  std::string cmd = StrCat("timeout 60 ", ServerBinary(), " --config ", path);
  for (const auto& a : extra_args) cmd += " " + a;
  RunResult r;
  r.exit_code = rpc::testing::RunCommand(cmd, &r.output);
  return r;
}

json MtlsSecurity() {
  const std::string& d = rpc::testing::CertDir();
  return json{{"mode", "mtls"},
              {"cert_dir", d},
              {"role", "core"},
              {"tls", {{"cert_file", "server.pem"}, {"key_file", "server-key.pem"}, {"ca_file", "ca.pem"}}}};
}

json TopologyConfig(const testenv::Topology& topo) {
  return json{{"listen_addr", "127.0.0.1:0"},
              {"security", MtlsSecurity()},
              {"flush_interval_ms", 500},
              {"release_grace_ms", 5000},
              {"interfaces",
               {{{"name", topo.client_end().ifname}, {"netns", topo.client().path()}},
                {{"name", topo.server_end().ifname}, {"netns", topo.server().path()}}}}};
}

network_monitor::StartCaptureRequest CaptureRequest(const std::string& id, int duration, int pid, int port,
                                                    const std::string& src, const std::string& dst) {
  network_monitor::StartCaptureRequest r;
  r.set_session_id(id);
  r.set_duration_seconds(duration);
  r.mutable_filter()->set_process_id(pid);
  r.mutable_filter()->set_port(port);
  r.mutable_filter()->set_source_ip(src);
  r.mutable_filter()->set_destination_ip(dst);
  return r;
}

grpc::Status StartCapture(network_monitor::NetworkMonitorService::Stub& stub,
                          const network_monitor::StartCaptureRequest& req) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  network_monitor::StartCaptureResponse resp;
  return stub.StartCapture(&ctx, req, &resp);
}

grpc::Status StopCapture(network_monitor::NetworkMonitorService::Stub& stub, const std::string& id) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(60));
  network_monitor::StopCaptureRequest req;
  req.set_session_id(id);
  network_monitor::StopCaptureResponse resp;
  return stub.StopCapture(&ctx, req, &resp);
}

rpc::testing::StreamResult Results(network_monitor::NetworkMonitorService::Stub& stub, const std::string& id,
                                   uint64_t after, bool snapshot, int deadline_s) {
  network_monitor::GetCaptureResultsRequest req;
  req.set_session_id(id);
  req.set_after_sequence(after);
  req.set_mode(snapshot ? network_monitor::RESULTS_MODE_SNAPSHOT : network_monitor::RESULTS_MODE_FOLLOW);
  return rpc::testing::ReadAll(stub, req, deadline_s);
}

absl::StatusOr<testenv::TrafficgenEvent> AwaitExchange(testenv::Process& client, testenv::Process& server) {
  auto done = testenv::ExpectTrafficgenEvent(client, "done", 20000);
  if (!done.ok()) return done.status();
  if (auto s = testenv::ExpectTrafficgenEvent(server, "done", 20000); !s.ok()) return s.status();
  (void)client.Wait(10000);
  (void)server.Wait(10000);
  return done;
}

int PortOf(const std::string& endpoint) {
  size_t colon = endpoint.rfind(':');
  return colon == std::string::npos ? -1 : std::atoi(endpoint.c_str() + colon + 1);
}

std::string HostOf(const std::string& endpoint) {
  size_t colon = endpoint.rfind(':');
  std::string host = endpoint.substr(0, colon);
  if (!host.empty() && host.front() == '[') host = host.substr(1, host.size() - 2);
  return host;
}

json Extra(const network_monitor::NetworkEvent& ev) {
  json j = json::parse(ev.extra_info(), nullptr, false);
  return j.is_discarded() ? json::object() : j;
}

FlowTotals SumData(const std::vector<network_monitor::NetworkEvent>& evs, const std::string& a, const std::string& b,
                   int pid) {
  FlowTotals t;
  for (const auto& e : evs) {
    if (e.event_type() != "DATA" || e.process_id() != pid) continue;
    bool match = (e.source_addr() == a && e.dest_addr() == b) || (e.source_addr() == b && e.dest_addr() == a);
    if (!match) continue;
    t.sent += e.bytes_sent();
    t.received += e.bytes_received();
    json x = Extra(e);
    t.packets_sent += x.value("packets_sent", uint64_t{0});
    t.packets_received += x.value("packets_received", uint64_t{0});
    ++t.data_events;
  }
  return t;
}

absl::StatusOr<std::unique_ptr<PacketCounter>> PacketCounter::Start(const testenv::Netns& ns,
                                                                    const std::string& ifname) {
  std::unique_ptr<PacketCounter> pc(new PacketCounter());  // private constructor
  pc->dir_ = std::make_unique<rpc::testing::TempDir>();
  pc->file_ = pc->dir_->path() + "/cap.pcap";
  auto p = testenv::Process::Spawn(&ns, {"tcpdump", "-i", ifname, "-w", pc->file_, "-U", "--immediate-mode", "-n", "-s",
                                         "128", "-Z", "root", "ip or ip6"});
  if (!p.ok()) return p.status();
  pc->tcpdump_ = std::make_unique<testenv::Process>(std::move(*p));
  // tcpdump writes the file header once it is capturing.
  bool ready = Eventually([&] {
    struct stat st {};
    return stat(pc->file_.c_str(), &st) == 0 && st.st_size >= 24;
  });
  if (!ready) return absl::UnavailableError("tcpdump did not start capturing");
  return pc;
}

PacketCounter::~PacketCounter() {
  if (tcpdump_ && !tcpdump_->TryWait()) tcpdump_->Kill();
}

absl::StatusOr<FlowTotals> PacketCounter::Stop(const std::string& local, const std::string& remote) {
  (void)tcpdump_->Signal(SIGINT);
  (void)tcpdump_->Wait(30000);
  std::string data = Slurp(file_);
  if (data.size() < 24) return absl::InternalError("short pcap file");
  uint32_t magic;
  std::memcpy(&magic, data.data(), 4);
  if (magic != 0xa1b2c3d4 && magic != 0xa1b23c4d) return absl::InternalError("unexpected pcap byte order");
  uint32_t linktype;
  std::memcpy(&linktype, data.data() + 20, 4);
  if (linktype != 1) return absl::InternalError(StrCat("unexpected link type ", linktype));

  auto parse = [](const std::string& ep, uint8_t addr[16], int* family) {
    std::string host = HostOf(ep);
    std::memset(addr, 0, 16);
    if (inet_pton(AF_INET, host.c_str(), addr) == 1) {
      *family = 4;
    } else {
      inet_pton(AF_INET6, host.c_str(), addr);
      *family = 6;
    }
  };
  uint8_t la[16], ra[16];
  int lf, rf;
  parse(local, la, &lf);
  parse(remote, ra, &rf);
  uint16_t lport = static_cast<uint16_t>(PortOf(local)), rport = static_cast<uint16_t>(PortOf(remote));

  FlowTotals t;
  size_t off = 24;
  while (off + 16 <= data.size()) {
    uint32_t incl;
    std::memcpy(&incl, data.data() + off + 8, 4);
    const auto* pkt = reinterpret_cast<const uint8_t*>(data.data() + off + 16);
    off += 16 + incl;
    if (off > data.size() || incl < 14) break;
    uint16_t ethertype = static_cast<uint16_t>(pkt[12] << 8 | pkt[13]);
    const uint8_t* ip = pkt + 14;
    size_t iplen = incl - 14;
    const uint8_t *src, *dst;
    size_t l3_bytes, l4_off;
    int fam;
    if (ethertype == 0x0800 && iplen >= 20) {
      fam = 4;
      src = ip + 12;
      dst = ip + 16;
      l3_bytes = static_cast<size_t>(ip[2] << 8 | ip[3]);
      l4_off = static_cast<size_t>(ip[0] & 0x0f) * 4;
    } else if (ethertype == 0x86dd && iplen >= 40) {
      fam = 6;
      src = ip + 8;
      dst = ip + 24;
      l3_bytes = 40 + static_cast<size_t>(ip[4] << 8 | ip[5]);
      l4_off = 40;  // the test traffic carries no extension headers
    } else {
      continue;
    }
    if (iplen < l4_off + 4 || fam != lf) continue;
    size_t alen = fam == 4 ? 4 : 16;
    uint16_t sport = static_cast<uint16_t>(ip[l4_off] << 8 | ip[l4_off + 1]);
    uint16_t dport = static_cast<uint16_t>(ip[l4_off + 2] << 8 | ip[l4_off + 3]);
    bool egress =
        std::memcmp(src, la, alen) == 0 && std::memcmp(dst, ra, alen) == 0 && sport == lport && dport == rport;
    bool ingress =
        std::memcmp(src, ra, alen) == 0 && std::memcmp(dst, la, alen) == 0 && sport == rport && dport == lport;
    if (egress) {
      t.sent += static_cast<int64_t>(l3_bytes);
      ++t.packets_sent;
    } else if (ingress) {
      t.received += static_cast<int64_t>(l3_bytes);
      ++t.packets_received;
    }
  }
  return t;
}

std::vector<std::string> NetmonAttachments(const std::vector<const testenv::Netns*>& namespaces, int owner_pid) {
  std::map<uint64_t, std::string> netmon_progs;
  for (const auto& p : RunJson("bpftool -j prog show")) {
    if (!p.contains("name") || !p["name"].is_string() || p["name"].get<std::string>().rfind("netmon_", 0) != 0) {
      continue;
    }
    netmon_progs[p["id"].get<uint64_t>()] = p["name"].get<std::string>();
  }
  if (owner_pid > 0) {
    // Debian's bpftool lists no owning pids; the owner's fdinfo names the programs it holds.
    std::set<uint64_t> held;
    std::error_code ec;
    for (const auto& fd : std::filesystem::directory_iterator(StrCat("/proc/", owner_pid, "/fd"), ec)) {
      std::error_code lec;
      if (std::filesystem::read_symlink(fd.path(), lec).string() != "anon_inode:bpf-prog") continue;
      std::istringstream info(Slurp(StrCat("/proc/", owner_pid, "/fdinfo/", fd.path().filename().string())));
      std::string line;
      while (std::getline(info, line)) {
        if (line.rfind("prog_id:", 0) == 0) held.insert(std::strtoull(line.c_str() + 8, nullptr, 10));
      }
    }
    for (auto it = netmon_progs.begin(); it != netmon_progs.end();) {
      it = held.count(it->first) ? std::next(it) : netmon_progs.erase(it);
    }
  }
  std::vector<std::pair<std::string, std::set<uint64_t>>> where;
  auto add = [&](const std::string& name, const json& j, const std::string& key) {
    std::set<uint64_t> ids;
    CollectIds(j, key, &ids);
    where.emplace_back(name, ids);
  };
  add("link", RunJson("bpftool -j link show"), "prog_id");
  add("perf", RunJson("bpftool -j perf show"), "prog_id");
  if (auto cg = bpf::FindCgroup2Mount(); cg.ok()) add("cgroup", RunJson("bpftool -j cgroup tree " + *cg), "id");
  add("net(host)", RunJson("bpftool -j net show"), "id");
  for (const testenv::Netns* ns : namespaces) {
    add("net(" + ns->name() + ")", RunJson("ip netns exec " + ns->name() + " bpftool -j net show"), "id");
  }
  std::vector<std::string> out;
  for (const auto& [name, ids] : where) {
    for (uint64_t id : ids) {
      if (auto it = netmon_progs.find(id); it != netmon_progs.end()) {
        out.push_back(StrCat(name, ": ", it->second, " (", id, ")"));
      }
    }
  }
  return out;
}

namespace {

std::string Endpoint(const std::string& host, bool ipv6, int port) {
  return ipv6 ? StrCat("[", host, "]:", port) : StrCat(host, ":", port);
}

absl::StatusOr<TcpRun> RunPair(testenv::Topology& topo, bool ipv6, bool udp, int64_t send, int64_t recv, int port) {
  const std::string& server_ip = ipv6 ? topo.server_end().ipv6 : topo.server_end().ipv4;
  std::vector<std::string> serve = {testenv::TrafficgenPath(), udp ? "udp-serve" : "tcp-serve", "--listen",
                                    Endpoint(server_ip, ipv6, port)};
  if (udp) {
    serve.insert(serve.end(), {"--reply", std::to_string(recv)});
  } else {
    serve.insert(serve.end(), {"--recv", std::to_string(send), "--send", std::to_string(recv)});
  }
  auto srv = testenv::Process::Spawn(&topo.server(), serve);
  if (!srv.ok()) return srv.status();
  auto listening = testenv::ExpectTrafficgenEvent(*srv, "listening", 10000);
  if (!listening.ok()) return listening.status();
  std::string to = Endpoint(server_ip, ipv6, PortOf(listening->local));
  std::vector<std::string> connect = {testenv::TrafficgenPath(), udp ? "udp-send" : "tcp-connect", "--to", to};
  if (udp) {
    connect.insert(connect.end(), {"--bytes", std::to_string(send), "--recv-reply"});
  } else {
    connect.insert(connect.end(), {"--send", std::to_string(send), "--recv", std::to_string(recv)});
  }
  auto cli = testenv::Process::Spawn(&topo.client(), connect);
  if (!cli.ok()) return cli.status();
  auto cdone = testenv::ExpectTrafficgenEvent(*cli, "done", 20000);
  if (!cdone.ok()) return cdone.status();
  TcpRun r;
  r.client_pid = cli->pid();
  r.server_pid = srv->pid();
  r.client_local = cdone->local;
  r.server_local = listening->local;
  r.sent = cdone->sent;
  r.received = cdone->received;
  if (!udp) {
    auto sdone = testenv::ExpectTrafficgenEvent(*srv, "done", 20000);
    if (!sdone.ok()) return sdone.status();
  }
  (void)cli->Wait(10000);
  if (udp) srv->Kill();
  (void)srv->Wait(10000);
  return r;
}

}  // namespace

absl::StatusOr<TcpRun> RunTcp(testenv::Topology& topo, bool ipv6, int64_t send, int64_t recv, int port) {
  return RunPair(topo, ipv6, false, send, recv, port);
}

absl::StatusOr<TcpRun> RunUdp(testenv::Topology& topo, bool ipv6, int64_t bytes, int64_t reply, int port) {
  return RunPair(topo, ipv6, true, bytes, reply, port);
}

}  // namespace netmon::e2e
