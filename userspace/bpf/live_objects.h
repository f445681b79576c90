// SPDX-License-Identifier: Apache-2.0
// Counters of live kernel-object owners. Every RAII owner in this folder increments its counter on creation and
// decrements it on destruction, so tests can check that a detach (or a failed start) leaves nothing behind.
#pragma once

#include <atomic>

namespace netmon::bpf {

enum class ObjectKind { kSkeleton, kLink, kTcFilter, kTcHook, kXdp, kCount };

void CountCreated(ObjectKind kind);
void CountDestroyed(ObjectKind kind);
int LiveCount(ObjectKind kind);
int LiveTotal();

}  // namespace netmon::bpf
