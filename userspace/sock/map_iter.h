// SPDX-License-Identifier: Apache-2.0
// Reads a whole hash map from userspace: batched (one syscall per 256 entries) where the kernel supports it
// (v5.6+), key by key otherwise.
#pragma once

#include <bpf/bpf.h>

#include <cerrno>
#include <cstdint>
#include <functional>
#include <vector>

namespace netmon::sock {

template <typename K, typename V>
void ForEachEntry(int map_fd, const std::function<void(const K&, const V&)>& fn) {
  constexpr uint32_t kBatch = 256;
  std::vector<K> keys(kBatch);
  std::vector<V> values(kBatch);
  // The batch token is opaque (a bucket index for hash maps); a key-sized buffer is large enough. The kernel
  // reads in_batch before it writes out_batch, so one buffer serves as both.
  K token{};
  bool first = true, any = false;
  for (;;) {
    uint32_t count = kBatch;
    DECLARE_LIBBPF_OPTS(bpf_map_batch_opts, opts);
    int err = bpf_map_lookup_batch(map_fd, first ? nullptr : &token, &token, keys.data(), values.data(), &count, &opts);
    int e = errno;
    first = false;
    if (err != 0 && e != ENOENT) {
      if (!any && (e == EINVAL || e == ENOTSUP || e == EOPNOTSUPP)) break;  // no batch ops here
      return;
    }
    for (uint32_t i = 0; i < count; ++i) fn(keys[i], values[i]);
    any = any || count > 0;
    if (err != 0) return;  // ENOENT: that was the last batch
  }
  // Fallback: key by key.
  K key{}, next{};
  bool have = false;
  while (bpf_map_get_next_key(map_fd, have ? &key : nullptr, &next) == 0) {
    V value{};
    if (bpf_map_lookup_elem(map_fd, &next, &value) == 0) fn(next, value);
    key = next;
    have = true;
  }
}

}  // namespace netmon::sock
