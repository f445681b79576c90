// SPDX-License-Identifier: Apache-2.0
#include "bpf/shared_maps.h"

#include <bpf/bpf.h>
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <unistd.h>

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
                                                sizeof(netmon_filter), NETMON_FILTER_BANKS * NETMON_MAX_FILTERS));
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

absl::Status SharedMaps::SetFilters(const std::vector<netmon_filter>& filters,
                                    const std::function<void()>& before_publish) const {
  if (filters.size() > NETMON_MAX_FILTERS) {
    return absl::ResourceExhaustedError("more live filters than the kernel filter holds (" +
                                        std::to_string(NETMON_MAX_FILTERS) + ")");
  }
  // The bank not in use takes the new set and its header; then the published entry names it. Programs read the
  // generation once and then only that bank, so a packet sees the old set or the new one, never a half-written
  // or empty one, and every flow's cached verdict goes stale with the generation.
  netmon_filter_state st{};
  st.count = static_cast<uint32_t>(filters.size());
  st.generation = filter_generation_ + 1;
  for (const netmon_filter& f : filters) {
    if (f.flags & NETMON_FILTER_PID) st.flags |= NETMON_FSTATE_PID;
  }
  const uint32_t bank = st.generation & 1;
  for (uint32_t i = 0; i < filters.size(); ++i) {
    uint32_t k = bank * NETMON_MAX_FILTERS + i;
    if (int err = bpf_map_update_elem(filters_.get(), &k, &filters[i], BPF_ANY); err != 0) {
      return ErrnoError("update map", NETMON_MAP_FILTERS, err);
    }
  }
  uint32_t k = NETMON_FILTER_ST_BANK0 + bank;
  if (int err = bpf_map_update_elem(filter_state_.get(), &k, &st, BPF_ANY); err != 0) {
    return ErrnoError("update map", NETMON_MAP_FILTER_STATE, err);
  }
  if (before_publish) before_publish();
  k = NETMON_FILTER_ST_SESSIONS;
  if (int err = bpf_map_update_elem(filter_state_.get(), &k, &st, BPF_ANY); err != 0) {
    return ErrnoError("update map", NETMON_MAP_FILTER_STATE, err);
  }
  filter_generation_ = st.generation;
  // A program that read the previous generation may still be reading the old bank, which the next call writes.
  // Every BPF program runs inside an RCU read-side section, and MEMBARRIER_CMD_GLOBAL returns after an RCU grace
  // period (synchronize_rcu). Where the kernel refuses it (nohz_full), a pause far longer than any program run.
  if (syscall(SYS_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0) != 0) usleep(20'000);
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
