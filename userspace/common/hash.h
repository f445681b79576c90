// SPDX-License-Identifier: Apache-2.0
// Hashing pieces for the userspace tables keyed by tuples and DNS queries. Tables that hold keys an outsider can
// choose (addresses, ports, DNS ids) take a random seed per process so collisions cannot be planned.
#pragma once

#include <cstdint>
#include <cstring>
#include <random>

namespace netmon {

// splitmix64's finaliser: a bijection that spreads every input bit over the whole word.
inline uint64_t HashMix(uint64_t x) {
  x ^= x >> 30;
  x *= 0xbf58476d1ce4e5b9ULL;
  x ^= x >> 27;
  x *= 0x94d049bb133111ebULL;
  x ^= x >> 31;
  return x;
}

// Eight bytes from an unaligned address.
inline uint64_t Load64(const uint8_t* p) {
  uint64_t v;
  std::memcpy(&v, p, sizeof(v));
  return v;
}

inline uint64_t RandomHashSeed() {
  std::random_device rd;
  return (static_cast<uint64_t>(rd()) << 32) ^ rd();
}

}  // namespace netmon
