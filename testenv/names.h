// SPDX-License-Identifier: Apache-2.0
// Naming of everything testenv creates. Every network namespace is "nmt-<owner pid>-<counter>-<role>", so a later
// run can tell a crashed run's leftovers (owner dead) from a concurrently running test binary's (owner alive).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace netmon::testenv {

inline constexpr std::string_view kNamePrefix = "nmt-";
inline constexpr std::string_view kNetnsDir = "/run/netns";

// A process-wide counter, so names and address blocks differ between objects of one test binary.
uint32_t NextCounter();

// "nmt-<getpid()>-<counter>-<role>".
std::string MakeNetnsName(std::string_view role, uint32_t counter);

// The owner PID encoded in a name made by MakeNetnsName, or nullopt for a prefixed name of any other shape.
std::optional<int> OwnerPidOf(std::string_view netns_name);

// Names this process created and has not deleted yet (the sweep must never touch them).
void RegisterOwnedNetns(const std::string& name);
void UnregisterOwnedNetns(const std::string& name);
bool IsOwnedNetns(const std::string& name);
int OwnedNetnsCount();

// Names of all namespaces in /run/netns that start with kNamePrefix.
std::vector<std::string> ListPrefixedNetns();

}  // namespace netmon::testenv
