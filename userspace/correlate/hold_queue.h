// SPDX-License-Identifier: Apache-2.0
// Events wait here for `hold` before enrichment, so that the NetFlow records and log lines about them (which
// exporters and log shippers send seconds after the fact) are in the stores when they are matched. Bounded: when
// full, the oldest event is released early (the caller counts it), never dropped.
#pragma once

#include <cstdint>
#include <deque>
#include <utility>
#include <vector>

namespace netmon::correlate {

template <typename T>
class HoldQueue {
 public:
  HoldQueue(int64_t hold_ns, size_t max_items) : hold_ns_(hold_ns), max_(max_items == 0 ? 1 : max_items) {}

  bool enabled() const { return hold_ns_ > 0; }
  bool full() const { return items_.size() >= max_; }
  bool empty() const { return items_.empty(); }
  size_t size() const { return items_.size(); }

  void Push(T item, int64_t mono_ns) { items_.emplace_back(mono_ns + hold_ns_, std::move(item)); }

  // Moves every item due by `mono_ns` (all of them if `all`) to *out, oldest first.
  void TakeDue(int64_t mono_ns, bool all, std::vector<T>* out) {
    while (!items_.empty() && (all || items_.front().first <= mono_ns)) {
      out->push_back(std::move(items_.front().second));
      items_.pop_front();
    }
  }
  // Releases the oldest item early (the queue is full).
  void TakeOldest(std::vector<T>* out) {
    if (items_.empty()) return;
    out->push_back(std::move(items_.front().second));
    items_.pop_front();
  }
  // Monotonic time the oldest item is due; only meaningful when not empty.
  int64_t NextDueNs() const { return items_.front().first; }

 private:
  int64_t hold_ns_;
  size_t max_;
  std::deque<std::pair<int64_t, T>> items_;  // due time (monotonic), item; in arrival = due order
};

}  // namespace netmon::correlate
