// SPDX-License-Identifier: Apache-2.0
#include "correlate/service.h"

#include <netinet/in.h>
#include <sys/stat.h>

#include <chrono>

#include "common/log.h"
#include "common/str_cat.h"
#include "correlate/clock.h"
#include "correlate/json_out.h"

namespace netmon::correlate {
namespace {

constexpr int64_t kNsPerSec = 1'000'000'000;

int64_t MtimeNs(const std::string& path) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return -1;
  return int64_t{st.st_mtim.tv_sec} * kNsPerSec + st.st_mtim.tv_nsec;
}

NatsConnectOptions ConnectOptionsFrom(const NatsConfig& n) {
  NatsConnectOptions o;
  o.urls = n.urls;
  o.name = n.name;
  o.user = n.user;
  o.password = n.password;
  o.token = n.token;
  o.creds_file = n.creds_file;
  o.tls_ca_file = n.tls.ca_file;
  o.tls_cert_file = n.tls.cert_file;
  o.tls_key_file = n.tls.key_file;
  o.connect_timeout_ms = n.connect_timeout_ms;
  o.reconnect_wait_ms = n.reconnect_wait_ms;
  return o;
}

// The counters every UDP listener (NetFlow, syslog) reports, as fields of the object being written.
void WriteUdpCounters(JsonOut& w, const UdpListener& listener) {
  w.FieldUint("udp_datagrams", listener.datagrams())
      .FieldUint("udp_truncated", listener.truncated())
      .FieldUint("udp_receive_errors", listener.receive_errors());
}

std::string_view MsgData(natsMsg* msg) {
  return std::string_view(natsMsg_GetData(msg), static_cast<size_t>(natsMsg_GetDataLength(msg)));
}

}  // namespace

Service::Service(Config config)
    : config_(std::move(config)),
      flows_(config_.netflow_store),
      events_(config_.event_index),
      logs_(config_.log_window),
      netflow_(config_.netflow_parser, &flows_),
      log_ingest_(config_.syslog, config_.log_json, &logs_),
      correlator_(config_.correlator, &inventory_, &flows_, config_.event_index.max_entries > 0 ? &events_ : nullptr,
                  &logs_) {
  for (const auto& [exporter, rate] : config_.sampling_overrides) netflow_.SetSamplingOverride(exporter, rate);
}

Service::~Service() {
  Stop();
}

absl::Status Service::Start() {
  if (!config_.inventory_file.empty()) {
    absl::Status st = inventory_.LoadFile(config_.inventory_file, config_.inventory_limits);
    if (!st.ok()) return st;
    inventory_mtime_ns_ = MtimeNs(config_.inventory_file);
    auto inv = inventory_.SnapshotNow();
    NETMON_LOG(kInfo, "inventory", "loaded ", config_.inventory_file, ": ", inv->device_count(), " devices, ",
               inv->interface_count(), " interfaces, ", inv->prefix_count(), " subnets");
  }
  if (!config_.netflow_listen.empty()) {
    auto ep = ParseEndpoint(config_.netflow_listen);  // validated by the config
    auto l = UdpListener::Start(*ep, static_cast<int>(config_.netflow_receive_buffer_bytes), "netflow",
                                [this](const uint8_t* data, size_t len, const Endpoint& peer) {
                                  netflow_.Ingest(peer.ip, data, len, WallNowNs());
                                });
    if (!l.ok()) return l.status();
    netflow_listener_ = std::move(*l);
  }
  if (!config_.syslog_listen.empty()) {
    auto ep = ParseEndpoint(config_.syslog_listen);
    auto l = UdpListener::Start(*ep, static_cast<int>(config_.syslog_receive_buffer_bytes), "syslog",
                                [this](const uint8_t* data, size_t len, const Endpoint& peer) {
                                  log_ingest_.IngestSyslog(std::string_view(reinterpret_cast<const char*>(data), len),
                                                           peer.ip.ToString(), WallNowNs());
                                });
    if (!l.ok()) return l.status();
    syslog_listener_ = std::move(*l);
  }
  housekeeping_ = std::thread([this] { Housekeeping(); });
  if (config_.nats.enabled()) nats_thread_ = std::thread([this] { NatsLink(); });
  return absl::OkStatus();
}

void Service::Stop() {
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_ && !housekeeping_.joinable() && !nats_thread_.joinable()) return;
    stopping_ = true;
  }
  cv_.notify_all();
  if (housekeeping_.joinable()) housekeeping_.join();
  if (nats_thread_.joinable()) nats_thread_.join();
  netflow_listener_.reset();
  syslog_listener_.reset();
  // Subscriptions drain before the connection goes; their handlers reference this object.
  subscriptions_.clear();
  std::lock_guard<std::mutex> lock(mu_);
  nats_ready_ = false;
  nats_.reset();
}

bool Service::WaitStop(int64_t ms) {
  std::unique_lock<std::mutex> lock(mu_);
  cv_.wait_for(lock, std::chrono::milliseconds(ms), [&] { return stopping_; });
  return !stopping_;
}

void Service::ReloadInventory() {
  if (config_.inventory_file.empty()) return;
  absl::Status st = inventory_.LoadFile(config_.inventory_file, config_.inventory_limits);
  if (!st.ok()) {
    NETMON_LOG(kWarn, "inventory", st.message(), "; keeping the previous inventory");
    return;
  }
  auto inv = inventory_.SnapshotNow();
  NETMON_LOG(kInfo, "inventory", "reloaded ", config_.inventory_file, ": ", inv->device_count(), " devices, ",
             inv->interface_count(), " interfaces");
}

void Service::Housekeeping() {
  int64_t last_reload_check = MonoNowNs();
  int64_t last_stats = MonoNowNs();
  while (WaitStop(1000)) {
    int64_t mono = MonoNowNs();
    int64_t wall = WallNowNs();
    if (!config_.inventory_file.empty() && config_.inventory_reload_interval_s > 0 &&
        mono - last_reload_check >= config_.inventory_reload_interval_s * kNsPerSec) {
      last_reload_check = mono;
      int64_t mtime = MtimeNs(config_.inventory_file);
      if (mtime != inventory_mtime_ns_ && mtime >= 0) {
        inventory_mtime_ns_ = mtime;
        ReloadInventory();
      }
    }
    flows_.ExpireOlderThan(wall);
    events_.ExpireOlderThan(wall);
    logs_.ExpireOlderThan(wall);
    netflow_.Expire(wall);
    if (config_.stats_interval_s > 0 && mono - last_stats >= config_.stats_interval_s * kNsPerSec) {
      last_stats = mono;
      std::function<void(std::string*)> extra;
      {
        std::lock_guard<std::mutex> lock(mu_);
        extra = pipeline_stats_;
      }
      NETMON_LOG(kInfo, "stats", StatsJson(extra));
    }
  }
}

void Service::SetPipelineStats(std::function<void(std::string*)> fn) {
  std::lock_guard<std::mutex> lock(mu_);
  pipeline_stats_ = std::move(fn);
}

void Service::NatsLink() {
  NatsConnectOptions opts = ConnectOptionsFrom(config_.nats);
  int64_t backoff = 500;
  uint64_t failures = 0;
  std::unique_ptr<NatsConnection> conn;
  while (true) {
    auto c = NatsConnection::Connect(opts);
    if (c.ok()) {
      conn = std::move(*c);
      break;
    }
    if (failures++ % 20 == 0) NETMON_LOG(kWarn, "nats", c.status().message(), "; retrying");
    if (!WaitStop(backoff)) return;
    backoff = std::min<int64_t>(backoff * 2, 5000);
  }
  NETMON_LOG(kInfo, "nats", "connected to ", opts.urls.front());
  std::vector<std::unique_ptr<NatsSubscription>> subs;
  auto subscribe = [&](const std::string& subject, NatsSubscription::Handler h) {
    if (subject.empty()) return;
    auto s = NatsSubscription::Subscribe(conn.get(), subject, std::move(h));
    if (!s.ok()) {
      NETMON_LOG(kError, "nats", s.status().message());
      return;
    }
    NETMON_LOG(kInfo, "nats", "subscribed to ", subject);
    subs.push_back(std::move(*s));
  };
  subscribe(config_.gelf_subject,
            [this](natsMsg* m) { log_ingest_.IngestGelf(MsgData(m), natsMsg_GetSubject(m), WallNowNs()); });
  subscribe(config_.otel_subject,
            [this](natsMsg* m) { log_ingest_.IngestOtel(MsgData(m), natsMsg_GetSubject(m), WallNowNs()); });
  subscribe(config_.inventory_subject, [this](natsMsg* m) {
    absl::Status st = inventory_.ApplyUpdate(MsgData(m), config_.inventory_limits);
    if (!st.ok() && inventory_update_errors_.fetch_add(1) % 100 == 0) {
      NETMON_LOG(kWarn, "inventory", "update on ", natsMsg_GetSubject(m), " refused: ", st.message());
    }
  });
  NatsConnection* raw_conn = conn.get();
  subscribe(config_.nats.reverse_subject, [this, raw_conn](natsMsg* m) {
    const char* reply = natsMsg_GetReply(m);
    if (reply == nullptr || *reply == '\0') return;  // a request without a reply subject has nowhere to go
    std::string out;
    auto q = ParseJson(MsgData(m), 64 * 1024, 8);
    absl::Status st = q.ok() ? AnswerReverseQuery(*q, &out) : q.status();
    if (!st.ok()) {
      out.clear();
      JsonOut w(&out);
      w.BeginObject().Field("error", std::string(st.message())).EndObject();
    }
    natsConnection_Publish(raw_conn->get(), reply, out.data(), static_cast<int>(out.size()));
  });
  {
    std::lock_guard<std::mutex> lock(mu_);
    nats_ = std::move(conn);
    subscriptions_ = std::move(subs);
    nats_ready_ = true;
  }
  cv_.notify_all();
}

NatsConnection* Service::WaitForNats(const std::atomic<bool>& stop) {
  if (!config_.nats.enabled()) return nullptr;
  std::unique_lock<std::mutex> lock(mu_);
  while (!nats_ready_) {
    if (stop.load() || stopping_) return nullptr;
    cv_.wait_for(lock, std::chrono::milliseconds(200));
  }
  return nats_.get();
}

absl::Status Service::AnswerReverseQuery(const Json& q, std::string* out) {
  reverse_queries_.fetch_add(1, std::memory_order_relaxed);
  if (!q.is_object()) return absl::InvalidArgumentError("reverse lookup: the query must be an object");
  std::string src, dst, proto;
  auto s = q.find("source");
  auto d = q.find("dest");
  if (s == q.end() || d == q.end() || !GetString(*s, &src) || !GetString(*d, &dst)) {
    return absl::InvalidArgumentError("reverse lookup: \"source\" and \"dest\" (IP:port) are required");
  }
  auto se = ParseEndpoint(src);
  auto de = ParseEndpoint(dst);
  if (!se || !de) return absl::InvalidArgumentError("reverse lookup: source/dest must be IP:port or [IPv6]:port");
  FlowTuple t{se->ip, de->ip, se->port, de->port, 0};
  if (auto p = q.find("protocol"); p != q.end() && !p->is_null()) {
    if (!GetString(*p, &proto) || (proto != "tcp" && proto != "udp" && !proto.empty())) {
      return absl::InvalidArgumentError("reverse lookup: protocol must be \"tcp\", \"udp\" or \"\"");
    }
    t.protocol = proto == "tcp" ? IPPROTO_TCP : proto == "udp" ? IPPROTO_UDP : 0;
  }
  int64_t now = WallNowNs();
  int64_t from = now - config_.event_index.retention_ns, to = now;
  if (auto f = q.find("start_ns"); f != q.end() && !f->is_null() && !GetInt64(*f, &from)) {
    return absl::InvalidArgumentError("reverse lookup: start_ns must be an integer");
  }
  if (auto e = q.find("end_ns"); e != q.end() && !e->is_null() && !GetInt64(*e, &to)) {
    return absl::InvalidArgumentError("reverse lookup: end_ns must be an integer");
  }
  if (from > to) return absl::InvalidArgumentError("reverse lookup: start_ns is after end_ns");
  auto found = WhoProduced(events_, t, from, to, config_.correlator.netflow);
  AppendAttributions(t, from, to, found, out);
  return absl::OkStatus();
}

std::string Service::StatsJson(const std::function<void(std::string*)>& extra) {
  std::string out;
  JsonOut w(&out);
  w.BeginObject();
  CorrelatorCounters c = correlator_.counters();
  w.Key("correlator")
      .BeginObject()
      .FieldUint("events", c.events)
      .FieldUint("addresses_looked_up", c.addresses_looked_up)
      .FieldUint("addresses_exact", c.addresses_exact)
      .FieldUint("addresses_subnet", c.addresses_subnet)
      .FieldUint("addresses_unknown", c.addresses_unknown)
      .FieldUint("events_with_inventory", c.events_with_inventory)
      .FieldUint("events_with_netflow", c.events_with_netflow)
      .FieldUint("netflow_records_matched", c.netflow_records_matched)
      .FieldUint("events_with_logs", c.events_with_logs)
      .FieldUint("log_links", c.log_links)
      .FieldUint("events_indexed", c.events_indexed)
      .FieldUint("reverse_queries", reverse_queries_.load())
      .EndObject();
  InventoryStore::Counters ic = inventory_.counters();
  auto inv = inventory_.Snapshot(MonoNowNs());
  w.Key("inventory")
      .BeginObject()
      .FieldUint("devices", inv->device_count())
      .FieldUint("interfaces", inv->interface_count())
      .FieldUint("subnets", inv->prefix_count())
      .FieldUint("file_loads", ic.file_loads)
      .FieldUint("file_load_errors", ic.file_load_errors)
      .FieldUint("nats_updates", ic.nats_updates)
      .FieldUint("nats_update_errors", ic.nats_update_errors)
      .FieldUint("items_skipped", ic.items_skipped)
      .FieldUint("addresses_skipped", ic.addresses_skipped)
      .EndObject();
  NetflowCounters nc = netflow_.counters();
  TupleStoreCounters fs = flows_.counters();
  w.Key("netflow")
      .BeginObject()
      .FieldUint("datagrams", nc.datagrams)
      .FieldUint("datagrams_v5", nc.datagrams_v5)
      .FieldUint("datagrams_v9", nc.datagrams_v9)
      .FieldUint("datagrams_ipfix", nc.datagrams_ipfix)
      .FieldUint("records", nc.records)
      .FieldUint("records_without_addresses", nc.records_without_addresses)
      .FieldUint("options_records", nc.options_records)
      .FieldUint("templates", nc.templates)
      .FieldUint("templates_live", netflow_.template_count())
      .FieldUint("template_withdrawals", nc.template_withdrawals)
      .FieldUint("templates_expired", nc.templates_expired)
      .FieldUint("templates_evicted", nc.templates_evicted)
      .FieldUint("malformed_datagrams", nc.malformed_datagrams)
      .FieldUint("malformed_sets", nc.malformed_sets)
      .FieldUint("malformed_templates", nc.malformed_templates)
      .FieldUint("unsupported_versions", nc.unsupported_versions)
      .FieldUint("unknown_sets", nc.unknown_sets)
      .FieldUint("sets_without_template", nc.sets_without_template)
      .FieldUint("pending_decoded", nc.pending_decoded)
      .FieldUint("pending_dropped", nc.pending_dropped)
      .FieldUint("store_size", fs.size)
      .FieldUint("store_evicted_full", fs.evicted_full)
      .FieldUint("store_evicted_age", fs.evicted_age);
  if (netflow_listener_) WriteUdpCounters(w, *netflow_listener_);
  w.EndObject();
  LogIngestCounters lc = log_ingest_.counters();
  LogWindowCounters lw = logs_.counters();
  w.Key("logs")
      .BeginObject()
      .FieldUint("syslog_datagrams", lc.syslog_datagrams)
      .FieldUint("syslog_malformed", lc.syslog_malformed)
      .FieldUint("gelf_documents", lc.gelf_documents)
      .FieldUint("gelf_malformed", lc.gelf_malformed)
      .FieldUint("otel_documents", lc.otel_documents)
      .FieldUint("otel_malformed", lc.otel_malformed)
      .FieldUint("records_skipped", lc.records_skipped)
      .FieldUint("records", lc.records)
      .FieldUint("window_size", lw.size)
      .FieldUint("window_evicted_full", lw.evicted_full)
      .FieldUint("window_evicted_age", lw.evicted_age);
  if (syslog_listener_) WriteUdpCounters(w, *syslog_listener_);
  w.EndObject();
  TupleStoreCounters ec = events_.counters();
  w.Key("event_index")
      .BeginObject()
      .FieldUint("size", ec.size)
      .FieldUint("evicted_full", ec.evicted_full)
      .FieldUint("evicted_age", ec.evicted_age)
      .EndObject();
  {
    std::lock_guard<std::mutex> lock(mu_);
    w.Key("nats").BeginObject().FieldBool("configured", config_.nats.enabled()).FieldBool("ready", nats_ready_);
    if (nats_) {
      w.FieldBool("connected", nats_->connected())
          .FieldUint("subscriptions", subscriptions_.size())
          .FieldUint("disconnects", nats_->disconnects())
          .FieldUint("reconnects", nats_->reconnects());
    }
    w.EndObject();
  }
  if (extra) {
    w.Key("pipeline");
    extra(&out);
  }
  w.EndObject();
  return out;
}

}  // namespace netmon::correlate
