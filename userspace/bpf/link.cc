// SPDX-License-Identifier: Apache-2.0
#include "bpf/link.h"

#include <cerrno>
#include <utility>

#include "bpf/live_objects.h"
#include "common/status.h"

namespace netmon::bpf {

Link::Link(Link&& other) noexcept : link_(std::exchange(other.link_, nullptr)) {}

Link& Link::operator=(Link&& other) noexcept {
  if (this != &other) {
    Reset();
    link_ = std::exchange(other.link_, nullptr);
  }
  return *this;
}

absl::StatusOr<Link> Link::Adopt(struct bpf_link* raw, const std::string& what) {
  // libbpf 1.x returns NULL with errno set (and libbpf_get_error for older callers).
  long err = libbpf_get_error(raw);
  if (raw == nullptr || err != 0) return ErrnoError("attach", what, err != 0 ? static_cast<int>(err) : errno);
  CountCreated(ObjectKind::kLink);
  Link link;
  link.link_ = raw;
  return link;
}

void Link::Reset() {
  if (link_ == nullptr) return;
  bpf_link__destroy(link_);
  link_ = nullptr;
  CountDestroyed(ObjectKind::kLink);
}

}  // namespace netmon::bpf
