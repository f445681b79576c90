// SPDX-License-Identifier: Apache-2.0
#include "rpc/rpc_server.h"

#include <grpcpp/health_check_service_interface.h>

#include "common/status.h"
#include "common/str_cat.h"
#include "rpc/credentials.h"

namespace netmon::rpc {

absl::StatusOr<std::unique_ptr<RpcServer>> RpcServer::Start(const std::string& listen_address,
                                                            const SecurityConfig& security,
                                                            const std::vector<grpc::Service*>& services, bool serving) {
  NETMON_ASSIGN_OR_RETURN(auto creds, MakeServerCredentials(security, listen_address));
  // Global switch, read when a server is built: every server of this process serves grpc.health.v1.Health.
  grpc::EnableDefaultHealthCheckService(true);
  std::unique_ptr<RpcServer> out(new RpcServer());  // private constructor; owned at once
  grpc::ServerBuilder builder;
  builder.AddListeningPort(listen_address, creds, &out->port_);
  for (grpc::Service* s : services) builder.RegisterService(s);
  out->server_ = builder.BuildAndStart();
  if (!out->server_ || (listen_address.rfind("unix", 0) != 0 && out->port_ == 0)) {
    return absl::UnavailableError(
        StrCat("cannot listen on ", listen_address, " (address in use, not local, or not permitted?)"));
  }
  out->SetServing(serving);
  return out;
}

void RpcServer::SetServing(bool serving) {
  if (auto* health = server_->GetHealthCheckService()) health->SetServingStatus(serving);
}

RpcServer::~RpcServer() {
  Shutdown(std::chrono::milliseconds(0));
}

void RpcServer::Shutdown(std::chrono::milliseconds grace) {
  if (shut_down_ || !server_) return;
  shut_down_ = true;
  if (auto* health = server_->GetHealthCheckService()) health->SetServingStatus(false);
  server_->Shutdown(std::chrono::system_clock::now() + grace);
  server_->Wait();
}

}  // namespace netmon::rpc
