// SPDX-License-Identifier: Apache-2.0
// Every rule of docs/architecture.md §4.4 that the request alone decides, with its exact status code.
#include "session/validation.h"

#include <gtest/gtest.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <thread>

#include "session_test_util.h"

namespace netmon::session {
namespace {

using testing::Req;

TEST(Validation, TableOfRules) {
  const std::string ok_id = "cap-1._:Z";
  struct Case {
    const char* what;
    CaptureRequest req;
    absl::StatusCode code;
  } cases[] = {
      {"minimal", Req(ok_id), absl::StatusCode::kOk},
      {"empty id", Req(""), absl::StatusCode::kInvalidArgument},
      {"128 chars", Req(std::string(128, 'a')), absl::StatusCode::kOk},
      {"129 chars", Req(std::string(129, 'a')), absl::StatusCode::kInvalidArgument},
      {"slash", Req("a/b"), absl::StatusCode::kInvalidArgument},
      {"space", Req("a b"), absl::StatusCode::kInvalidArgument},
      {"unicode", Req("caf\xc3\xa9"), absl::StatusCode::kInvalidArgument},
      {"nul", Req(std::string("a\0b", 3)), absl::StatusCode::kInvalidArgument},
      {"duration 0", Req(ok_id, 0), absl::StatusCode::kInvalidArgument},
      {"duration -1", Req(ok_id, -1), absl::StatusCode::kInvalidArgument},
      {"duration max", Req(ok_id, 3600), absl::StatusCode::kOk},
      {"duration max+1", Req(ok_id, 3601), absl::StatusCode::kInvalidArgument},
      {"pid negative", Req(ok_id, 10, -1), absl::StatusCode::kInvalidArgument},
      {"pid any", Req(ok_id, 10, 0), absl::StatusCode::kOk},
      {"port negative", Req(ok_id, 10, 0, -1), absl::StatusCode::kInvalidArgument},
      {"port 65535", Req(ok_id, 10, 0, 65535), absl::StatusCode::kOk},
      {"port 65536", Req(ok_id, 10, 0, 65536), absl::StatusCode::kInvalidArgument},
      {"src v4", Req(ok_id, 10, 0, 0, "192.0.2.1"), absl::StatusCode::kOk},
      {"src v6", Req(ok_id, 10, 0, 0, "2001:db8::1"), absl::StatusCode::kOk},
      {"src cidr", Req(ok_id, 10, 0, 0, "192.0.2.0/24"), absl::StatusCode::kOk},
      {"src garbage", Req(ok_id, 10, 0, 0, "not-an-ip"), absl::StatusCode::kInvalidArgument},
      {"src hostname", Req(ok_id, 10, 0, 0, "localhost"), absl::StatusCode::kInvalidArgument},
      {"dst garbage", Req(ok_id, 10, 0, 0, "", "300.1.1.1"), absl::StatusCode::kInvalidArgument},
      {"dst bad prefix", Req(ok_id, 10, 0, 0, "", "10.0.0.0/40"), absl::StatusCode::kInvalidArgument},
  };
  for (const Case& c : cases) {
    auto f = ValidateRequest(c.req, 3600);
    EXPECT_EQ(f.status().code(), c.code) << c.what << ": " << f.status();
    if (!f.ok()) {
      EXPECT_FALSE(f.status().message().empty()) << c.what;
    }
  }
}

TEST(Validation, MessagesNameTheField) {
  EXPECT_NE(ValidateRequest(Req("x", 0), 3600).status().message().find("duration_seconds"), std::string::npos);
  EXPECT_NE(ValidateRequest(Req("x", 1, 0, 0, "", "zz"), 3600).status().message().find("destination_ip"),
            std::string::npos);
  EXPECT_NE(ValidateRequest(Req(""), 3600).status().message().find("session_id"), std::string::npos);
}

TEST(Validation, ConfiguredMaximumDuration) {
  EXPECT_TRUE(ValidateRequest(Req("x", 60), 60).ok());
  EXPECT_EQ(ValidateRequest(Req("x", 61), 60).status().code(), absl::StatusCode::kInvalidArgument);
}

TEST(ProcessCheck, OwnProcessExistsAnUnusedPidDoesNot) {
  EXPECT_TRUE(CheckProcessExists(static_cast<uint32_t>(getpid())).ok());
  // pid_max is at most 2^22; this one cannot exist.
  EXPECT_EQ(CheckProcessExists(4194304 + 7).code(), absl::StatusCode::kNotFound);
}

TEST(ProcessCheck, AThreadIdIsNotAProcess) {
  std::atomic<pid_t> tid{0};
  std::atomic<bool> done{false};
  std::thread t([&] {
    tid = static_cast<pid_t>(syscall(SYS_gettid));
    while (!done) std::this_thread::yield();
  });
  while (tid == 0) std::this_thread::yield();
  absl::Status s = CheckProcessExists(static_cast<uint32_t>(tid.load()));
  done = true;
  t.join();
  EXPECT_EQ(s.code(), absl::StatusCode::kNotFound);
  EXPECT_NE(s.message().find("thread"), std::string::npos);
}

}  // namespace
}  // namespace netmon::session
