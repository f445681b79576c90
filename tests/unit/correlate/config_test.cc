// SPDX-License-Identifier: Apache-2.0
#include "correlate/config.h"

#include <gtest/gtest.h>

namespace netmon::correlate {
namespace {

std::string Error(const char* json) {
  auto c = ParseConfig(json);
  return c.ok() ? "" : std::string(c.status().message());
}

TEST(Config, EmptyObjectGivesDefaults) {
  auto c = ParseConfig("{}");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_FALSE(c->nats.enabled());
  EXPECT_EQ(c->nats.stream, "events");
  EXPECT_EQ(c->nats.input_subject, "events.netmon.*");
  EXPECT_EQ(c->nats.output_subject, "events.netmon.enriched.{agent_id}");
  EXPECT_EQ(c->gelf_subject, "logs.syslog");
  EXPECT_EQ(c->otel_subject, "logs.otel");
  EXPECT_TRUE(c->netflow_listen.empty());
  EXPECT_EQ(c->correlator.logs.window_ns, 5'000'000'000);
  EXPECT_EQ(c->hold_ms, 0);
}

TEST(Config, EveryKeyIsRead) {
  auto c = ParseConfig(R"({
    "log_level": "debug", "stats_interval_s": 10,
    "nats": {"url": ["nats://127.0.0.1:4222", "nats://127.0.0.1:4223"], "name": "c", "user": "u", "password": "p",
             "token": "", "creds_file": "", "tls": {"ca_file": "ca.pem", "cert_file": "c.pem", "key_file": "k.pem"},
             "connect_timeout_ms": 100, "reconnect_wait_ms": 100, "stream": "events", "ensure_stream": false,
             "stream_subjects": ["events.>"], "duplicate_window_ms": 60000, "input_subject": "events.netmon.*",
             "durable": "corr", "output_subject": "events.netmon.enriched.{agent_id}", "fetch_batch": 10,
             "fetch_timeout_ms": 100, "ack_wait_ms": 10000, "max_ack_pending": 100, "publish_timeout_ms": 1000,
             "reverse_subject": "netmon.correlate.reverse"},
    "inventory": {"file": "/etc/inv.json", "reload_interval_s": 5, "nats_subject": "mapper.devices",
                  "max_bytes": 100000, "max_items": 1000},
    "netflow": {"listen": "0.0.0.0:2055", "receive_buffer_bytes": 1048576, "template_timeout_s": 600,
                "max_templates": 100, "max_fields_per_template": 64, "max_pending_sets": 10, "max_pending_bytes": 65536,
                "pending_timeout_s": 30, "max_records": 1000, "retention_s": 60, "time_slack_ms": 500,
                "small_ratio": 0.2, "large_ratio": 0.8, "max_matches": 16, "max_reverse_events": 8,
                "sampling_overrides": {"10.1.1.254": 100}},
    "syslog": {"listen": "[::]:5514", "receive_buffer_bytes": 0, "max_message_bytes": 1024, "max_attributes": 8},
    "logs": {"window_ms": 2000, "max_links": 4, "match_on": ["endpoint", "pid"], "max_records": 100,
             "retention_s": 60, "max_output_message_bytes": 256, "max_document_bytes": 65536,
             "max_records_per_document": 50, "gelf_subject": "logs.syslog", "otel_subject": ""},
    "events": {"max_records": 1000, "retention_s": 60, "max_line_bytes": 4096, "hold_ms": 2000, "max_held": 10}
  })");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->nats.urls.size(), 2u);
  EXPECT_EQ(c->nats.tls.ca_file, "ca.pem");
  EXPECT_EQ(c->netflow_parser.template_timeout_ns, 600LL * 1'000'000'000);
  EXPECT_EQ(c->netflow_store.max_entries, 1000u);
  EXPECT_EQ(c->correlator.netflow.slack_ns, 500'000'000);
  ASSERT_EQ(c->sampling_overrides.size(), 1u);
  EXPECT_EQ(c->sampling_overrides[0].second, 100u);
  EXPECT_EQ(c->syslog_listen, "[::]:5514");
  EXPECT_EQ(c->correlator.logs.match_mask, kMatchEndpoint | kLinkPid);
  EXPECT_EQ(c->log_json.max_message_bytes, 1024u);
  EXPECT_TRUE(c->otel_subject.empty());
  EXPECT_EQ(c->hold_ms, 2000);
  EXPECT_EQ(c->max_line_bytes, 4096u);
  EXPECT_EQ(c->inventory_subject, "mapper.devices");
}

TEST(Config, UnknownKeysAreErrorsWithTheirPath) {
  EXPECT_NE(Error(R"({"natz": {}})").find("natz: unknown key"), std::string::npos);
  EXPECT_NE(Error(R"({"nats": {"urll": "x"}})").find("nats.urll: unknown key"), std::string::npos);
  EXPECT_NE(Error(R"({"nats": {"tls": {"ca": "x"}}})").find("nats.tls.ca: unknown key"), std::string::npos);
  EXPECT_NE(Error(R"({"netflow": {"retention": 5}})").find("netflow.retention"), std::string::npos);
}

TEST(Config, TypesAndRangesAreChecked) {
  EXPECT_NE(Error(R"({"netflow": {"retention_s": "60"}})").find("netflow.retention_s"), std::string::npos);
  EXPECT_NE(Error(R"({"netflow": {"retention_s": 0}})").find("netflow.retention_s"), std::string::npos);
  EXPECT_NE(Error(R"({"netflow": {"retention_s": 1.5}})").find("netflow.retention_s"), std::string::npos);
  EXPECT_NE(Error(R"({"netflow": {"listen": "0.0.0.0"}})").find("netflow.listen"), std::string::npos);
  EXPECT_NE(Error(R"({"netflow": {"listen": "localhost:2055"}})").find("netflow.listen"), std::string::npos);
  EXPECT_NE(Error(R"({"netflow": {"small_ratio": 0.9, "large_ratio": 0.5}})").find("small_ratio"), std::string::npos);
  EXPECT_NE(Error(R"({"netflow": {"sampling_overrides": {"not-an-ip": 5}}})").find("sampling_overrides"),
            std::string::npos);
  EXPECT_NE(Error(R"({"netflow": {"sampling_overrides": {"10.0.0.1": 0}}})").find("sampling_overrides"),
            std::string::npos);
  EXPECT_NE(Error(R"({"log_level": "loud"})").find("log_level"), std::string::npos);
  EXPECT_NE(Error(R"({"logs": {"match_on": ["ports"]}})").find("match_on"), std::string::npos);
  EXPECT_NE(Error(R"({"nats": {"durable": "a.b"}})").find("nats.durable"), std::string::npos);
  EXPECT_NE(Error(R"({"nats": {"input_subject": "events..x"}})").find("nats.input_subject"), std::string::npos);
  EXPECT_NE(Error(R"({"nats": {"output_subject": "events.*"}})").find("nats.output_subject"), std::string::npos);
  EXPECT_NE(Error(R"({"nats": {"tls": {"cert_file": "c.pem"}}})").find("nats.tls"), std::string::npos);
  EXPECT_NE(Error(R"({"nats": {"url": "nats://x:4222", "ack_wait_ms": 2000}, "events": {"hold_ms": 5000}})")
                .find("ack_wait_ms"),
            std::string::npos);
  EXPECT_NE(Error("[]").find("object"), std::string::npos);
  EXPECT_NE(Error("{").find("config"), std::string::npos);
  EXPECT_NE(Error(R"({"netflow": 5})").find("netflow"), std::string::npos);
}

}  // namespace
}  // namespace netmon::correlate
