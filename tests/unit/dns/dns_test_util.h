// SPDX-License-Identifier: Apache-2.0
// Helpers for DNS unit tests: hex fixtures and a byte builder for hand-made hostile messages.
#pragma once

#include <cstdint>
#include <initializer_list>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

namespace netmon::dns::testing {

inline std::vector<uint8_t> FromHex(std::string_view hex) {
  auto nibble = [](char c) -> uint8_t {
    if (c >= '0' && c <= '9') return static_cast<uint8_t>(c - '0');
    if (c >= 'a' && c <= 'f') return static_cast<uint8_t>(c - 'a' + 10);
    if (c >= 'A' && c <= 'F') return static_cast<uint8_t>(c - 'A' + 10);
    throw std::invalid_argument("bad hex digit");
  };
  if (hex.size() % 2 != 0) throw std::invalid_argument("odd hex length");
  std::vector<uint8_t> out;
  for (size_t i = 0; i < hex.size(); i += 2)
    out.push_back(static_cast<uint8_t>(nibble(hex[i]) << 4 | nibble(hex[i + 1])));
  return out;
}

// Appends big-endian fields and names; starts with a header.
class MessageBuilder {
 public:
  MessageBuilder(uint16_t id, uint16_t flags, uint16_t qd, uint16_t an, uint16_t ns = 0, uint16_t ar = 0) {
    U16(id).U16(flags).U16(qd).U16(an).U16(ns).U16(ar);
  }
  MessageBuilder& U8(uint8_t v) {
    bytes_.push_back(v);
    return *this;
  }
  MessageBuilder& U16(uint16_t v) { return U8(static_cast<uint8_t>(v >> 8)).U8(static_cast<uint8_t>(v)); }
  MessageBuilder& U32(uint32_t v) { return U16(static_cast<uint16_t>(v >> 16)).U16(static_cast<uint16_t>(v)); }
  MessageBuilder& Bytes(std::initializer_list<uint8_t> v) {
    bytes_.insert(bytes_.end(), v);
    return *this;
  }
  MessageBuilder& Label(std::string_view label) {
    U8(static_cast<uint8_t>(label.size()));
    bytes_.insert(bytes_.end(), label.begin(), label.end());
    return *this;
  }
  // Labels, then the root octet.
  MessageBuilder& Name(std::initializer_list<std::string_view> labels) {
    for (auto l : labels) Label(l);
    return U8(0);
  }
  MessageBuilder& Pointer(uint16_t offset) { return U16(static_cast<uint16_t>(0xc000 | offset)); }
  size_t size() const { return bytes_.size(); }
  const std::vector<uint8_t>& bytes() const { return bytes_; }

 private:
  std::vector<uint8_t> bytes_;
};

}  // namespace netmon::dns::testing
