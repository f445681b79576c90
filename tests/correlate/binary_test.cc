// SPDX-License-Identifier: Apache-2.0
// How netmon-correlate is started and stopped: --help, bad configs (one-line reason, non-zero exit), --input/--output
// files, SIGTERM while reading stdin, counters at exit.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>

#include "harness.h"

namespace netmon::correlate::test {
namespace {

int Exit(const std::optional<int>& status) {
  return status && WIFEXITED(*status) ? WEXITSTATUS(*status) : -1;
}

TEST(Binary, Help) {
  TempDir dir;
  Child c({CorrelateBinary(), "--help"}, false, true, dir.path() + "/err");
  auto line = c.ReadLine(5000);
  ASSERT_TRUE(line);
  EXPECT_NE(line->find("usage: netmon-correlate"), std::string::npos);
  EXPECT_EQ(Exit(c.Wait(5000)), 0);
}

TEST(Binary, BadConfigsExitWithAOneLineReason) {
  TempDir dir;
  struct Case {
    const char* json;
    const char* says;
  } cases[] = {
      {R"({"netflow":{"listn":"127.0.0.1:2055"}})", "netflow.listn: unknown key"},
      {R"({"logs":{"window_ms":"5"}})", "logs.window_ms"},
      {"{", "config"},
      {R"({"inventory":{"file":"/nonexistent/inventory.json"}})", "inventory file"},
  };
  for (const auto& k : cases) {
    std::string cfg = dir.Write("bad.json", k.json);
    std::string err = dir.path() + "/err";
    {
      Child c({CorrelateBinary(), "--config", cfg}, true, true, err);
      EXPECT_EQ(Exit(c.Wait(10000)), 1) << k.json;
    }
    std::string text = ReadFile(err);
    EXPECT_NE(text.find(k.says), std::string::npos) << text;
    EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 1) << text;
    std::remove(err.c_str());
  }
  Child u({CorrelateBinary(), "--bogus"}, false, false, dir.path() + "/err2");
  EXPECT_EQ(Exit(u.Wait(5000)), 2);
}

TEST(Binary, FilesInFilesOut) {
  TempDir dir;
  std::string in = dir.Write(
      "in.jsonl", R"({"timestamp_ns":1,"event_type":"CONNECT","source_addr":"10.0.0.5:1","dest_addr":"10.1.1.1:443"})"
                  "\nnot json\n\n"
                  R"({"timestamp_ns":2,"event_type":"CLOSE","source_addr":"10.0.0.5:1","dest_addr":"10.1.1.1:443"})");
  std::string out = dir.path() + "/out.jsonl";
  Child c({CorrelateBinary(), "--input", in, "--output", out, "--log-level", "warn"}, false, false,
          dir.path() + "/err");
  EXPECT_EQ(Exit(c.Wait(10000)), 0);
  std::string text = ReadFile(out);
  EXPECT_EQ(std::count(text.begin(), text.end(), '\n'), 2) << text;  // the last line had no newline: still read
  EXPECT_NE(text.find("\"event_type\":\"CLOSE\""), std::string::npos);
  EXPECT_NE(ReadFile(dir.path() + "/err").find("line 2 skipped"), std::string::npos);
}

TEST(Binary, SigtermWhileWaitingOnStdinStopsCleanlyWithCounters) {
  TempDir dir;
  Correlator c("{}", dir);
  auto out = c.Ask(R"({"timestamp_ns":1,"event_type":"DATA"})");
  ASSERT_TRUE(out);
  EXPECT_EQ((*out)["timestamp_ns"], 1);
  auto status = c.child().Signal(SIGTERM, 10000);
  EXPECT_EQ(Exit(status), 0);
  std::string log = c.Stderr();
  EXPECT_NE(log.find("counters"), std::string::npos);
  EXPECT_NE(log.find("\"events\":1"), std::string::npos);
}

TEST(Binary, HeldEventsAreWrittenAtEndOfInput) {
  TempDir dir;
  Correlator c(R"({"events":{"hold_ms":600000}})", dir);
  c.child().WriteLine(R"({"timestamp_ns":7,"event_type":"DATA"})");
  c.child().CloseStdin();
  auto line = c.child().ReadLine(10000);  // not ten minutes: end of input releases the hold
  ASSERT_TRUE(line);
  EXPECT_NE(line->find("\"timestamp_ns\":7"), std::string::npos);
  EXPECT_EQ(Exit(c.child().Wait(10000)), 0);
}

}  // namespace
}  // namespace netmon::correlate::test
