// SPDX-License-Identifier: Apache-2.0
#include "rpc_test_env.h"

#include <gtest/gtest.h>
#include <stdlib.h>
#include <unistd.h>

#include <array>
#include <chrono>
#include <cstdio>
#include <stdexcept>

#include "common/str_cat.h"
#include "rpc/credentials.h"

namespace netmon::rpc::testing {

int RunCommand(const std::string& cmd, std::string* output) {
  std::string full = cmd + " 2>&1";
  FILE* p = popen(full.c_str(), "r");
  if (p == nullptr) return -1;
  std::array<char, 4096> buf{};
  size_t n;
  while ((n = fread(buf.data(), 1, buf.size(), p)) > 0) {
    if (output != nullptr) output->append(buf.data(), n);
  }
  int rc = pclose(p);
  return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

const std::string& CertDir() {
  // Function-local statics: made on first use, the directory removed when the test binary exits.
  static const TempDir dir;
  static const std::string path = [] {
    std::string out;
    int rc = RunCommand(StrCat("bash ", NETMON_SOURCE_DIR, "/scripts/make-dev-certs.sh ", dir.path()), &out);
    if (rc != 0) throw std::runtime_error("make-dev-certs.sh failed: " + out);
    return dir.path();
  }();
  return path;
}

SecurityConfig Mtls(const std::string& cert, const std::string& ca, const std::string& server_name) {
  SecurityConfig c;
  c.mode = SecurityConfig::Mode::kMtls;
  c.cert_dir = CertDir();
  c.server_name = server_name;
  c.tls.cert_file = CertDir() + "/" + cert + ".pem";
  c.tls.key_file = CertDir() + "/" + cert + "-key.pem";
  c.tls.ca_file = CertDir() + "/" + ca + ".pem";
  c.tls.client_ca_file = c.tls.ca_file;
  return c;
}

ServerFixture::ServerFixture(Options options) {
  sessions_ = std::make_unique<session::SessionManager>(options.manager, &clock_);
  if (options.starting) {
    status_ = options.status;
    service_ = std::make_unique<NetworkMonitorServiceImpl>(ClientAllowList(options.allowed_clients), options.service);
  } else {
    service_ = std::make_unique<NetworkMonitorServiceImpl>(sessions_.get(), ClientAllowList(options.allowed_clients),
                                                           options.status, options.service);
  }
  SecurityConfig sec = options.mtls ? Mtls("server") : SecurityConfig{};
  auto server = RpcServer::Start("127.0.0.1:0", sec, {service_.get()}, /*serving=*/!options.starting);
  if (!server.ok()) throw std::runtime_error(std::string(server.status().message()));
  server_ = std::move(*server);
  pump_ = std::thread([this] {
    while (!stop_) {
      for (auto& s : sessions_->TakeEnding()) sessions_->Finish(s);
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  });
}

ServerFixture::~ServerFixture() {
  sessions_->StopAll();
  stop_ = true;
  pump_.join();
  for (auto& s : sessions_->TakeEnding()) sessions_->Finish(s);
  service_->Shutdown();
  server_->Shutdown(std::chrono::milliseconds(2000));
}

void ServerFixture::MakeReady() {
  service_->Ready(sessions_.get(), status_);
  server_->SetServing(true);
}

std::string ServerFixture::address() const {
  return StrCat("127.0.0.1:", server_->port());
}

std::shared_ptr<grpc::Channel> ServerFixture::Channel(const std::string& cert, const std::string& ca) {
  SecurityConfig c = Mtls(cert, ca);
  c.server_name = "netmon-server";
  auto ch = CreateChannel(address(), c);
  if (!ch.ok()) throw std::runtime_error(std::string(ch.status().message()));
  return *ch;
}

std::unique_ptr<network_monitor::NetworkMonitorService::Stub> ServerFixture::Stub(const std::string& cert,
                                                                                  const std::string& ca) {
  return network_monitor::NetworkMonitorService::NewStub(Channel(cert, ca));
}

std::vector<network_monitor::NetworkEvent> StreamResult::events() const {
  std::vector<network_monitor::NetworkEvent> out;
  for (const auto& c : chunks) out.insert(out.end(), c.events().begin(), c.events().end());
  return out;
}

StreamResult ReadAll(network_monitor::NetworkMonitorService::Stub& stub,
                     const network_monitor::GetCaptureResultsRequest& req, int deadline_s) {
  StreamResult r;
  grpc::ClientContext ctx;
  ctx.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(deadline_s));
  auto reader = stub.GetCaptureResults(&ctx, req);
  network_monitor::NetworkCaptureChunk chunk;
  while (reader->Read(&chunk)) r.chunks.push_back(chunk);
  r.status = reader->Finish();
  return r;
}

}  // namespace netmon::rpc::testing
