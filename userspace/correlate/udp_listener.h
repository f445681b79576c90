// SPDX-License-Identifier: Apache-2.0
// A UDP receiver on its own thread: binds an address, reads datagrams in batches (recvmmsg) and hands each one, with
// its sender, to a handler. Datagrams larger than 64 KiB cannot exist over IPv4/IPv6 without jumbograms, so buffers
// of that size never truncate; a truncated one (MSG_TRUNC) is counted and skipped anyway. Stops on destruction.
#pragma once

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "absl/status/statusor.h"
#include "common/unique_fd.h"
#include "correlate/ip.h"

namespace netmon::correlate {

class UdpListener {
 public:
  using Handler = std::function<void(const uint8_t* data, size_t len, const Endpoint& peer)>;

  // Binds `bind` (port 0 picks a free port; see port()). rcvbuf_bytes sizes SO_RCVBUF (0 = system default).
  static absl::StatusOr<std::unique_ptr<UdpListener>> Start(const Endpoint& bind, int rcvbuf_bytes, std::string name,
                                                            Handler handler);
  UdpListener() = default;  // use Start()
  ~UdpListener();
  UdpListener(const UdpListener&) = delete;
  UdpListener& operator=(const UdpListener&) = delete;

  uint16_t port() const { return port_; }
  uint64_t datagrams() const { return datagrams_.load(); }
  uint64_t truncated() const { return truncated_.load(); }
  uint64_t receive_errors() const { return errors_.load(); }

 private:
  void Run();

  UniqueFd sock_;
  UniqueFd stop_;  // eventfd
  uint16_t port_ = 0;
  std::string name_;
  Handler handler_;
  std::atomic<uint64_t> datagrams_{0};
  std::atomic<uint64_t> truncated_{0};
  std::atomic<uint64_t> errors_{0};
  std::thread thread_;
};

}  // namespace netmon::correlate
