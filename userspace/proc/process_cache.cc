// SPDX-License-Identifier: Apache-2.0
#include "proc/process_cache.h"

#include <unistd.h>

#include <climits>
#include <fstream>
#include <sstream>

namespace netmon::proc {
namespace {

uint64_t TickNs() {
  static const uint64_t tick = [] {
    long hz = sysconf(_SC_CLK_TCK);
    return static_cast<uint64_t>(1'000'000'000 / (hz > 0 ? hz : 100));
  }();
  return tick;
}

std::string ReadSmallFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return {};
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

}  // namespace

uint64_t StartTimeTicks(uint64_t start_time_ns) {
  return start_time_ns / TickNs();
}

std::optional<uint64_t> ReadStartTimeNs(uint32_t tgid, const std::string& proc_root) {
  std::string stat = ReadSmallFile(proc_root + "/" + std::to_string(tgid) + "/stat");
  // "pid (comm) state ppid ...": comm may hold spaces and parentheses, so fields count from the last ')'.
  size_t close = stat.rfind(')');
  if (close == std::string::npos) return std::nullopt;
  std::istringstream fields(stat.substr(close + 1));
  std::string field;
  // starttime is field 22; after ')' the first field is 3 (state).
  for (int i = 3; i <= 22; ++i) {
    if (!(fields >> field)) return std::nullopt;
  }
  try {
    return static_cast<uint64_t>(std::stoull(field)) * TickNs();
  } catch (...) {
    return std::nullopt;
  }
}

std::optional<ProcessInfo> ReadProcess(uint32_t tgid, uint64_t start_time_ns, const std::string& proc_root) {
  auto start = ReadStartTimeNs(tgid, proc_root);
  if (!start) return std::nullopt;
  if (start_time_ns != 0 && StartTimeTicks(*start) != StartTimeTicks(start_time_ns)) return std::nullopt;
  const std::string dir = proc_root + "/" + std::to_string(tgid);
  ProcessInfo info;
  info.tgid = tgid;
  info.start_time_ns = start_time_ns != 0 ? start_time_ns : *start;
  info.comm = ReadSmallFile(dir + "/comm");
  while (!info.comm.empty() && info.comm.back() == '\n') info.comm.pop_back();
  char exe[PATH_MAX];
  ssize_t n = readlink((dir + "/exe").c_str(), exe, sizeof(exe) - 1);
  if (n > 0) info.exe.assign(exe, static_cast<size_t>(n));
  info.cmdline = ReadSmallFile(dir + "/cmdline");
  while (!info.cmdline.empty() && info.cmdline.back() == '\0') info.cmdline.pop_back();
  for (char& c : info.cmdline) {
    if (c == '\0') c = ' ';
  }
  info.from_proc = true;
  // The process may have exited between reading stat and the rest; a second stat read tells a reused PID.
  auto again = ReadStartTimeNs(tgid, proc_root);
  if (!again || *again != *start) return std::nullopt;
  return info;
}

void ProcessCache::Note(uint32_t tgid, uint64_t start_time_ns, std::string_view comm) {
  if (start_time_ns == 0) {
    // A task-less capture (cgroup_notask rung) knows no start time: take the live process's, so the entry is
    // found under the key later records (completed owners) carry.
    if (auto live = ReadStartTimeNs(tgid, proc_root_)) start_time_ns = *live;
  }
  Key key{tgid, StartTimeTicks(start_time_ns)};
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = entries_.find(key);
    if (it != entries_.end()) {
      lru_.splice(lru_.begin(), lru_, it->second.lru);
      return;
    }
    ++proc_reads_;
  }
  // /proc is read outside the lock: it may block on a busy process, and Lookup must not wait for it.
  ProcessInfo info;
  if (auto read = ReadProcess(tgid, start_time_ns, proc_root_)) {
    info = std::move(*read);
  } else {
    info.tgid = tgid;
    info.start_time_ns = start_time_ns;
  }
  if (info.comm.empty()) info.comm = std::string(comm);
  std::lock_guard<std::mutex> lock(mu_);
  if (entries_.count(key) != 0) return;  // another thread noted it meanwhile
  lru_.push_front(key);
  entries_.emplace(key, Entry{std::move(info), lru_.begin()});
  while (entries_.size() > capacity_ && !lru_.empty()) {
    entries_.erase(lru_.back());
    lru_.pop_back();
  }
}

std::optional<ProcessInfo> ProcessCache::Lookup(uint32_t tgid, uint64_t start_time_ns) const {
  std::lock_guard<std::mutex> lock(mu_);
  if (start_time_ns == 0) {
    // Start time unknown (task-less capture): the most recently noted process with this PID.
    for (const Key& k : lru_) {
      if (k.first == tgid) return entries_.at(k).info;
    }
    return std::nullopt;
  }
  auto it = entries_.find(Key{tgid, StartTimeTicks(start_time_ns)});
  if (it == entries_.end()) return std::nullopt;
  return it->second.info;
}

size_t ProcessCache::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return entries_.size();
}

uint64_t ProcessCache::proc_reads() const {
  std::lock_guard<std::mutex> lock(mu_);
  return proc_reads_;
}

}  // namespace netmon::proc
