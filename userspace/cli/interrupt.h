// SPDX-License-Identifier: Apache-2.0
// Ctrl-C for netmonctl: a signal thread (sigwait on SIGINT/SIGTERM, blocked everywhere else) marks the process
// interrupted and cancels the gRPC call in flight, so a blocked stream read returns at once.
#pragma once

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>

namespace netmon::cli {

class Interrupt {
 public:
  static Interrupt& Get();

  // Blocks SIGINT/SIGTERM in the calling thread (call first in main, before any thread exists) and starts the
  // thread that waits for them.
  void Install();
  bool requested() const { return requested_; }
  void Request();

  // While alive, an interrupt cancels `context`.
  class Guard {
   public:
    explicit Guard(grpc::ClientContext* context);
    ~Guard();
    Guard(const Guard&) = delete;
    Guard& operator=(const Guard&) = delete;
  };

  // Sleeps up to `d`; false if interrupted.
  bool SleepFor(std::chrono::milliseconds d);

 private:
  std::atomic<bool> requested_{false};
  std::mutex mu_;
  std::condition_variable cv_;
  grpc::ClientContext* active_ = nullptr;
};

}  // namespace netmon::cli
