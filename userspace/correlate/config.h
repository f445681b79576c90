// SPDX-License-Identifier: Apache-2.0
// netmon-correlate's configuration file (JSON). Every key is optional and has a default; an unknown key, a value of
// the wrong type or out of range is an error naming the key's path ("netflow.retention_s: ..."), so a typo never
// passes silently. docs/correlate.md documents every key.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "correlate/correlator.h"
#include "correlate/inventory.h"
#include "correlate/log_json.h"
#include "correlate/log_window.h"
#include "correlate/netflow_parser.h"
#include "correlate/syslog_parser.h"
#include "correlate/tuple_store.h"

namespace netmon::correlate {

struct NatsTlsConfig {
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  bool enabled() const { return !ca_file.empty() || !cert_file.empty(); }
};

struct NatsConfig {
  std::vector<std::string> urls;  // empty: NATS off
  std::string name = "netmon-correlate";
  std::string user;
  std::string password;
  std::string token;
  std::string creds_file;
  NatsTlsConfig tls;
  int64_t connect_timeout_ms = 2000;
  int64_t reconnect_wait_ms = 1000;
  // JetStream.
  std::string stream = "events";
  bool ensure_stream = true;
  std::vector<std::string> stream_subjects = {"events.>"};
  int64_t duplicate_window_ms = 120000;
  std::string input_subject = "events.netmon.*";
  std::string durable = "netmon-correlate";
  std::string output_subject = "events.netmon.enriched.{agent_id}";
  int64_t fetch_batch = 256;
  int64_t fetch_timeout_ms = 500;
  int64_t ack_wait_ms = 30000;
  int64_t max_ack_pending = 8192;
  int64_t publish_timeout_ms = 5000;
  std::string reverse_subject = "netmon.correlate.reverse";
  bool enabled() const { return !urls.empty(); }
};

struct Config {
  std::string log_level;  // "" = leave as is (the CLI may set it)
  int64_t stats_interval_s = 60;
  size_t max_line_bytes = 1u << 20;
  int64_t hold_ms = 0;
  size_t max_held = 100000;

  NatsConfig nats;

  std::string inventory_file;
  int64_t inventory_reload_interval_s = 30;
  std::string inventory_subject;
  InventoryLimits inventory_limits;

  std::string netflow_listen;  // "" = no collector
  int64_t netflow_receive_buffer_bytes = 4 << 20;
  NetflowParserOptions netflow_parser;
  TupleStoreOptions netflow_store;
  std::vector<std::pair<IpAddr, uint32_t>> sampling_overrides;

  std::string syslog_listen;  // "" = no syslog listener
  int64_t syslog_receive_buffer_bytes = 4 << 20;
  SyslogOptions syslog;

  LogWindowOptions log_window;
  LogJsonOptions log_json;
  std::string gelf_subject = "logs.syslog";
  std::string otel_subject = "logs.otel";

  TupleStoreOptions event_index{200000, 900LL * 1'000'000'000};

  CorrelatorOptions correlator;
};

absl::StatusOr<Config> ParseConfig(std::string_view json);
absl::StatusOr<Config> LoadConfig(const std::string& path);

}  // namespace netmon::correlate
