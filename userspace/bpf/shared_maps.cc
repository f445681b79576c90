// SPDX-License-Identifier: Apache-2.0
#include "bpf/shared_maps.h"

#include <bpf/bpf.h>

#include <cerrno>
#include <string>

#include "common/status.h"

namespace netmon::bpf {
namespace {

absl::StatusOr<UniqueFd> CreateMap(enum bpf_map_type type, const char* name, uint32_t key_size, uint32_t value_size,
                                   uint32_t max_entries) {
  int fd = bpf_map_create(type, name, key_size, value_size, max_entries, nullptr);
  if (fd < 0) return ErrnoError("create map", name, fd);
  return UniqueFd(fd);
}

absl::Status Reuse(struct bpf_object* obj, const char* name, int fd) {
  struct bpf_map* map = bpf_object__find_map_by_name(obj, name);
  if (map == nullptr) return absl::OkStatus();  // this object does not use it
  int err = bpf_map__reuse_fd(map, fd);
  if (err != 0) return ErrnoError("share map", std::string(name) + " with " + bpf_object__name(obj), err);
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<SharedMaps> SharedMaps::Create(const SharedMapSizes& sizes) {
  SharedMaps m;
  NETMON_ASSIGN_OR_RETURN(m.owners_, CreateMap(BPF_MAP_TYPE_LRU_HASH, NETMON_MAP_OWNERS, sizeof(uint64_t),
                                               sizeof(netmon_owner), sizes.owners));
  NETMON_ASSIGN_OR_RETURN(m.tuples_, CreateMap(BPF_MAP_TYPE_LRU_HASH, NETMON_MAP_TUPLES, sizeof(netmon_tuple),
                                               sizeof(netmon_tuple_owner), sizes.tuples));
  NETMON_ASSIGN_OR_RETURN(m.counters_, CreateMap(BPF_MAP_TYPE_PERCPU_ARRAY, NETMON_MAP_COUNTERS, sizeof(uint32_t),
                                                 sizeof(uint64_t), NETMON_CTR_MAX));
  NETMON_ASSIGN_OR_RETURN(m.filters_, CreateMap(BPF_MAP_TYPE_ARRAY, NETMON_MAP_FILTERS, sizeof(uint32_t),
                                                sizeof(netmon_filter), NETMON_MAX_FILTERS));
  NETMON_ASSIGN_OR_RETURN(m.filter_state_, CreateMap(BPF_MAP_TYPE_ARRAY, NETMON_MAP_FILTER_STATE, sizeof(uint32_t),
                                                     sizeof(netmon_filter_state), NETMON_FILTER_ST_ENTRIES));
  return m;
}

absl::Status SharedMaps::ReuseIn(struct bpf_object* obj) const {
  NETMON_RETURN_IF_ERROR(Reuse(obj, NETMON_MAP_OWNERS, owners_.get()));
  NETMON_RETURN_IF_ERROR(Reuse(obj, NETMON_MAP_TUPLES, tuples_.get()));
  NETMON_RETURN_IF_ERROR(Reuse(obj, NETMON_MAP_COUNTERS, counters_.get()));
  NETMON_RETURN_IF_ERROR(Reuse(obj, NETMON_MAP_FILTERS, filters_.get()));
  NETMON_RETURN_IF_ERROR(Reuse(obj, NETMON_MAP_FILTER_STATE, filter_state_.get()));
  return absl::OkStatus();
}

absl::Status SharedMaps::SetFilters(const std::vector<netmon_filter>& filters) const {
  if (filters.size() > NETMON_MAX_FILTERS) {
    return absl::ResourceExhaustedError("more live filters than the kernel filter holds (" +
                                        std::to_string(NETMON_MAX_FILTERS) + ")");
  }
  // Shrink the count first so the kernel never reads an entry while it is being rewritten, then write entries,
  // then publish the new count. Each write takes a new generation: flows cached a verdict under the old filters.
  uint32_t zero = NETMON_FILTER_ST_SESSIONS;
  netmon_filter_state st{};
  st.generation = ++filter_generation_;
  if (int err = bpf_map_update_elem(filter_state_.get(), &zero, &st, BPF_ANY); err != 0) {
    return ErrnoError("update map", NETMON_MAP_FILTER_STATE, err);
  }
  for (uint32_t i = 0; i < filters.size(); ++i) {
    if (int err = bpf_map_update_elem(filters_.get(), &i, &filters[i], BPF_ANY); err != 0) {
      return ErrnoError("update map", NETMON_MAP_FILTERS, err);
    }
  }
  st.count = static_cast<uint32_t>(filters.size());
  st.generation = ++filter_generation_;
  for (const netmon_filter& f : filters) {
    if (f.flags & NETMON_FILTER_PID) st.flags |= NETMON_FSTATE_PID;
  }
  if (int err = bpf_map_update_elem(filter_state_.get(), &zero, &st, BPF_ANY); err != 0) {
    return ErrnoError("update map", NETMON_MAP_FILTER_STATE, err);
  }
  return absl::OkStatus();
}

absl::StatusOr<Counters> SharedMaps::ReadCounters() const {
  int ncpu = libbpf_num_possible_cpus();
  if (ncpu <= 0) return ErrnoError("count possible CPUs", "", ncpu);
  std::vector<uint64_t> per_cpu(static_cast<size_t>(ncpu));
  Counters out{};
  for (uint32_t i = 0; i < NETMON_CTR_MAX; ++i) {
    if (int err = bpf_map_lookup_elem(counters_.get(), &i, per_cpu.data()); err != 0) {
      return ErrnoError("read map", NETMON_MAP_COUNTERS, err);
    }
    for (uint64_t v : per_cpu) out[i] += v;
  }
  return out;
}

std::optional<netmon_owner> SharedMaps::LookupOwner(uint64_t cookie) const {
  netmon_owner owner{};
  if (bpf_map_lookup_elem(owners_.get(), &cookie, &owner) != 0) return std::nullopt;
  return owner;
}

absl::Status SharedMaps::PutOwner(uint64_t cookie, const netmon_owner& owner) const {
  if (int err = bpf_map_update_elem(owners_.get(), &cookie, &owner, BPF_ANY); err != 0) {
    return ErrnoError("update map", NETMON_MAP_OWNERS, err);
  }
  return absl::OkStatus();
}

absl::Status SharedMaps::DeleteOwner(uint64_t cookie) const {
  if (int err = bpf_map_delete_elem(owners_.get(), &cookie); err != 0 && err != -ENOENT) {
    return ErrnoError("delete from map", NETMON_MAP_OWNERS, err);
  }
  return absl::OkStatus();
}

std::optional<netmon_tuple_owner> SharedMaps::LookupTuple(const netmon_tuple& tuple) const {
  netmon_tuple_owner v{};
  if (bpf_map_lookup_elem(tuples_.get(), &tuple, &v) != 0) return std::nullopt;
  return v;
}

absl::Status SharedMaps::PutTuple(const netmon_tuple& tuple, const netmon_tuple_owner& value) const {
  if (int err = bpf_map_update_elem(tuples_.get(), &tuple, &value, BPF_ANY); err != 0) {
    return ErrnoError("update map", NETMON_MAP_TUPLES, err);
  }
  return absl::OkStatus();
}

absl::Status SharedMaps::DeleteTuple(const netmon_tuple& tuple) const {
  if (int err = bpf_map_delete_elem(tuples_.get(), &tuple); err != 0 && err != -ENOENT) {
    return ErrnoError("delete from map", NETMON_MAP_TUPLES, err);
  }
  return absl::OkStatus();
}

}  // namespace netmon::bpf
