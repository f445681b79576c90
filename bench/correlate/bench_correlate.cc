// SPDX-License-Identifier: Apache-2.0
// netmon-correlate benchmark driver. Every measure is printed next to a baseline run on the same input in the same
// process, so the ratio means something on a shared machine:
//   enrich        DecodeEvent + Correlator::Enrich (inventory, NetFlow, logs)  vs  nlohmann::json::parse of the lines
//   file          the file pipeline over a file of JSON lines to /dev/null     vs  read + split + json::parse
//   netflow v5/v9/ipfix   NetflowParser records/s                              vs  a byte-sum pass over the datagrams
//   nats (--nats) events through JetStream: the correlator's pipeline          vs  fetch + json::parse + ack
// Usage: netmon_bench_correlate [--quick] [--events N] [--flows N] [--datagrams N] [--nats]
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <functional>
#include <string>
#include <thread>
#include <vector>

#include "common/log.h"
#include "common/str_cat.h"
#include "correlate/clock.h"
#include "correlate/correlator.h"
#include "correlate/event_publisher.h"
#include "correlate/file_pipeline.h"
#include "correlate/json_in.h"
#include "correlate/json_out.h"
#include "correlate/nats_client.h"
#include "correlate/nats_pipeline.h"
#include "correlate/netflow_parser.h"
#include "correlate/service.h"

namespace nc = netmon::correlate;

namespace {

constexpr int64_t kSec = 1'000'000'000;
constexpr int64_t kBase = 1700000000LL * kSec;

double Seconds(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}

struct Result {
  std::string name;
  uint64_t items;
  double secs;
  std::string baseline_name;
  double baseline_secs;
};
std::vector<Result> g_results;

void Report(const Result& r) {
  double rate = r.items / r.secs, base = r.items / r.baseline_secs;
  std::printf("%-22s %10lu items  %12.0f /s   | baseline %-28s %12.0f /s   ratio %.2f\n", r.name.c_str(),
              static_cast<unsigned long>(r.items), rate, r.baseline_name.c_str(), base, rate / base);
  std::fflush(stdout);
  g_results.push_back(r);
}

// --- inputs ------------------------------------------------------------------------------------------------------

std::string Ip4(uint32_t host) {
  return nc::IpAddr::FromV4(host).ToString();
}

// An inventory of `devices` switches, each with 8 interfaces on a /24, and the events' servers inside those subnets.
std::string MakeInventory(int devices) {
  std::string out = "{\"devices\":[";
  for (int d = 0; d < devices; ++d) {
    out += netmon::StrCat(d ? "," : "", R"({"device_id":"sw)", d, R"(","ip":")", Ip4(0x0a640000 + d),
                          R"(","hostname":"switch-)", d, R"(","metadata":{"sys_location":"DC1 row )", d % 20, "\"}}");
  }
  out += "],\"interfaces\":[";
  bool first = true;
  for (int d = 0; d < devices; ++d) {
    for (int i = 0; i < 8; ++i) {
      uint32_t net = 0x0a000000 + ((d * 8 + i) << 8);
      out += netmon::StrCat(first ? "" : ",", R"({"device_id":"sw)", d, R"(","device_ip":")", Ip4(0x0a640000 + d),
                            R"(","if_index":)", i + 1, R"(,"if_name":"Gi1/0/)", i + 1, R"(","ip_addresses":[")",
                            Ip4(net + 1), "/24\"]}");
      first = false;
    }
  }
  return out + "]}";
}

struct Flow {
  uint32_t client;
  uint16_t cport;
  uint32_t server;
  uint16_t sport;
};

std::vector<Flow> MakeFlows(int n, int devices) {
  std::vector<Flow> flows;
  for (int i = 0; i < n; ++i) {
    uint32_t server_net = 0x0a000000 + ((i % (devices * 8)) << 8);
    flows.push_back({0xac100000u + static_cast<uint32_t>(i % 60000), static_cast<uint16_t>(10000 + i % 50000),
                     server_net + 10 + static_cast<uint32_t>(i % 200), 443});
  }
  return flows;
}

std::vector<std::string> MakeEvents(const std::vector<Flow>& flows, int n) {
  std::vector<std::string> lines;
  lines.reserve(n);
  for (int i = 0; i < n; ++i) {
    const Flow& f = flows[i % flows.size()];
    int64_t end = kBase + i * 1000;
    lines.push_back(netmon::StrCat(
        R"({"timestamp_ns":)", end, R"(,"process_id":)", 1000 + i % 300, R"(,"process_name":"proc)", i % 300,
        R"(","source_addr":")", Ip4(f.client), ":", f.cport, R"(","dest_addr":")", Ip4(f.server), ":", f.sport,
        R"(","bytes_sent":)", 1000 + i % 5000, R"(,"bytes_received":)", 20000 + i % 7000,
        R"(,"event_type":"DATA","extra_info":"{\"protocol\":\"tcp\",\"packets_sent\":10,\"packets_received\":20,)",
        R"(\"interval_start_ns\":)", end - kSec, R"(,\"interval_end_ns\":)", end, R"(}","agent_id":"agent-1",)",
        R"("session_id":"bench","sequence":)", i + 1, "}"));
  }
  return lines;
}

void LoadStores(nc::FlowStore* flows_store, nc::LogWindow* logs, const std::vector<Flow>& flows) {
  for (size_t i = 0; i < flows.size(); ++i) {
    const Flow& f = flows[i];
    nc::FlowRecord r;
    r.tuple = {nc::IpAddr::FromV4(f.client), nc::IpAddr::FromV4(f.server), f.cport, f.sport, IPPROTO_TCP};
    r.bytes = 30000;
    r.packets = 30;
    r.start_ns = kBase - 10 * kSec;
    r.end_ns = kBase + 600 * kSec;
    r.received_ns = nc::WallNowNs();  // arrival now: the retention counts from it
    r.exporter = nc::IpAddr::FromV4(0x0a640000 + static_cast<uint32_t>(i % 16));
    r.version = 10;
    r.input_if = 1;
    r.output_if = 2;
    flows_store->Add(r);
    if (i % 10 == 0) {
      nc::LogRecord l;
      l.time_ns = kBase + static_cast<int64_t>(i) * 1000;
      l.received_ns = nc::WallNowNs();
      l.app = "fw";
      l.message = netmon::StrCat("allow tcp ", Ip4(f.client), ":", f.cport, " -> ", Ip4(f.server), ":", f.sport);
      logs->Add(std::move(l));
    }
  }
}

// --- measures ----------------------------------------------------------------------------------------------------

void BenchEnrich(const std::vector<std::string>& lines, const std::string& inventory, const std::vector<Flow>& flows) {
  nc::InventoryStore inv;
  if (!inv.ReplaceFileLayer(inventory).ok()) std::abort();
  nc::FlowStore store({1u << 22, 0});
  nc::EventIndex events({1u << 20, 0});
  nc::LogWindowOptions lwo;
  lwo.max_records = 1 << 20;
  lwo.retention_ns = 0;
  nc::LogWindow logs(lwo);
  LoadStores(&store, &logs, flows);
  nc::Correlator correlator(nc::CorrelatorOptions{}, &inv, &store, &events, &logs);

  auto t0 = std::chrono::steady_clock::now();
  size_t keys = 0;
  for (const auto& l : lines) {
    nc::Json doc = nc::Json::parse(l, nullptr, false);
    keys += doc.size();
  }
  double base = Seconds(t0);
  t0 = std::chrono::steady_clock::now();
  std::string out;
  size_t bytes = 0;
  for (const auto& l : lines) {
    auto ev = nc::DecodeEvent(l);
    if (!ev.ok()) std::abort();
    out.clear();
    correlator.Enrich(*ev, kBase, nc::MonoNowNs(), &out);
    bytes += out.size();
  }
  double secs = Seconds(t0);
  auto c = correlator.counters();
  if (c.events_with_netflow != lines.size() || keys == 0 || bytes == 0) {
    std::fprintf(stderr, "enrich: only %lu of %zu events matched NetFlow\n",
                 static_cast<unsigned long>(c.events_with_netflow), lines.size());
  }
  Report({"enrich in-process", lines.size(), secs, "json::parse", base});
}

void BenchFile(const std::vector<std::string>& lines, const std::string& inventory_path, const std::vector<Flow>& flows,
               const std::string& dir) {
  std::string path = dir + "/events.jsonl";
  {
    std::ofstream f(path, std::ios::binary);
    for (const auto& l : lines) f << l << '\n';
  }
  // Baseline: read the same file in the same chunks, split lines, parse each.
  auto t0 = std::chrono::steady_clock::now();
  {
    int fd = open(path.c_str(), O_RDONLY);
    std::vector<char> buf(1 << 16);
    std::string partial;
    size_t docs = 0;
    ssize_t n;
    while ((n = read(fd, buf.data(), buf.size())) > 0) {
      partial.append(buf.data(), static_cast<size_t>(n));
      size_t start = 0, nl;
      while ((nl = partial.find('\n', start)) != std::string::npos) {
        nc::Json doc = nc::Json::parse(partial.begin() + static_cast<std::ptrdiff_t>(start),
                                       partial.begin() + static_cast<std::ptrdiff_t>(nl), nullptr, false);
        docs += !doc.is_discarded();
        start = nl + 1;
      }
      partial.erase(0, start);
    }
    close(fd);
    if (docs != lines.size()) std::abort();
  }
  double base = Seconds(t0);

  auto cfg =
      nc::ParseConfig(netmon::StrCat(R"({"inventory":{"file":")", inventory_path, R"("},"stats_interval_s":0})"));
  if (!cfg.ok()) std::abort();
  nc::Service service(std::move(*cfg));
  if (!service.Start().ok()) std::abort();
  LoadStores(&service.flows(), &service.logs(), flows);
  int in = open(path.c_str(), O_RDONLY);
  int out = open("/dev/null", O_WRONLY);
  nc::FilePipeline pipeline(&service, in, out, -1);
  t0 = std::chrono::steady_clock::now();
  if (!pipeline.Run().ok()) std::abort();
  double secs = Seconds(t0);
  close(in);
  close(out);
  if (pipeline.counters().events != lines.size()) std::abort();
  service.Stop();
  Report({"file pipeline", lines.size(), secs, "read+split+json::parse", base});
}

// NetFlow datagrams, built the way exporters send them.
struct Bytes {
  std::vector<uint8_t> b;
  void U8(uint8_t v) { b.push_back(v); }
  void U16(uint16_t v) { U8(v >> 8), U8(v & 0xff); }
  void U32(uint32_t v) { U16(v >> 16), U16(v & 0xffff); }
  void U64(uint64_t v) { U32(static_cast<uint32_t>(v >> 32)), U32(static_cast<uint32_t>(v)); }
  void Len(size_t at, size_t from) {
    size_t n = b.size() - from;
    b[at] = static_cast<uint8_t>(n >> 8);
    b[at + 1] = static_cast<uint8_t>(n);
  }
};

std::vector<std::vector<uint8_t>> MakeDatagrams(int version, int count, const std::vector<Flow>& flows) {
  std::vector<std::vector<uint8_t>> out;
  size_t fi = 0;
  for (int d = 0; d < count; ++d) {
    Bytes p;
    if (version == 5) {
      p.U16(5), p.U16(30), p.U32(100000), p.U32(1700000000), p.U32(0), p.U32(d), p.U16(0), p.U16(0);
      for (int r = 0; r < 30; ++r, ++fi) {
        const Flow& f = flows[fi % flows.size()];
        p.U32(f.client), p.U32(f.server), p.U32(0), p.U16(1), p.U16(2), p.U32(10), p.U32(5000), p.U32(90000),
            p.U32(99000), p.U16(f.cport), p.U16(f.sport), p.U8(0), p.U8(0x18), p.U8(6), p.U8(0), p.U32(0), p.U32(0);
      }
    } else {
      // v9 / IPFIX: a template every 20 datagrams (as exporters refresh them), then a data set of 30 records.
      bool ipfix = version == 10;
      if (ipfix) {
        p.U16(10), p.U16(0), p.U32(1700000000), p.U32(d), p.U32(1);
      } else {
        p.U16(9), p.U16(0), p.U32(100000), p.U32(1700000000), p.U32(d), p.U32(1);
      }
      if (d % 20 == 0) {
        size_t s = p.b.size();
        p.U16(ipfix ? 2 : 0), p.U16(0), p.U16(256), p.U16(10);
        const uint16_t fields[10][2] = {{8, 4},
                                        {12, 4},
                                        {7, 2},
                                        {11, 2},
                                        {4, 1},
                                        {1, 8},
                                        {2, 8},
                                        {ipfix ? uint16_t{152} : uint16_t{22}, uint16_t(ipfix ? 8 : 4)},
                                        {ipfix ? uint16_t{153} : uint16_t{21}, uint16_t(ipfix ? 8 : 4)},
                                        {10, 4}};
        for (auto& f : fields) p.U16(f[0]), p.U16(f[1]);
        p.Len(s + 2, s);
      }
      size_t s = p.b.size();
      p.U16(256), p.U16(0);
      for (int r = 0; r < 30; ++r, ++fi) {
        const Flow& f = flows[fi % flows.size()];
        p.U32(f.client), p.U32(f.server), p.U16(f.cport), p.U16(f.sport), p.U8(6), p.U64(5000), p.U64(10);
        if (ipfix) {
          p.U64(1699999990000ULL), p.U64(1699999999000ULL);
        } else {
          p.U32(90000), p.U32(99000);
        }
        p.U32(3);
      }
      p.Len(s + 2, s);
      if (ipfix) p.Len(2, 0);
    }
    out.push_back(std::move(p.b));
  }
  return out;
}

// Repeats `pass` until at least `min_secs` passed; returns seconds per pass.
double TimePerPass(double min_secs, const std::function<void()>& pass) {
  auto t0 = std::chrono::steady_clock::now();
  int passes = 0;
  do {
    pass();
    ++passes;
  } while (Seconds(t0) < min_secs);
  return Seconds(t0) / passes;
}

void BenchNetflow(int version, int datagrams, const std::vector<Flow>& flows, double min_secs) {
  auto pkts = MakeDatagrams(version, datagrams, flows);
  // Baseline: touch every byte once (what any parser must at least do).
  volatile uint64_t sink = 0;
  double base = TimePerPass(min_secs, [&] {
    uint64_t sum = 0;
    for (const auto& p : pkts) {
      for (uint8_t b : p) sum += b;
    }
    sink = sink + sum;
  });
  nc::IpAddr exporter = *nc::ParseIp("10.100.0.1");
  std::vector<nc::FlowRecord> recs;
  uint64_t n = 0;
  double secs = TimePerPass(min_secs, [&] {
    nc::NetflowParser parser;  // fresh templates each pass: the first datagram carries them
    n = 0;
    for (const auto& p : pkts) {
      recs.clear();
      parser.Parse(exporter, p.data(), p.size(), kBase, &recs);
      n += recs.size();
    }
  });
  if (n != static_cast<uint64_t>(datagrams) * 30) std::abort();
  const char* name = version == 5 ? "netflow v5 records" : version == 9 ? "netflow v9 records" : "ipfix records";
  Report({name, n, secs, "byte-sum of the datagrams", base});
}

// --- NATS --------------------------------------------------------------------------------------------------------

class NatsServerProcess {
 public:
  explicit NatsServerProcess(const std::string& dir) {
    for (const char* p : {"/usr/sbin/nats-server", "/usr/bin/nats-server"}) {
      if (access(p, X_OK) == 0) path_ = p;
    }
    if (path_.empty()) return;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof(a);
    bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a));
    getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
    port_ = ntohs(a.sin_port);
    close(fd);
    std::string port = std::to_string(port_), store = dir + "/js";
    const char* argv[] = {path_.c_str(), "-js", "-sd", store.c_str(), "-a", "127.0.0.1", "-p", port.c_str(), nullptr};
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, "/dev/null", O_WRONLY, 0);
    if (posix_spawn(&pid_, path_.c_str(), &fa, nullptr, const_cast<char**>(argv), environ) != 0) pid_ = -1;
    posix_spawn_file_actions_destroy(&fa);
    for (int i = 0; i < 200 && pid_ > 0; ++i) {  // bounded: 10 s
      int s = socket(AF_INET, SOCK_STREAM, 0);
      a.sin_port = htons(port_);
      bool ok = connect(s, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
      close(s);
      if (ok) {
        ready_ = true;
        break;
      }
      usleep(50000);
    }
  }
  ~NatsServerProcess() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    for (int i = 0; i < 100; ++i) {
      if (waitpid(pid_, nullptr, WNOHANG) == pid_) return;
      usleep(50000);
    }
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
  }
  bool ready() const { return ready_; }
  std::string url() const { return "nats://127.0.0.1:" + std::to_string(port_); }

 private:
  std::string path_;
  pid_t pid_ = -1;
  uint16_t port_ = 0;
  bool ready_ = false;
};

void BenchNats(const std::vector<std::string>& lines, const std::string& inventory_path, const std::vector<Flow>& flows,
               const std::string& dir) {
  NatsServerProcess server(dir);
  if (!server.ready()) {
    std::printf("%-22s skipped: nats-server not available\n", "nats");
    return;
  }
  nc::EventPublisherOptions po;
  po.nats.urls = {server.url()};
  po.max_buffer_events = lines.size() + 1;
  po.max_buffer_bytes = 1u << 30;
  po.batch_size = 512;
  auto pub = nc::EventPublisher::Start(po);
  if (!pub.ok()) std::abort();
  auto t0 = std::chrono::steady_clock::now();
  for (const auto& l : lines) {
    auto ev = nc::DecodeEvent(l);
    (*pub)->PublishEvent(*ev);
  }
  if (!(*pub)->Flush(300000).ok()) std::abort();
  double pub_secs = Seconds(t0);
  std::printf("%-22s %10zu items  %12.0f /s   (EventPublisher, acknowledged)\n", "nats publish", lines.size(),
              lines.size() / pub_secs);

  // Baseline: a plain consumer over the same events: fetch, json::parse, ack.
  nc::NatsConnectOptions co;
  co.urls = {server.url()};
  auto conn = nc::NatsConnection::Connect(co);
  if (!conn.ok()) std::abort();
  auto raw = nc::PullConsumer::Create(conn->get(), {"events", "bench-raw", "events.netmon.*", 60000, 100000});
  if (!raw.ok()) std::abort();
  t0 = std::chrono::steady_clock::now();
  size_t got = 0;
  while (got < lines.size() && Seconds(t0) < 300) {
    auto batch = (*raw)->Fetch(512, 500);
    if (!batch.ok()) continue;
    for (auto& m : *batch) {
      nc::Json doc = nc::Json::parse(natsMsg_GetData(m.get()),
                                     natsMsg_GetData(m.get()) + natsMsg_GetDataLength(m.get()), nullptr, false);
      got += !doc.is_discarded();
      natsMsg_Ack(m.get(), nullptr);
    }
  }
  double base = Seconds(t0);

  auto cfg = nc::ParseConfig(netmon::StrCat(R"({"nats":{"url":")", server.url(), R"(","durable":"bench-correlate",
      "fetch_batch":512},"inventory":{"file":")",
                                            inventory_path, R"("},"stats_interval_s":0})"));
  if (!cfg.ok()) std::abort();
  nc::Service service(std::move(*cfg));
  if (!service.Start().ok()) std::abort();
  LoadStores(&service.flows(), &service.logs(), flows);
  nc::NatsPipeline pipeline(&service);
  std::atomic<bool> stop{false};
  t0 = std::chrono::steady_clock::now();
  std::thread runner([&] { (void)pipeline.Run(stop); });
  while (pipeline.counters().published < lines.size() && Seconds(t0) < 300) usleep(2000);
  double secs = Seconds(t0);
  stop = true;
  runner.join();
  service.Stop();
  Report({"nats pipeline", pipeline.counters().published, secs, "fetch+json::parse+ack", base});
}

}  // namespace

int main(int argc, char** argv) {
  int events = 200000, flows = 20000, datagrams = 20000, devices = 200;
  bool quick = false, nats = false;
  for (int i = 1; i < argc; ++i) {
    std::string a = argv[i];
    auto next = [&] { return i + 1 < argc ? std::atoi(argv[++i]) : 0; };
    if (a == "--quick") {
      quick = true;
    } else if (a == "--events") {
      events = next();
    } else if (a == "--flows") {
      flows = next();
    } else if (a == "--datagrams") {
      datagrams = next();
    } else if (a == "--nats") {
      nats = true;
    } else {
      std::fprintf(stderr, "usage: %s [--quick] [--events N] [--flows N] [--datagrams N] [--nats]\n", argv[0]);
      return 2;
    }
  }
  if (quick) {
    events = 20000;
    flows = 2000;
    datagrams = 2000;
    devices = 20;
    nats = true;  // small enough to stay near two seconds
  }
  if (events <= 0 || flows <= 0 || datagrams <= 0) return 2;
  netmon::log::SetLevel(netmon::log::Level::kWarn);
  std::string tmpl = (std::filesystem::temp_directory_path() / "netmon-bench-correlate-XXXXXX").string();
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (mkdtemp(buf.data()) == nullptr) return 1;
  std::string dir = buf.data();

  std::string inventory = MakeInventory(devices);
  std::string inventory_path = dir + "/inventory.json";
  std::ofstream(inventory_path) << inventory;
  auto flow_list = MakeFlows(flows, devices);
  auto lines = MakeEvents(flow_list, events);
  std::printf("netmon-correlate benchmark: %d events over %d flows, %d devices, %d datagrams per NetFlow version\n",
              events, flows, devices, datagrams);
  BenchEnrich(lines, inventory, flow_list);
  BenchFile(lines, inventory_path, flow_list, dir);
  for (int v : {5, 9, 10}) BenchNetflow(v, datagrams, flow_list, quick ? 0.1 : 1.0);
  if (nats) {
    BenchNats(quick ? std::vector<std::string>(lines.begin(), lines.begin() + 5000) : lines, inventory_path, flow_list,
              dir);
  }

  std::string json;
  nc::JsonOut w(&json);
  w.BeginArray();
  for (const auto& r : g_results) {
    w.BeginObject()
        .Field("measure", r.name)
        .FieldUint("items", r.items)
        .FieldDouble("per_second", r.items / r.secs)
        .Field("baseline", r.baseline_name)
        .FieldDouble("baseline_per_second", r.items / r.baseline_secs)
        .FieldDouble("ratio", (r.items / r.secs) / (r.items / r.baseline_secs))
        .EndObject();
  }
  w.EndArray();
  std::printf("%s\n", json.c_str());
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  return 0;
}
