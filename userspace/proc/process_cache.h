// SPDX-License-Identifier: Apache-2.0
// Process metadata for attribution: comm, exe and cmdline of a process, read from /proc the moment one of its
// sockets is first seen (an OWNER record or a seeded socket), not when an event about it is read later — by then
// a short-lived process is gone. Keyed by (tgid, start time) so a reused PID never inherits another process's
// name. Bounded: the least recently noted entries are dropped first. Thread-safe.
#pragma once

#include <cstdint>
#include <list>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace netmon::proc {

struct ProcessInfo {
  uint32_t tgid = 0;
  uint64_t start_time_ns = 0;      // the group leader's start_boottime (what the kernel owner records)
  std::string comm, exe, cmdline;  // cmdline: arguments joined by spaces
  bool from_proc = false;          // false: the process was gone (or reused) when noted; only comm is known
};

// start_boottime in ns, and /proc/<pid>/stat's starttime in clock ticks, name the same instant; the tick is the
// resolution both agree on (fs/proc/array.c: nsec_to_clock_t(start_boottime)).
uint64_t StartTimeTicks(uint64_t start_time_ns);

// Reads one process from `proc_root` (default /proc). Fails (nullopt) if it does not exist or its start time is
// not `start_time_ns` (the PID now belongs to another process). start_time_ns == 0 skips the check.
std::optional<ProcessInfo> ReadProcess(uint32_t tgid, uint64_t start_time_ns, const std::string& proc_root = "/proc");

// The start time (ns since boot, tick resolution) of a live process from /proc/<pid>/stat, or nullopt.
std::optional<uint64_t> ReadStartTimeNs(uint32_t tgid, const std::string& proc_root = "/proc");

class ProcessCache {
 public:
  explicit ProcessCache(size_t capacity = 8192, std::string proc_root = "/proc")
      : capacity_(capacity), proc_root_(std::move(proc_root)) {}

  // First sight of (tgid, start): reads /proc now. `comm` (from the kernel owner) is kept if /proc has nothing.
  // Later calls for the same key only refresh its recency. start 0 (unknown) takes the live process's start;
  // Lookup with start 0 returns the most recently noted process with that PID.
  void Note(uint32_t tgid, uint64_t start_time_ns, std::string_view comm = {});
  std::optional<ProcessInfo> Lookup(uint32_t tgid, uint64_t start_time_ns) const;

  size_t size() const;
  uint64_t proc_reads() const;  // how many times /proc was read (tests: cache hits read nothing)

 private:
  using Key = std::pair<uint32_t, uint64_t>;  // (tgid, start ticks)
  struct Entry {
    ProcessInfo info;
    std::list<Key>::iterator lru;
  };

  size_t capacity_;
  std::string proc_root_;
  mutable std::mutex mu_;
  std::map<Key, Entry> entries_;
  std::list<Key> lru_;  // front = most recently noted
  uint64_t proc_reads_ = 0;
};

}  // namespace netmon::proc
