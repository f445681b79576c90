// SPDX-License-Identifier: Apache-2.0
#include "bpf/live_objects.h"

#include <array>

namespace netmon::bpf {
namespace {
std::array<std::atomic<int>, static_cast<size_t>(ObjectKind::kCount)> g_live{};
}

void CountCreated(ObjectKind kind) {
  g_live[static_cast<size_t>(kind)].fetch_add(1);
}
void CountDestroyed(ObjectKind kind) {
  g_live[static_cast<size_t>(kind)].fetch_sub(1);
}
int LiveCount(ObjectKind kind) {
  return g_live[static_cast<size_t>(kind)].load();
}
int LiveTotal() {
  int total = 0;
  for (const auto& n : g_live) total += n.load();
  return total;
}

}  // namespace netmon::bpf
