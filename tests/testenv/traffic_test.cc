// SPDX-License-Identifier: Apache-2.0
// The two ends of a Topology talk TCP and UDP over IPv4 and IPv6 through netmon-trafficgen, and both sides agree
// on exact byte counts, addresses and PIDs: the ground truth that netmon's own tests compare against.
#include <gtest/gtest.h>
#include <signal.h>

#include <fstream>

#include "common/str_cat.h"
#include "testenv/process.h"
#include "testenv/scapy.h"
#include "testenv/topology.h"
#include "testenv/trafficgen.h"
#include "tests/testenv/status_macros.h"

namespace netmon::testenv {
namespace {

constexpr int kTimeoutMs = 10000;

std::string HostPort(const std::string& ip, const std::string& port) {
  return ip.find(':') != std::string::npos ? StrCat("[", ip, "]:", port) : StrCat(ip, ":", port);
}

std::string PortOf(const std::string& endpoint) {
  return endpoint.substr(endpoint.rfind(':') + 1);
}

std::string CommOf(pid_t pid) {
  std::ifstream in(StrCat("/proc/", pid, "/comm"));
  std::string comm;
  std::getline(in, comm);
  return comm;
}

std::vector<std::string> Gen(const std::string& mode, const std::string& name, std::vector<std::string> args) {
  std::vector<std::string> argv = {TrafficgenPath(), mode, "--name", name};
  argv.insert(argv.end(), args.begin(), args.end());
  return argv;
}

class TrafficTest : public ::testing::TestWithParam<bool> {
 protected:
  void SetUp() override {
    auto topo = Topology::Create();
    ASSERT_TRUE(topo.ok()) << topo.status();
    topo_.emplace(std::move(*topo));
  }
  bool v6() const { return GetParam(); }
  std::string ServerIp() const { return v6() ? topo_->server_end().ipv6 : topo_->server_end().ipv4; }
  std::string ClientIp() const { return v6() ? topo_->client_end().ipv6 : topo_->client_end().ipv4; }

  std::optional<Topology> topo_;
};

INSTANTIATE_TEST_SUITE_P(Families, TrafficTest, ::testing::Values(false, true),
                         [](const auto& info) { return info.param ? "IPv6" : "IPv4"; });

TEST_P(TrafficTest, TcpExactBytesBothSides) {
  ASSERT_OK_AND_ASSIGN(Process server, Process::Spawn(&topo_->server(), Gen("tcp-serve", "nm-srv",
                                                                            {"--listen", HostPort(ServerIp(), "0"),
                                                                             "--recv", "300000", "--send", "70001"})));
  ASSERT_OK_AND_ASSIGN(TrafficgenEvent listening, ExpectTrafficgenEvent(server, "listening", kTimeoutMs));
  EXPECT_EQ(listening.pid, server.pid());
  EXPECT_EQ(CommOf(server.pid()), "nm-srv");
  std::string target = HostPort(ServerIp(), PortOf(listening.local));
  EXPECT_EQ(listening.local, target);

  ASSERT_OK_AND_ASSIGN(Process client,
                       Process::Spawn(&topo_->client(), Gen("tcp-connect", "nm-cli",
                                                            {"--to", target, "--send", "300000", "--recv", "70001"})));
  ASSERT_OK_AND_ASSIGN(TrafficgenEvent connected, ExpectTrafficgenEvent(client, "connected", kTimeoutMs));
  ASSERT_OK_AND_ASSIGN(TrafficgenEvent client_done, ExpectTrafficgenEvent(client, "done", kTimeoutMs));
  ASSERT_OK_AND_ASSIGN(TrafficgenEvent accepted, ExpectTrafficgenEvent(server, "accepted", kTimeoutMs));
  ASSERT_OK_AND_ASSIGN(TrafficgenEvent server_done, ExpectTrafficgenEvent(server, "done", kTimeoutMs));

  EXPECT_EQ(connected.pid, client.pid());
  EXPECT_EQ(client_done.pid, client.pid());
  EXPECT_EQ(accepted.pid, server.pid());
  EXPECT_EQ(server_done.pid, server.pid());
  EXPECT_EQ(connected.remote, target);
  EXPECT_EQ(connected.local.rfind(HostPort(ClientIp(), ""), 0), 0u) << connected.local;
  EXPECT_EQ(accepted.remote, connected.local);
  EXPECT_EQ(accepted.local, connected.remote);
  EXPECT_EQ(client_done.sent, 300000);
  EXPECT_EQ(client_done.received, 70001);
  EXPECT_EQ(server_done.received, 300000);
  EXPECT_EQ(server_done.sent, 70001);
  ASSERT_OK_AND_ASSIGN(int client_code, client.Wait(kTimeoutMs));
  ASSERT_OK_AND_ASSIGN(int server_code, server.Wait(kTimeoutMs));
  EXPECT_EQ(client_code, 0);
  EXPECT_EQ(server_code, 0);
}

TEST_P(TrafficTest, UdpExactBytesConnectedAndNot) {
  for (bool connect : {false, true}) {
    SCOPED_TRACE(connect ? "connected" : "unconnected");
    ASSERT_OK_AND_ASSIGN(Process server, Process::Spawn(&topo_->server(), Gen("udp-serve", "nm-usrv",
                                                                              {"--listen", HostPort(ServerIp(), "0"),
                                                                               "--count", "5", "--reply", "33"})));
    ASSERT_OK_AND_ASSIGN(TrafficgenEvent listening, ExpectTrafficgenEvent(server, "listening", kTimeoutMs));
    std::string target = HostPort(ServerIp(), PortOf(listening.local));
    std::vector<std::string> args = {"--to", target, "--bytes", "512", "--count", "5", "--recv-reply"};
    if (connect) args.push_back("--connect");
    ASSERT_OK_AND_ASSIGN(Process client, Process::Spawn(&topo_->client(), Gen("udp-send", "nm-ucli", args)));
    if (connect) {
      ASSERT_OK_AND_ASSIGN(TrafficgenEvent connected, ExpectTrafficgenEvent(client, "connected", kTimeoutMs));
      EXPECT_EQ(connected.remote, target);
    }
    ASSERT_OK_AND_ASSIGN(TrafficgenEvent client_done, ExpectTrafficgenEvent(client, "done", kTimeoutMs));
    ASSERT_OK_AND_ASSIGN(TrafficgenEvent server_done, ExpectTrafficgenEvent(server, "done", kTimeoutMs));
    EXPECT_EQ(client_done.pid, client.pid());
    EXPECT_EQ(server_done.pid, server.pid());
    EXPECT_EQ(client_done.sent, 5 * 512);
    EXPECT_EQ(client_done.received, 5 * 33);
    EXPECT_EQ(client_done.datagrams, 5);
    EXPECT_EQ(server_done.received, 5 * 512);
    EXPECT_EQ(server_done.sent, 5 * 33);
    EXPECT_EQ(server_done.remote, client_done.local);
    ASSERT_OK_AND_ASSIGN(int code, client.Wait(kTimeoutMs));
    EXPECT_EQ(code, 0);
    ASSERT_OK_AND_ASSIGN(code, server.Wait(kTimeoutMs));
    EXPECT_EQ(code, 0);
  }
}

// --accept-fork: the parent accepts, a child with the same comm does the I/O; --wait-go holds the client after
// connecting, so the child can be inspected while it lives.
TEST_P(TrafficTest, AcceptForkChildDoesTheIo) {
  ASSERT_OK_AND_ASSIGN(Process server,
                       Process::Spawn(&topo_->server(), Gen("tcp-serve", "nm-fork",
                                                            {"--listen", HostPort(ServerIp(), "0"), "--recv", "1000",
                                                             "--send", "2000", "--count", "2", "--accept-fork"})));
  ASSERT_OK_AND_ASSIGN(TrafficgenEvent listening, ExpectTrafficgenEvent(server, "listening", kTimeoutMs));
  std::string target = HostPort(ServerIp(), PortOf(listening.local));
  std::vector<int> child_pids;
  for (int i = 0; i < 2; ++i) {
    ASSERT_OK_AND_ASSIGN(
        Process client,
        Process::Spawn(&topo_->client(), Gen("tcp-connect", "nm-cli",
                                             {"--to", target, "--send", "1000", "--recv", "2000", "--wait-go"})));
    ASSERT_OK_AND_ASSIGN(TrafficgenEvent connected, ExpectTrafficgenEvent(client, "connected", kTimeoutMs));
    ASSERT_OK_AND_ASSIGN(TrafficgenEvent child, ExpectTrafficgenEvent(server, "child", kTimeoutMs));
    EXPECT_EQ(child.pid, server.pid());
    EXPECT_NE(child.child_pid, 0);
    EXPECT_NE(child.child_pid, server.pid());
    EXPECT_EQ(child.remote, connected.local);
    EXPECT_EQ(CommOf(child.child_pid), "nm-fork");
    child_pids.push_back(child.child_pid);

    ASSERT_OK(client.WriteLine("go"));
    ASSERT_OK_AND_ASSIGN(TrafficgenEvent client_done, ExpectTrafficgenEvent(client, "done", kTimeoutMs));
    ASSERT_OK_AND_ASSIGN(TrafficgenEvent child_done, ExpectTrafficgenEvent(server, "done", kTimeoutMs));
    EXPECT_EQ(client_done.sent, 1000);
    EXPECT_EQ(client_done.received, 2000);
    EXPECT_EQ(child_done.child_pid, child.child_pid);
    EXPECT_EQ(child_done.received, 1000);
    EXPECT_EQ(child_done.sent, 2000);
    ASSERT_OK_AND_ASSIGN(int code, client.Wait(kTimeoutMs));
    EXPECT_EQ(code, 0);
  }
  EXPECT_NE(child_pids[0], child_pids[1]);
  ASSERT_OK_AND_ASSIGN(int code, server.Wait(kTimeoutMs));
  EXPECT_EQ(code, 0);
}

TEST_P(TrafficTest, RefusedConnectionReportsErrno) {
  ASSERT_OK_AND_ASSIGN(Process client, Process::Spawn(&topo_->client(), Gen("tcp-connect", "nm-cli",
                                                                            {"--to", HostPort(ServerIp(), "9")})));
  ASSERT_OK_AND_ASSIGN(TrafficgenEvent error, ExpectTrafficgenEvent(client, "error", kTimeoutMs));
  EXPECT_EQ(error.error, "ECONNREFUSED");
  EXPECT_EQ(error.op, "connect");
  ASSERT_OK_AND_ASSIGN(int code, client.Wait(kTimeoutMs));
  EXPECT_EQ(code, 2);
}

TEST_P(TrafficTest, ReusePortLetsTwoServersShareAPort) {
  ASSERT_OK_AND_ASSIGN(Process first,
                       Process::Spawn(&topo_->server(), Gen("tcp-serve", "nm-rp1",
                                                            {"--listen", HostPort(ServerIp(), "0"), "--reuseport"})));
  ASSERT_OK_AND_ASSIGN(TrafficgenEvent one, ExpectTrafficgenEvent(first, "listening", kTimeoutMs));
  ASSERT_OK_AND_ASSIGN(Process second, Process::Spawn(&topo_->server(), Gen("tcp-serve", "nm-rp2",
                                                                            {"--listen", one.local, "--reuseport"})));
  ASSERT_OK_AND_ASSIGN(TrafficgenEvent two, ExpectTrafficgenEvent(second, "listening", kTimeoutMs));
  EXPECT_EQ(one.local, two.local);
}

TEST_P(TrafficTest, BadUsageExits64) {
  ASSERT_OK_AND_ASSIGN(Process bad, Process::Spawn(nullptr, Gen("tcp-connect", "nm-bad", {"--to", "nonsense"})));
  ASSERT_OK_AND_ASSIGN(TrafficgenEvent error, ExpectTrafficgenEvent(bad, "error", kTimeoutMs));
  EXPECT_EQ(error.op, "usage");
  ASSERT_OK_AND_ASSIGN(int code, bad.Wait(kTimeoutMs));
  EXPECT_EQ(code, 64);
}

// A scapy-crafted datagram from the client namespace reaches a real socket on the server.
TEST_P(TrafficTest, CraftedPacketReachesServer) {
  ASSERT_OK_AND_ASSIGN(Process server,
                       Process::Spawn(&topo_->server(), Gen("udp-serve", "nm-usrv",
                                                            {"--listen", HostPort(ServerIp(), "0"), "--count", "1"})));
  ASSERT_OK_AND_ASSIGN(TrafficgenEvent listening, ExpectTrafficgenEvent(server, "listening", kTimeoutMs));
  const char* family = v6() ? "6" : "4";
  ASSERT_OK_AND_ASSIGN(
      Process sender,
      Process::Spawn(
          &topo_->client(),
          ScapyArgv("send_crafted.py",
                    {"--iface", topo_->client_end().ifname, "--fixture", v6() ? "udp_v6" : "udp_v4", "--set",
                     StrCat("src", family, "=", ClientIp()), "--set", StrCat("dst", family, "=", ServerIp()), "--set",
                     "sport=40001", "--set", StrCat("dport=", PortOf(listening.local)), "--set", "len=77"})));
  ASSERT_OK_AND_ASSIGN(std::string sent, sender.ReadLine(30000));
  EXPECT_EQ(sent.rfind("sent 1 frames", 0), 0u) << sent;
  ASSERT_OK_AND_ASSIGN(int code, sender.Wait(30000));
  EXPECT_EQ(code, 0);
  ASSERT_OK_AND_ASSIGN(TrafficgenEvent done, ExpectTrafficgenEvent(server, "done", kTimeoutMs));
  EXPECT_EQ(done.received, 77);
  EXPECT_EQ(done.remote, HostPort(ClientIp(), "40001"));
}

}  // namespace
}  // namespace netmon::testenv
