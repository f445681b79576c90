// SPDX-License-Identifier: Apache-2.0
#include "testenv/names.h"

#include <dirent.h>
#include <unistd.h>

#include <atomic>
#include <charconv>
#include <mutex>
#include <set>

#include "common/str_cat.h"

namespace netmon::testenv {
namespace {

std::mutex g_owned_mu;
std::set<std::string>& Owned() {
  static std::set<std::string> owned;
  return owned;
}

}  // namespace

uint32_t NextCounter() {
  static std::atomic<uint32_t> counter{0};
  return counter.fetch_add(1, std::memory_order_relaxed);
}

std::string MakeNetnsName(std::string_view role, uint32_t counter) {
  return StrCat(kNamePrefix, getpid(), "-", counter, "-", role);
}

std::optional<int> OwnerPidOf(std::string_view netns_name) {
  if (netns_name.substr(0, kNamePrefix.size()) != kNamePrefix) return std::nullopt;
  std::string_view rest = netns_name.substr(kNamePrefix.size());
  size_t dash = rest.find('-');
  if (dash == 0 || dash == std::string_view::npos) return std::nullopt;
  int pid = 0;
  auto [end, ec] = std::from_chars(rest.data(), rest.data() + dash, pid);
  if (ec != std::errc() || end != rest.data() + dash || pid <= 0) return std::nullopt;
  return pid;
}

void RegisterOwnedNetns(const std::string& name) {
  std::lock_guard<std::mutex> lock(g_owned_mu);
  Owned().insert(name);
}

void UnregisterOwnedNetns(const std::string& name) {
  std::lock_guard<std::mutex> lock(g_owned_mu);
  Owned().erase(name);
}

bool IsOwnedNetns(const std::string& name) {
  std::lock_guard<std::mutex> lock(g_owned_mu);
  return Owned().count(name) != 0;
}

int OwnedNetnsCount() {
  std::lock_guard<std::mutex> lock(g_owned_mu);
  return static_cast<int>(Owned().size());
}

std::vector<std::string> ListPrefixedNetns() {
  std::vector<std::string> names;
  DIR* dir = opendir(std::string(kNetnsDir).c_str());
  if (dir == nullptr) return names;  // no /run/netns: nothing was ever created
  while (dirent* entry = readdir(dir)) {
    std::string_view name = entry->d_name;
    if (name.substr(0, kNamePrefix.size()) == kNamePrefix) names.emplace_back(name);
  }
  closedir(dir);
  return names;
}

}  // namespace netmon::testenv
