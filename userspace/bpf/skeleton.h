// SPDX-License-Identifier: Apache-2.0
// Move-only owner of a bpftool-generated skeleton, with the open -> configure -> load -> attach lifecycle split
// so callers can set rodata, map sizes and autoload between open and load. Errors come back as absl::Status.
#pragma once

#include <bpf/libbpf.h>

#include <cerrno>
#include <memory>
#include <string>
#include <utility>

#include "absl/status/statusor.h"
#include "bpf/live_objects.h"
#include "common/status.h"

namespace netmon::bpf {

// Skel is the generated struct (e.g. netmon_tc); the three functions are its generated open/load/destroy.
template <typename Skel, Skel* (*OpenFn)(const struct bpf_object_open_opts*), int (*LoadFn)(Skel*),
          void (*DestroyFn)(Skel*)>
class Skeleton {
 public:
  Skeleton() = default;
  ~Skeleton() { Reset(); }
  Skeleton(Skeleton&& other) noexcept : skel_(std::exchange(other.skel_, nullptr)), name_(std::move(other.name_)) {}
  Skeleton& operator=(Skeleton&& other) noexcept {
    if (this != &other) {
      Reset();
      skel_ = std::exchange(other.skel_, nullptr);
      name_ = std::move(other.name_);
    }
    return *this;
  }
  Skeleton(const Skeleton&) = delete;
  Skeleton& operator=(const Skeleton&) = delete;

  static absl::StatusOr<Skeleton> Open(const std::string& name) {
    errno = 0;
    Skel* raw = OpenFn(nullptr);
    if (raw == nullptr) return ErrnoError("open BPF object", name, errno);
    CountCreated(ObjectKind::kSkeleton);
    Skeleton s;
    s.skel_ = raw;
    s.name_ = name;
    return s;
  }

  absl::Status Load() {
    int err = LoadFn(skel_);
    if (err != 0) return ErrnoError("load BPF object", name_, err);
    return absl::OkStatus();
  }

  Skel* get() const { return skel_; }
  Skel* operator->() const { return skel_; }
  const std::string& name() const { return name_; }
  explicit operator bool() const { return skel_ != nullptr; }

  void Reset() {
    if (skel_ == nullptr) return;
    DestroyFn(skel_);
    skel_ = nullptr;
    CountDestroyed(ObjectKind::kSkeleton);
  }

 private:
  Skel* skel_ = nullptr;
  std::string name_;
};

// Declares the Skeleton type for a generated skeleton `name`: NETMON_SKELETON(netmon_tc) -> netmon_tc_skeleton.
#define NETMON_SKELETON(name) ::netmon::bpf::Skeleton<struct name, name##__open_opts, name##__load, name##__destroy>

}  // namespace netmon::bpf
