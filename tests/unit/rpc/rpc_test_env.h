// SPDX-License-Identifier: Apache-2.0
// Test scaffolding for the gRPC layer: a temporary directory with certificates made by
// scripts/make-dev-certs.sh, SecurityConfigs for each role, and an in-process server over a SessionManager whose
// engine is a small pump thread (the seam where tests inject synthetic events).
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "network_monitor.grpc.pb.h"
#include "rpc/network_monitor_service.h"
#include "rpc/rpc_server.h"
#include "rpc/security_config.h"
#include "session/clock.h"
#include "session/session_manager.h"
#include "testenv/temp_dir.h"

namespace netmon::rpc::testing {

// A fresh directory under $TMPDIR, removed on destruction (testenv's, shared by every test env).
using TempDir = testenv::TempDir;

// Certificates for one test binary, made once by scripts/make-dev-certs.sh (removed at exit).
const std::string& CertDir();

// SecurityConfig with mTLS for `cert`/`key` (e.g. "client", "server", "agent", "other-client"), trusting `ca`
// (default "ca"); `server_name`, if given, is the name a client expects on the server's certificate.
SecurityConfig Mtls(const std::string& cert, const std::string& ca = "ca", const std::string& server_name = "");

// Runs a shell command; returns its exit status and collects stdout+stderr into *output.
int RunCommand(const std::string& cmd, std::string* output);

// A server on 127.0.0.1:<ephemeral> with mTLS, and what tests need around it.
class ServerFixture {
 public:
  struct Options {
    session::ManagerOptions manager;
    ServiceOptions service;
    std::vector<std::string> allowed_clients;
    StatusSource status;
    bool mtls = true;
    bool starting = false;  // the service answers UNAVAILABLE ("starting") until MakeReady()
  };
  ServerFixture() : ServerFixture(Options{}) {}
  explicit ServerFixture(Options options);
  ~ServerFixture();

  std::string address() const;
  // A `starting` fixture's service serves from now on (as netmon-server once its programs are loaded).
  void MakeReady();
  session::SessionManager& sessions() { return *sessions_; }
  session::ManualClock& clock() { return clock_; }
  // A stub over a channel with the given client identity ("client", "agent", "other-client" ...).
  std::unique_ptr<network_monitor::NetworkMonitorService::Stub> Stub(const std::string& cert = "client",
                                                                     const std::string& ca = "ca");
  std::shared_ptr<grpc::Channel> Channel(const std::string& cert = "client", const std::string& ca = "ca");

 private:
  session::ManualClock clock_;
  std::unique_ptr<session::SessionManager> sessions_;
  std::unique_ptr<NetworkMonitorServiceImpl> service_;
  std::unique_ptr<RpcServer> server_;
  StatusSource status_;
  std::atomic<bool> stop_{false};
  std::thread pump_;  // the engine's session duties: end captures whose time is up or that were stopped
};

// Reads a whole GetCaptureResults stream (bounded by `deadline_s`).
struct StreamResult {
  std::vector<network_monitor::NetworkCaptureChunk> chunks;
  grpc::Status status;
  std::vector<network_monitor::NetworkEvent> events() const;
};
StreamResult ReadAll(network_monitor::NetworkMonitorService::Stub& stub,
                     const network_monitor::GetCaptureResultsRequest& req, int deadline_s = 60);

}  // namespace netmon::rpc::testing
