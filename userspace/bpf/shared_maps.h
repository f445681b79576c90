// SPDX-License-Identifier: Apache-2.0
// The maps shared by the socket and packet layers (bpf/include/netmon/maps.bpf.h), created once by userspace
// and handed to every BPF object before it loads (bpf_map__reuse_fd), so one socket-owner view serves all.
#pragma once

#include <bpf/libbpf.h>

#include <array>
#include <cstdint>
#include <functional>
#include <optional>
#include <vector>

#include "absl/status/statusor.h"
#include "common/unique_fd.h"
#include "netmon/abi.h"

namespace netmon::bpf {

struct SharedMapSizes {
  uint32_t owners = NETMON_DEFAULT_OWNERS;
  uint32_t tuples = NETMON_DEFAULT_TUPLES;
};

using Counters = std::array<uint64_t, NETMON_CTR_MAX>;

class SharedMaps {
 public:
  static absl::StatusOr<SharedMaps> Create(const SharedMapSizes& sizes = {});

  // Points every shared map that `obj` declares at our maps. Call between open and load.
  absl::Status ReuseIn(struct bpf_object* obj) const;

  // Replaces the kernel filter set (the union of live sessions' filters). At most NETMON_MAX_FILTERS. Atomic for
  // every reader: the new set goes into the bank not in use and one published generation switches to it
  // (abi.h, netmon_filter_st); returns once no program can still be reading the old bank. `before_publish`, if
  // set, runs after the new bank is written and before it is published (a seam for tests).
  absl::Status SetFilters(const std::vector<netmon_filter>& filters,
                          const std::function<void()>& before_publish = {}) const;
  // Sums the per-CPU counters.
  absl::StatusOr<Counters> ReadCounters() const;

  std::optional<netmon_owner> LookupOwner(uint64_t cookie) const;
  absl::Status PutOwner(uint64_t cookie, const netmon_owner& owner) const;
  absl::Status DeleteOwner(uint64_t cookie) const;
  std::optional<netmon_tuple_owner> LookupTuple(const netmon_tuple& tuple) const;
  absl::Status PutTuple(const netmon_tuple& tuple, const netmon_tuple_owner& value) const;
  absl::Status DeleteTuple(const netmon_tuple& tuple) const;

  int owners_fd() const { return owners_.get(); }
  int tuples_fd() const { return tuples_.get(); }
  int counters_fd() const { return counters_.get(); }
  int filters_fd() const { return filters_.get(); }
  int filter_state_fd() const { return filter_state_.get(); }

 private:
  UniqueFd owners_, tuples_, counters_, filters_, filter_state_;
  // The last generation written to netmon_filter_st[NETMON_FILTER_ST_SESSIONS] (SetFilters, one caller at a time).
  mutable uint32_t filter_generation_ = 0;
};

}  // namespace netmon::bpf
