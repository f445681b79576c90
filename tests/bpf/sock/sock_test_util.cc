// SPDX-License-Identifier: Apache-2.0
#include "sock_test_util.h"

#include <netinet/in.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstring>
#include <memory>
#include <regex>

#include "common/str_cat.h"
#include "sock/addr.h"

namespace netmon::sock::testing {

EventLog::EventLog(SocketLayer* layer) : layer_(layer), reader_([this] { Run(); }) {}

EventLog::~EventLog() {
  stop_ = true;
  reader_.join();
}

void EventLog::KeepNetns(uint32_t netns_inode) {
  std::lock_guard<std::mutex> lock(mu_);
  netns_.insert(netns_inode);
}

void EventLog::Run() {
  auto last_sweep = std::chrono::steady_clock::now();
  while (!stop_.load()) {
    std::vector<netmon_sock_event> batch;
    layer_->PollEvents(10, [&](const netmon_sock_event& e) { batch.push_back(e); });
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (const auto& e : batch) {
        if (netns_.count(e.tuple.netns) != 0 || netns_.count(e.owner.netns) != 0) events_.push_back(e);
      }
      ++polls_;
    }
    // As the server does: forget released sockets once their grace is over.
    auto now = std::chrono::steady_clock::now();
    if (now - last_sweep >= std::chrono::seconds(1)) {
      timespec ts{};
      clock_gettime(CLOCK_MONOTONIC, &ts);
      layer_->SweepReleased(static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec));
      last_sweep = now;
    }
  }
}

std::optional<netmon_sock_event> EventLog::WaitFor(const std::function<bool(const netmon_sock_event&)>& match,
                                                   int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  size_t checked = 0;
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      for (; checked < events_.size(); ++checked) {
        if (match(events_[checked])) return events_[checked];
      }
    }
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

std::vector<netmon_sock_event> EventLog::All(const std::function<bool(const netmon_sock_event&)>& match,
                                             int settle_ms) {
  std::this_thread::sleep_for(std::chrono::milliseconds(settle_ms));
  Drain();
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<netmon_sock_event> out;
  for (const auto& e : events_) {
    if (match(e)) out.push_back(e);
  }
  return out;
}

void EventLog::Drain() {
  // Two full polls after now: the reader has consumed everything that was queued when Drain was called.
  uint64_t target;
  {
    std::lock_guard<std::mutex> lock(mu_);
    target = polls_ + 2;
  }
  for (;;) {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (polls_ >= target) return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
}

std::string Comm(const netmon_owner& o) {
  return std::string(o.comm, strnlen(o.comm, sizeof(o.comm)));
}
std::string Local(const netmon_sock_event& e) {
  return FormatAddr(e.tuple.local_addr, e.tuple.local_port);
}
std::string Remote(const netmon_sock_event& e) {
  return FormatAddr(e.tuple.remote_addr, e.tuple.remote_port);
}

bool SameEndpoint(const uint8_t addr[NETMON_ADDR_LEN], uint16_t port, const std::string& text) {
  Addr want{};
  uint16_t want_port = 0;
  if (!ParseAddrPort(text, &want, &want_port)) return false;
  return want_port == port && memcmp(want.data(), addr, NETMON_ADDR_LEN) == 0;
}

bool LocalIs(const netmon_sock_event& e, const std::string& text) {
  return SameEndpoint(e.tuple.local_addr, e.tuple.local_port, text);
}
bool RemoteIs(const netmon_sock_event& e, const std::string& text) {
  return SameEndpoint(e.tuple.remote_addr, e.tuple.remote_port, text);
}

netmon_tuple IngressTuple(const std::string& local, const std::string& remote, uint8_t proto, uint32_t netns) {
  Addr la{}, ra{};
  uint16_t lp = 0, rp = 0;
  ParseAddrPort(local, &la, &lp);
  ParseAddrPort(remote, &ra, &rp);
  return MakeTuple(la, lp, ra, rp, proto, netns);
}

const char* EventName(uint8_t type) {
  switch (type) {
    case NETMON_SOCK_CONNECT: return "CONNECT";
    case NETMON_SOCK_ACCEPT: return "ACCEPT";
    case NETMON_SOCK_CLOSE: return "CLOSE";
    case NETMON_SOCK_OWNER: return "OWNER";
    default: return "?";
  }
}

std::string Describe(const netmon_sock_event& e) {
  return StrCat(EventName(e.type), " ", FormatTuple(e.tuple), " pid ", e.owner.tgid, " comm ", Comm(e.owner),
                " outcome ", int(e.outcome), " err ", e.err, " role ", int(e.role), " latency_ns ", e.latency_ns,
                " sent ", e.bytes_sent, " recv ", e.bytes_received, " cookie ", e.cookie);
}

std::string RunOutput(const std::string& command) {
  std::unique_ptr<FILE, int (*)(FILE*)> pipe(popen(command.c_str(), "r"), pclose);
  if (!pipe) return {};
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof(buf), pipe.get())) > 0) out.append(buf, n);
  return out;
}

namespace {
std::vector<std::string> AllMatches(const std::string& text, const std::regex& re) {
  std::vector<std::string> out;
  for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator(); ++it) {
    out.push_back((*it)[1].str());
  }
  return out;
}
std::string AttachedListing() {
  return RunOutput("bpftool -j link show 2>/dev/null") + RunOutput("bpftool -j cgroup tree 2>/dev/null");
}
}  // namespace

std::vector<uint32_t> BpftoolAttachedProgIds() {
  std::vector<uint32_t> ids;
  for (const std::string& s : AllMatches(AttachedListing(), std::regex("\"prog_id\":(\\d+)"))) {
    ids.push_back(static_cast<uint32_t>(std::stoul(s)));
  }
  for (const std::string& s : AllMatches(AttachedListing(), std::regex("\"id\":(\\d+),\"attach_type\""))) {
    ids.push_back(static_cast<uint32_t>(std::stoul(s)));
  }
  return ids;
}

std::vector<AttachedProg> BpftoolAttachedProgs() {
  std::vector<AttachedProg> out;
  std::vector<uint32_t> ids = BpftoolAttachedProgIds();
  std::sort(ids.begin(), ids.end());
  ids.erase(std::unique(ids.begin(), ids.end()), ids.end());
  for (uint32_t id : ids) {
    std::string json = RunOutput(StrCat("bpftool -j prog show id ", id, " 2>/dev/null"));
    AttachedProg p;
    p.id = id;
    auto names = AllMatches(json, std::regex("\"name\":\"([^\"]*)\""));
    if (!names.empty()) p.name = names.front();
    for (const std::string& pid : AllMatches(json, std::regex("\"pid\":(\\d+)"))) p.pids.push_back(std::stoi(pid));
    out.push_back(std::move(p));
  }
  return out;
}

std::vector<uint32_t> ProgIdsHeldByThisProcess() {
  std::vector<uint32_t> ids;
  std::string listing = RunOutput(StrCat("grep -h '^prog_id:' /proc/", getpid(), "/fdinfo/* 2>/dev/null"));
  for (const std::string& id : AllMatches(listing, std::regex("prog_id:\\s*(\\d+)"))) {
    ids.push_back(static_cast<uint32_t>(std::stoul(id)));
  }
  return ids;
}

}  // namespace netmon::sock::testing
