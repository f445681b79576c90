// SPDX-License-Identifier: Apache-2.0
// gRPC credentials from a SecurityConfig, for servers (netmon-server, netmon-agent) and clients (netmon-agent,
// netmonctl). mTLS: the server requires a client certificate and verifies it against client_ca_file; the client
// verifies the server against ca_file (and server_name, when set). mode "none" is plaintext and allowed only
// on loopback or a unix socket (docs/architecture.md §5).
//
// TLS 1.3: gRPC 1.51 (Debian 12) has no public knob for the TLS version: neither SslServerCredentialsOptions nor
// grpc::experimental::TlsServerCredentialsOptions offers set_min_tls_version (it arrived in later releases), and
// its OpenSSL handshaker sets the minimum to TLS 1.2 itself. RestrictTlsToVersion13() closes the gap through
// OpenSSL's own configuration instead: it loads a process-wide "system_default" section that disables every
// protocol below TLS 1.3 before gRPC creates its first SSL_CTX, and then checks that it took effect.
#pragma once

#include <grpcpp/grpcpp.h>

#include <memory>
#include <string>
#include <string_view>

#include "absl/status/statusor.h"
#include "rpc/security_config.h"

namespace netmon::rpc {

// True for "unix:..." / "unix-abstract:..." and for host:port whose host is 127.0.0.0/8, ::1 or "localhost".
bool IsLoopbackOrUnix(std::string_view address);

// PEM contents of the files a SecurityConfig names; errors name the file.
struct TlsMaterial {
  std::string cert_chain;
  std::string private_key;
  std::string ca;
  std::string client_ca;
};
absl::StatusOr<TlsMaterial> LoadTlsMaterial(const SecurityConfig& config);

// Server credentials for `listen_address`. FAILED_PRECONDITION for plaintext on a non-loopback address.
absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(const SecurityConfig& config,
                                                                               std::string_view listen_address);

// Channel credentials for `target`. FAILED_PRECONDITION for plaintext to a non-loopback target.
absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeChannelCredentials(const SecurityConfig& config,
                                                                                 std::string_view target);

// A channel to `target` with the credentials above; sets the TLS target name to server_name when given.
absl::StatusOr<std::shared_ptr<grpc::Channel>> CreateChannel(std::string_view target, const SecurityConfig& config,
                                                             grpc::ChannelArguments args = {});

// Disables TLS below 1.3 for the whole process (see above). Call before creating any TLS credentials;
// FAILED_PRECONDITION if OpenSSL was already configured and the restriction could not be applied.
absl::Status RestrictTlsToVersion13();

}  // namespace netmon::rpc
