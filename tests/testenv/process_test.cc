// SPDX-License-Identifier: Apache-2.0
// Process and RunCommand: bounded waits, clean errors, no SIGPIPE, setns into a test namespace.
#include "testenv/process.h"

#include <gtest/gtest.h>
#include <signal.h>

#include <chrono>

#include "common/str_cat.h"
#include "testenv/command.h"
#include "testenv/netns.h"
#include "tests/testenv/status_macros.h"

namespace netmon::testenv {
namespace {

TEST(ProcessTest, MissingProgramIsNotFound) {
  auto p = Process::Spawn(nullptr, {"netmon-no-such-program"});
  EXPECT_TRUE(absl::IsNotFound(p.status())) << p.status();
}

TEST(ProcessTest, EchoesThroughPipes) {
  ASSERT_OK_AND_ASSIGN(Process cat, Process::Spawn(nullptr, {"cat"}));
  ASSERT_OK(cat.WriteLine("hello netmon"));
  ASSERT_OK_AND_ASSIGN(std::string line, cat.ReadLine(5000));
  EXPECT_EQ(line, "hello netmon");
  cat.CloseStdin();
  ASSERT_OK_AND_ASSIGN(int code, cat.Wait(5000));
  EXPECT_EQ(code, 0);
  EXPECT_TRUE(absl::IsOutOfRange(cat.ReadLine(1000).status()));
}

TEST(ProcessTest, ReadLineIsBounded) {
  ASSERT_OK_AND_ASSIGN(Process sleeper, Process::Spawn(nullptr, {"sleep", "30"}));
  auto start = std::chrono::steady_clock::now();
  auto line = sleeper.ReadLine(200);
  EXPECT_TRUE(absl::IsDeadlineExceeded(line.status())) << line.status();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

TEST(ProcessTest, WaitTimeoutKills) {
  ASSERT_OK_AND_ASSIGN(Process sleeper, Process::Spawn(nullptr, {"sleep", "30"}));
  pid_t pid = sleeper.pid();
  auto code = sleeper.Wait(200);
  EXPECT_TRUE(absl::IsDeadlineExceeded(code.status())) << code.status();
  EXPECT_NE(kill(pid, 0), 0) << "pid " << pid << " still exists after Wait timed out";
  ASSERT_OK_AND_ASSIGN(int again, sleeper.Wait(0));
  EXPECT_EQ(again, 128 + SIGKILL);
}

TEST(ProcessTest, ExitCodeAndSignal) {
  ASSERT_OK_AND_ASSIGN(Process fails, Process::Spawn(nullptr, {"sh", "-c", "exit 3"}));
  ASSERT_OK_AND_ASSIGN(int code, fails.Wait(5000));
  EXPECT_EQ(code, 3);
  ASSERT_OK_AND_ASSIGN(Process sleeper, Process::Spawn(nullptr, {"sleep", "30"}));
  ASSERT_OK(sleeper.Signal(SIGTERM));
  ASSERT_OK_AND_ASSIGN(int term, sleeper.Wait(5000));
  EXPECT_EQ(term, 128 + SIGTERM);
}

TEST(ProcessTest, WriteToExitedProcessIsAnErrorNotSigpipe) {
  ASSERT_OK_AND_ASSIGN(Process done, Process::Spawn(nullptr, {"true"}));
  ASSERT_OK_AND_ASSIGN(int code, done.Wait(5000));
  EXPECT_EQ(code, 0);
  EXPECT_FALSE(done.WriteLine("anyone there?").ok());  // the test binary is still alive: no SIGPIPE
}

TEST(ProcessTest, DestructorKillsAndReaps) {
  pid_t pid;
  {
    ASSERT_OK_AND_ASSIGN(Process sleeper, Process::Spawn(nullptr, {"sleep", "30"}));
    pid = sleeper.pid();
    EXPECT_EQ(kill(pid, 0), 0);
  }
  EXPECT_NE(kill(pid, 0), 0);
  EXPECT_EQ(Process::LiveCount(), 0);
}

TEST(ProcessTest, RunsInsideNamespace) {
  ASSERT_OK_AND_ASSIGN(Netns ns, Netns::Create("proc"));
  ASSERT_OK_AND_ASSIGN(Process p, Process::Spawn(&ns, {"readlink", "/proc/self/ns/net"}));
  ASSERT_OK_AND_ASSIGN(std::string link, p.ReadLine(5000));
  EXPECT_EQ(link, StrCat("net:[", ns.inode(), "]"));
  ASSERT_OK_AND_ASSIGN(int code, p.Wait(5000));
  EXPECT_EQ(code, 0);
}

TEST(CommandTest, FailureCarriesStderr) {
  auto out = RunChecked({"ip", "link", "show", "dev", "nm-nonexistent"});
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("does not exist"), std::string::npos) << out.status();
  EXPECT_NE(out.status().message().find("ip link show"), std::string::npos) << out.status();
}

TEST(CommandTest, TimeoutKills) {
  auto start = std::chrono::steady_clock::now();
  auto out = RunCommand({"sleep", "30"}, nullptr, 200);
  EXPECT_TRUE(absl::IsDeadlineExceeded(out.status())) << out.status();
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
}

}  // namespace
}  // namespace netmon::testenv
