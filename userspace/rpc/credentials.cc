// SPDX-License-Identifier: Apache-2.0
#include "rpc/credentials.h"

#include <arpa/inet.h>
#include <openssl/crypto.h>
#include <openssl/ssl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <fstream>
#include <mutex>
#include <sstream>

#include "common/inet_pton.h"
#include "common/status.h"
#include "common/str_cat.h"
#include "common/unique_fd.h"

namespace netmon::rpc {
namespace {

absl::StatusOr<std::string> ReadFile(const std::string& path, std::string_view what) {
  if (path.empty()) return absl::InvalidArgumentError(StrCat(what, ": no file configured"));
  std::ifstream in(path, std::ios::binary);
  if (!in) return ErrnoError(StrCat("read ", what), path, errno != 0 ? errno : ENOENT);
  std::ostringstream buf;
  buf << in.rdbuf();
  if (buf.str().empty()) return absl::InvalidArgumentError(StrCat(what, " ", path, ": file is empty"));
  return buf.str();
}

// The mTLS identity's private key must be the owner's alone: anyone else who can read it can be this server (or
// client) to its peers. The file as opened, so a symlink (as secret managers lay keys out) is judged by its target.
absl::Status CheckKeyIsPrivate(const std::string& path, std::string_view what) {
  struct stat st {};
  if (stat(path.c_str(), &st) != 0) return ErrnoError(StrCat("inspect ", what), path, errno);
  if ((st.st_mode & 0077) == 0) return absl::OkStatus();
  char mode[8];
  std::snprintf(mode, sizeof(mode), "%04o", static_cast<unsigned>(st.st_mode & 07777));
  return absl::FailedPreconditionError(StrCat(what, " ", path, " is accessible to group or others (mode ", mode,
                                              "): an mTLS private key must be readable by its owner only (chmod 600 ",
                                              path, ")"));
}

// The host part of "host:port", "[v6]:port", or a bare host.
std::string HostOf(std::string_view address) {
  if (address.rfind("dns:", 0) == 0) {
    address.remove_prefix(4);
    while (!address.empty() && address.front() == '/') address.remove_prefix(1);
  } else if (address.rfind("ipv4:", 0) == 0 || address.rfind("ipv6:", 0) == 0) {
    address.remove_prefix(5);
  }
  if (!address.empty() && address.front() == '[') {
    size_t end = address.find(']');
    return std::string(address.substr(1, end == std::string_view::npos ? std::string_view::npos : end - 1));
  }
  size_t colon = address.rfind(':');
  // More than one colon without brackets: a bare IPv6 address.
  if (colon != std::string_view::npos && address.find(':') == colon) return std::string(address.substr(0, colon));
  return std::string(address);
}

}  // namespace

bool IsLoopbackOrUnix(std::string_view address) {
  if (address.rfind("unix:", 0) == 0 || address.rfind("unix-abstract:", 0) == 0) return true;
  std::string host = HostOf(address);
  if (host == "localhost") return true;
  in_addr v4{};
  if (InetPton(AF_INET, host, &v4) == 1) return (ntohl(v4.s_addr) >> 24) == 127;
  in6_addr v6{};
  if (InetPton(AF_INET6, host, &v6) == 1) {
    if (IN6_IS_ADDR_LOOPBACK(&v6)) return true;
    return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
  }
  return false;
}

absl::StatusOr<TlsMaterial> LoadTlsMaterial(const SecurityConfig& config) {
  TlsMaterial m;
  NETMON_ASSIGN_OR_RETURN(m.cert_chain, ReadFile(config.tls.cert_file, "tls.cert_file"));
  NETMON_ASSIGN_OR_RETURN(m.private_key, ReadFile(config.tls.key_file, "tls.key_file"));
  NETMON_RETURN_IF_ERROR(CheckKeyIsPrivate(config.tls.key_file, "tls.key_file"));
  NETMON_ASSIGN_OR_RETURN(m.ca, ReadFile(config.tls.ca_file, "tls.ca_file"));
  NETMON_ASSIGN_OR_RETURN(m.client_ca, ReadFile(config.tls.client_ca_file, "tls.client_ca_file"));
  return m;
}

absl::StatusOr<std::shared_ptr<grpc::ServerCredentials>> MakeServerCredentials(const SecurityConfig& config,
                                                                               std::string_view listen_address) {
  if (!config.mtls()) {
    if (!IsLoopbackOrUnix(listen_address)) {
      return absl::FailedPreconditionError(
          StrCat("security mode \"none\" (plaintext) is only allowed on loopback or a unix socket, not on ",
                 listen_address, "; configure mode \"mtls\""));
    }
    return grpc::InsecureServerCredentials();
  }
  NETMON_ASSIGN_OR_RETURN(TlsMaterial m, LoadTlsMaterial(config));
  grpc::SslServerCredentialsOptions opts(GRPC_SSL_REQUEST_AND_REQUIRE_CLIENT_CERTIFICATE_AND_VERIFY);
  opts.pem_root_certs = m.client_ca;
  opts.pem_key_cert_pairs.push_back({m.private_key, m.cert_chain});
  auto creds = grpc::SslServerCredentials(opts);
  if (!creds) return absl::InvalidArgumentError("gRPC refused the TLS server credentials");
  return creds;
}

absl::StatusOr<std::shared_ptr<grpc::ChannelCredentials>> MakeChannelCredentials(const SecurityConfig& config,
                                                                                 std::string_view target) {
  if (!config.mtls()) {
    if (!IsLoopbackOrUnix(target)) {
      return absl::FailedPreconditionError(
          StrCat("security mode \"none\" (plaintext) is only allowed to loopback or a unix socket, not to ", target,
                 "; configure mode \"mtls\""));
    }
    return grpc::InsecureChannelCredentials();
  }
  NETMON_ASSIGN_OR_RETURN(TlsMaterial m, LoadTlsMaterial(config));
  grpc::SslCredentialsOptions opts;
  opts.pem_root_certs = m.ca;
  opts.pem_private_key = m.private_key;
  opts.pem_cert_chain = m.cert_chain;
  auto creds = grpc::SslCredentials(opts);
  if (!creds) return absl::InvalidArgumentError("gRPC refused the TLS channel credentials");
  return creds;
}

absl::StatusOr<std::shared_ptr<grpc::Channel>> CreateChannel(std::string_view target, const SecurityConfig& config,
                                                             grpc::ChannelArguments args) {
  NETMON_ASSIGN_OR_RETURN(auto creds, MakeChannelCredentials(config, target));
  if (config.mtls() && !config.server_name.empty()) {
    args.SetSslTargetNameOverride(config.server_name);
  }
  return grpc::CreateCustomChannel(std::string(target), creds, args);
}

absl::Status RestrictTlsToVersion13() {
  static std::once_flag once;
  static absl::Status result;
  std::call_once(once, [] {
    // MinProtocol alone would not survive gRPC's own SSL_CTX_set_min_proto_version(TLS1_2); the (deprecated but
    // supported) Protocol command sets SSL_OP_NO_TLSv1_2 and friends, which gRPC leaves alone.
    static constexpr char kConf[] =
        "openssl_conf = netmon_openssl_init\n"
        "[netmon_openssl_init]\n"
        "ssl_conf = netmon_ssl_conf\n"
        "[netmon_ssl_conf]\n"
        "system_default = netmon_tls13\n"
        "[netmon_tls13]\n"
        "MinProtocol = TLSv1.3\n"
        "Protocol = -ALL, TLSv1.3\n"
        "CipherString = DEFAULT:@SECLEVEL=2\n";
    UniqueFd fd(memfd_create("netmon-openssl.cnf", MFD_CLOEXEC));
    if (!fd.valid()) {
      result = ErrnoError("memfd_create", "OpenSSL configuration", errno);
      return;
    }
    size_t off = 0;
    while (off < sizeof(kConf) - 1) {
      ssize_t n = write(fd.get(), kConf + off, sizeof(kConf) - 1 - off);
      if (n <= 0) {
        result = ErrnoError("write", "OpenSSL configuration", errno);
        return;
      }
      off += static_cast<size_t>(n);
    }
    std::string path = StrCat("/proc/self/fd/", fd.get());
    OPENSSL_INIT_SETTINGS* settings = OPENSSL_INIT_new();
    if (settings == nullptr) {
      result = absl::InternalError("OPENSSL_INIT_new failed");
      return;
    }
    OPENSSL_INIT_set_config_filename(settings, path.c_str());
    OPENSSL_INIT_set_config_file_flags(settings, 0);
    OPENSSL_init_ssl(OPENSSL_INIT_LOAD_CONFIG, settings);
    OPENSSL_INIT_free(settings);
    // Verify on a context of our own: the same defaults apply to gRPC's.
    SSL_CTX* ctx = SSL_CTX_new(TLS_method());
    if (ctx == nullptr) {
      result = absl::InternalError("SSL_CTX_new failed");
      return;
    }
    uint64_t opts = SSL_CTX_get_options(ctx);
    SSL_CTX_free(ctx);
    if ((opts & SSL_OP_NO_TLSv1_2) == 0) {
      result = absl::FailedPreconditionError(
          "could not restrict TLS to 1.3: OpenSSL was configured before netmon could configure it");
    }
  });
  return result;
}

}  // namespace netmon::rpc
