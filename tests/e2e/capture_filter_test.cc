// SPDX-License-Identifier: Apache-2.0
// Filters end to end: each kind alone and all combined, running concurrently over one program set; three
// concurrent sessions each seeing only their own traffic; a capture by PID of a process that talks on several
// ports seeing all of its flows and nothing else.
#include <gtest/gtest.h>

#include <functional>
#include <set>

#include "e2e_env.h"

namespace netmon::e2e {
namespace {

using nlohmann::json;

struct Flow {
  std::string local, remote;  // from the client's point of view
};

struct Traffic {
  int talker_pid = 0, other_pid = 0;
  Flow tcp4, udp4, tcp6;  // the talker's flows
  Flow other;             // another process's TCP flow
  int tcp4_port = 0, udp4_port = 0, tcp6_port = 0, other_port = 0;
};

std::string Ep(const std::string& host, int port) {
  return host.find(':') != std::string::npos ? "[" + host + "]:" + std::to_string(port)
                                             : host + ":" + std::to_string(port);
}

// Servers in server(), the talker (one python process) and another client in client(). `before_traffic` runs
// once the ports and the talker's PID are known and before any packet of the test flows is sent.
absl::StatusOr<Traffic> Generate(testenv::Topology& topo, const std::function<void(const Traffic&)>& before_traffic) {
  const std::string sv4 = topo.server_end().ipv4, sv6 = topo.server_end().ipv6;
  auto tg = testenv::TrafficgenPath();
  std::vector<testenv::Process> servers;
  auto serve = [&](std::vector<std::string> argv) -> absl::StatusOr<int> {
    auto p = testenv::Process::Spawn(&topo.server(), argv);
    if (!p.ok()) return p.status();
    auto l = testenv::ExpectTrafficgenEvent(*p, "listening", 10000);
    if (!l.ok()) return l.status();
    servers.push_back(std::move(*p));
    return PortOf(l->local);
  };
  Traffic t;
  auto p1 = serve({tg, "tcp-serve", "--listen", sv4 + ":0", "--recv", "4000", "--send", "6000"});
  auto p2 = serve({tg, "udp-serve", "--listen", sv4 + ":0", "--reply", "300"});
  auto p3 = serve({tg, "tcp-serve", "--listen", "[" + sv6 + "]:0", "--recv", "2000", "--send", "1000"});
  auto p4 = serve({tg, "tcp-serve", "--listen", sv4 + ":0", "--recv", "1500", "--send", "500"});
  for (auto* p : {&p1, &p2, &p3, &p4}) {
    if (!p->ok()) return p->status();
  }
  t.tcp4_port = *p1;
  t.udp4_port = *p2;
  t.tcp6_port = *p3;
  t.other_port = *p4;
  auto talker = testenv::Process::Spawn(&topo.client(), {"/usr/bin/python3", TalkerScript()});
  if (!talker.ok()) return talker.status();
  auto ready = talker->ReadLine(20000);
  if (!ready.ok()) return ready.status();
  t.talker_pid = talker->pid();
  before_traffic(t);

  auto ask = [&](const std::string& cmd, Flow* flow, const std::string& remote) -> absl::Status {
    if (absl::Status s = talker->WriteLine(cmd); !s.ok()) return s;
    auto line = talker->ReadLine(20000);
    if (!line.ok()) return line.status();
    json j = json::parse(*line, nullptr, false);
    if (j.is_discarded() || j.contains("error")) return absl::InternalError("talker: " + *line);
    flow->local = j["local"].get<std::string>();
    flow->remote = remote;
    return absl::OkStatus();
  };
  if (auto s = ask("tcp " + sv4 + " " + std::to_string(t.tcp4_port) + " 4000 6000", &t.tcp4, Ep(sv4, t.tcp4_port));
      !s.ok()) {
    return s;
  }
  if (auto s = ask("udp " + sv4 + " " + std::to_string(t.udp4_port) + " 200 " + topo.client_end().ipv4, &t.udp4,
                   Ep(sv4, t.udp4_port));
      !s.ok()) {
    return s;
  }
  if (auto s = ask("tcp " + sv6 + " " + std::to_string(t.tcp6_port) + " 2000 1000", &t.tcp6, Ep(sv6, t.tcp6_port));
      !s.ok()) {
    return s;
  }
  (void)talker->WriteLine("quit");
  (void)talker->Wait(10000);

  auto other = testenv::Process::Spawn(
      &topo.client(), {tg, "tcp-connect", "--to", Ep(sv4, t.other_port), "--send", "1500", "--recv", "500"});
  if (!other.ok()) return other.status();
  auto done = testenv::ExpectTrafficgenEvent(*other, "done", 20000);
  if (!done.ok()) return done.status();
  t.other_pid = other->pid();
  t.other = {done->local, Ep(sv4, t.other_port)};
  (void)other->Wait(10000);
  for (auto& s : servers) {
    if (!s.TryWait()) s.Kill();
  }
  return t;
}

bool Involves(const network_monitor::NetworkEvent& e, const Flow& f) {
  return (e.source_addr() == f.local && e.dest_addr() == f.remote) ||
         (e.source_addr() == f.remote && e.dest_addr() == f.local);
}

bool HasData(const std::vector<network_monitor::NetworkEvent>& evs, const Flow& f, int pid) {
  for (const auto& e : evs) {
    if (e.event_type() == "DATA" && Involves(e, f) && (pid == 0 || e.process_id() == pid)) return true;
  }
  return false;
}

class CaptureFilters : public ServerOnTopologyTest {};

TEST_F(CaptureFilters, EachKindAloneAndCombined) {
  const std::string cv4 = topo_->client_end().ipv4, cv6 = topo_->client_end().ipv6;
  const std::string sv4 = topo_->server_end().ipv4;
  auto traffic = Generate(*topo_, [&](const Traffic& t) {
    ASSERT_TRUE(StartCapture(*stub_, CaptureRequest("pid", 120, t.talker_pid)).ok());
    ASSERT_TRUE(StartCapture(*stub_, CaptureRequest("port", 120, 0, t.tcp4_port)).ok());
    ASSERT_TRUE(StartCapture(*stub_, CaptureRequest("src", 120, 0, 0, cv6)).ok());
    ASSERT_TRUE(StartCapture(*stub_, CaptureRequest("dst", 120, 0, 0, "", sv4)).ok());
    ASSERT_TRUE(StartCapture(*stub_, CaptureRequest("all", 120, t.talker_pid, t.tcp4_port, cv4, sv4)).ok());
  });
  ASSERT_TRUE(traffic.ok()) << traffic.status();
  const Traffic& t = *traffic;

  auto pid = Finish("pid");
  for (const auto& e : pid) EXPECT_EQ(e.process_id(), t.talker_pid) << e.DebugString();
  EXPECT_TRUE(HasData(pid, t.tcp4, t.talker_pid));
  EXPECT_TRUE(HasData(pid, t.udp4, t.talker_pid));
  EXPECT_TRUE(HasData(pid, t.tcp6, t.talker_pid));
  EXPECT_FALSE(HasData(pid, t.other, 0));

  auto port = Finish("port");
  for (const auto& e : port) {
    EXPECT_TRUE(PortOf(e.source_addr()) == t.tcp4_port || PortOf(e.dest_addr()) == t.tcp4_port) << e.DebugString();
  }
  EXPECT_TRUE(HasData(port, t.tcp4, t.talker_pid));
  EXPECT_FALSE(HasData(port, t.other, 0));

  auto src = Finish("src");
  for (const auto& e : src) EXPECT_EQ(HostOf(e.source_addr()), cv6) << e.DebugString();
  EXPECT_TRUE(HasData(src, t.tcp6, t.talker_pid));
  EXPECT_FALSE(HasData(src, t.tcp4, 0));

  auto dst = Finish("dst");
  for (const auto& e : dst) EXPECT_EQ(HostOf(e.dest_addr()), sv4) << e.DebugString();
  EXPECT_TRUE(HasData(dst, t.tcp4, t.talker_pid));
  EXPECT_TRUE(HasData(dst, t.udp4, t.talker_pid));
  EXPECT_TRUE(HasData(dst, t.other, t.other_pid));
  EXPECT_FALSE(HasData(dst, t.tcp6, 0));

  auto all = Finish("all");
  for (const auto& e : all) {
    EXPECT_EQ(e.process_id(), t.talker_pid);
    EXPECT_TRUE(Involves(e, t.tcp4)) << e.DebugString();
  }
  EXPECT_TRUE(HasData(all, t.tcp4, t.talker_pid));
}

TEST_F(CaptureFilters, ThreeConcurrentSessionsSeeOnlyTheirOwnTraffic) {
  auto traffic = Generate(*topo_, [&](const Traffic& t) {
    ASSERT_TRUE(StartCapture(*stub_, CaptureRequest("s1", 120, 0, t.tcp4_port)).ok());
    ASSERT_TRUE(StartCapture(*stub_, CaptureRequest("s2", 120, 0, t.other_port)).ok());
    ASSERT_TRUE(StartCapture(*stub_, CaptureRequest("s3", 120, 0, t.udp4_port)).ok());
  });
  ASSERT_TRUE(traffic.ok()) << traffic.status();
  const Traffic& t = *traffic;
  struct Expect {
    const char* id;
    const Flow* mine;
  } expect[] = {{"s1", &t.tcp4}, {"s2", &t.other}, {"s3", &t.udp4}};
  for (const auto& x : expect) {
    auto evs = Finish(x.id);
    EXPECT_TRUE(HasData(evs, *x.mine, 0)) << x.id;
    for (const auto& e : evs) {
      for (const Flow* f : {&t.tcp4, &t.other, &t.udp4, &t.tcp6}) {
        if (f != x.mine) {
          EXPECT_FALSE(Involves(e, *f)) << x.id << " got " << e.DebugString();
        }
      }
    }
  }
}

TEST_F(CaptureFilters, CaptureByPidSeesEveryFlowOfThatProcessAndNothingElse) {
  auto traffic = Generate(*topo_, [&](const Traffic& t) {
    ASSERT_TRUE(StartCapture(*stub_, CaptureRequest("bypid", 120, t.talker_pid)).ok());
  });
  ASSERT_TRUE(traffic.ok()) << traffic.status();
  const Traffic& t = *traffic;
  auto evs = Finish("bypid");
  ASSERT_FALSE(evs.empty());
  std::set<std::string> types;
  for (const auto& e : evs) {
    EXPECT_EQ(e.process_id(), t.talker_pid) << e.DebugString();
    EXPECT_FALSE(Involves(e, t.other)) << e.DebugString();
    types.insert(e.event_type());
  }
  for (const Flow* f : {&t.tcp4, &t.udp4, &t.tcp6}) EXPECT_TRUE(HasData(evs, *f, t.talker_pid)) << f->local;
  EXPECT_TRUE(types.count("CONNECT")) << "the talker's TCP connects";
}

}  // namespace
}  // namespace netmon::e2e
