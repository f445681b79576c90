// SPDX-License-Identifier: Apache-2.0
// netmon-server's config file: defaults, every key, and rejections that name the key.
#include <gtest/gtest.h>

#include <fstream>

#include "rpc_test_env.h"
#include "server/config.h"

namespace netmon::server {
namespace {

TEST(ServerConfig, DefaultsFromAnEmptyObject) {
  auto c = ParseServerConfigText("{}");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_EQ(c->listen_addr, "127.0.0.1:50085");
  EXPECT_FALSE(c->security.mtls());
  EXPECT_EQ(c->max_sessions, 8);
  EXPECT_EQ(c->max_duration_seconds, 3600);
  EXPECT_GT(c->result_ttl_seconds, 0);
  EXPECT_GT(c->max_events_per_session, 0u);
  EXPECT_GE(c->flush_interval_ms, 1000u);
  EXPECT_LE(c->flush_interval_ms, 5000u);
  EXPECT_EQ(c->dns_ports, std::vector<uint16_t>{53});
  EXPECT_TRUE(c->interfaces.empty());
  EXPECT_TRUE(c->all_interfaces);  // no key: every interface of the namespace
}

TEST(ServerConfig, EveryKey) {
  auto c = ParseServerConfigText(R"({
    "listen_addr": "0.0.0.0:50085",
    "security": {"mode": "mtls", "cert_dir": "/etc/netmon", "tls": {"cert_file": "s.pem", "key_file": "s.key",
                 "ca_file": "ca.pem"}},
    "allowed_clients": ["netmon-agent"],
    "interfaces": ["eth0", {"name": "veth1", "ingress": "xdp"}, {"name": "eth0", "netns": "/run/netns/x"}],
    "max_sessions": 4, "max_duration_seconds": 600, "result_ttl_seconds": 60, "max_events_per_session": 1000,
    "max_retained_bytes": 104857600, "flush_interval_ms": 500, "chunk_max_events": 100,
    "owner_map_entries": 4096, "tuple_map_entries": 8192, "flow_map_entries": 16384,
    "sock_ringbuf_bytes": 1048576, "dns_ringbuf_bytes": 2097152, "dns_ports": [53, 5353],
    "release_grace_ms": 1000, "cgroup_path": "/sys/fs/cgroup", "log_level": "debug"})");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->security.mtls());
  EXPECT_EQ(c->security.tls.cert_file, "/etc/netmon/s.pem");
  EXPECT_EQ(c->allowed_clients, std::vector<std::string>{"netmon-agent"});
  ASSERT_EQ(c->interfaces.size(), 3u);
  EXPECT_FALSE(c->interfaces[0].xdp_ingress);
  EXPECT_TRUE(c->interfaces[1].xdp_ingress);
  EXPECT_EQ(c->interfaces[2].netns, "/run/netns/x");
  EXPECT_EQ(c->max_sessions, 4);
  EXPECT_EQ(c->max_duration_seconds, 600);
  EXPECT_EQ(c->result_ttl_seconds, 60);
  EXPECT_EQ(c->max_events_per_session, 1000u);
  EXPECT_EQ(c->flush_interval_ms, 500u);
  EXPECT_EQ(c->chunk_max_events, 100u);
  EXPECT_EQ(c->flow_map_entries, 16384u);
  EXPECT_EQ(c->dns_ports, (std::vector<uint16_t>{53, 5353}));
  EXPECT_EQ(c->log_level, "debug");
  EXPECT_EQ(ServerConfigKeys().size(), 20u);
}

TEST(ServerConfig, RejectionsNameTheKey) {
  struct Case {
    const char* json;
    const char* mention;
  } cases[] = {
      {R"({"listen_adr": "x"})", "listen_adr"},
      {R"({"max_sessions": 0})", "max_sessions"},
      {R"({"max_sessions": "8"})", "max_sessions"},
      {R"({"max_sessions": 1.5})", "max_sessions"},
      {R"({"max_duration_seconds": -1})", "max_duration_seconds"},
      {R"({"max_events_per_session": 0})", "max_events_per_session"},
      {R"({"flush_interval_ms": 99999999999})", "flush_interval_ms"},
      {R"({"sock_ringbuf_bytes": 1000000})", "power of two"},
      {R"({"dns_ports": [0]})", "dns_ports"},
      {R"({"dns_ports": [53, 54, 55, 56, 57]})", "dns_ports"},
      {R"({"interfaces": "eth0"})", "interfaces"},
      {R"({"interfaces": [""]})", "interfaces[0]"},
      {R"({"interfaces": ["a-very-long-interface-name"]})", "interfaces[0]"},
      {R"({"interfaces": [{"name": "eth0", "ingress": "afxdp"}]})", "ingress"},
      {R"({"interfaces": [{"name": "eth0", "mode": "x"}]})", "\"mode\""},
      {R"({"interfaces": ["eth0", "eth0"]})", "twice"},
      {R"({"log_level": "verbose"})", "log_level"},
      {R"({"security": {"mode": "mtls"}})", "cert_file"},
      {R"({"security": {"mode": "none", "tls": {"cert": "x"}}})", "\"cert\""},
      {R"({"listen_addr": "0.0.0.0:50085"})", "plaintext"},
      {R"({"listen_addr": "[::]:50085", "security": {"mode": "none"}})", "plaintext"},
      {R"({"allowed_clients": ["x"]})", "allowed_clients"},
      {R"({"allowed_clients": [""], "security": {"mode":"mtls","tls":{"cert_file":"a","key_file":"b","ca_file":"c"}}})",
       "allowed_clients"},
      {R"([])", "object"},
      {R"({)", "JSON"},
  };
  for (const Case& c : cases) {
    auto r = ParseServerConfigText(c.json);
    ASSERT_FALSE(r.ok()) << c.json;
    EXPECT_NE(r.status().message().find(c.mention), std::string::npos) << c.json << " -> " << r.status();
  }
}

TEST(ServerConfig, PlaintextOnLoopbackAndUnixIsFine) {
  EXPECT_TRUE(ParseServerConfigText(R"({"listen_addr": "[::1]:1"})").ok());
  EXPECT_TRUE(ParseServerConfigText(R"({"listen_addr": "unix:/run/netmon.sock"})").ok());
}

TEST(ServerConfig, LoadNamesTheFile) {
  auto missing = LoadServerConfig("/nonexistent/netmon.json");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("/nonexistent/netmon.json"), std::string::npos);
  rpc::testing::TempDir dir;
  std::string path = dir.path() + "/c.json";
  std::ofstream(path) << R"({"max_sesions": 3})";
  auto bad = LoadServerConfig(path);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find(path), std::string::npos);
  EXPECT_NE(bad.status().message().find("max_sesions"), std::string::npos);
  std::ofstream(path) << R"({"max_sessions": 3})";
  EXPECT_EQ(LoadServerConfig(path)->max_sessions, 3);
}

}  // namespace
}  // namespace netmon::server
