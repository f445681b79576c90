// SPDX-License-Identifier: Apache-2.0
// RestrictTlsToVersion13(): gRPC 1.51 has no public TLS-version knob, so the restriction goes through OpenSSL's
// configuration. Checked from outside with openssl s_client: a TLS 1.2-only client fails the handshake, a
// TLS 1.3 client completes it, and gRPC itself still works.
#include <gtest/gtest.h>

#include "rpc/credentials.h"
#include "rpc_test_env.h"

namespace netmon::rpc {
namespace {

using testing::CertDir;
using testing::RunCommand;

std::string SClient(const std::string& addr, const std::string& version) {
  const std::string& d = CertDir();
  return "timeout 20 openssl s_client -connect " + addr + " " + version + " -CAfile " + d + "/ca.pem -cert " + d +
         "/client.pem -key " + d + "/client-key.pem -servername netmon-server -alpn h2 </dev/null";
}

TEST(Tls13, OnlyTls13IsNegotiated) {
  ASSERT_TRUE(RestrictTlsToVersion13().ok());
  ASSERT_TRUE(RestrictTlsToVersion13().ok());  // idempotent
  testing::ServerFixture f;
  std::string out12, out13;
  RunCommand(SClient(f.address(), "-tls1_2"), &out12);
  RunCommand(SClient(f.address(), "-tls1_3"), &out13);
  // A failed handshake leaves no cipher; a completed one names the TLS 1.3 suite.
  EXPECT_NE(out12.find("Cipher is (NONE)"), std::string::npos) << out12;
  EXPECT_EQ(out12.find("Cipher is TLS_"), std::string::npos) << out12;
  EXPECT_NE(out13.find("New, TLSv1.3, Cipher is TLS_"), std::string::npos) << out13;
  // gRPC over the restricted stack still works end to end.
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
  network_monitor::GetStatusResponse resp;
  EXPECT_TRUE(f.Stub()->GetStatus(&ctx, {}, &resp).ok());
}

}  // namespace
}  // namespace netmon::rpc
