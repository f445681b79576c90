// SPDX-License-Identifier: Apache-2.0
#include "flow/flow_reader.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <algorithm>
#include <cerrno>

#include "common/status.h"

namespace netmon::flow {
namespace {

// The kernel's 8-byte rounding of per-CPU values: our value is already a multiple of 8, so slots are packed.
static_assert(sizeof(netmon_flow_stats) % 8 == 0);

bool SlotEmpty(const netmon_flow_stats& s) {
  return s.packets[0] == 0 && s.packets[1] == 0 && s.first_seen_ns == 0;
}

}  // namespace

FlowSample MergeSlots(const netmon_tuple& tuple, std::span<const netmon_flow_stats> slots) {
  FlowSample out;
  out.tuple = tuple;
  uint64_t cookie_seen_ns = 0;
  for (const netmon_flow_stats& s : slots) {
    if (SlotEmpty(s)) continue;
    for (int d = 0; d < NETMON_DIR_COUNT; ++d) {
      out.bytes[d] += s.bytes[d];
      out.packets[d] += s.packets[d];
      out.segments[d] += s.segments[d];
      out.tcp_flags[d] |= s.tcp_flags[d];
    }
    if (out.first_seen_ns == 0 || (s.first_seen_ns != 0 && s.first_seen_ns < out.first_seen_ns)) {
      out.first_seen_ns = s.first_seen_ns;
      out.first_dir = s.first_dir;
    }
    out.last_seen_ns = std::max<uint64_t>(out.last_seen_ns, s.last_seen_ns);
    if (s.cookie != 0 && s.last_seen_ns >= cookie_seen_ns) {
      out.cookie = s.cookie;
      cookie_seen_ns = s.last_seen_ns;
    }
    if (out.syn_dir == 0) out.syn_dir = s.syn_dir;
  }
  return out;
}

bool DeltaTracker::Update(const FlowSample& totals, FlowSample* delta, uint32_t* idle_rounds) {
  auto [it, inserted] = prev_.try_emplace(totals.tuple);
  Entry& e = it->second;
  e.round = round_;
  const FlowSample& old = e.totals;
  bool reincarnated = !inserted && (old.first_seen_ns != totals.first_seen_ns);
  for (int d = 0; d < NETMON_DIR_COUNT && !inserted && !reincarnated; ++d) {
    if (totals.bytes[d] < old.bytes[d] || totals.packets[d] < old.packets[d]) reincarnated = true;
  }
  *delta = totals;
  if (!inserted && !reincarnated) {
    for (int d = 0; d < NETMON_DIR_COUNT; ++d) {
      delta->bytes[d] = totals.bytes[d] - old.bytes[d];
      delta->packets[d] = totals.packets[d] - old.packets[d];
      delta->segments[d] = totals.segments[d] - old.segments[d];
    }
  }
  e.totals = totals;
  bool changed = delta->packets[0] != 0 || delta->packets[1] != 0;
  e.idle_rounds = changed ? 0 : e.idle_rounds + 1;
  if (idle_rounds != nullptr) *idle_rounds = e.idle_rounds;
  return changed;
}

void DeltaTracker::EndRound() {
  std::erase_if(prev_, [this](const auto& kv) { return kv.second.round != round_; });
  ++round_;
}

FlowReader::FlowReader(int map_fd, bool use_batch)
    : fd_(map_fd), ncpu_(std::max(1, libbpf_num_possible_cpus())), use_batch_(use_batch) {}

absl::Status FlowReader::ReadTotals(std::vector<FlowSample>* out) {
  if (use_batch_) {
    absl::Status st = ReadBatch(out);
    if (st.ok() || ErrnoOf(st) != EINVAL) return st;
    // Kernels without batch ops for this map type answer EINVAL (or ENOTSUPP, mapped to EINVAL below).
    use_batch_ = false;
    out->clear();
  }
  return ReadIterate(out);
}

absl::Status FlowReader::ReadDeltas(std::vector<FlowSample>* out) {
  std::vector<FlowSample> totals;
  NETMON_RETURN_IF_ERROR(ReadTotals(&totals));
  std::vector<netmon_tuple> idle;
  for (const FlowSample& t : totals) {
    FlowSample delta;
    uint32_t idle_rounds = 0;
    if (tracker_.Update(t, &delta, &idle_rounds)) {
      out->push_back(delta);
    } else if (idle_rounds >= kIdleRoundsBeforeTake) {
      idle.push_back(t.tuple);
    }
  }
  tracker_.EndRound();
  // Taken with their last counts: a packet between the read above and the delete is reported, not lost.
  return idle.empty() ? absl::OkStatus() : TakeClosed(idle, out);
}

absl::Status FlowReader::TakeClosed(std::span<const netmon_tuple> keys, std::vector<FlowSample>* out) {
  std::vector<netmon_flow_stats> slots(ncpu_);
  for (const netmon_tuple& key : keys) {
    bool deleted = false;
    if (take_deletes_) {
      if (bpf_map_lookup_and_delete_elem(fd_, &key, slots.data()) == 0) {
        deleted = true;
      } else if (errno == EINVAL || errno == 524 /* ENOTSUPP */ || errno == EOPNOTSUPP) {
        take_deletes_ = false;
      } else if (errno == ENOENT) {
        continue;
      } else {
        return ErrnoError("take closed flow", NETMON_MAP_FLOWS, errno);
      }
    }
    if (!deleted) {
      if (bpf_map_lookup_elem(fd_, &key, slots.data()) != 0) {
        if (errno == ENOENT) continue;
        return ErrnoError("read closed flow", NETMON_MAP_FLOWS, errno);
      }
      // Without lookup-and-delete the map, which does not evict, still needs the room: a packet between the
      // two calls goes uncounted (kernels before 5.14 only).
      deleted = bpf_map_delete_elem(fd_, &key) == 0;
    }
    FlowSample delta;
    if (tracker_.Update(MergeSlots(key, slots), &delta)) out->push_back(delta);
    if (deleted) tracker_.Forget(key);
  }
  return absl::OkStatus();
}

absl::Status FlowReader::ReadBatch(std::vector<FlowSample>* out) {
  // Hash-map batches are resumed by an opaque bucket cursor (a u32 in the kernel); 8 bytes leave room.
  uint64_t in_cursor = 0, out_cursor = 0;
  bool first = true;
  while (true) {
    keys_.resize(chunk_);
    values_.resize(static_cast<size_t>(chunk_) * ncpu_);
    uint32_t count = chunk_;
    DECLARE_LIBBPF_OPTS(bpf_map_batch_opts, opts);
    int err = bpf_map_lookup_batch(fd_, first ? nullptr : &in_cursor, &out_cursor, keys_.data(), values_.data(), &count,
                                   &opts);
    int e = err < 0 ? errno : 0;
    if (err < 0 && e == ENOSPC && count == 0) {
      // One bucket holds more entries than the chunk: retry the same cursor with a larger chunk.
      if (chunk_ >= (1u << 20)) return ErrnoError("read map batch", NETMON_MAP_FLOWS, e);
      chunk_ *= 2;
      continue;
    }
    if (err < 0 && e != ENOENT) {
      return ErrnoError("read map batch", NETMON_MAP_FLOWS, e == 524 /* ENOTSUPP */ ? EINVAL : e);
    }
    for (uint32_t i = 0; i < count; ++i) {
      out->push_back(MergeSlots(keys_[i], std::span(values_.data() + static_cast<size_t>(i) * ncpu_, ncpu_)));
    }
    if (err < 0) break;  // ENOENT: that was the last batch
    in_cursor = out_cursor;
    first = false;
  }
  return absl::OkStatus();
}

absl::Status FlowReader::ReadIterate(std::vector<FlowSample>* out) {
  std::vector<netmon_flow_stats> slots(ncpu_);
  netmon_tuple key{}, next{};
  const netmon_tuple* prev = nullptr;
  // If the key we stand on is evicted, get_next_key restarts from the first key: bound the walk.
  for (size_t step = 0; step < (4u << 20); ++step) {
    if (bpf_map_get_next_key(fd_, prev, &next) != 0) {
      if (errno == ENOENT) return absl::OkStatus();
      return ErrnoError("iterate map", NETMON_MAP_FLOWS, errno);
    }
    key = next;
    prev = &key;
    // A key evicted between get_next_key and lookup is simply gone: skip it.
    if (bpf_map_lookup_elem(fd_, &key, slots.data()) != 0) continue;
    out->push_back(MergeSlots(key, slots));
  }
  return absl::OkStatus();
}

}  // namespace netmon::flow
