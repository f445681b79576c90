// SPDX-License-Identifier: Apache-2.0
#include "server/kernel_backend.h"

#include <sys/epoll.h>

#include <cerrno>
#include <map>

#include "bpf/mounts.h"
#include "common/log.h"
#include "common/netns.h"
#include "common/status.h"
#include "common/str_cat.h"

namespace netmon::server {
namespace {

// Loss and bail-out counters a capture reports (the others count normal traffic).
struct NamedCounter {
  int index;
  const char* name;
};
constexpr NamedCounter kLossCounters[] = {
    {NETMON_CTR_PARSE_L2, "kernel.parse_l2"},
    {NETMON_CTR_PARSE_L3, "kernel.parse_l3"},
    {NETMON_CTR_PARSE_L4, "kernel.parse_l4"},
    {NETMON_CTR_IPV6_EXT_LIMIT, "kernel.ipv6_ext_limit"},
    {NETMON_CTR_FLOW_UPDATE_FAIL, "kernel.flow_update_fail"},
    {NETMON_CTR_FLOW_LOST_BYTES, "kernel.flow_lost_bytes"},
    {NETMON_CTR_DNS_MALFORMED, "kernel.dns_malformed"},
    {NETMON_CTR_DNS_TRUNCATED, "kernel.dns_truncated"},
    {NETMON_CTR_DNS_RINGBUF_FULL, "kernel.dns_ringbuf_full"},
    {NETMON_CTR_SOCK_RINGBUF_FULL, "kernel.sock_ringbuf_full"},
    {NETMON_CTR_OWNER_UPDATE_FAIL, "kernel.owner_update_fail"},
    {NETMON_CTR_TUPLE_UPDATE_FAIL, "kernel.tuple_update_fail"},
    {NETMON_CTR_SOFTIRQ_NO_OWNER, "kernel.softirq_no_owner"},
};

}  // namespace

absl::StatusOr<std::unique_ptr<KernelBackend>> KernelBackend::Create(const ServerConfig& config) {
  bpf::SharedMapSizes sizes;
  sizes.owners = config.owner_map_entries;
  sizes.tuples = config.tuple_map_entries;
  NETMON_ASSIGN_OR_RETURN(bpf::SharedMaps maps, bpf::SharedMaps::Create(sizes));
  std::unique_ptr<KernelBackend> b(new KernelBackend(std::move(maps)));  // private constructor

  sock::SocketLayerConfig sc;
  sc.cgroup_path = config.cgroup_path;
  if (sc.cgroup_path.empty()) {
    NETMON_ASSIGN_OR_RETURN(sc.cgroup_path, bpf::FindCgroup2Mount());
  }
  sc.ringbuf_bytes = config.sock_ringbuf_bytes;
  sc.release_grace_ns = static_cast<uint64_t>(config.release_grace_ms) * 1'000'000;
  NETMON_ASSIGN_OR_RETURN(b->sock_, sock::SocketLayer::Create(b->maps_, sc));

  flow::PacketLayerConfig pc;
  pc.flow_entries = config.flow_map_entries;
  pc.ringbuf_bytes = config.dns_ringbuf_bytes;
  pc.dns_ports = config.dns_ports;
  std::map<std::string, size_t> group_of_netns;  // netns path ("" = ours) -> index in packets_
  if (config.all_interfaces) {
    PacketGroup g;
    NETMON_ASSIGN_OR_RETURN(g.layer, flow::PacketLayer::Create(b->maps_, pc));
    g.every_interface = true;
    b->packets_.push_back(std::move(g));
    NETMON_ASSIGN_OR_RETURN(flow::LinkWatch watch, flow::LinkWatch::Open());
    b->links_.emplace(std::move(watch));
  } else if (config.interfaces.empty()) {
    NETMON_LOG(kWarn, "server",
               "\"interfaces\" is an empty list: captures get lifecycle events only, no DATA and no DNS (leave the "
               "key out to capture on every interface)");
  }
  for (const InterfaceConfig& ic : config.interfaces) {
    auto [it, added] = group_of_netns.try_emplace(ic.netns, b->packets_.size());
    if (added) {
      PacketGroup g;
      NETMON_ASSIGN_OR_RETURN(g.layer, flow::PacketLayer::Create(b->maps_, pc));
      b->packets_.push_back(std::move(g));
    }
    flow::InterfaceSpec spec;
    spec.name = ic.name;
    spec.xdp_ingress = ic.xdp_ingress;
    if (!ic.netns.empty()) {
      NETMON_ASSIGN_OR_RETURN(UniqueFd fd, OpenNetns(ic.netns));
      spec.netns_fd = fd.get();
      b->netns_fds_.push_back(std::move(fd));
    }
    b->packets_[it->second].interfaces.push_back(std::move(spec));
  }
  b->wait_fd_ = UniqueFd(epoll_create1(EPOLL_CLOEXEC));
  if (!b->wait_fd_.valid()) return ErrnoError("epoll_create1", "ring buffers", errno);
  std::vector<int> rings = {b->sock_->events_map_fd()};
  for (const PacketGroup& g : b->packets_) rings.push_back(g.layer->dns_map_fd());
  if (b->links_) rings.push_back(b->links_->fd());  // not a ring, but the wait should end on it too
  for (int fd : rings) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.fd = fd;
    if (epoll_ctl(b->wait_fd_.get(), EPOLL_CTL_ADD, fd, &ev) != 0) {
      return ErrnoError("epoll_ctl", "ring buffer", errno);
    }
  }
  return b;
}

KernelBackend::~KernelBackend() {
  Detach();
}

absl::Status KernelBackend::Attach() {
  NETMON_RETURN_IF_ERROR(sock_->Attach());
  // Each interface that can be attached is; the others are reported (GetStatus) and the capture runs without
  // them. Only when no interface at all can be attached does the capture fail.
  size_t attached = 0;
  std::string refused;
  for (PacketGroup& g : packets_) {
    g.layer->ForgetRefused();
    attached += g.layer->AttachEach(g.every_interface ? EveryInterface() : g.interfaces);
    for (const auto& [name, why] : g.layer->Refused()) refused += StrCat(refused.empty() ? "" : "; ", name, ": ", why);
  }
  if (attached == 0 && !packets_.empty()) {
    Detach();
    return absl::FailedPreconditionError(StrCat("no interface could be attached (", refused, ")"));
  }
  return absl::OkStatus();
}

void KernelBackend::FollowLinks() {
  if (!links_ || !attached()) return;
  // links_ exists only with the one every-interface group, the first in packets_ (Create).
  flow::PacketLayer& layer = *packets_.front().layer;
  bool resync = false;
  links_->Drain(
      [&](const flow::LinkChange& c) {
        if (!c.added) {
          layer.DetachInterface(c.ifindex);
        } else if (!c.name.empty()) {
          layer.AttachEach({flow::InterfaceSpec{c.name, false, -1}});
        }
      },
      &resync);
  if (resync) layer.AttachEach(EveryInterface());
}

std::vector<flow::InterfaceSpec> KernelBackend::EveryInterface() {
  std::vector<flow::InterfaceSpec> specs;
  for (const flow::LinkChange& l : flow::ListLinks()) specs.push_back(flow::InterfaceSpec{l.name, false, -1});
  return specs;
}

void KernelBackend::Detach() {
  for (PacketGroup& g : packets_) g.layer->Detach();
  if (sock_) sock_->Detach();
}

bool KernelBackend::attached() const {
  return sock_ && sock_->attached();
}

absl::Status KernelBackend::SeedExistingSockets() {
  return sock_->SeedExistingSockets();
}

absl::Status KernelBackend::SetFilters(const std::vector<netmon_filter>& filters) {
  return maps_.SetFilters(filters);
}

int KernelBackend::PollSockEvents(int timeout_ms, const std::function<void(const netmon_sock_event&)>& cb) {
  if (timeout_ms > 0) {
    // Until either kind of record is waiting (the engine drains DNS right after): a DNS flood must not sit in
    // its ring for a whole timeout because no lifecycle record came. EINTR just ends the wait early.
    epoll_event ev{};
    (void)epoll_wait(wait_fd_.get(), &ev, 1, timeout_ms);
  }
  FollowLinks();
  return sock_->PollEvents(0, cb);
}

int KernelBackend::PollDnsEvents(const std::function<void(const netmon_dns_event&)>& cb) {
  int n = 0;
  for (PacketGroup& g : packets_) {
    int r = g.layer->PollDns(0, cb);
    if (r > 0) n += r;
  }
  return n;
}

absl::Status KernelBackend::ForEachAttachedLayer(const std::function<absl::Status(flow::PacketLayer&)>& fn) {
  absl::Status result;
  for (PacketGroup& g : packets_) {
    if (!g.layer->attached()) continue;
    if (absl::Status s = fn(*g.layer); !s.ok()) result = s;
  }
  return result;
}

absl::Status KernelBackend::ReadFlows(std::vector<flow::FlowSample>* out) {
  return ForEachAttachedLayer([&](flow::PacketLayer& l) { return l.ReadFlows(out); });
}

absl::Status KernelBackend::TakeClosedFlows(std::span<const netmon_tuple> keys, std::vector<flow::FlowSample>* out) {
  return ForEachAttachedLayer([&](flow::PacketLayer& l) { return l.TakeClosedFlows(keys, out); });
}

void KernelBackend::SweepReleased(uint64_t now_monotonic_ns) {
  sock_->SweepReleased(now_monotonic_ns);
}

join::OwnerSource KernelBackend::Owners() {
  const bpf::SharedMaps* maps = &maps_;
  return join::OwnerSource{[maps](uint64_t cookie) { return maps->LookupOwner(cookie); },
                           [maps](const netmon_tuple& t) -> std::optional<uint64_t> {
                             auto v = maps->LookupTuple(t);
                             if (!v) return std::nullopt;
                             return v->cookie;
                           }};
}

std::vector<bpf::HookInfo> KernelBackend::Hooks() const {
  std::vector<bpf::HookInfo> out = sock_->Hooks();
  for (const PacketGroup& g : packets_) {
    std::vector<bpf::HookInfo> p = g.layer->Hooks();
    out.insert(out.end(), p.begin(), p.end());
  }
  return out;
}

std::map<std::string, std::string> KernelBackend::InterfacesNotAttached() const {
  std::map<std::string, std::string> out;
  for (const PacketGroup& g : packets_) out.merge(g.layer->Refused());
  return out;
}

std::vector<bpf::ProgramLoad> KernelBackend::ProgramLoads() const {
  std::vector<bpf::ProgramLoad> out = sock_->ProgramLoads();
  for (const PacketGroup& g : packets_) {
    std::vector<bpf::ProgramLoad> p = g.layer->ProgramLoads();
    out.insert(out.end(), p.begin(), p.end());
  }
  return out;
}

std::map<std::string, uint64_t> KernelBackend::Counters() {
  std::map<std::string, uint64_t> out;
  auto c = maps_.ReadCounters();
  if (!c.ok()) return out;
  for (const NamedCounter& n : kLossCounters) out[n.name] = (*c)[static_cast<size_t>(n.index)];
  sock::SockStats ss = sock_->Stats();
  out["sock.accept_no_sock"] = ss.kernel[NETMON_SCTR_ACCEPT_NO_SOCK];
  out["sock.accept_no_cookie"] = ss.kernel[NETMON_SCTR_ACCEPT_NO_COOKIE];
  out["sock.state_update_fail"] = ss.kernel[NETMON_SCTR_STATE_UPDATE_FAIL];
  out["sock.records_malformed"] = ss.records_malformed;
  return out;
}

}  // namespace netmon::server
