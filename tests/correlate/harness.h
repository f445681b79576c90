// SPDX-License-Identifier: Apache-2.0
// What netmon-correlate's end-to-end tests share: a temporary directory, free loopback ports, the correlator binary
// as a child process with pipes (JSON lines in, enriched lines out, every read bounded), and a real JetStream server
// (nats-server -js) on a free loopback port with its store in a temporary directory. Every process started here is
// stopped by its PID and every directory removed, on every exit path.
#pragma once

#include <sys/types.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "correlate/json_in.h"
#include "testenv/temp_dir.h"

namespace netmon::correlate::test {

// A fresh directory under $TMPDIR, removed on destruction, with Write(name, content) (testenv's).
using TempDir = testenv::TempDir;

// A port on 127.0.0.1 nothing is bound to right now (bind to 0, read it, close).
uint16_t FreePort(int type);

// A child process. Killed (SIGTERM, then SIGKILL after a bounded wait) and reaped on destruction.
class Child {
 public:
  // `pipe_stdin`/`pipe_stdout`: give the test a pipe; otherwise /dev/null. stderr goes to `stderr_path`.
  Child(const std::vector<std::string>& argv, bool pipe_stdin, bool pipe_stdout, const std::string& stderr_path,
        const std::vector<std::string>& extra_env = {});
  ~Child();
  Child(const Child&) = delete;
  Child& operator=(const Child&) = delete;

  bool started() const { return pid_ > 0; }
  pid_t pid() const { return pid_; }
  bool WriteLine(const std::string& line);
  void CloseStdin();
  // The next stdout line, waiting at most timeout_ms.
  std::optional<std::string> ReadLine(int timeout_ms);
  // Sends `sig` and waits (at most timeout_ms) for the exit; the exit status (as waitpid's) or nullopt.
  std::optional<int> Signal(int sig, int timeout_ms);
  std::optional<int> Wait(int timeout_ms);

 private:
  pid_t pid_ = -1;
  int in_ = -1;
  int out_ = -1;
  std::string buffer_;
  bool reaped_ = false;
};

std::string ReadFile(const std::string& path);

// Runs a command to completion (bounded); returns its exit status or -1.
int RunCommand(const std::vector<std::string>& argv, int timeout_ms);

// netmon-correlate with a pipe on each side: in file mode (--input -), or in NATS mode (no --input; the pipes then
// carry nothing, and the test watches NATS instead).
class Correlator {
 public:
  Correlator(const std::string& config_json, const TempDir& dir, bool file_mode = true);
  Child& child() { return *child_; }
  // Sends a line and returns the next output line parsed (bounded).
  std::optional<Json> Ask(const std::string& line, int timeout_ms = 10000);
  std::optional<Json> Stats() {
    auto s = Ask(R"({"control":"stats"})");
    return s ? std::optional<Json>((*s)["stats"]) : std::nullopt;
  }
  // Polls stats until `pred(stats)` holds, at most timeout_ms. Returns the last stats.
  template <typename Pred>
  std::optional<Json> WaitStats(Pred pred, int timeout_ms = 10000);
  std::string Stderr() const { return ReadFile(stderr_path_); }

 private:
  std::string stderr_path_;
  std::unique_ptr<Child> child_;
};

// nats-server -js on a free loopback port, store in a temporary directory.
class NatsServer {
 public:
  explicit NatsServer(const TempDir& dir);
  ~NatsServer();
  bool Start();  // (re)starts on the same port and store; waits (bounded) until it accepts connections
  void Kill();   // SIGKILL: nothing gets to flush, as in a crash
  void Stop();   // SIGTERM, bounded wait
  std::string url() const;
  uint16_t port() const { return port_; }
  static bool Available();

 private:
  std::string store_;
  std::string log_;
  uint16_t port_;
  std::unique_ptr<Child> child_;
};

std::string CorrelateBinary();
std::string TestSourceDir();
int64_t WallNowNs();

template <typename Pred>
std::optional<Json> Correlator::WaitStats(Pred pred, int timeout_ms) {
  std::optional<Json> last;
  for (int waited = 0; waited <= timeout_ms; waited += 50) {
    last = Stats();
    if (last && pred(*last)) return last;
    struct timespec ts {
      0, 50'000'000
    };
    nanosleep(&ts, nullptr);
  }
  return last;
}

}  // namespace netmon::correlate::test
