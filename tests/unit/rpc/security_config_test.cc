// SPDX-License-Identifier: Apache-2.0
// ServiceRadar's SecurityConfig shape: paths joined to cert_dir, client_ca_file falling back to ca_file, and
// every unknown key, wrong type or unsupported mode rejected with the key named.
#include "rpc/security_config.h"

#include <gtest/gtest.h>

namespace netmon::rpc {
namespace {

TEST(SecurityConfig, MtlsWithRelativeAndAbsolutePaths) {
  auto c = ParseSecurityConfigText(R"({"mode":"mtls","cert_dir":"/etc/sr/certs","server_name":"netmon-server",
    "role":"agent","tls":{"cert_file":"agent.pem","key_file":"agent-key.pem","ca_file":"/other/root.pem"}})");
  ASSERT_TRUE(c.ok()) << c.status();
  EXPECT_TRUE(c->mtls());
  EXPECT_EQ(c->tls.cert_file, "/etc/sr/certs/agent.pem");
  EXPECT_EQ(c->tls.key_file, "/etc/sr/certs/agent-key.pem");
  EXPECT_EQ(c->tls.ca_file, "/other/root.pem");
  EXPECT_EQ(c->tls.client_ca_file, "/other/root.pem");  // falls back to ca_file
  EXPECT_EQ(c->server_name, "netmon-server");
  EXPECT_EQ(c->role, "agent");
}

TEST(SecurityConfig, ExplicitClientCa) {
  auto c = ParseSecurityConfigText(R"({"mode":"mtls","cert_dir":"d","tls":{"cert_file":"c","key_file":"k",
    "ca_file":"ca","client_ca_file":"clients.pem"}})");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->tls.client_ca_file, "d/clients.pem");
}

TEST(SecurityConfig, NoneAndEmpty) {
  auto c = ParseSecurityConfigText(R"({"mode":"none"})");
  ASSERT_TRUE(c.ok());
  EXPECT_FALSE(c->mtls());
  EXPECT_FALSE(ParseSecurityConfigText("{}")->mtls());
}

TEST(SecurityConfig, Rejections) {
  struct Case {
    const char* json;
    const char* must_mention;
  } cases[] = {
      {R"({"mode":"mtls","tls":{"cert_file":"c","key_file":"k","ca_file":"a"},"extra":1})", "\"extra\""},
      {R"({"mode":"mtls","tls":{"cert_file":"c","key_file":"k","ca_file":"a","ca_fiel":"x"}})", "\"ca_fiel\""},
      {R"({"mode":"spiffe"})", "spiffe"},
      {R"({"mode":"MTLS"})", "MTLS"},
      {R"({"mode":1})", "mode"},
      {R"({"cert_dir":[]})", "cert_dir"},
      {R"({"mode":"mtls","tls":"x"})", "tls"},
      {R"({"mode":"mtls","tls":{"key_file":"k","ca_file":"a"}})", "cert_file"},
      {R"({"mode":"mtls","tls":{"cert_file":"c","ca_file":"a"}})", "key_file"},
      {R"({"mode":"mtls","tls":{"cert_file":"c","key_file":"k"}})", "ca_file"},
      {R"([])", "object"},
      {R"({"mode":)", "JSON"},
  };
  for (const Case& c : cases) {
    auto r = ParseSecurityConfigText(c.json, "security");
    ASSERT_FALSE(r.ok()) << c.json;
    EXPECT_EQ(r.status().code(), absl::StatusCode::kInvalidArgument) << c.json;
    EXPECT_NE(r.status().message().find(c.must_mention), std::string::npos) << r.status();
  }
}

TEST(SecurityConfig, WhereIsPrefixed) {
  auto r = ParseSecurityConfigText(R"({"bogus":1})", "network_monitor.security");
  EXPECT_NE(r.status().message().find("network_monitor.security"), std::string::npos);
}

}  // namespace
}  // namespace netmon::rpc
