// SPDX-License-Identifier: Apache-2.0
#include "dns/tcp_reassembler.h"

#include <algorithm>

#include "dns/dns_message.h"

namespace netmon::dns {
namespace {

constexpr size_t kPrefix = 2;
// A buffer that once held a large message gives its memory back when emptied, so idle streams stay small.
constexpr size_t kKeepCapacity = 4096;

uint16_t Be16(const uint8_t* p) {
  return static_cast<uint16_t>(p[0] << 8 | p[1]);
}

}  // namespace

TcpReassembler::TcpReassembler() : TcpReassembler(Options{}) {}

TcpReassembler::TcpReassembler(Options options) : options_(options) {
  options_.max_streams = std::max<size_t>(options_.max_streams, 1);
  options_.max_message = std::clamp<size_t>(options_.max_message, kHeaderSize, 65535);
}

TcpReassembler::Stream& TcpReassembler::Touch(const std::string& key) {
  auto found = streams_.find(key);
  if (found != streams_.end()) {
    lru_.splice(lru_.begin(), lru_, found->second);
    return lru_.front();
  }
  if (streams_.size() >= options_.max_streams) {
    ++stats_.streams_evicted;
    Drop(std::prev(lru_.end()));
  }
  lru_.push_front(Stream{key, {}});
  streams_.emplace(key, lru_.begin());
  return lru_.front();
}

void TcpReassembler::Clear(Stream& s) {
  buffered_ -= s.buf.size();
  s.buf.clear();
  if (s.buf.capacity() > kKeepCapacity) std::vector<uint8_t>().swap(s.buf);
}

void TcpReassembler::Drop(StreamList::iterator it) {
  stats_.bytes_dropped += it->buf.size();
  buffered_ -= it->buf.size();
  streams_.erase(it->key);
  lru_.erase(it);
}

void TcpReassembler::Feed(const std::string& key, std::span<const uint8_t> payload, const MessageFn& on_message) {
  // Pure ACKs carry nothing and must not create (or evict for) a stream.
  if (payload.empty()) return;
  Stream& s = Touch(key);

  // Returns false (after resetting the stream and dropping the rest of the segment) if `len` cannot be DNS.
  auto check_length = [&](size_t len) {
    if (len >= kHeaderSize && len <= options_.max_message) return true;
    ++(len < kHeaderSize ? stats_.resets_malformed : stats_.resets_oversize);
    stats_.bytes_dropped += s.buf.size() + payload.size();
    Clear(s);
    return false;
  };

  while (!payload.empty()) {
    if (s.buf.empty() && payload.size() >= kPrefix) {
      // Whole messages inside the segment are handed out in place, without copying.
      const size_t len = Be16(payload.data());
      if (!check_length(len)) return;
      if (payload.size() >= kPrefix + len) {
        ++stats_.messages;
        on_message(payload.subspan(kPrefix, len));
        payload = payload.subspan(kPrefix + len);
        continue;
      }
    }
    if (s.buf.size() < kPrefix) {
      const size_t take = std::min(kPrefix - s.buf.size(), payload.size());
      s.buf.insert(s.buf.end(), payload.begin(), payload.begin() + static_cast<std::ptrdiff_t>(take));
      buffered_ += take;
      payload = payload.subspan(take);
      if (s.buf.size() < kPrefix) return;
      const size_t len = Be16(s.buf.data());
      if (!check_length(len)) return;
      // Exactly one allocation of exactly the message size: growth by doubling could overshoot the bound.
      s.buf.reserve(kPrefix + len);
    }
    const size_t total = kPrefix + Be16(s.buf.data());
    const size_t take = std::min(total - s.buf.size(), payload.size());
    s.buf.insert(s.buf.end(), payload.begin(), payload.begin() + static_cast<std::ptrdiff_t>(take));
    buffered_ += take;
    payload = payload.subspan(take);
    if (s.buf.size() == total) {
      ++stats_.messages;
      on_message(std::span<const uint8_t>(s.buf).subspan(kPrefix));
      Clear(s);
    }
  }
}

std::vector<std::vector<uint8_t>> TcpReassembler::Feed(const std::string& key, std::span<const uint8_t> payload) {
  std::vector<std::vector<uint8_t>> out;
  Feed(key, payload, [&out](std::span<const uint8_t> m) { out.emplace_back(m.begin(), m.end()); });
  return out;
}

void TcpReassembler::Reset(const std::string& key) {
  auto found = streams_.find(key);
  if (found == streams_.end()) return;
  stats_.bytes_dropped += found->second->buf.size();
  Clear(*found->second);
}

void TcpReassembler::Close(const std::string& key) {
  auto found = streams_.find(key);
  if (found != streams_.end()) Drop(found->second);
}

}  // namespace netmon::dns
