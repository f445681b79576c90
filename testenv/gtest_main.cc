// SPDX-License-Identifier: Apache-2.0
// main() for test binaries that use testenv: gtest_main plus the sweep/leak-check environment.
#include <gtest/gtest.h>

#include "testenv/gtest_env.h"

int main(int argc, char** argv) {
  ::testing::InitGoogleTest(&argc, argv);
  netmon::testenv::RegisterSweepEnvironment();
  return RUN_ALL_TESTS();
}
