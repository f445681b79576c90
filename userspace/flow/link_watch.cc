// SPDX-License-Identifier: Apache-2.0
#include "flow/link_watch.h"

#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <sys/socket.h>

#include <cerrno>
#include <cstring>

#include "common/status.h"

namespace netmon::flow {

std::vector<LinkChange> ListLinks() {
  std::vector<LinkChange> out;
  struct if_nameindex* list = if_nameindex();
  if (list == nullptr) return out;
  for (struct if_nameindex* i = list; i->if_index != 0 || i->if_name != nullptr; ++i) {
    out.push_back({static_cast<int>(i->if_index), i->if_name, true});
  }
  if_freenameindex(list);
  return out;
}

absl::StatusOr<LinkWatch> LinkWatch::Open() {
  UniqueFd fd(socket(AF_NETLINK, SOCK_RAW | SOCK_NONBLOCK | SOCK_CLOEXEC, NETLINK_ROUTE));
  if (!fd.valid()) return ErrnoError("socket", "NETLINK_ROUTE", errno);
  sockaddr_nl sa{};
  sa.nl_family = AF_NETLINK;
  sa.nl_groups = RTMGRP_LINK;
  if (bind(fd.get(), reinterpret_cast<sockaddr*>(&sa), sizeof(sa)) != 0) {
    return ErrnoError("bind", "rtnetlink link notifications", errno);
  }
  return LinkWatch(std::move(fd));
}

void LinkWatch::Drain(const std::function<void(const LinkChange&)>& cb, bool* resync) {
  alignas(nlmsghdr) char buf[16384];
  for (;;) {
    ssize_t n = recv(fd_.get(), buf, sizeof(buf), 0);
    if (n < 0) {
      if (errno == ENOBUFS) {
        *resync = true;  // notifications were dropped: the caller compares the list instead
        continue;
      }
      return;  // EAGAIN: nothing more; any other error: try again on the next poll
    }
    auto len = static_cast<unsigned int>(n);
    for (auto* h = reinterpret_cast<nlmsghdr*>(buf); NLMSG_OK(h, len); h = NLMSG_NEXT(h, len)) {
      if (h->nlmsg_type != RTM_NEWLINK && h->nlmsg_type != RTM_DELLINK) continue;
      if (h->nlmsg_len < NLMSG_LENGTH(sizeof(ifinfomsg))) continue;
      const auto* ifi = static_cast<const ifinfomsg*>(NLMSG_DATA(h));
      LinkChange c;
      c.ifindex = ifi->ifi_index;
      c.added = h->nlmsg_type == RTM_NEWLINK;
      int attr_len = static_cast<int>(h->nlmsg_len - NLMSG_LENGTH(sizeof(ifinfomsg)));
      for (const rtattr* a = IFLA_RTA(ifi); RTA_OK(a, attr_len); a = RTA_NEXT(a, attr_len)) {
        if (a->rta_type != IFLA_IFNAME) continue;
        const char* name = static_cast<const char*>(RTA_DATA(a));
        c.name.assign(name, strnlen(name, RTA_PAYLOAD(a)));
      }
      cb(c);
    }
  }
}

}  // namespace netmon::flow
