// SPDX-License-Identifier: Apache-2.0
// netmon-agent's config file: defaults, every key, unknown keys named, ranges, nested SecurityConfigs.
#include "agent/config.h"

#include <gtest/gtest.h>

#include <regex>

#include "agent/session_id.h"
#include "session/validation.h"

namespace netmon::agent {
namespace {

TEST(AgentConfig, Defaults) {
  auto c = ParseAgentConfigText("{}");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->listen_addr, "0.0.0.0:50051");
  EXPECT_EQ(c->agent_id, DefaultAgentId());
  EXPECT_FALSE(c->security.mtls());
  EXPECT_EQ(c->network_monitor.address, "127.0.0.1:50085");
  EXPECT_EQ(c->max_chunk_bytes, 1'000'000u);
  EXPECT_EQ(c->max_events_per_poll, 250'000u);
  EXPECT_EQ(c->poll_timeout.count(), 10000);
}

TEST(AgentConfig, EveryKey) {
  auto c = ParseAgentConfigText(R"({
    "listen_addr": "unix:/run/netmon/agent.sock", "agent_id": "edge-7",
    "security": {"mode": "mtls", "cert_dir": "/etc/netmon", "role": "agent",
                 "tls": {"cert_file": "agent.pem", "key_file": "agent-key.pem", "ca_file": "ca.pem"}},
    "allowed_clients": ["poller", "netmon-client"],
    "network_monitor": {"address": "unix:/run/netmon/server.sock", "call_timeout_ms": 2500,
                        "security": {"mode": "mtls", "cert_dir": "/etc/netmon", "server_name": "netmon-server",
                                     "tls": {"cert_file": "agent.pem", "key_file": "agent-key.pem",
                                             "ca_file": "/abs/ca.pem"}}},
    "max_chunk_bytes": 65536, "max_events_per_poll": 1000, "poll_timeout_ms": 3000, "log_level": "debug"})");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->listen_addr, "unix:/run/netmon/agent.sock");
  EXPECT_EQ(c->agent_id, "edge-7");
  EXPECT_TRUE(c->security.mtls());
  EXPECT_EQ(c->security.tls.cert_file, "/etc/netmon/agent.pem");
  EXPECT_EQ(c->security.tls.client_ca_file, "/etc/netmon/ca.pem");
  EXPECT_EQ(c->allowed_clients, (std::vector<std::string>{"poller", "netmon-client"}));
  EXPECT_EQ(c->network_monitor.address, "unix:/run/netmon/server.sock");
  EXPECT_EQ(c->network_monitor.call_timeout.count(), 2500);
  EXPECT_EQ(c->network_monitor.security.server_name, "netmon-server");
  EXPECT_EQ(c->network_monitor.security.tls.ca_file, "/abs/ca.pem");
  EXPECT_EQ(c->max_chunk_bytes, 65536u);
  EXPECT_EQ(c->max_events_per_poll, 1000u);
  EXPECT_EQ(c->poll_timeout.count(), 3000);
  EXPECT_EQ(c->log_level, log::Level::kDebug);
}

TEST(AgentConfig, ErrorsNameTheKey) {
  struct Case {
    const char* text;
    const char* mentions;
  } cases[] = {
      {"[]", "object"},
      {"{", "JSON"},
      {R"({"listen_adr": "x"})", "listen_adr"},
      {R"({"network_monitor": {"adress": "x"}})", "adress"},
      {R"({"network_monitor": {"security": {"mode": "tls"}}})", "network_monitor.security"},
      {R"({"security": {"mode": "mtls"}})", "security.tls"},
      {R"({"security": {"tls": {"cert": "x"}}})", "cert"},
      {R"({"max_chunk_bytes": 5000000})", "max_chunk_bytes"},
      {R"({"max_chunk_bytes": 100})", "max_chunk_bytes"},
      {R"({"max_chunk_bytes": "1M"})", "max_chunk_bytes"},
      {R"({"poll_timeout_ms": 30000})", "poll_timeout_ms"},
      {R"({"max_events_per_poll": 0})", "max_events_per_poll"},
      {R"({"max_events_per_poll": 18446744073709551615})", "max_events_per_poll"},
      {R"({"allowed_clients": "poller"})", "allowed_clients"},
      {R"({"allowed_clients": [""]})", "allowed_clients"},
      {R"({"agent_id": ""})", "agent_id"},
      {R"({"agent_id": 5})", "agent_id"},
      {R"({"log_level": "loud"})", "log_level"},
      {R"({"network_monitor": {"call_timeout_ms": 0}})", "network_monitor.call_timeout_ms"},
      {R"({"network_monitor": "127.0.0.1:1"})", "network_monitor"},
  };
  for (const auto& c : cases) {
    auto r = ParseAgentConfigText(c.text);
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << c.text;
    EXPECT_NE(r.status().message().find(c.mentions), std::string::npos) << c.text << " -> " << r.status();
  }
}

TEST(AgentConfig, MissingFileIsNamed) {
  auto r = LoadAgentConfig("/nonexistent/agent.json");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("/nonexistent/agent.json"), std::string::npos);
}

TEST(SessionId, Uuid4AndAValidSessionId) {
  std::regex uuid("^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$");
  std::set<std::string> seen;
  for (int i = 0; i < 1000; ++i) {
    auto id = NewSessionId();
    ASSERT_TRUE(id.ok());
    EXPECT_TRUE(std::regex_match(*id, uuid)) << *id;
    EXPECT_TRUE(session::ValidateSessionId(*id).ok());
    EXPECT_TRUE(seen.insert(*id).second);
  }
}

TEST(AgentConfig, NatsAbsentMeansOff) {
  auto c = ParseAgentConfigText("{}");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_FALSE(c->nats.enabled);
}

TEST(AgentConfig, NatsDefaultsAndEveryKey) {
  auto d = ParseAgentConfigText(R"({"nats": {"url": "nats://127.0.0.1:4222"}})");
  ASSERT_TRUE(d.ok()) << d.status();
  EXPECT_TRUE(d->nats.enabled);
  EXPECT_EQ(d->nats.urls, std::vector<std::string>{"nats://127.0.0.1:4222"});
  EXPECT_EQ(d->nats.subject, "");  // events.netmon.<agent_id> when the forwarder starts
  EXPECT_EQ(d->nats.stream, "events");
  EXPECT_EQ(d->nats.stream_subjects, std::vector<std::string>{"events.>"});
  EXPECT_EQ(d->nats.max_buffer_events, 100000u);
  EXPECT_EQ(d->nats.max_followers, 16u);

  auto c = ParseAgentConfigText(R"({"nats": {
    "url": ["nats://a:4222", "nats://b:4222"], "name": "edge", "user": "u", "password": "p", "token": "t",
    "creds_file": "/etc/netmon/nats.creds",
    "tls": {"ca_file": "/etc/netmon/nats-ca.pem", "cert_file": "/c.pem", "key_file": "/k.pem"},
    "connect_timeout_ms": 500, "reconnect_wait_ms": 200, "subject": "netmon.raw.edge-7", "stream": "NETMON",
    "ensure_stream": false, "stream_subjects": ["netmon.raw.>"], "duplicate_window_ms": 60000,
    "max_buffer_events": 1000, "max_buffer_bytes": 1048576, "ack_timeout_ms": 2000, "max_followers": 4,
    "flush_timeout_ms": 1000}})");
  ASSERT_TRUE(c.ok()) << c.status();
  const NatsPublishConfig& n = c->nats;
  EXPECT_EQ(n.urls.size(), 2u);
  EXPECT_EQ(n.name, "edge");
  EXPECT_EQ(n.user, "u");
  EXPECT_EQ(n.password, "p");
  EXPECT_EQ(n.token, "t");
  EXPECT_EQ(n.creds_file, "/etc/netmon/nats.creds");
  EXPECT_EQ(n.tls_ca_file, "/etc/netmon/nats-ca.pem");
  EXPECT_EQ(n.tls_cert_file, "/c.pem");
  EXPECT_EQ(n.tls_key_file, "/k.pem");
  EXPECT_EQ(n.connect_timeout_ms, 500);
  EXPECT_EQ(n.reconnect_wait_ms, 200);
  EXPECT_EQ(n.subject, "netmon.raw.edge-7");
  EXPECT_EQ(n.stream, "NETMON");
  EXPECT_FALSE(n.ensure_stream);
  EXPECT_EQ(n.stream_subjects, std::vector<std::string>{"netmon.raw.>"});
  EXPECT_EQ(n.duplicate_window_ms, 60000);
  EXPECT_EQ(n.max_buffer_events, 1000u);
  EXPECT_EQ(n.max_buffer_bytes, 1048576u);
  EXPECT_EQ(n.ack_timeout_ms, 2000);
  EXPECT_EQ(n.max_followers, 4u);
  EXPECT_EQ(n.flush_timeout_ms, 1000);
}

TEST(AgentConfig, NatsBadInputIsNamed) {
  struct Case {
    const char* json;
    const char* expect;
  };
  for (const Case& t : std::vector<Case>{
           {R"({"nats": {"url": "nats://x", "urll": 1}})", "nats: unknown key \"urll\""},
           {R"({"nats": {"url": "nats://x", "tls": {"ca": "x"}}})", "nats.tls: unknown key \"ca\""},
           {R"({"nats": {}})", "nats.url: is required"},
           {R"({"nats": {"url": []}})", "nats.url: must not be empty"},
           {R"({"nats": {"url": 4222}})", "nats.url: must be a string or a list"},
           {R"({"nats": "nats://x"})", "nats: must be an object"},
           {R"({"nats": {"url": "nats://x", "subject": "events.*"}})", "nats.subject"},
           {R"({"nats": {"url": "nats://x", "subject": "events..a"}})", "nats.subject"},
           {R"({"nats": {"url": "nats://x", "stream": "a.b"}})", "nats.stream"},
           {R"({"nats": {"url": "nats://x", "stream_subjects": ["a.>.b"]}})", "nats.stream_subjects"},
           {R"({"nats": {"url": "nats://x", "max_buffer_events": 0}})", "nats.max_buffer_events"},
           {R"({"nats": {"url": "nats://x", "max_followers": 5000}})", "nats.max_followers"},
           {R"({"nats": {"url": "nats://x", "ensure_stream": "yes"}})", "nats.ensure_stream"},
           {R"({"nats": {"url": "nats://x", "tls": {"cert_file": "/c.pem"}}})", "cert_file and key_file"},
       }) {
    auto c = ParseAgentConfigText(t.json);
    ASSERT_FALSE(c.ok()) << t.json;
    EXPECT_NE(c.status().message().find(t.expect), std::string::npos) << t.json << " -> " << c.status().message();
  }
}

TEST(AgentConfig, PublishSubjects) {
  EXPECT_TRUE(ValidPublishSubject("events.netmon.edge-7"));
  EXPECT_FALSE(ValidPublishSubject(""));
  EXPECT_FALSE(ValidPublishSubject("events.>"));
  EXPECT_FALSE(ValidPublishSubject("events. a"));
  EXPECT_FALSE(ValidPublishSubject("events."));
}

}  // namespace
}  // namespace netmon::agent
