// SPDX-License-Identifier: Apache-2.0
// The shape every bounded store of the correlator shares (NetFlow records, recent events, log lines): entries live
// in arrival order in a ring and are evicted oldest first (by count and by age); a hash index maps a key (a flow
// tuple, a log token) to the ids of the entries that carry it. Ids only grow, so eviction never touches the index:
// stale ids are skipped on lookup (they are below the ring's first live id) and swept out in one pass once they
// outnumber the live ones, which keeps the cost amortised O(1) per insert and the memory within a factor of two.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <unordered_map>
#include <utility>
#include <vector>

namespace netmon::correlate {

template <typename T>
class FifoRing {
 public:
  uint64_t Push(T value) {
    items_.push_back(std::move(value));
    return first_id_ + items_.size() - 1;
  }
  void PopFront() {
    items_.pop_front();
    ++first_id_;
  }
  bool empty() const { return items_.empty(); }
  size_t size() const { return items_.size(); }
  const T& front() const { return items_.front(); }
  const T& back() const { return items_.back(); }
  uint64_t first_id() const { return first_id_; }
  uint64_t end_id() const { return first_id_ + items_.size(); }
  bool Live(uint64_t id) const { return id >= first_id_ && id < end_id(); }
  const T& Get(uint64_t id) const { return items_[id - first_id_]; }
  T& GetMutable(uint64_t id) { return items_[id - first_id_]; }
  void Clear() {
    first_id_ += items_.size();
    items_.clear();
  }

 private:
  std::deque<T> items_;
  uint64_t first_id_ = 0;
};

template <typename Key, typename Hash = std::hash<Key>>
class FifoIndex {
 public:
  void Add(const Key& key, uint64_t id) {
    map_[key].push_back(id);
    ++entries_;
  }

  // Calls fn(id) for each live id under `key`, newest first, until fn returns false.
  template <typename Fn>
  void ForEach(const Key& key, uint64_t first_live, Fn&& fn) const {
    auto it = map_.find(key);
    if (it == map_.end()) return;
    const auto& ids = it->second;
    for (size_t i = ids.size(); i-- > 0;) {
      if (ids[i] < first_live) break;  // ids are ascending: everything before is evicted
      if (!fn(ids[i])) return;
    }
  }

  // Sweeps stale ids once they dominate; call after evictions. `live` is the number of live entries carrying at
  // least one key (an upper bound is fine).
  void MaybeCompact(uint64_t first_live, size_t live_keys_estimate) {
    if (entries_ < 2 * live_keys_estimate + 4096) return;
    Compact(first_live);
  }

  void Compact(uint64_t first_live) {
    entries_ = 0;
    for (auto it = map_.begin(); it != map_.end();) {
      auto& ids = it->second;
      size_t keep_from = 0;
      while (keep_from < ids.size() && ids[keep_from] < first_live) ++keep_from;
      if (keep_from == ids.size()) {
        it = map_.erase(it);
        continue;
      }
      if (keep_from > 0) ids.erase(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(keep_from));
      if (ids.capacity() > 4 * ids.size() + 8) ids.shrink_to_fit();
      entries_ += ids.size();
      ++it;
    }
  }

  void Clear() {
    map_.clear();
    entries_ = 0;
  }
  size_t entries() const { return entries_; }
  size_t keys() const { return map_.size(); }

 private:
  std::unordered_map<Key, std::vector<uint64_t>, Hash> map_;
  size_t entries_ = 0;
};

}  // namespace netmon::correlate
