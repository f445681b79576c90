// SPDX-License-Identifier: Apache-2.0
// gtest glue: a global Environment that sweeps a crashed earlier run's leftovers before the first test and, after
// the last, fails the binary if this run itself leaked a namespace or a process. Link netmon_testenv_main (a
// gtest main that registers it) or call RegisterSweepEnvironment() before RUN_ALL_TESTS().
#pragma once

#include <gtest/gtest.h>

#include "absl/strings/str_join.h"
#include "testenv/process.h"
#include "testenv/sweep.h"

namespace netmon::testenv {

class SweepEnvironment : public ::testing::Environment {
 public:
  void SetUp() override { SweepLeftovers(); }
  void TearDown() override {
    std::vector<std::string> own = OwnNetnsOnDisk();
    EXPECT_TRUE(own.empty()) << "network namespaces of this run still exist: " << absl::StrJoin(own, ", ");
    EXPECT_EQ(Process::LiveCount(), 0) << "processes started by this run were not reaped";
  }
};

// Idempotent: registers one SweepEnvironment.
inline void RegisterSweepEnvironment() {
  // gtest's API takes ownership of a raw pointer and deletes it at exit.
  static const bool registered =
      (::testing::AddGlobalTestEnvironment(new SweepEnvironment),  // NOLINT(cppcoreguidelines-owning-memory)
       true);
  (void)registered;
}

}  // namespace netmon::testenv
