// SPDX-License-Identifier: Apache-2.0
// Move-only owner of a bpf_link (tracepoint, cgroup, iterator ... attachments): destroying it detaches.
#pragma once

#include <bpf/libbpf.h>

#include <string>

#include "absl/status/statusor.h"

namespace netmon::bpf {

class Link {
 public:
  Link() = default;
  ~Link() { Reset(); }
  Link(Link&& other) noexcept;
  Link& operator=(Link&& other) noexcept;
  Link(const Link&) = delete;
  Link& operator=(const Link&) = delete;

  // Takes ownership of what a bpf_program__attach_* call returned; converts its failure into a status that
  // names `what` (e.g. "attach netmon_connect4 to /sys/fs/cgroup/unified").
  static absl::StatusOr<Link> Adopt(struct bpf_link* raw, const std::string& what);

  struct bpf_link* get() const {
    return link_;
  }
  explicit operator bool() const { return link_ != nullptr; }
  void Reset();

 private:
  struct bpf_link* link_ = nullptr;
};

}  // namespace netmon::bpf
