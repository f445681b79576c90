// SPDX-License-Identifier: Apache-2.0
// Who is calling, from the verified client certificate, and the optional allow-list that narrows who may use the
// service (docs/architecture.md §5). Identities are the certificate's subject CN and every subject alternative name.
#pragma once

#include <grpcpp/grpcpp.h>

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace netmon::rpc {

// CN and SANs of the verified peer certificate, in that order, without duplicates. Empty for plaintext.
std::vector<std::string> PeerIdentities(const grpc::AuthContext& auth);

class ClientAllowList {
 public:
  ClientAllowList() = default;
  explicit ClientAllowList(std::vector<std::string> allowed) : allowed_(std::move(allowed)) {}

  bool enabled() const { return !allowed_.empty(); }
  // OK if the list is empty or any identity of the peer is on it; PERMISSION_DENIED otherwise.
  absl::Status Check(const grpc::AuthContext& auth) const;
  // Same for a server context (nullptr auth context = plaintext).
  absl::Status Check(const grpc::ServerContext& context) const;

 private:
  std::vector<std::string> allowed_;
};

}  // namespace netmon::rpc
