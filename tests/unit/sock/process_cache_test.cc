// SPDX-License-Identifier: Apache-2.0
#include "proc/process_cache.h"

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>

namespace netmon::proc {
namespace {

namespace fs = std::filesystem;

// A fake /proc with one process: stat with a hostile comm (spaces and parentheses), comm, cmdline, exe link.
class FakeProc : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/netmon-fakeproc-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
    Write(42, "42 (evil) name)) S 1 42 42 0 -1 4194304 0 0 0 0 0 0 0 0 20 0 1 0 12345 0 0", "evil) name)\n",
          std::string("prog\0--flag\0value\0", 18), "/usr/bin/prog");
  }
  void TearDown() override { fs::remove_all(root_); }

  void Write(int pid, const std::string& stat, const std::string& comm, const std::string& cmdline,
             const std::string& exe) {
    fs::path dir = fs::path(root_) / std::to_string(pid);
    fs::create_directories(dir);
    std::ofstream(dir / "stat") << stat;
    std::ofstream(dir / "comm") << comm;
    std::ofstream(dir / "cmdline", std::ios::binary) << cmdline;
    fs::create_symlink(exe, dir / "exe");
  }

  uint64_t TickNs() const { return 1'000'000'000ull / static_cast<uint64_t>(sysconf(_SC_CLK_TCK)); }

  std::string root_;
};

TEST_F(FakeProc, ParsesStatPastAHostileComm) {
  auto start = ReadStartTimeNs(42, root_);
  ASSERT_TRUE(start.has_value());
  EXPECT_EQ(*start, 12345 * TickNs());
  auto info = ReadProcess(42, 12345 * TickNs() + 7, root_);  // sub-tick difference: same process
  ASSERT_TRUE(info.has_value());
  EXPECT_EQ(info->comm, "evil) name)");
  EXPECT_EQ(info->exe, "/usr/bin/prog");
  EXPECT_EQ(info->cmdline, "prog --flag value");
  EXPECT_TRUE(info->from_proc);
}

TEST_F(FakeProc, ReusedPidIsNotMislabelled) {
  EXPECT_FALSE(ReadProcess(42, 99999 * TickNs(), root_).has_value());
  ProcessCache cache(16, root_);
  cache.Note(42, 99999 * TickNs(), "oldname");
  auto info = cache.Lookup(42, 99999 * TickNs());
  ASSERT_TRUE(info.has_value());
  EXPECT_FALSE(info->from_proc);
  EXPECT_EQ(info->comm, "oldname");  // what the kernel recorded, not the new holder of PID 42
  EXPECT_TRUE(info->exe.empty());
  EXPECT_FALSE(cache.Lookup(42, 12345 * TickNs()).has_value());
}

TEST_F(FakeProc, ReadsOncePerProcessAndStaysBounded) {
  ProcessCache cache(2, root_);
  cache.Note(42, 12345 * TickNs());
  cache.Note(42, 12345 * TickNs());
  EXPECT_EQ(cache.proc_reads(), 1u);
  EXPECT_EQ(cache.Lookup(42, 12345 * TickNs())->exe, "/usr/bin/prog");
  cache.Note(1000, 1, "a");
  cache.Note(1001, 1, "b");
  EXPECT_EQ(cache.size(), 2u);
  EXPECT_FALSE(cache.Lookup(42, 12345 * TickNs()).has_value());  // least recently noted went first
  EXPECT_TRUE(cache.Lookup(1001, 1).has_value());
}

TEST_F(FakeProc, UnknownStartTimeTakesTheLiveProcesss) {
  ProcessCache cache(16, root_);
  cache.Note(42, 0, "kernel-comm");
  auto by_start = cache.Lookup(42, 12345 * TickNs());
  ASSERT_TRUE(by_start.has_value());
  EXPECT_EQ(by_start->exe, "/usr/bin/prog");
  auto by_pid = cache.Lookup(42, 0);
  ASSERT_TRUE(by_pid.has_value());
  EXPECT_EQ(by_pid->comm, "evil) name)");
  EXPECT_FALSE(cache.Lookup(43, 0).has_value());
}

TEST(ProcessCache, ThisProcess) {
  auto start = ReadStartTimeNs(static_cast<uint32_t>(getpid()));
  ASSERT_TRUE(start.has_value());
  ProcessCache cache;
  cache.Note(static_cast<uint32_t>(getpid()), *start);
  auto info = cache.Lookup(static_cast<uint32_t>(getpid()), *start);
  ASSERT_TRUE(info.has_value());
  EXPECT_TRUE(info->from_proc);
  EXPECT_EQ(info->exe, fs::read_symlink("/proc/self/exe").string());
  EXPECT_NE(info->cmdline.find("netmon_unit_sock"), std::string::npos);
}

}  // namespace
}  // namespace netmon::proc
