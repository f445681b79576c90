// SPDX-License-Identifier: Apache-2.0
// The instance lock decides whether a root process sweeps programs off every interface: it must live where only
// its owner can write, and never follow a symlink planted in its place.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <string>

#include "server/stale_sweep.h"

namespace netmon::server {
namespace {

class InstanceLockTest : public ::testing::Test {
 protected:
  void SetUp() override {
    char tmpl[] = "/tmp/netmon-lock-XXXXXX";
    ASSERT_NE(mkdtemp(tmpl), nullptr);
    root_ = tmpl;
  }
  void TearDown() override { std::filesystem::remove_all(root_); }
  std::string root_;
};

TEST_F(InstanceLockTest, CreatesAPrivateDirectoryAndTakesTheLock) {
  const std::string dir = root_ + "/run-netmon";
  auto lock = InstanceLock::Acquire(dir + "/netmon-server.lock");
  ASSERT_TRUE(lock.ok()) << lock.status();
  EXPECT_TRUE(lock->sole());
  struct stat st {};
  ASSERT_EQ(lstat(dir.c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 0777, 0750u);
  EXPECT_TRUE(lock->Share().ok());
}

TEST_F(InstanceLockTest, RefusesADirectoryOthersCanWrite) {
  const std::string dir = root_ + "/shared";
  ASSERT_EQ(mkdir(dir.c_str(), 0755), 0);
  ASSERT_EQ(chmod(dir.c_str(), 01777), 0);  // like /run/lock or /tmp
  auto lock = InstanceLock::Acquire(dir + "/netmon-server.lock");
  ASSERT_FALSE(lock.ok());
  EXPECT_EQ(lock.status().code(), absl::StatusCode::kFailedPrecondition) << lock.status();
  EXPECT_NE(lock.status().message().find("writable by group or others"), std::string::npos) << lock.status();
  EXPECT_FALSE(std::filesystem::exists(dir + "/netmon-server.lock"));
}

TEST_F(InstanceLockTest, RefusesASymlinkedDirectoryAndASymlinkedLockFile) {
  const std::string real = root_ + "/real";
  ASSERT_EQ(mkdir(real.c_str(), 0750), 0);
  const std::string linked = root_ + "/linked";
  ASSERT_EQ(symlink(real.c_str(), linked.c_str()), 0);
  auto via_link = InstanceLock::Acquire(linked + "/netmon-server.lock");
  ASSERT_FALSE(via_link.ok());
  EXPECT_EQ(via_link.status().code(), absl::StatusCode::kFailedPrecondition) << via_link.status();

  // A lock "file" that is a symlink to something else: O_NOFOLLOW refuses to open (and so to create) through it.
  const std::string victim = root_ + "/victim";
  const std::string lock_path = real + "/netmon-server.lock";
  ASSERT_EQ(symlink(victim.c_str(), lock_path.c_str()), 0);
  auto planted = InstanceLock::Acquire(lock_path);
  ASSERT_FALSE(planted.ok());
  EXPECT_FALSE(std::filesystem::exists(victim)) << "the lock followed the symlink and created its target";
}

}  // namespace
}  // namespace netmon::server
