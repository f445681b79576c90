// SPDX-License-Identifier: Apache-2.0
// Property checks for the fuzz targets: a violated property names itself and aborts, so libFuzzer saves the input.
#pragma once

#include <cstdio>
#include <cstdlib>

namespace netmon::fuzz {

inline void CheckAt(bool ok, const char* what, int line) {
  if (ok) return;
  std::fprintf(stderr, "property violated at line %d: %s\n", line, what);
  std::abort();
}

}  // namespace netmon::fuzz

#define Check(x) ::netmon::fuzz::CheckAt((x), #x, __LINE__)
