// SPDX-License-Identifier: Apache-2.0
// NetFlow v5, v9 (template then data, and data before its template) and IPFIX packets generated with scapy
// (netflow_gen.py) sent over UDP to netmon-correlate's collector on 127.0.0.1; then the flow's event is matched with
// its records, and the reverse lookup names the process. Malformed datagrams are counted and survive.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <random>

#include "harness.h"

namespace netmon::correlate::test {
namespace {

// Times of netflow_gen.py: export at 1700000000 s; the flow spans -5 s .. -1 s before it.
constexpr char kEvent[] = R"({"timestamp_ns":1699999999000000000,"process_id":4242,"process_name":"curl",
 "source_addr":"10.0.0.5:51234","dest_addr":"10.1.1.1:443","bytes_sent":5000,"bytes_received":20000,"event_type":"DATA",
 "extra_info":"{\"protocol\":\"tcp\",\"interval_start_ns\":1699999995000000000,\"interval_end_ns\":1699999999000000000}",
 "agent_id":"agent-1","session_id":"cap-1","sequence":1})";

constexpr char kInventory[] =
    R"({"devices":[{"device_id":"default:127.0.0.1","ip":"127.0.0.1","hostname":"lab-exporter",
  "metadata":{"sys_location":"lab"}}],
 "interfaces":[{"device_id":"default:127.0.0.1","device_ip":"127.0.0.1","if_index":3,"if_name":"Gi1/0/3"},
               {"device_id":"default:127.0.0.1","device_ip":"127.0.0.1","if_index":5,"if_name":"Gi1/0/5"}]})";

class NetflowE2e : public ::testing::Test {
 protected:
  void SetUp() override {
    port_ = FreePort(SOCK_DGRAM);
    ASSERT_NE(port_, 0);
    std::string inv = dir_.Write("inventory.json", kInventory);
    std::string cfg = R"({"log_level":"debug","netflow":{"listen":"127.0.0.1:)" + std::to_string(port_) +
                      R"("},"inventory":{"file":")" + inv + R"("}})";
    correlator_ = std::make_unique<Correlator>(cfg, dir_);
    // The collector is bound once the process answers.
    ASSERT_TRUE(correlator_->Stats()) << correlator_->Stderr();
  }

  void Send(std::initializer_list<const char*> packets) {
    std::vector<std::string> argv = {"/usr/bin/python3", TestSourceDir() + "/netflow_gen.py", "send",
                                     std::to_string(port_)};
    for (const char* p : packets) argv.push_back(p);
    ASSERT_EQ(RunCommand(argv, 60000), 0);
  }

  Json WaitRecords(uint64_t n) {
    auto s = correlator_->WaitStats([&](const Json& st) { return st["netflow"]["records"].get<uint64_t>() >= n; });
    EXPECT_TRUE(s);
    return s ? *s : Json();
  }

  TempDir dir_;
  uint16_t port_ = 0;
  std::unique_ptr<Correlator> correlator_;
};

TEST_F(NetflowE2e, V5RecordsMatchTheFlowBothDirections) {
  Send({"v5"});
  Json st = WaitRecords(2);
  EXPECT_EQ(st["netflow"]["datagrams_v5"], 1);
  auto out = correlator_->Ask(kEvent);
  ASSERT_TRUE(out);
  const Json& nf = (*out)["enrichment"]["netflow"];
  ASSERT_TRUE(nf.is_object()) << out->dump();
  EXPECT_EQ(nf["records"], 2);
  const Json& x = nf["exporters"][0];
  EXPECT_EQ(x["exporter"], "127.0.0.1");
  EXPECT_EQ(x["exporter_name"], "lab-exporter");
  EXPECT_EQ(x["version"], 5);
  EXPECT_EQ(x["forward_bytes"], 5000);
  EXPECT_EQ(x["reverse_bytes"], 20000);
  EXPECT_EQ(x["input_if_name"], "Gi1/0/3");
  EXPECT_EQ(x["output_if_name"], "Gi1/0/5");
  EXPECT_EQ(nf["fabric_bytes"], 25000);
  EXPECT_EQ(nf["ratio"], 1.0);
  EXPECT_EQ(nf["share"], "large");
}

TEST_F(NetflowE2e, V9TemplateThenData) {
  Send({"v9_template", "v9_data"});
  Json st = WaitRecords(1);
  EXPECT_EQ(st["netflow"]["templates"], 1);
  EXPECT_EQ(st["netflow"]["sets_without_template"], 0);
  auto out = correlator_->Ask(kEvent);
  ASSERT_TRUE(out);
  const Json& x = (*out)["enrichment"]["netflow"]["exporters"][0];
  EXPECT_EQ(x["version"], 9);
  EXPECT_EQ(x["observation_domain"], 42);
  EXPECT_EQ(x["forward_bytes"], 7000);
}

TEST_F(NetflowE2e, V9DataBeforeItsTemplate) {
  Send({"v9_data"});
  auto waiting = correlator_->WaitStats([](const Json& st) { return st["netflow"]["sets_without_template"] == 1; });
  ASSERT_TRUE(waiting);
  EXPECT_EQ((*waiting)["netflow"]["records"], 0);
  Send({"v9_template"});
  Json st = WaitRecords(1);
  EXPECT_EQ(st["netflow"]["pending_decoded"], 1);
  auto out = correlator_->Ask(kEvent);
  ASSERT_TRUE(out);
  EXPECT_EQ((*out)["enrichment"]["netflow"]["exporters"][0]["forward_bytes"], 7000);
}

TEST_F(NetflowE2e, IpfixWithSamplingAndTheReverseLookup) {
  Send({"ipfix"});
  WaitRecords(2);
  auto out = correlator_->Ask(kEvent);
  ASSERT_TRUE(out);
  const Json& nf = (*out)["enrichment"]["netflow"];
  const Json& x = nf["exporters"][0];
  EXPECT_EQ(x["version"], 10);
  EXPECT_EQ(x["observation_domain"], 7);
  EXPECT_EQ(x["sampling_interval"], 10);
  // 900 sampled bytes at 1 in 10 over -3 s..-1 s, all inside the event's -5 s..-1 s: 9000 on the fabric.
  EXPECT_EQ(nf["fabric_bytes"], 9000);
  // The reverse question, for the IPFIX record's tuple and time.
  auto rev = correlator_->Ask(
      R"({"control":"reverse_lookup","source":"10.1.1.1:443","dest":"10.0.0.5:51234","protocol":"tcp",
          "start_ns":1699999997000000000,"end_ns":1699999999000000000})");
  ASSERT_TRUE(rev);
  const Json& events = (*rev)["reverse_lookup"]["events"];
  ASSERT_EQ(events.size(), 1u) << rev->dump();
  EXPECT_EQ(events[0]["process_id"], 4242);
  EXPECT_EQ(events[0]["process_name"], "curl");
  EXPECT_EQ(events[0]["agent_id"], "agent-1");
  EXPECT_EQ(events[0]["direction"], "responder");
  // Another tuple: nobody.
  auto none = correlator_->Ask(R"({"control":"reverse_lookup","source":"10.0.0.9:1","dest":"10.1.1.1:443"})");
  ASSERT_TRUE(none);
  EXPECT_TRUE((*none)["reverse_lookup"]["events"].empty());
}

TEST_F(NetflowE2e, HostileDatagramsAreCountedAndSurvived) {
  int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in to{};
  to.sin_family = AF_INET;
  to.sin_port = htons(port_);
  to.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  std::mt19937 rng(7);
  const int kGarbage = 300;
  for (int i = 0; i < kGarbage; ++i) {
    std::vector<uint8_t> d(rng() % 1500);
    for (auto& b : d) b = static_cast<uint8_t>(rng());
    // Most of them claim to be NetFlow so they get past the version check.
    if (d.size() >= 2 && i % 4 != 0) {
      d[0] = 0;
      d[1] = static_cast<uint8_t>(i % 3 == 0 ? 5 : i % 3 == 1 ? 9 : 10);
    }
    sendto(fd, d.data(), d.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof(to));
  }
  close(fd);
  auto st = correlator_->WaitStats([&](const Json& s) { return s["netflow"]["datagrams"].get<int>() >= kGarbage; });
  ASSERT_TRUE(st) << correlator_->Stderr();
  const Json& nf = (*st)["netflow"];
  uint64_t refused = nf["malformed_datagrams"].get<uint64_t>() + nf["malformed_sets"].get<uint64_t>() +
                     nf["malformed_templates"].get<uint64_t>() + nf["unsupported_versions"].get<uint64_t>() +
                     nf["sets_without_template"].get<uint64_t>() + nf["unknown_sets"].get<uint64_t>();
  EXPECT_GT(refused, 0u);
  // Still serving.
  Send({"v5"});
  EXPECT_FALSE(WaitRecords(nf["records"].get<uint64_t>() + 2).is_null());
}

}  // namespace
}  // namespace netmon::correlate::test
