// SPDX-License-Identifier: Apache-2.0
// Typed reader of the packet layer's flow map (netmon_flows: per-CPU hash, netmon_tuple -> per-CPU
// netmon_flow_stats). Each read sums the CPUs' slots and reports what changed since the previous read, so the
// join gets interval deltas without the kernel resetting anything (a reset would race with the programs).
#pragma once

#include <cstdint>
#include <cstring>
#include <span>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "absl/status/status.h"
#include "flow/flow_sample.h"
#include "netmon/abi.h"

namespace netmon::flow {

// One flow's per-CPU slots folded into totals: counters summed, first_seen = earliest slot (with its
// first_dir), last_seen = latest slot (with its cookie, the most recent attribution), flags ORed. Slots of
// CPUs that never saw the flow are all zero and ignored.
FlowSample MergeSlots(const netmon_tuple& tuple, std::span<const netmon_flow_stats> slots);

// Turns successive totals into deltas. Pure logic: no kernel involved (tests/unit/flow).
class DeltaTracker {
 public:
  // Totals of one flow as read now. Returns true and fills *delta when it changed since the previous round;
  // a flow seen for the first time reports its totals. A flow whose counters went backwards or whose
  // first_seen moved was evicted and re-created in between: its new totals are the delta.
  // *idle_rounds (if given) gets how many rounds in a row, this one included, the flow did not change.
  bool Update(const FlowSample& totals, FlowSample* delta, uint32_t* idle_rounds = nullptr);
  // Ends a round: forgets flows not Update()d in it (evicted from the map, or idle and gone).
  void EndRound();
  // Forgets one flow now: its map entry was deleted, so a later entry with its tuple starts from zero.
  void Forget(const netmon_tuple& tuple) { prev_.erase(tuple); }
  size_t size() const { return prev_.size(); }

 private:
  struct TupleHash {
    size_t operator()(const netmon_tuple& t) const {
      return std::hash<std::string_view>()(std::string_view(reinterpret_cast<const char*>(&t), sizeof(t)));
    }
  };
  struct TupleEq {
    bool operator()(const netmon_tuple& a, const netmon_tuple& b) const { return std::memcmp(&a, &b, sizeof(a)) == 0; }
  };
  struct Entry {
    FlowSample totals;
    uint64_t round = 0;
    uint32_t idle_rounds = 0;
  };
  std::unordered_map<netmon_tuple, Entry, TupleHash, TupleEq> prev_;
  uint64_t round_ = 1;
};

class FlowReader {
 public:
  // map_fd: netmon_flows, borrowed (the owner keeps it open while the reader is used). use_batch = false starts
  // with key-by-key iteration (what kernels without batch ops get; tests use it to compare both paths).
  explicit FlowReader(int map_fd, bool use_batch = true);

  // Appends one FlowSample per flow that changed since the previous call (deltas). Reads the map with
  // BPF_MAP_LOOKUP_BATCH, falling back to key-by-key iteration where the kernel refuses batches. Flows read
  // kIdleRoundsBeforeTake times in a row without a change are then taken out like closed ones (their last
  // counts reported), so the map, which does not evict, keeps room for new flows.
  absl::Status ReadDeltas(std::vector<FlowSample>* out);
  static constexpr uint32_t kIdleRoundsBeforeTake = 2;

  // Reads the current totals of every flow (no delta bookkeeping).
  absl::Status ReadTotals(std::vector<FlowSample>* out);

  // The last counters of flows whose socket closed, as deltas since the previous read (keys not in the map are
  // skipped). Each entry is looked up and deleted in one step (BPF_MAP_LOOKUP_AND_DELETE_ELEM), so no packet
  // falls between the read and the delete, and the map keeps live flows only: a full read walks every entry,
  // which under connection churn cost more than every hook together. A packet after the delete starts a new
  // entry, reported from zero. Kernels without lookup-and-delete for this map type (before 5.14) get a lookup
  // and a delete.
  absl::Status TakeClosed(std::span<const netmon_tuple> keys, std::vector<FlowSample>* out);

  bool used_batch() const { return use_batch_; }
  bool deletes_closed() const { return take_deletes_; }

 private:
  absl::Status ReadBatch(std::vector<FlowSample>* out);
  absl::Status ReadIterate(std::vector<FlowSample>* out);

  int fd_;
  int ncpu_;
  bool use_batch_ = true;
  bool take_deletes_ = true;
  uint32_t chunk_ = 1024;
  DeltaTracker tracker_;
  std::vector<netmon_tuple> keys_;
  std::vector<netmon_flow_stats> values_;
};

}  // namespace netmon::flow
