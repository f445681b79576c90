// SPDX-License-Identifier: Apache-2.0
// netmonctl's command line and the credentials it implies.
#include "cli/options.h"

#include <gtest/gtest.h>

#include <fstream>

#include "agent_test_env.h"
#include "cli/commands.h"

namespace netmon::cli {
namespace {

absl::StatusOr<CliOptions> Parse(std::vector<std::string> args) {
  return ParseArgs(args);
}

TEST(Options, CaptureWithEveryFilter) {
  auto o = Parse({"capture", "--pid", "42", "--port=443", "--src", "10.0.0.1", "--dst", "fd00::2", "--duration", "5",
                  "--format", "csv", "--no-progress", "--insecure"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->command, Command::kCapture);
  EXPECT_EQ(o->pid, 42);
  EXPECT_EQ(o->port, 443);
  EXPECT_EQ(o->src, "10.0.0.1");
  EXPECT_EQ(o->dst, "fd00::2");
  EXPECT_EQ(o->duration, 5);
  EXPECT_EQ(o->format, Format::kCsv);
  EXPECT_EQ(o->progress, false);
  EXPECT_TRUE(o->via_agent());
  EXPECT_EQ(o->agent, kDefaultAgent);
}

TEST(Options, FlagsBeforeTheCommandAndSessions) {
  auto o = Parse({"--server", "unix:/run/netmon.sock", "follow", "abc", "--since", "41"});
  ASSERT_TRUE(o.ok()) << o.status();
  EXPECT_EQ(o->command, Command::kFollow);
  EXPECT_EQ(o->session, "abc");
  EXPECT_EQ(o->since, 41u);
  EXPECT_FALSE(o->via_agent());
  EXPECT_EQ(o->target(), "unix:/run/netmon.sock");
  // Negative numbers go to the agent, which answers INVALID_ARGUMENT: netmonctl does not second-guess it.
  auto neg = Parse({"capture", "--pid", "-1"});
  ASSERT_TRUE(neg.ok());
  EXPECT_EQ(neg->pid, -1);
}

TEST(Options, UsageErrorsAreOneLineAndNameTheProblem) {
  struct Case {
    std::vector<std::string> args;
    const char* mentions;
  } cases[] = {
      {{}, "no command"},
      {{"launch"}, "launch"},
      {{"follow"}, "SESSION"},
      {{"results", "a", "b"}, "\"b\""},
      {{"capture", "--pid", "x"}, "--pid"},
      {{"capture", "--duration"}, "--duration"},
      {{"capture", "--format", "xml"}, "xml"},
      {{"capture", "--frobnicate"}, "--frobnicate"},
      {{"capture", "--agent", "a:1", "--server", "b:2"}, "exclude"},
      {{"stop", "abc"}, "--server"},
      {{"capture", "--session-id", "x"}, "--session-id"},
      {{"capture", "--interval", "1"}, "--interval"},
      {{"capture", "--since", "-1"}, "--since"},
  };
  for (const auto& c : cases) {
    auto o = Parse(c.args);
    ASSERT_FALSE(o.ok()) << ::testing::PrintToString(c.args);
    std::string msg(o.status().message());
    EXPECT_NE(msg.find(c.mentions), std::string::npos) << msg;
    EXPECT_EQ(msg.find('\n'), std::string::npos);
  }
}

TEST(Options, HelpAndVersion) {
  EXPECT_EQ(Parse({"--help"})->command, Command::kHelp);
  EXPECT_EQ(Parse({"capture", "-h"})->command, Command::kHelp);
  EXPECT_EQ(Parse({"--version"})->command, Command::kVersion);
}

TEST(Options, Credentials) {
  const std::string dir = agent::testing::CertDir();
  auto dev = ResolveSecurity(*Parse({"status", "--cert-dir", dir}), nullptr);
  ASSERT_TRUE(dev.ok()) << dev.status();
  EXPECT_TRUE(dev->mtls());
  EXPECT_EQ(dev->tls.cert_file, dir + "/client.pem");
  EXPECT_EQ(dev->tls.ca_file, dir + "/ca.pem");

  auto explicit_files = ResolveSecurity(*Parse({"status", "--cert", "/x/c.pem", "--key", "k.pem", "--ca", "ca.pem",
                                                "--cert-dir", "/d", "--server-name", "netmon-agent"}),
                                        nullptr);
  ASSERT_TRUE(explicit_files.ok());
  EXPECT_EQ(explicit_files->tls.cert_file, "/x/c.pem");
  EXPECT_EQ(explicit_files->tls.key_file, "/d/k.pem");
  EXPECT_EQ(explicit_files->server_name, "netmon-agent");

  auto missing = ResolveSecurity(*Parse({"status", "--cert", "c.pem", "--key", "k.pem"}), nullptr);
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("--ca"), std::string::npos);

  auto none = ResolveSecurity(*Parse({"status"}), nullptr);
  ASSERT_FALSE(none.ok());
  EXPECT_NE(none.status().message().find("--insecure"), std::string::npos);
  EXPECT_FALSE(ResolveSecurity(*Parse({"status", "--insecure"}), nullptr)->mtls());

  agent::testing::TempDir tmp;
  std::string file = tmp.path() + "/sec.json";
  std::ofstream(file) << agent::testing::MtlsJson("client", "ca", "netmon-agent").dump();
  auto from_file = ResolveSecurity(*Parse({"status", "--security", file}), nullptr);
  ASSERT_TRUE(from_file.ok()) << from_file.status();
  EXPECT_EQ(from_file->server_name, "netmon-agent");
  auto from_env = ResolveSecurity(*Parse({"status"}), file.c_str());
  ASSERT_TRUE(from_env.ok()) << from_env.status();
  EXPECT_TRUE(from_env->mtls());
  std::ofstream(file) << R"({"mode": "mtls", "tls": {"cert": "x"}})";
  auto bad = ResolveSecurity(*Parse({"status", "--security", file}), nullptr);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("cert"), std::string::npos) << bad.status();
  auto absent = ResolveSecurity(*Parse({"status", "--security", "/nonexistent/sec.json"}), nullptr);
  ASSERT_FALSE(absent.ok());
  EXPECT_NE(absent.status().message().find("/nonexistent/sec.json"), std::string::npos);
}

TEST(Options, ExitCodes) {
  EXPECT_EQ(ExitCodeFor(absl::OkStatus()), 0);
  EXPECT_EQ(ExitCodeFor(absl::InvalidArgumentError("x")), 1);
  EXPECT_EQ(ExitCodeFor(absl::NotFoundError("x")), 1);
  EXPECT_EQ(ExitCodeFor(absl::UnavailableError("x")), 3);
  EXPECT_EQ(ExitCodeFor(absl::DeadlineExceededError("x")), 3);
  EXPECT_EQ(ExitCodeFor(absl::CancelledError("x")), 130);
}

}  // namespace
}  // namespace netmon::cli
