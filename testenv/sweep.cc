// SPDX-License-Identifier: Apache-2.0
#include "testenv/sweep.h"

#include <dirent.h>
#include <signal.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <fstream>
#include <thread>

#include "common/log.h"
#include "common/str_cat.h"
#include "testenv/names.h"
#include "testenv/netns.h"

namespace netmon::testenv {
namespace {

// Alive means running: a zombie has released its namespaces already, and an unreaped one may never be reaped
// if its parent is stuck.
bool ProcessRunning(int pid) {
  if (kill(pid, 0) != 0 && errno == ESRCH) return false;
  std::ifstream stat(StrCat("/proc/", pid, "/stat"));
  std::string content((std::istreambuf_iterator<char>(stat)), std::istreambuf_iterator<char>());
  size_t paren = content.rfind(')');  // comm may contain spaces and parentheses
  if (paren == std::string::npos || paren + 2 >= content.size()) return false;
  char state = content[paren + 2];
  return state != 'Z' && state != 'X';
}

bool IsLeftover(const std::string& name) {
  std::optional<int> owner = OwnerPidOf(name);
  if (!owner) return true;  // our prefix but not our shape: made by hand or by an older version
  if (*owner == getpid()) return !IsOwnedNetns(name);  // our pid was reused from a crashed run
  return !ProcessRunning(*owner);
}

// PIDs of running processes whose network namespace has inode `ino`.
std::vector<int> ProcessesInNetns(ino_t ino) {
  std::vector<int> pids;
  DIR* proc = opendir("/proc");
  if (proc == nullptr) return pids;
  std::string want = StrCat("net:[", ino, "]");
  while (dirent* entry = readdir(proc)) {
    char* end = nullptr;
    long pid = strtol(entry->d_name, &end, 10);
    if (pid <= 0 || *end != '\0' || pid == getpid()) continue;
    char link[64];
    ssize_t n = readlink(StrCat("/proc/", pid, "/ns/net").c_str(), link, sizeof(link) - 1);
    if (n <= 0) continue;  // exited meanwhile, or a kernel thread
    if (std::string(link, static_cast<size_t>(n)) == want && ProcessRunning(static_cast<int>(pid))) {
      pids.push_back(static_cast<int>(pid));
    }
  }
  closedir(proc);
  return pids;
}

void KillInside(const std::string& name) {
  struct stat st {};
  if (stat(StrCat(kNetnsDir, "/", name).c_str(), &st) != 0) return;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(3);
  std::vector<int> pids = ProcessesInNetns(st.st_ino);
  while (!pids.empty()) {
    for (int pid : pids) {
      NETMON_LOG(kInfo, "testenv", "sweep: killing pid ", pid, " left in ", name);
      kill(pid, SIGKILL);
    }
    if (std::chrono::steady_clock::now() >= deadline) {
      NETMON_LOG(kWarn, "testenv", "sweep: ", pids.size(), " process(es) in ", name, " survive SIGKILL");
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
    pids = ProcessesInNetns(st.st_ino);
  }
}

}  // namespace

std::vector<std::string> LeftoverNetns() {
  std::vector<std::string> leftovers;
  for (std::string& name : ListPrefixedNetns()) {
    if (IsLeftover(name)) leftovers.push_back(std::move(name));
  }
  return leftovers;
}

void SweepLeftovers() {
  for (const std::string& name : LeftoverNetns()) {
    KillInside(name);
    if (absl::Status deleted = DeleteNamedNetns(name); deleted.ok()) {
      NETMON_LOG(kInfo, "testenv", "sweep: removed leftover network namespace ", name);
    } else if (!absl::IsNotFound(deleted)) {  // NotFound: a concurrent sweep was faster
      NETMON_LOG(kWarn, "testenv", "sweep: cannot remove ", name, ": ", deleted.message());
    }
  }
}

std::vector<std::string> OwnNetnsOnDisk() {
  std::vector<std::string> own;
  for (std::string& name : ListPrefixedNetns()) {
    if (OwnerPidOf(name) == getpid()) own.push_back(std::move(name));
  }
  return own;
}

}  // namespace netmon::testenv
