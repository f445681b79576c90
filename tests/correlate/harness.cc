// SPDX-License-Identifier: Apache-2.0
#include "harness.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>

extern char** environ;

namespace netmon::correlate::test {

uint16_t FreePort(int type) {
  int fd = socket(AF_INET, type | SOCK_CLOEXEC, 0);
  if (fd < 0) return 0;
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(a);
  uint16_t port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0 &&
      getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len) == 0) {
    port = ntohs(a.sin_port);
  }
  close(fd);
  return port;
}

std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Child::Child(const std::vector<std::string>& argv, bool pipe_stdin, bool pipe_stdout, const std::string& stderr_path,
             const std::vector<std::string>& extra_env) {
  int in[2] = {-1, -1}, out[2] = {-1, -1};
  if (pipe_stdin && pipe2(in, O_CLOEXEC) != 0) return;
  if (pipe_stdout && pipe2(out, O_CLOEXEC) != 0) return;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  if (pipe_stdin) {
    posix_spawn_file_actions_adddup2(&fa, in[0], STDIN_FILENO);
  } else {
    posix_spawn_file_actions_addopen(&fa, STDIN_FILENO, "/dev/null", O_RDONLY, 0);
  }
  if (pipe_stdout) {
    posix_spawn_file_actions_adddup2(&fa, out[1], STDOUT_FILENO);
  } else {
    posix_spawn_file_actions_addopen(&fa, STDOUT_FILENO, "/dev/null", O_WRONLY, 0);
  }
  posix_spawn_file_actions_addopen(&fa, STDERR_FILENO, stderr_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
  std::vector<char*> args;
  for (const auto& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  std::vector<std::string> env_store;
  for (char** e = environ; *e != nullptr; ++e) env_store.emplace_back(*e);
  for (const auto& e : extra_env) env_store.push_back(e);
  std::vector<char*> env;
  for (auto& e : env_store) env.push_back(e.data());
  env.push_back(nullptr);
  if (posix_spawn(&pid_, args[0], &fa, nullptr, args.data(), env.data()) != 0) pid_ = -1;
  posix_spawn_file_actions_destroy(&fa);
  if (pipe_stdin) {
    close(in[0]);
    in_ = in[1];
  }
  if (pipe_stdout) {
    close(out[1]);
    out_ = out[0];
  }
}

Child::~Child() {
  if (pid_ > 0 && !reaped_) {
    if (!Signal(SIGTERM, 5000)) Signal(SIGKILL, 5000);
  }
  if (in_ >= 0) close(in_);
  if (out_ >= 0) close(out_);
}

bool Child::WriteLine(const std::string& line) {
  std::string data = line + "\n";
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = write(in_, data.data() + off, data.size() - off);
    if (n < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    off += static_cast<size_t>(n);
  }
  return true;
}

void Child::CloseStdin() {
  if (in_ >= 0) close(in_);
  in_ = -1;
}

std::optional<std::string> Child::ReadLine(int timeout_ms) {
  for (int waited = 0;;) {
    size_t nl = buffer_.find('\n');
    if (nl != std::string::npos) {
      std::string line = buffer_.substr(0, nl);
      buffer_.erase(0, nl + 1);
      return line;
    }
    if (waited >= timeout_ms || out_ < 0) return std::nullopt;
    pollfd p{out_, POLLIN, 0};
    int step = std::min(100, timeout_ms - waited);
    int r = poll(&p, 1, step);
    waited += step;
    if (r > 0) {
      char buf[65536];
      ssize_t n = read(out_, buf, sizeof(buf));
      if (n <= 0) return std::nullopt;
      buffer_.append(buf, static_cast<size_t>(n));
    }
  }
}

std::optional<int> Child::Wait(int timeout_ms) {
  if (reaped_) return std::nullopt;
  for (int waited = 0; waited <= timeout_ms; waited += 20) {
    int status = 0;
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      reaped_ = true;
      return status;
    }
    if (r < 0) {
      reaped_ = true;
      return std::nullopt;
    }
    usleep(20000);
  }
  return std::nullopt;
}

std::optional<int> Child::Signal(int sig, int timeout_ms) {
  if (pid_ <= 0 || reaped_) return std::nullopt;
  kill(pid_, sig);
  return Wait(timeout_ms);
}

int RunCommand(const std::vector<std::string>& argv, int timeout_ms) {
  Child c(argv, false, false, "/dev/null");
  if (!c.started()) return -1;
  auto st = c.Wait(timeout_ms);
  if (!st) return -1;
  return WIFEXITED(*st) ? WEXITSTATUS(*st) : -1;
}

std::string CorrelateBinary() {
  return NETMON_CORRELATE_BINARY;
}
std::string TestSourceDir() {
  return NETMON_CORRELATE_TEST_DIR;
}

int64_t WallNowNs() {
  timespec ts{};
  clock_gettime(CLOCK_REALTIME, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

Correlator::Correlator(const std::string& config_json, const TempDir& dir, bool file_mode) {
  static int n = 0;
  std::string cfg = dir.Write("config" + std::to_string(n) + ".json", config_json);
  stderr_path_ = dir.path() + "/correlate" + std::to_string(n++) + ".log";
  std::vector<std::string> argv = {CorrelateBinary(), "--config", cfg};
  if (file_mode) {
    argv.push_back("--input");
    argv.push_back("-");
  }
  // RFC 3164 timestamps are read in local time: the tests pin the zone.
  child_ = std::make_unique<Child>(argv, true, true, stderr_path_, std::vector<std::string>{"TZ=UTC"});
}

std::optional<Json> Correlator::Ask(const std::string& line, int timeout_ms) {
  // Tests write their documents over several lines for reading; the protocol is one document per line.
  auto doc_in = ParseJson(line, 64 << 20, 64);
  if (!child_->WriteLine(doc_in.ok() ? doc_in->dump() : line)) return std::nullopt;
  auto out = child_->ReadLine(timeout_ms);
  if (!out) return std::nullopt;
  auto doc = ParseJson(*out, 64 << 20, 64);
  if (!doc.ok()) return std::nullopt;
  return *doc;
}

namespace {
// Debian installs it in /usr/sbin.
std::string NatsServerPath() {
  for (const char* p : {"/usr/sbin/nats-server", "/usr/bin/nats-server", "/usr/local/bin/nats-server"}) {
    if (access(p, X_OK) == 0) return p;
  }
  return "";
}
}  // namespace

bool NatsServer::Available() {
  return !NatsServerPath().empty();
}

NatsServer::NatsServer(const TempDir& dir)
    : store_(dir.path() + "/jetstream"), log_(dir.path() + "/nats-server.log"), port_(FreePort(SOCK_STREAM)) {}

NatsServer::~NatsServer() {
  Stop();
}

std::string NatsServer::url() const {
  return "nats://127.0.0.1:" + std::to_string(port_);
}

bool NatsServer::Start() {
  child_ = std::make_unique<Child>(
      std::vector<std::string>{NatsServerPath(), "-js", "-sd", store_, "-a", "127.0.0.1", "-p", std::to_string(port_)},
      false, false, log_);
  if (!child_->started()) return false;
  // Ready when it accepts a TCP connection (bounded: 10 s).
  for (int i = 0; i < 200; ++i) {
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(port_);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    bool ok = connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) == 0;
    close(fd);
    if (ok) return true;
    if (child_->Wait(0)) return false;  // it exited (port taken?)
    usleep(50000);
  }
  return false;
}

void NatsServer::Kill() {
  if (child_) child_->Signal(SIGKILL, 5000);
  child_.reset();
}

void NatsServer::Stop() {
  if (child_ && !child_->Signal(SIGTERM, 5000)) child_->Signal(SIGKILL, 5000);
  child_.reset();
}

}  // namespace netmon::correlate::test
