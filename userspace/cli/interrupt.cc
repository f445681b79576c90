// SPDX-License-Identifier: Apache-2.0
#include "cli/interrupt.h"

#include <pthread.h>
#include <signal.h>

#include <thread>

namespace netmon::cli {

Interrupt& Interrupt::Get() {
  static Interrupt instance;
  return instance;
}

void Interrupt::Install() {
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGINT);
  sigaddset(&set, SIGTERM);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);
  // Lives until exit; the process ends with main's return, which does not wait for it.
  std::thread([set] {
    int sig = 0;
    while (sigwait(&set, &sig) == 0) Get().Request();
  }).detach();
}

void Interrupt::Request() {
  std::lock_guard<std::mutex> l(mu_);
  requested_ = true;
  if (active_ != nullptr) active_->TryCancel();
  cv_.notify_all();
}

Interrupt::Guard::Guard(grpc::ClientContext* context) {
  Interrupt& i = Get();
  std::lock_guard<std::mutex> l(i.mu_);
  i.active_ = context;
  if (i.requested_) context->TryCancel();
}

Interrupt::Guard::~Guard() {
  Interrupt& i = Get();
  std::lock_guard<std::mutex> l(i.mu_);
  i.active_ = nullptr;
}

bool Interrupt::SleepFor(std::chrono::milliseconds d) {
  std::unique_lock<std::mutex> l(mu_);
  cv_.wait_for(l, d, [this] { return requested_.load(); });
  return !requested_;
}

}  // namespace netmon::cli
