// SPDX-License-Identifier: Apache-2.0
// mTLS is enforced: no client certificate, a certificate from another CA, a client that does not trust the
// server, plaintext against TLS, and an identity outside allowed_clients are all refused; plaintext servers only
// start on loopback.
#include <gtest/gtest.h>

#include <chrono>

#include "rpc/credentials.h"
#include "rpc/rpc_server.h"
#include "rpc_test_env.h"

namespace netmon::rpc {
namespace {

using namespace std::chrono_literals;
using testing::ServerFixture;

grpc::Status StatusCall(network_monitor::NetworkMonitorService::Stub& stub) {
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + 20s);
  network_monitor::GetStatusResponse resp;
  return stub.GetStatus(&ctx, {}, &resp);
}

std::unique_ptr<network_monitor::NetworkMonitorService::Stub> StubWith(
    const std::string& addr, std::shared_ptr<grpc::ChannelCredentials> creds) {
  grpc::ChannelArguments args;
  args.SetSslTargetNameOverride("netmon-server");
  return network_monitor::NetworkMonitorService::NewStub(grpc::CreateCustomChannel(addr, creds, args));
}

TEST(Mtls, AValidClientIsServed) {
  ServerFixture f;
  auto stub = f.Stub("client");
  EXPECT_TRUE(StatusCall(*stub).ok());
}

TEST(Mtls, NoClientCertificateIsRefused) {
  ServerFixture f;
  auto m = LoadTlsMaterial(testing::Mtls("client"));
  ASSERT_TRUE(m.ok());
  grpc::SslCredentialsOptions opts;
  opts.pem_root_certs = m->ca;  // trusts the server, presents nothing
  auto stub = StubWith(f.address(), grpc::SslCredentials(opts));
  grpc::Status s = StatusCall(*stub);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.error_code(), grpc::UNAVAILABLE) << s.error_message();
}

TEST(Mtls, CertificateFromAnotherCaIsRefused) {
  ServerFixture f;
  auto stub = f.Stub("other-client", "ca");  // same CN as the good client, signed by other-ca
  grpc::Status s = StatusCall(*stub);
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.error_code(), grpc::UNAVAILABLE) << s.error_message();
}

TEST(Mtls, ClientThatDoesNotTrustTheServerRefuses) {
  ServerFixture f;
  auto stub = f.Stub("client", "other-ca");
  EXPECT_FALSE(StatusCall(*stub).ok());
}

TEST(Mtls, PlaintextClientAgainstTlsServerFails) {
  ServerFixture f;
  auto stub = network_monitor::NetworkMonitorService::NewStub(
      grpc::CreateChannel(f.address(), grpc::InsecureChannelCredentials()));
  EXPECT_FALSE(StatusCall(*stub).ok());
}

TEST(Mtls, IdentityNotOnTheAllowListIsDenied) {
  ServerFixture::Options opt;
  opt.allowed_clients = {"netmon-agent"};
  ServerFixture f(opt);
  auto client = f.Stub("client");
  grpc::Status s = StatusCall(*client);
  EXPECT_EQ(s.error_code(), grpc::PERMISSION_DENIED) << s.error_message();
  EXPECT_NE(s.error_message().find("netmon-client"), std::string::npos);
  grpc::ClientContext ctx;
  network_monitor::StartCaptureRequest req;
  req.set_session_id("x");
  req.set_duration_seconds(1);
  network_monitor::StartCaptureResponse resp;
  EXPECT_EQ(client->StartCapture(&ctx, req, &resp).error_code(), grpc::PERMISSION_DENIED);
  EXPECT_EQ(f.sessions().live_count(), 0u);
  auto agent = f.Stub("agent");
  EXPECT_TRUE(StatusCall(*agent).ok());
}

TEST(Mtls, PeerIdentitiesComeFromTheCertificate) {
  // The allow-list also accepts a SAN: every dev certificate carries DNS:<cn>.
  ServerFixture::Options opt;
  opt.allowed_clients = {"netmon-client"};
  ServerFixture f(opt);
  EXPECT_TRUE(StatusCall(*f.Stub("client")).ok());
  EXPECT_EQ(StatusCall(*f.Stub("agent")).error_code(), grpc::PERMISSION_DENIED);
}

TEST(Mtls, PlaintextServerOnlyOnLoopback) {
  SecurityConfig none;
  network_monitor::NetworkMonitorService::Service unimplemented;  // a server needs at least one service
  auto bad = RpcServer::Start("0.0.0.0:0", none, {&unimplemented});
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.status().code(), absl::StatusCode::kFailedPrecondition);
  auto ok = RpcServer::Start("127.0.0.1:0", none, {&unimplemented});
  ASSERT_TRUE(ok.ok()) << ok.status();
  EXPECT_GT((*ok)->port(), 0);
}

}  // namespace
}  // namespace netmon::rpc
