// SPDX-License-Identifier: Apache-2.0
// Interfaces appearing in and leaving the current network namespace, from rtnetlink (RTMGRP_LINK): how a capture
// over every interface follows container veths, VLANs and interfaces moved into the namespace. Non-blocking: the
// owner polls fd() (the server's engine waits on it with the ring buffers) and calls Drain().
#pragma once

#include <functional>
#include <string>

#include "absl/status/statusor.h"
#include "common/unique_fd.h"

namespace netmon::flow {

struct LinkChange {
  int ifindex = 0;
  std::string name;
  bool added = false;  // false: the interface is gone (deleted or moved out of the namespace)
};

// Every interface of the current namespace now: (ifindex, name), lo included.
std::vector<LinkChange> ListLinks();

class LinkWatch {
 public:
  static absl::StatusOr<LinkWatch> Open();
  int fd() const { return fd_.get(); }
  // Reads every pending notification; calls cb per change. A lost notification (the socket's buffer overflowed)
  // is reported as `resync` = true, after which the caller should compare ListLinks() with what it has.
  void Drain(const std::function<void(const LinkChange&)>& cb, bool* resync);

 private:
  explicit LinkWatch(UniqueFd fd) : fd_(std::move(fd)) {}
  UniqueFd fd_;
};

}  // namespace netmon::flow
