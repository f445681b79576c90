// SPDX-License-Identifier: Apache-2.0
// A bounded, time-ordered store of things that belong to a flow tuple: the NetFlow records the collector parsed
// (FlowStore) and the events the correlator saw (EventIndex, for the reverse question "which process produced this
// record?"). Entries are indexed by the direction-free FlowKey, so a query finds both directions of a flow. Bounds:
// a maximum number of entries and a retention time (by arrival); eviction is oldest first and counted. Thread-safe:
// the collector thread adds while the correlator thread queries.
#pragma once

#include <cstdint>
#include <mutex>
#include <vector>

#include "correlate/fifo_index.h"
#include "correlate/flow_record.h"

namespace netmon::correlate {

struct TupleStoreOptions {
  size_t max_entries = 1'000'000;
  int64_t retention_ns = 900LL * 1'000'000'000;
};

struct TupleStoreCounters {
  uint64_t added = 0;
  uint64_t evicted_full = 0;  // pushed out by the entry bound
  uint64_t evicted_age = 0;   // older than the retention
  uint64_t size = 0;
};

// T needs: FlowTuple tuple; int64_t start_ns, end_ns (the span it covers); int64_t received_ns (arrival).
template <typename T>
class TupleStore {
 public:
  explicit TupleStore(TupleStoreOptions options = {}) : options_(options) {}

  void Add(const T& item) {
    std::lock_guard<std::mutex> lock(mu_);
    AddLocked(item);
  }
  void AddAll(const std::vector<T>& items) {
    std::lock_guard<std::mutex> lock(mu_);
    for (const T& item : items) AddLocked(item);
  }

  // Entries on `key` whose span overlaps [from_ns, to_ns], newest first, at most `max`.
  std::vector<T> Query(const FlowKey& key, int64_t from_ns, int64_t to_ns, size_t max) const {
    std::vector<T> out;
    std::lock_guard<std::mutex> lock(mu_);
    index_.ForEach(key, ring_.first_id(), [&](uint64_t id) {
      const T& item = ring_.Get(id);
      if (item.start_ns <= to_ns && item.end_ns >= from_ns) out.push_back(item);
      return out.size() < max;
    });
    return out;
  }

  // Drops entries older than the retention relative to `now_ns`.
  void ExpireOlderThan(int64_t now_ns) {
    std::lock_guard<std::mutex> lock(mu_);
    EvictLocked(now_ns);
  }

  TupleStoreCounters counters() const {
    std::lock_guard<std::mutex> lock(mu_);
    TupleStoreCounters c = counters_;
    c.size = ring_.size();
    return c;
  }

 private:
  void AddLocked(const T& item) {
    uint64_t id = ring_.Push(item);
    index_.Add(FlowKey::Of(item.tuple), id);
    ++counters_.added;
    EvictLocked(item.received_ns);
  }

  void EvictLocked(int64_t now_ns) {
    while (ring_.size() > options_.max_entries) {
      ring_.PopFront();
      ++counters_.evicted_full;
    }
    while (!ring_.empty() && options_.retention_ns > 0 && now_ns - ring_.front().received_ns > options_.retention_ns) {
      ring_.PopFront();
      ++counters_.evicted_age;
    }
    index_.MaybeCompact(ring_.first_id(), ring_.size());
  }

  TupleStoreOptions options_;
  mutable std::mutex mu_;
  FifoRing<T> ring_;
  FifoIndex<FlowKey, FlowKeyHash> index_;
  TupleStoreCounters counters_;
};

using FlowStore = TupleStore<FlowRecord>;

}  // namespace netmon::correlate
