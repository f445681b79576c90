// SPDX-License-Identifier: Apache-2.0
#include "correlate/template_cache.h"

namespace netmon::correlate {

const Template* TemplateCache::Find(const TemplateKey& key, int64_t now_ns) {
  auto it = map_.find(key);
  if (it == map_.end()) return nullptr;
  if (timeout_ns_ > 0 && now_ns - it->second.updated_ns > timeout_ns_) {
    map_.erase(it);
    ++expired_;
    return nullptr;
  }
  return &it->second;
}

void TemplateCache::Put(const TemplateKey& key, Template tmpl, int64_t now_ns) {
  tmpl.updated_ns = now_ns;
  auto it = map_.find(key);
  if (it != map_.end()) {
    it->second = std::move(tmpl);
    return;
  }
  if (max_ == 0) return;
  if (map_.size() >= max_) {
    // Full: make room by dropping the stalest template. A linear scan is fine: this happens only when an exporter
    // (or an attacker) sends more templates than the bound, and each scan is bounded by it.
    Expire(now_ns);
    if (map_.size() >= max_) {
      auto oldest = map_.begin();
      for (auto i = map_.begin(); i != map_.end(); ++i) {
        if (i->second.updated_ns < oldest->second.updated_ns) oldest = i;
      }
      map_.erase(oldest);
      ++evicted_;
    }
  }
  map_.emplace(key, std::move(tmpl));
}

bool TemplateCache::Withdraw(const TemplateKey& key) {
  return map_.erase(key) > 0;
}

size_t TemplateCache::WithdrawAll(const IpAddr& exporter, uint32_t domain, uint16_t version) {
  size_t n = 0;
  for (auto it = map_.begin(); it != map_.end();) {
    if (it->first.exporter == exporter && it->first.domain == domain && it->first.version == version) {
      it = map_.erase(it);
      ++n;
    } else {
      ++it;
    }
  }
  return n;
}

size_t TemplateCache::Expire(int64_t now_ns) {
  if (timeout_ns_ <= 0) return 0;
  size_t n = 0;
  for (auto it = map_.begin(); it != map_.end();) {
    if (now_ns - it->second.updated_ns > timeout_ns_) {
      it = map_.erase(it);
      ++n;
    } else {
      ++it;
    }
  }
  expired_ += n;
  return n;
}

}  // namespace netmon::correlate
