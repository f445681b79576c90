// SPDX-License-Identifier: Apache-2.0
#include "rpc/client_identity.h"

#include <grpc/grpc_security_constants.h>

#include <algorithm>

#include "common/str_cat.h"

namespace netmon::rpc {

std::vector<std::string> PeerIdentities(const grpc::AuthContext& auth) {
  std::vector<std::string> out;
  for (const char* prop : {GRPC_X509_CN_PROPERTY_NAME, GRPC_X509_SAN_PROPERTY_NAME, GRPC_PEER_DNS_PROPERTY_NAME,
                           GRPC_PEER_URI_PROPERTY_NAME, GRPC_PEER_SPIFFE_ID_PROPERTY_NAME}) {
    for (const grpc::string_ref& v : auth.FindPropertyValues(prop)) {
      std::string s(v.data(), v.size());
      if (!s.empty() && std::find(out.begin(), out.end(), s) == out.end()) out.push_back(std::move(s));
    }
  }
  return out;
}

absl::Status ClientAllowList::Check(const grpc::AuthContext& auth) const {
  if (allowed_.empty()) return absl::OkStatus();
  std::vector<std::string> ids = PeerIdentities(auth);
  for (const std::string& id : ids) {
    if (std::find(allowed_.begin(), allowed_.end(), id) != allowed_.end()) return absl::OkStatus();
  }
  return absl::PermissionDeniedError(StrCat("client identity ",
                                            ids.empty() ? std::string("(none)") : StrCat("\"", ids.front(), "\""),
                                            " is not on this server's allowed_clients list"));
}

absl::Status ClientAllowList::Check(const grpc::ServerContext& context) const {
  if (allowed_.empty()) return absl::OkStatus();
  auto auth = context.auth_context();
  if (!auth || !auth->IsPeerAuthenticated()) {
    return absl::PermissionDeniedError("allowed_clients is set but the peer presented no verified certificate");
  }
  return Check(*auth);
}

}  // namespace netmon::rpc
