// SPDX-License-Identifier: Apache-2.0
// A started gRPC server: the services, grpc.health.v1.Health (gRPC's built-in implementation), and one
// listening address with the credentials from the SecurityConfig.
#pragma once

#include <grpcpp/grpcpp.h>

#include <chrono>
#include <memory>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "rpc/security_config.h"

namespace netmon::rpc {

class RpcServer {
 public:
  // Listens on `listen_address` ("127.0.0.1:50085", "[::]:50085", "unix:/run/netmon.sock"; port 0 picks one).
  // `serving`: the health service's status from the start (false while the caller still gets ready).
  static absl::StatusOr<std::unique_ptr<RpcServer>> Start(const std::string& listen_address,
                                                          const SecurityConfig& security,
                                                          const std::vector<grpc::Service*>& services,
                                                          bool serving = true);
  ~RpcServer();

  // The bound TCP port (0 for unix sockets).
  int port() const { return port_; }
  // grpc.health.v1.Health: SERVING or NOT_SERVING.
  void SetServing(bool serving);
  // Marks the health service NOT_SERVING, then stops accepting and waits up to `grace` for calls in flight.
  void Shutdown(std::chrono::milliseconds grace);

 private:
  RpcServer() = default;
  std::unique_ptr<grpc::Server> server_;
  int port_ = 0;
  bool shut_down_ = false;
};

}  // namespace netmon::rpc
