// SPDX-License-Identifier: Apache-2.0
#include "correlate/udp_listener.h"

#include <netinet/in.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#include <vector>

#include "common/log.h"
#include "common/status.h"
#include "common/str_cat.h"

namespace netmon::correlate {
namespace {

constexpr size_t kBatch = 16;
constexpr size_t kMaxDatagram = 65536;

Endpoint FromSockaddr(const sockaddr_storage& ss) {
  Endpoint ep;
  if (ss.ss_family == AF_INET) {
    const auto* in = reinterpret_cast<const sockaddr_in*>(&ss);
    ep.ip = IpAddr::FromV4Bytes(reinterpret_cast<const uint8_t*>(&in->sin_addr));
    ep.port = ntohs(in->sin_port);
  } else if (ss.ss_family == AF_INET6) {
    const auto* in6 = reinterpret_cast<const sockaddr_in6*>(&ss);
    ep.ip = IpAddr::FromV6Bytes(in6->sin6_addr.s6_addr);
    ep.port = ntohs(in6->sin6_port);
  }
  return ep;
}

}  // namespace

absl::StatusOr<std::unique_ptr<UdpListener>> UdpListener::Start(const Endpoint& bind, int rcvbuf_bytes,
                                                                std::string name, Handler handler) {
  auto l = std::make_unique<UdpListener>();
  l->name_ = std::move(name);
  l->handler_ = std::move(handler);
  bool v4 = bind.ip.IsV4();
  l->sock_.Reset(socket(v4 ? AF_INET : AF_INET6, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!l->sock_.valid()) return ErrnoError("socket", l->name_, errno);
  if (rcvbuf_bytes > 0) {
    // A burst of exports (an exporter flushing its cache) is the usual cause of loss; a larger buffer absorbs it.
    setsockopt(l->sock_.get(), SOL_SOCKET, SO_RCVBUF, &rcvbuf_bytes, sizeof(rcvbuf_bytes));
  }
  sockaddr_storage ss{};
  socklen_t len;
  if (v4) {
    auto* in = reinterpret_cast<sockaddr_in*>(&ss);
    in->sin_family = AF_INET;
    in->sin_port = htons(bind.port);
    std::memcpy(&in->sin_addr, bind.ip.bytes.data() + 12, 4);
    len = sizeof(sockaddr_in);
  } else {
    int off = 0;  // "[::]:port" takes IPv4 senders too (as mapped addresses)
    setsockopt(l->sock_.get(), IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
    auto* in6 = reinterpret_cast<sockaddr_in6*>(&ss);
    in6->sin6_family = AF_INET6;
    in6->sin6_port = htons(bind.port);
    std::memcpy(&in6->sin6_addr, bind.ip.bytes.data(), 16);
    len = sizeof(sockaddr_in6);
  }
  if (::bind(l->sock_.get(), reinterpret_cast<sockaddr*>(&ss), len) != 0) {
    return ErrnoError("bind", StrCat(l->name_, " ", bind.ToString()), errno);
  }
  sockaddr_storage bound{};
  socklen_t blen = sizeof(bound);
  if (getsockname(l->sock_.get(), reinterpret_cast<sockaddr*>(&bound), &blen) != 0) {
    return ErrnoError("getsockname", l->name_, errno);
  }
  l->port_ = FromSockaddr(bound).port;
  l->stop_.Reset(eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK));
  if (!l->stop_.valid()) return ErrnoError("eventfd", l->name_, errno);
  l->thread_ = std::thread([raw = l.get()] { raw->Run(); });
  NETMON_LOG(kInfo, l->name_, "listening on ", Endpoint{bind.ip, l->port_}.ToString(), " (udp)");
  return l;
}

UdpListener::~UdpListener() {
  if (thread_.joinable()) {
    uint64_t one = 1;
    if (write(stop_.get(), &one, sizeof(one)) < 0) {
      // An eventfd write only fails if the counter would overflow; the thread is stopping either way.
    }
    thread_.join();
  }
}

void UdpListener::Run() {
  std::vector<uint8_t> buffers(kBatch * kMaxDatagram);
  mmsghdr msgs[kBatch];
  iovec iovs[kBatch];
  sockaddr_storage addrs[kBatch];
  pollfd fds[2] = {{sock_.get(), POLLIN, 0}, {stop_.get(), POLLIN, 0}};
  while (true) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      errors_.fetch_add(1);
      NETMON_LOG(kError, name_, "poll: ", std::strerror(errno));
      return;
    }
    if (fds[1].revents != 0) return;
    if ((fds[0].revents & POLLIN) == 0) continue;
    for (size_t i = 0; i < kBatch; ++i) {
      iovs[i] = {buffers.data() + i * kMaxDatagram, kMaxDatagram};
      std::memset(&msgs[i], 0, sizeof(msgs[i]));
      msgs[i].msg_hdr.msg_iov = &iovs[i];
      msgs[i].msg_hdr.msg_iovlen = 1;
      msgs[i].msg_hdr.msg_name = &addrs[i];
      msgs[i].msg_hdr.msg_namelen = sizeof(addrs[i]);
    }
    int n = recvmmsg(sock_.get(), msgs, kBatch, MSG_DONTWAIT, nullptr);
    if (n < 0) {
      if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) errors_.fetch_add(1);
      continue;
    }
    for (int i = 0; i < n; ++i) {
      datagrams_.fetch_add(1, std::memory_order_relaxed);
      if (msgs[i].msg_hdr.msg_flags & MSG_TRUNC) {
        truncated_.fetch_add(1, std::memory_order_relaxed);
        continue;
      }
      handler_(buffers.data() + static_cast<size_t>(i) * kMaxDatagram, msgs[i].msg_len, FromSockaddr(addrs[i]));
    }
  }
}

}  // namespace netmon::correlate
