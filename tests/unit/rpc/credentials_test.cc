// SPDX-License-Identifier: Apache-2.0
// Plaintext only on loopback or a unix socket; credential files that cannot be read are named.
#include "rpc/credentials.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <filesystem>
#include <string>

#include "rpc_test_env.h"

namespace netmon::rpc {
namespace {

TEST(Credentials, LoopbackAndUnixAddresses) {
  struct Case {
    const char* addr;
    bool local;
  } cases[] = {
      {"127.0.0.1:50085", true},       {"127.1.2.3:1", true},
      {"[::1]:50085", true},           {"localhost:50085", true},
      {"unix:/run/netmon.sock", true}, {"unix:///tmp/x", true},
      {"unix-abstract:netmon", true},  {"[::ffff:127.0.0.1]:1", true},
      {"dns:///localhost:5", true},    {"0.0.0.0:50085", false},
      {"[::]:50085", false},           {"10.0.0.1:50085", false},
      {"example.com:443", false},      {"128.0.0.1:1", false},
      {"[2001:db8::1]:1", false},      {":50085", false},
  };
  for (const auto& c : cases) EXPECT_EQ(IsLoopbackOrUnix(c.addr), c.local) << c.addr;
}

// inet_pton reads a C string: a host with an embedded NUL must not pass for the loopback address before it.
TEST(Credentials, AHostWithAnEmbeddedNulIsNotLoopback) {
  using namespace std::string_literals;
  EXPECT_FALSE(IsLoopbackOrUnix("127.0.0.1\0.example.com:50085"s));
  EXPECT_FALSE(IsLoopbackOrUnix("[::1\0x]:50085"s));
}

TEST(Credentials, PlaintextRefusedOffLoopback) {
  SecurityConfig none;
  auto s = MakeServerCredentials(none, "0.0.0.0:50085");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_NE(s.status().message().find("0.0.0.0:50085"), std::string::npos);
  EXPECT_TRUE(MakeServerCredentials(none, "127.0.0.1:0").ok());
  EXPECT_TRUE(MakeServerCredentials(none, "unix:/tmp/netmon-test.sock").ok());
  EXPECT_EQ(MakeChannelCredentials(none, "10.1.1.1:50085").status().code(), absl::StatusCode::kFailedPrecondition);
  EXPECT_TRUE(MakeChannelCredentials(none, "localhost:50085").ok());
}

TEST(Credentials, MissingFilesAreNamed) {
  SecurityConfig c;
  c.mode = SecurityConfig::Mode::kMtls;
  c.tls.cert_file = "/nonexistent/server.pem";
  c.tls.key_file = "/nonexistent/server-key.pem";
  c.tls.ca_file = c.tls.client_ca_file = "/nonexistent/ca.pem";
  auto s = MakeServerCredentials(c, "0.0.0.0:1");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("/nonexistent/server.pem"), std::string::npos) << s.status();
}

// A private key others can read is refused, naming the file and the fix; the same key at 0600 loads.
TEST(Credentials, AKeyReadableByOthersIsRefused) {
  SecurityConfig c = testing::Mtls("server");
  char dir[] = "/tmp/netmon-key-XXXXXX";
  ASSERT_NE(mkdtemp(dir), nullptr);
  const std::string key = std::string(dir) + "/server-key.pem";
  std::filesystem::copy_file(c.tls.key_file, key);
  c.tls.key_file = key;
  for (mode_t mode : {0640, 0604, 0660}) {
    ASSERT_EQ(chmod(key.c_str(), mode), 0);
    auto m = LoadTlsMaterial(c);
    ASSERT_FALSE(m.ok()) << std::oct << mode;
    EXPECT_EQ(m.status().code(), absl::StatusCode::kFailedPrecondition) << m.status();
    EXPECT_NE(m.status().message().find(key), std::string::npos) << m.status();
    EXPECT_NE(m.status().message().find("chmod 600"), std::string::npos) << m.status();
    EXPECT_FALSE(MakeServerCredentials(c, "0.0.0.0:1").ok());
  }
  ASSERT_EQ(chmod(key.c_str(), 0600), 0);
  EXPECT_TRUE(LoadTlsMaterial(c).ok());
  std::filesystem::remove_all(dir);
}

TEST(Credentials, MtlsMaterialLoads) {
  auto m = LoadTlsMaterial(testing::Mtls("server"));
  ASSERT_TRUE(m.ok()) << m.status();
  EXPECT_NE(m->cert_chain.find("BEGIN CERTIFICATE"), std::string::npos);
  EXPECT_TRUE(MakeServerCredentials(testing::Mtls("server"), "0.0.0.0:1").ok());
}

}  // namespace
}  // namespace netmon::rpc
