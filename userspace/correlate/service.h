// SPDX-License-Identifier: Apache-2.0
// Everything netmon-correlate runs besides the event loop itself: the stores (inventory, NetFlow records, recent
// events, log window), the correlator over them, the UDP listeners (NetFlow/IPFIX, syslog), the NATS link (GELF and
// OTel logs, inventory updates, reverse-lookup requests) and the housekeeping thread (inventory file reloads,
// expiry, periodic counters). The pipelines (file_pipeline.h, nats_pipeline.h) feed events through it.
#pragma once

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "correlate/config.h"
#include "correlate/correlator.h"
#include "correlate/event_index.h"
#include "correlate/ingest.h"
#include "correlate/inventory.h"
#include "correlate/json_in.h"
#include "correlate/log_window.h"
#include "correlate/nats_client.h"
#include "correlate/tuple_store.h"
#include "correlate/udp_listener.h"

namespace netmon::correlate {

class Service {
 public:
  explicit Service(Config config);
  ~Service();
  Service(const Service&) = delete;
  Service& operator=(const Service&) = delete;

  // Loads the inventory file (an error if it is configured and does not load), binds the UDP listeners, starts the
  // housekeeping thread and, if NATS is configured, the NATS link (which connects in the background).
  absl::Status Start();
  // Stops every thread this service started. Idempotent.
  void Stop();

  // Re-reads the inventory file now (SIGHUP).
  void ReloadInventory();

  // The NATS connection once the link is up; null if NATS is off, or if `stop` became true while waiting.
  NatsConnection* WaitForNats(const std::atomic<bool>& stop);

  Correlator& correlator() { return correlator_; }
  const Config& config() const { return config_; }
  InventoryStore& inventory() { return inventory_; }
  FlowStore& flows() { return flows_; }
  EventIndex& events() { return events_; }
  LogWindow& logs() { return logs_; }
  NetflowCollector& netflow() { return netflow_; }
  LogIngest& log_ingest() { return log_ingest_; }
  uint16_t netflow_port() const { return netflow_listener_ ? netflow_listener_->port() : 0; }
  uint16_t syslog_port() const { return syslog_listener_ ? syslog_listener_->port() : 0; }

  // Answers {"control": "reverse_lookup", "source": "IP:port", "dest": "IP:port", "protocol": "tcp"|"udp"|"",
  // "start_ns": N, "end_ns": N} (the same keys without "control" on the NATS reverse subject).
  absl::Status AnswerReverseQuery(const Json& query, std::string* out);

  // All counters as one JSON object. `extra` (the pipeline's own counters) is added under "pipeline".
  std::string StatsJson(const std::function<void(std::string*)>& extra = nullptr);
  // The pipeline registers its counters for the periodic stats log.
  void SetPipelineStats(std::function<void(std::string*)> fn);

 private:
  void Housekeeping();
  void NatsLink();
  bool WaitStop(int64_t ms);  // false when stopping

  Config config_;
  InventoryStore inventory_;
  FlowStore flows_;
  EventIndex events_;
  LogWindow logs_;
  NetflowCollector netflow_;
  LogIngest log_ingest_;
  Correlator correlator_;

  std::unique_ptr<UdpListener> netflow_listener_;
  std::unique_ptr<UdpListener> syslog_listener_;

  std::mutex mu_;
  std::condition_variable cv_;
  bool stopping_ = false;
  std::function<void(std::string*)> pipeline_stats_;
  std::thread housekeeping_;
  std::thread nats_thread_;
  std::unique_ptr<NatsConnection> nats_;
  std::vector<std::unique_ptr<NatsSubscription>> subscriptions_;
  bool nats_ready_ = false;
  std::atomic<uint64_t> reverse_queries_{0};
  std::atomic<uint64_t> inventory_update_errors_{0};
  int64_t inventory_mtime_ns_ = 0;
};

}  // namespace netmon::correlate
