// SPDX-License-Identifier: Apache-2.0
// Numbers and names: per-flow DATA byte totals equal an independent capture (tcpdump on the same interface), the
// initiator is the source, and lifecycle and DNS events carry the PIDs of the processes that really did it.
#include <gtest/gtest.h>

#include <chrono>
#include <set>
#include <thread>

#include "e2e_env.h"

namespace netmon::e2e {
namespace {

using nlohmann::json;

class CaptureAccuracy : public ServerOnTopologyTest {};

TEST_F(CaptureAccuracy, ByteTotalsPerFlowEqualAnIndependentCapture) {
  struct Case {
    const char* what;
    bool ipv6, udp;
    int64_t send, recv;
  } cases[] = {
      {"tcp4", false, false, 300000, 200000},
      {"tcp6", true, false, 50000, 120000},
      {"udp4", false, true, 1200, 900},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.what);
    auto counter = PacketCounter::Start(topo_->client(), topo_->client_end().ifname);
    ASSERT_TRUE(counter.ok()) << counter.status();
    std::string id = std::string("bytes-") + c.what;
    ASSERT_TRUE(StartCapture(*stub_, CaptureRequest(id, 120)).ok());
    auto run = c.udp ? RunUdp(*topo_, c.ipv6, c.send, c.recv) : RunTcp(*topo_, c.ipv6, c.send, c.recv);
    ASSERT_TRUE(run.ok()) << run.status();
    auto evs = Finish(id);
    auto independent = (*counter)->Stop(run->client_local, run->server_local);
    ASSERT_TRUE(independent.ok()) << independent.status();
    FlowTotals netmon = SumData(evs, run->client_local, run->server_local, run->client_pid);
    EXPECT_GT(independent->sent, c.send);
    EXPECT_EQ(netmon.sent, independent->sent);
    EXPECT_EQ(netmon.received, independent->received);
    EXPECT_EQ(netmon.packets_sent, independent->packets_sent);
    EXPECT_EQ(netmon.packets_received, independent->packets_received);
    // The client initiated: it is the source of every DATA event of its flow.
    for (const auto& e : evs) {
      if (e.event_type() == "DATA" && e.process_id() == run->client_pid && e.dest_addr() == run->server_local) {
        EXPECT_EQ(e.source_addr(), run->client_local);
      }
      if (e.event_type() == "DATA" && e.process_id() == run->client_pid) {
        EXPECT_NE(e.dest_addr(), run->client_local) << "initiator must be the source: " << e.DebugString();
      }
    }
    // The server process's own view of the same flow is attributed to it, with the client as source too.
    FlowTotals server_side = SumData(evs, run->client_local, run->server_local, run->server_pid);
    EXPECT_GT(server_side.data_events, 0);
    EXPECT_EQ(server_side.received, netmon.sent) << "what the client sent, the server received";
  }
}

// Data that arrives before accept() returns: the server (one process, no fork) holds its accept() back 300 ms
// while the client sends 50 kB at once; a capture filtered to the server's PID must still count every byte of
// it, so the L3 bytes its DATA events report received agree with the CLOSE's payload total up to headers.
TEST_F(CaptureAccuracy, DataBeforeAcceptIsTheAcceptingProcesss) {
  for (bool ipv6 : {false, true}) {
    SCOPED_TRACE(ipv6 ? "v6" : "v4");
    const std::string& server_ip = ipv6 ? topo_->server_end().ipv6 : topo_->server_end().ipv4;
    const std::string any_port = ipv6 ? "[" + server_ip + "]:0" : server_ip + ":0";
    auto srv =
        testenv::Process::Spawn(&topo_->server(), {testenv::TrafficgenPath(), "tcp-serve", "--listen", any_port,
                                                   "--recv", "50000", "--send", "20000", "--accept-delay-ms", "300"});
    ASSERT_TRUE(srv.ok()) << srv.status();
    auto listening = testenv::ExpectTrafficgenEvent(*srv, "listening", 10000);
    ASSERT_TRUE(listening.ok()) << listening.status();
    std::string id = std::string("held-accept-") + (ipv6 ? "v6" : "v4");
    ASSERT_TRUE(StartCapture(*stub_, CaptureRequest(id, 120, srv->pid())).ok());
    // The capture's first flush comes flush_interval_ms (500) after it started: sending 400 ms in puts that
    // flush inside the 300 ms the connection waits for accept(), where its data has a socket but no owner yet.
    std::this_thread::sleep_for(std::chrono::milliseconds(400));
    auto cli = testenv::Process::Spawn(&topo_->client(), {testenv::TrafficgenPath(), "tcp-connect", "--to",
                                                          listening->local, "--send", "50000", "--recv", "20000"});
    ASSERT_TRUE(cli.ok()) << cli.status();
    auto done = AwaitExchange(*cli, *srv);
    ASSERT_TRUE(done.ok()) << done.status();
    std::this_thread::sleep_for(std::chrono::milliseconds(300));  // the CLOSE handshake ends
    auto evs = Finish(id);
    int64_t l3_received = 0, packets_received = 0, l3_sent = 0;
    int64_t close_received = -1;
    for (const auto& e : evs) {
      if (e.process_id() != srv->pid() || e.source_addr() != done->local) continue;
      if (e.event_type() == "DATA") {
        l3_received += e.bytes_received();
        l3_sent += e.bytes_sent();
        packets_received += Extra(e).value("packets_received", 0);
      } else if (e.event_type() == "CLOSE") {
        close_received = e.bytes_received();
      }
    }
    EXPECT_EQ(close_received, 50000);
    // Every received segment carries an IP and a TCP header (20/40 + 20..60 bytes) beside its payload.
    const int64_t ip = ipv6 ? 40 : 20;
    EXPECT_GE(l3_received, 50000 + packets_received * (ip + 20)) << packets_received << " packets";
    EXPECT_LE(l3_received, 50000 + packets_received * (ip + 60)) << packets_received << " packets";
    EXPECT_GE(l3_sent, 20000);
  }
}

TEST_F(CaptureAccuracy, XdpIngressCountsTheSameBytes) {
  // The same flow with the client end's ingress served by XDP (libxdp dispatcher) instead of TC.
  ASSERT_TRUE(server_->Stop().ok());
  json config = TopologyConfig(*topo_);
  config["interfaces"][0]["ingress"] = "xdp";
  auto server = ServerProcess::Start(config);
  ASSERT_TRUE(server.ok()) << server.status();
  server_ = std::move(*server);
  stub_ = server_->Stub();
  auto counter = PacketCounter::Start(topo_->client(), topo_->client_end().ifname);
  ASSERT_TRUE(counter.ok()) << counter.status();
  ASSERT_TRUE(StartCapture(*stub_, CaptureRequest("xdp", 120)).ok());
  bool xdp_active = false;
  {
    grpc::ClientContext ctx;
    network_monitor::GetStatusResponse st;
    ASSERT_TRUE(stub_->GetStatus(&ctx, {}, &st).ok());
    for (const auto& h : st.hooks()) xdp_active = xdp_active || (h.name() == "xdp.ingress" && h.active());
  }
  EXPECT_TRUE(xdp_active) << "xdp.ingress not reported active";
  auto run = RunTcp(*topo_, false, 100000, 150000);
  ASSERT_TRUE(run.ok()) << run.status();
  auto evs = Finish("xdp");
  auto independent = (*counter)->Stop(run->client_local, run->server_local);
  ASSERT_TRUE(independent.ok()) << independent.status();
  FlowTotals netmon = SumData(evs, run->client_local, run->server_local, run->client_pid);
  EXPECT_EQ(netmon.sent, independent->sent);
  EXPECT_EQ(netmon.received, independent->received);
  EXPECT_EQ(netmon.packets_received, independent->packets_received);
}

TEST_F(CaptureAccuracy, LifecycleEventsCarryTheRightPids) {
  ASSERT_TRUE(StartCapture(*stub_, CaptureRequest("life", 120)).ok());
  auto run = RunTcp(*topo_, false, 1000, 2000);
  ASSERT_TRUE(run.ok()) << run.status();
  auto evs = Finish("life");
  bool connect = false, accept = false, client_close = false, server_close = false;
  for (const auto& e : evs) {
    bool ours = (e.source_addr() == run->client_local && e.dest_addr() == run->server_local);
    if (!ours) continue;
    json x = Extra(e);
    if (e.event_type() == "CONNECT") {
      connect = true;
      EXPECT_EQ(e.process_id(), run->client_pid);
      EXPECT_EQ(e.process_name(), "nm-trafficgen");  // the comm trafficgen gives itself
      EXPECT_EQ(x.value("outcome", ""), "established");
    } else if (e.event_type() == "ACCEPT") {
      accept = true;
      EXPECT_EQ(e.process_id(), run->server_pid);
    } else if (e.event_type() == "CLOSE") {
      EXPECT_TRUE(e.process_id() == run->client_pid || e.process_id() == run->server_pid) << e.DebugString();
      client_close = client_close || e.process_id() == run->client_pid;
      server_close = server_close || e.process_id() == run->server_pid;
      EXPECT_TRUE(x.contains("duration_ms"));
    }
    EXPECT_GT(e.timestamp_ns(), 1'600'000'000'000'000'000);  // Unix epoch nanoseconds
  }
  EXPECT_TRUE(connect);
  EXPECT_TRUE(accept);
  EXPECT_TRUE(client_close);
  EXPECT_TRUE(server_close);
}

TEST_F(CaptureAccuracy, DnsEventsCarryTheQueryingProcessAndTheAnswers) {
  auto dns = testenv::DnsServer::Start(topo_->server(), topo_->server_end().ipv4, topo_->server_end().ipv6);
  ASSERT_TRUE(dns.ok()) << dns.status();
  ASSERT_TRUE(StartCapture(*stub_, CaptureRequest("dns", 120, 0, 53)).ok());
  struct Query {
    std::vector<std::string> argv;
    std::string name, type;
    bool tcp;
  } queries[] = {
      {{"dig", "@" + topo_->server_end().ipv4, "a.nm.test", "A", "+tries=1", "+time=5"}, "a.nm.test", "A", false},
      {{"dig", "@" + topo_->server_end().ipv6, "chain.nm.test", "A", "+tries=1", "+time=5"},
       "chain.nm.test",
       "A",
       false},
      {{"dig", "@" + topo_->server_end().ipv4, "missing.nm.test", "A", "+tries=1", "+time=5"},
       "missing.nm.test",
       "A",
       false},
      {{"dig", "+tcp", "@" + topo_->server_end().ipv4, "aaaa.nm.test", "AAAA", "+tries=1", "+time=5"},
       "aaaa.nm.test",
       "AAAA",
       true},
  };
  std::vector<int> pids;
  for (const auto& q : queries) {
    auto p = testenv::Process::Spawn(&topo_->client(), q.argv);
    ASSERT_TRUE(p.ok()) << p.status();
    pids.push_back(p->pid());
    auto rc = p->Wait(20000);
    ASSERT_TRUE(rc.ok() && *rc == 0) << "dig failed";
  }
  auto evs = Finish("dns");
  for (size_t i = 0; i < std::size(queries); ++i) {
    SCOPED_TRACE(queries[i].name);
    bool query = false, response = false;
    for (const auto& e : evs) {
      json x = Extra(e);
      if (x.value("name", "") != queries[i].name || e.process_id() != pids[i]) continue;
      EXPECT_EQ(x.value("type", ""), queries[i].type);
      EXPECT_EQ(x.value("protocol", ""), queries[i].tcp ? "tcp" : "udp");
      if (e.event_type() == "DNS_QUERY") {
        query = true;
        EXPECT_EQ(PortOf(e.dest_addr()), 53);
        EXPECT_GT(e.bytes_sent(), 0);
      } else if (e.event_type() == "DNS_RESPONSE") {
        response = true;
        EXPECT_EQ(PortOf(e.source_addr()), 53);
        EXPECT_TRUE(x.contains("latency_us"));
        EXPECT_EQ(x.value("rcode", ""), queries[i].name == "missing.nm.test" ? "NXDOMAIN" : "NOERROR");
        if (queries[i].name == "chain.nm.test") {
          std::set<std::string> types;
          for (const auto& a : x["answers"]) types.insert(a.value("type", ""));
          EXPECT_TRUE(types.count("CNAME") && types.count("A")) << x.dump();
        }
      }
    }
    EXPECT_TRUE(query);
    EXPECT_TRUE(response);
  }
  // The server side of the same exchange belongs to dnsmasq.
  bool dnsmasq = false;
  for (const auto& e : evs) dnsmasq = dnsmasq || (e.event_type() == "DNS_QUERY" && e.process_id() == dns->pid());
  EXPECT_TRUE(dnsmasq);
}

TEST_F(CaptureAccuracy, DnsOfAProcessCapturedByPid) {
  // A capture by PID must keep the process's DNS answers too, although they arrive with no socket on the packet.
  auto dns = testenv::DnsServer::Start(topo_->server(), topo_->server_end().ipv4, "");
  ASSERT_TRUE(dns.ok()) << dns.status();
  auto talker = testenv::Process::Spawn(&topo_->client(), {"/usr/bin/python3", TalkerScript()});
  ASSERT_TRUE(talker.ok()) << talker.status();
  ASSERT_TRUE(talker->ReadLine(20000).ok());
  ASSERT_TRUE(StartCapture(*stub_, CaptureRequest("dns-pid", 120, talker->pid())).ok());
  ASSERT_TRUE(talker->WriteLine("dns " + topo_->server_end().ipv4 + " a.nm.test").ok());
  auto answer = talker->ReadLine(20000);
  ASSERT_TRUE(answer.ok()) << answer.status();
  ASSERT_EQ(answer->find("error"), std::string::npos) << *answer;
  (void)talker->WriteLine("quit");
  (void)talker->Wait(10000);
  auto evs = Finish("dns-pid");
  bool query = false, response = false;
  for (const auto& e : evs) {
    EXPECT_EQ(e.process_id(), talker->pid()) << e.DebugString();
    query = query || (e.event_type() == "DNS_QUERY" && Extra(e).value("name", "") == "a.nm.test");
    response = response || (e.event_type() == "DNS_RESPONSE" && Extra(e).value("name", "") == "a.nm.test");
  }
  EXPECT_TRUE(query);
  EXPECT_TRUE(response) << "the kernel filter dropped the answer of a PID-filtered capture";
}

}  // namespace
}  // namespace netmon::e2e
