// SPDX-License-Identifier: Apache-2.0
// Namespaces and the two-host topology come up ready to use and leave nothing behind: not after a normal end,
// not after a crash (the next run's sweep removes what a killed run left).
#include "testenv/topology.h"

#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <thread>

#include "absl/strings/match.h"
#include "absl/strings/str_split.h"
#include "common/netns.h"
#include "common/str_cat.h"
#include "testenv/command.h"
#include "testenv/dns_server.h"
#include "testenv/names.h"
#include "testenv/netns.h"
#include "testenv/process.h"
#include "testenv/sweep.h"
#include "tests/testenv/status_macros.h"

namespace netmon::testenv {
namespace {

std::string NetnsList() {
  auto out = RunChecked({"ip", "netns", "list"});
  return out.ok() ? *out : out.status().ToString();
}

bool Listed(const std::string& name) {
  for (absl::string_view line : absl::StrSplit(NetnsList(), '\n')) {
    // "name" or "name (id: N)"
    if (line == name || absl::StartsWith(line, StrCat(name, " "))) return true;
  }
  return false;
}

// Processes that are not our children are reaped by init, so "gone" needs a short wait.
bool GoneWithin(pid_t pid, std::chrono::milliseconds limit) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (kill(pid, 0) == 0) {
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return true;
}

// A pid that certainly belongs to no running process (a child that exited and was reaped).
pid_t DeadPid() {
  pid_t pid = fork();
  if (pid == 0) _exit(0);
  waitpid(pid, nullptr, 0);
  return pid;
}

// Deletes a hand-made namespace at scope exit, so a failing assertion leaves nothing behind.
struct HandMadeNetns {
  std::string name;
  ~HandMadeNetns() { (void)DeleteNamedNetns(name); }
};

TEST(NetnsTest, CreateAndDestroy) {
  std::string name;
  {
    ASSERT_OK_AND_ASSIGN(Netns ns, Netns::Create("solo"));
    name = ns.name();
    EXPECT_TRUE(absl::StartsWith(name, StrCat("nmt-", getpid(), "-"))) << name;
    EXPECT_TRUE(absl::EndsWith(name, "-solo")) << name;
    EXPECT_TRUE(Listed(name)) << NetnsList();
    ASSERT_OK_AND_ASSIGN(uint32_t host_inode, CurrentNetnsInode());
    EXPECT_NE(ns.inode(), host_inode);
    ASSERT_OK_AND_ASSIGN(std::string lo, RunChecked({"ip", "-n", name, "-o", "link", "show", "lo"}));
    EXPECT_NE(lo.find("UP"), std::string::npos) << lo;

    Netns moved = std::move(ns);  // the moved-from object must not delete the namespace
    EXPECT_EQ(moved.name(), name);
    EXPECT_TRUE(Listed(name));
  }
  EXPECT_FALSE(Listed(name)) << NetnsList();
  EXPECT_FALSE(IsOwnedNetns(name));
}

TEST(NetnsTest, RejectsBadRole) {
  EXPECT_TRUE(absl::IsInvalidArgument(Netns::Create("Bad Role").status()));
  EXPECT_TRUE(absl::IsInvalidArgument(Netns::Create("").status()));
}

TEST(TopologyTest, EndsAreConfigured) {
  ASSERT_OK_AND_ASSIGN(Topology topo, Topology::Create());
  EXPECT_NE(topo.client().name(), topo.server().name());
  EXPECT_NE(topo.client().inode(), topo.server().inode());
  EXPECT_TRUE(absl::EndsWith(topo.client().name(), "-client"));
  EXPECT_TRUE(absl::EndsWith(topo.server().name(), "-server"));
  for (const auto& [ns, end, peer] : {std::tuple{&topo.client(), &topo.client_end(), &topo.server_end()},
                                      std::tuple{&topo.server(), &topo.server_end(), &topo.client_end()}}) {
    SCOPED_TRACE(ns->name());
    EXPECT_GT(end->ifindex, 0);
    EXPECT_TRUE(absl::StartsWith(end->ipv4, "10.")) << end->ipv4;
    EXPECT_TRUE(absl::StartsWith(end->ipv6, "fd00:")) << end->ipv6;
    ASSERT_OK_AND_ASSIGN(std::string link, RunChecked({"ip", "-n", ns->name(), "-o", "link", "show", end->ifname}));
    EXPECT_NE(link.find(end->mac), std::string::npos) << link;
    EXPECT_NE(link.find("state UP"), std::string::npos) << link;
    ASSERT_OK_AND_ASSIGN(std::string addrs, RunChecked({"ip", "-n", ns->name(), "addr", "show", end->ifname}));
    EXPECT_NE(addrs.find(end->ipv4 + "/24"), std::string::npos) << addrs;
    EXPECT_NE(addrs.find(end->ipv6 + "/64"), std::string::npos) << addrs;
    EXPECT_EQ(addrs.find("tentative"), std::string::npos) << "DAD must be off: " << addrs;
    ASSERT_OK_AND_ASSIGN(std::string neigh, RunChecked({"ip", "-n", ns->name(), "neigh", "show", "nud", "permanent"}));
    EXPECT_NE(neigh.find(peer->ipv4 + " dev " + end->ifname + " lladdr " + peer->mac), std::string::npos) << neigh;
    EXPECT_NE(neigh.find(peer->ipv6 + " dev " + end->ifname + " lladdr " + peer->mac), std::string::npos) << neigh;
  }
  // The veth names never exist in the host namespace.
  EXPECT_FALSE(RunChecked({"ip", "link", "show", "dev", topo.client_end().ifname}).ok());
  EXPECT_FALSE(RunChecked({"ip", "link", "show", "dev", topo.server_end().ifname}).ok());
}

TEST(TopologyTest, ConcurrentTopologiesDiffer) {
  ASSERT_OK_AND_ASSIGN(Topology a, Topology::Create());
  ASSERT_OK_AND_ASSIGN(Topology b, Topology::Create());
  EXPECT_NE(a.client().name(), b.client().name());
  EXPECT_NE(a.client_end().ipv4, b.client_end().ipv4);
  EXPECT_NE(a.client_end().ipv6, b.client_end().ipv6);
}

TEST(CleanupTest, NothingLeftAfterDestruction) {
  std::vector<std::string> names;
  std::vector<pid_t> pids;
  {
    ASSERT_OK_AND_ASSIGN(Topology topo, Topology::Create());
    ASSERT_OK_AND_ASSIGN(DnsServer dns, DnsServer::Start(topo.server(), topo.server_end().ipv4, ""));
    ASSERT_OK_AND_ASSIGN(Process sleeper, Process::Spawn(&topo.client(), {"sleep", "300"}));
    names = {topo.client().name(), topo.server().name()};
    pids = {dns.pid(), sleeper.pid()};
    for (const std::string& name : names) EXPECT_TRUE(Listed(name));
  }
  for (const std::string& name : names) EXPECT_FALSE(Listed(name)) << NetnsList();
  for (pid_t pid : pids) EXPECT_NE(kill(pid, 0), 0) << "pid " << pid << " survived";
  EXPECT_TRUE(OwnNetnsOnDisk().empty());
  EXPECT_EQ(Process::LiveCount(), 0);
  EXPECT_EQ(OwnedNetnsCount(), 0);
}

TEST(SweepTest, RemovesLeftoverAndItsProcesses) {
  HandMadeNetns leftover{StrCat("nmt-", DeadPid(), "-0-leftover")};
  ASSERT_OK(RunChecked({"ip", "netns", "add", leftover.name}).status());
  // `ip netns exec` execs the program, so the pid we know is the process inside the namespace.
  ASSERT_OK_AND_ASSIGN(Process inside, Process::Spawn(nullptr, {"ip", "netns", "exec", leftover.name, "sleep", "300"}));
  ASSERT_OK_AND_ASSIGN(UniqueFd ns_fd, OpenNetns(StrCat(kNetnsDir, "/", leftover.name)));
  ASSERT_OK_AND_ASSIGN(uint32_t inode, NetnsInode(ns_fd.get()));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  while (true) {  // until `ip netns exec` has entered the namespace and exec'd sleep
    ASSERT_OK_AND_ASSIGN(std::string link, RunChecked({"readlink", StrCat("/proc/", inside.pid(), "/ns/net")}));
    if (link == StrCat("net:[", inode, "]\n")) break;
    ASSERT_LT(std::chrono::steady_clock::now(), deadline) << "process never entered " << leftover.name;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ns_fd.Reset();

  std::vector<std::string> leftovers = LeftoverNetns();
  EXPECT_NE(std::find(leftovers.begin(), leftovers.end(), leftover.name), leftovers.end());
  SweepLeftovers();
  EXPECT_FALSE(Listed(leftover.name)) << NetnsList();
  ASSERT_OK_AND_ASSIGN(int code, inside.Wait(5000));
  EXPECT_EQ(code, 128 + SIGKILL);
}

TEST(SweepTest, SparesNamespacesOfRunningOwners) {
  // The owner is a process of ours that is alive during the test; once it is gone (even if this test crashes),
  // the next sweep removes the namespace.
  ASSERT_OK_AND_ASSIGN(Process owner, Process::Spawn(nullptr, {"sleep", "300"}));
  HandMadeNetns other_run{StrCat("nmt-", owner.pid(), "-0-otherrun")};
  ASSERT_OK(RunChecked({"ip", "netns", "add", other_run.name}).status());
  ASSERT_OK_AND_ASSIGN(Netns ours, Netns::Create("mine"));

  SweepLeftovers();
  EXPECT_TRUE(Listed(other_run.name)) << "a running test binary's namespace was swept";
  EXPECT_TRUE(Listed(ours.name())) << "this process's own live namespace was swept";

  owner.Kill();
  SweepLeftovers();
  EXPECT_FALSE(Listed(other_run.name)) << NetnsList();
}

// A test binary killed with SIGKILL runs no destructor. Its processes die with it (PR_SET_PDEATHSIG) and its
// namespaces are removed by the next sweep.
TEST(SweepTest, KilledRunIsSweptByTheNext) {
  int report[2];
  ASSERT_EQ(pipe(report), 0);
  pid_t run = fork();
  ASSERT_GE(run, 0);
  if (run == 0) {  // the "earlier run": builds an environment, reports it, then waits to be killed
    close(report[0]);
    auto topo = Topology::Create();
    if (!topo.ok()) _exit(1);
    auto dns = DnsServer::Start(topo->server(), topo->server_end().ipv4, topo->server_end().ipv6);
    auto sleeper = Process::Spawn(&topo->client(), {"sleep", "300"});
    if (!dns.ok() || !sleeper.ok()) _exit(1);
    std::string line =
        StrCat(topo->client().name(), " ", topo->server().name(), " ", dns->pid(), " ", sleeper->pid(), "\n");
    if (write(report[1], line.data(), line.size()) != static_cast<ssize_t>(line.size())) _exit(1);
    pause();
    _exit(0);
  }
  close(report[1]);
  std::string line;
  char c;
  while (read(report[0], &c, 1) == 1 && c != '\n') line += c;
  close(report[0]);
  kill(run, SIGKILL);
  int status = 0;
  waitpid(run, &status, 0);
  std::vector<std::string> parts = absl::StrSplit(line, ' ');
  if (parts.size() != 4u) {
    SweepLeftovers();  // whatever the failed run built
    FAIL() << "the earlier run failed to build its environment (exit status " << status << ")";
  }

  for (int i : {2, 3}) {
    EXPECT_TRUE(GoneWithin(std::stoi(parts[i]), std::chrono::seconds(5))) << "pid " << parts[i] << " outlived its run";
  }
  EXPECT_TRUE(Listed(parts[0]));
  EXPECT_TRUE(Listed(parts[1]));
  SweepLeftovers();
  EXPECT_FALSE(Listed(parts[0])) << NetnsList();
  EXPECT_FALSE(Listed(parts[1])) << NetnsList();
}

}  // namespace
}  // namespace netmon::testenv
