// SPDX-License-Identifier: Apache-2.0
// gtest assertions for absl::Status / StatusOr: failures print the status message, which says what failed.
#pragma once

#include <gtest/gtest.h>

#include <utility>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define NMT_CONCAT_INNER(a, b) a##b
#define NMT_CONCAT(a, b) NMT_CONCAT_INNER(a, b)

#define ASSERT_OK(expr)                           \
  do {                                            \
    const ::absl::Status nmt_status_ = (expr);    \
    ASSERT_TRUE(nmt_status_.ok()) << nmt_status_; \
  } while (0)

// `lhs` is a declaration ("auto x"), which parentheses would break.
// NOLINTBEGIN(bugprone-macro-parentheses)
#define ASSERT_OK_AND_ASSIGN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  ASSERT_TRUE(tmp.ok()) << tmp.status();          \
  lhs = std::move(*tmp)

// ASSERT_OK_AND_ASSIGN(auto topo, Topology::Create());
#define ASSERT_OK_AND_ASSIGN(lhs, expr) ASSERT_OK_AND_ASSIGN_IMPL(NMT_CONCAT(nmt_statusor_, __LINE__), lhs, expr)
// NOLINTEND(bugprone-macro-parentheses)
