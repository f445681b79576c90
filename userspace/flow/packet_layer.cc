// SPDX-License-Identifier: Apache-2.0
#include "flow/packet_layer.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>
#include <optional>
#include <utility>

#include "bpf/abi_check.h"
#include "bpf/libbpf_log.h"
#include "bpf/ring_buffer.h"
#include "bpf/skeleton.h"
#include "bpf/tc_attachment.h"
#include "bpf/xdp_attachment.h"
#include "common/log.h"
#include "common/netns.h"
#include "common/status.h"
#include "common/unique_fd.h"
#include "flow/flow_reader.h"
#include "netmon/abi.h"
// The skeletons reference struct netmon_packet_config from netmon/abi.h, so they come after it.
#include "netmon_tc.skel.h"
#include "netmon_xdp.skel.h"

namespace netmon::flow {
namespace {

#ifndef ARPHRD_RAWIP
#define ARPHRD_RAWIP 519  // linux/if_arp.h values; glibc's net/if_arp.h may lack them
#endif
#ifndef ARPHRD_IP6GRE
#define ARPHRD_IP6GRE 823
#endif

using TcSkeleton = NETMON_SKELETON(netmon_tc);
using XdpSkeleton = NETMON_SKELETON(netmon_xdp);

}  // namespace

// Everything one interface needs from us, destroyed in reverse order of declaration (programs before the
// netns handle they are detached in).
struct AttachedIface {
  std::string name;
  UniqueFd netns;
  uint32_t netns_inode = 0;
  int ifindex = 0;
  bool xdp = false;
  bpf::TcAttachment tc_egress;
  bpf::TcAttachment tc_ingress;
  bpf::XdpAttachment xdp_ingress;
};

namespace {

absl::Status ValidateConfig(const PacketLayerConfig& cfg) {
  if (cfg.flow_entries == 0) return absl::InvalidArgumentError("packet layer: flow_entries must be > 0");
  const long page = sysconf(_SC_PAGESIZE);
  if (cfg.ringbuf_bytes < static_cast<uint64_t>(page) || (cfg.ringbuf_bytes & (cfg.ringbuf_bytes - 1)) != 0) {
    return absl::InvalidArgumentError(StrCat("packet layer: ringbuf_bytes (", cfg.ringbuf_bytes,
                                             ") must be a power of two and at least the page size (", page, ")"));
  }
  if (cfg.dns_ports.size() > NETMON_MAX_DNS_PORTS) {
    return absl::InvalidArgumentError(
        StrCat("packet layer: at most ", NETMON_MAX_DNS_PORTS, " DNS ports (got ", cfg.dns_ports.size(), ")"));
  }
  for (uint16_t p : cfg.dns_ports) {
    if (p == 0) return absl::InvalidArgumentError("packet layer: DNS port 0 is not a port");
  }
  return absl::OkStatus();
}

netmon_packet_config MakeBpfConfig(const PacketLayerConfig& cfg) {
  netmon_packet_config c{};
  for (size_t i = 0; i < cfg.dns_ports.size(); ++i) c.dns_ports[i] = cfg.dns_ports[i];
  return c;
}

absl::Status SetMaxEntries(struct bpf_map* map, uint32_t n) {
  if (int err = bpf_map__set_max_entries(map, n); err != 0) return ErrnoError("size map", bpf_map__name(map), err);
  return absl::OkStatus();
}

absl::Status ReuseMap(struct bpf_map* map, int fd) {
  if (int err = bpf_map__reuse_fd(map, fd); err != 0) return ErrnoError("share map", bpf_map__name(map), err);
  return absl::OkStatus();
}

// Does the interface carry an Ethernet header in front of IP? (What netmon_iface.flags tells the programs.)
absl::StatusOr<uint32_t> IfaceFlags(const std::string& ifname) {
  UniqueFd sock(socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0));
  if (!sock.valid()) return ErrnoError("socket", "for SIOCGIFHWADDR", errno);
  struct ifreq ifr {};
  if (ifname.size() >= sizeof(ifr.ifr_name)) return absl::InvalidArgumentError("interface name too long: " + ifname);
  std::memcpy(ifr.ifr_name, ifname.c_str(), ifname.size() + 1);
  if (ioctl(sock.get(), SIOCGIFHWADDR, &ifr) != 0) return ErrnoError("read link type of", ifname, errno);
  switch (ifr.ifr_hwaddr.sa_family) {
    case ARPHRD_ETHER:
    case ARPHRD_LOOPBACK: return 0u;
    case ARPHRD_NONE:  // tun, wireguard
    case ARPHRD_RAWIP:
    case ARPHRD_TUNNEL:
    case ARPHRD_TUNNEL6:
    case ARPHRD_SIT:
    case ARPHRD_IPGRE:
    case ARPHRD_IP6GRE: return static_cast<uint32_t>(NETMON_IFACE_F_L3);
    default:
      return absl::FailedPreconditionError(StrCat("interface ", ifname, " has link type ", ifr.ifr_hwaddr.sa_family,
                                                  ": the packet layer parses Ethernet or raw IP only"));
  }
}

struct ResolvedIface {
  UniqueFd netns;
  uint32_t netns_inode = 0;
  int ifindex = 0;
  uint32_t flags = 0;
};

absl::StatusOr<ResolvedIface> Resolve(const InterfaceSpec& spec) {
  ResolvedIface r;
  NETMON_ASSIGN_OR_RETURN(r.netns, OpenNetns(spec.netns_fd >= 0 ? "/proc/self/fd/" + std::to_string(spec.netns_fd)
                                                                : std::string("/proc/thread-self/ns/net")));
  NETMON_ASSIGN_OR_RETURN(r.netns_inode, NetnsInode(r.netns.get()));
  NetnsGuard in_ns(r.netns.get());
  if (!in_ns.ok()) return in_ns.status();
  r.ifindex = static_cast<int>(if_nametoindex(spec.name.c_str()));
  if (r.ifindex == 0) {
    return ErrnoError("find interface", StrCat(spec.name, " (in netns ", r.netns_inode, ")"), errno);
  }
  NETMON_ASSIGN_OR_RETURN(r.flags, IfaceFlags(spec.name));
  return r;
}

}  // namespace

struct PacketLayer::Impl {
  // Declared so that destruction runs bottom-up: attachments, then the ring buffer, then libxdp's program,
  // then the objects.
  TcSkeleton tc;
  std::vector<bpf::ProgramLoad> loads;  // what the TC object's programs cost to load
  XdpSkeleton xdp;
  bpf::XdpProgram xdp_prog;
  bpf::RingBuffer rb;
  const std::function<void(const netmon_dns_event&)>* poll_cb = nullptr;
  uint64_t dns_short_records = 0;
  std::unique_ptr<FlowReader> reader;
  std::vector<std::unique_ptr<AttachedIface>> ifaces;
  std::map<std::string, std::string> refused;  // interface -> why AttachEach could not attach it

  void DeleteIfaceEntries(const std::vector<std::unique_ptr<AttachedIface>>& list) const {
    int fd = bpf_map__fd(tc->maps.netmon_ifaces);
    for (const auto& a : list) {
      uint32_t key = static_cast<uint32_t>(a->ifindex);
      bpf_map_delete_elem(fd, &key);
    }
  }

  static int OnDnsRecord(void* ctx, void* data, size_t size) {
    auto* self = static_cast<Impl*>(ctx);
    if (size < sizeof(netmon_dns_event)) {
      ++self->dns_short_records;
      return 0;
    }
    // Read in place: ring-buffer records are 8-byte aligned, and a copy of each ~900-byte record cost more than
    // its decode.
    if (self->poll_cb != nullptr && *self->poll_cb) (*self->poll_cb)(*static_cast<const netmon_dns_event*>(data));
    return 0;
  }
};

PacketLayer::PacketLayer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

PacketLayer::~PacketLayer() {
  Detach();
}

absl::StatusOr<std::unique_ptr<PacketLayer>> PacketLayer::Create(const bpf::SharedMaps& shared,
                                                                 const PacketLayerConfig& cfg) {
  NETMON_RETURN_IF_ERROR(ValidateConfig(cfg));
  bpf::RouteLibbpfLog();
  auto impl = std::make_unique<Impl>();
  const netmon_packet_config bpf_cfg = MakeBpfConfig(cfg);

  NETMON_ASSIGN_OR_RETURN(impl->tc, TcSkeleton::Open("netmon_tc"));
  impl->tc->rodata->netmon_pkt_cfg = bpf_cfg;
  NETMON_RETURN_IF_ERROR(SetMaxEntries(impl->tc->maps.netmon_flows, cfg.flow_entries));
  NETMON_RETURN_IF_ERROR(SetMaxEntries(impl->tc->maps.netmon_dns_ev, cfg.ringbuf_bytes));
  NETMON_RETURN_IF_ERROR(shared.ReuseIn(impl->tc->obj));
  const uint64_t started = bpf::BoottimeNs();
  NETMON_RETURN_IF_ERROR(impl->tc.Load());
  impl->loads = bpf::DescribeLoads("netmon_tc", impl->tc->obj, started);

  // The XDP object shares the packet maps the TC object just created, and the shared maps, before libxdp
  // loads it.
  NETMON_ASSIGN_OR_RETURN(impl->xdp, XdpSkeleton::Open("netmon_xdp"));
  impl->xdp->rodata->netmon_pkt_cfg = bpf_cfg;
  NETMON_RETURN_IF_ERROR(shared.ReuseIn(impl->xdp->obj));
  NETMON_RETURN_IF_ERROR(ReuseMap(impl->xdp->maps.netmon_flows, bpf_map__fd(impl->tc->maps.netmon_flows)));
  NETMON_RETURN_IF_ERROR(ReuseMap(impl->xdp->maps.netmon_dns_ev, bpf_map__fd(impl->tc->maps.netmon_dns_ev)));
  NETMON_RETURN_IF_ERROR(ReuseMap(impl->xdp->maps.netmon_ifaces, bpf_map__fd(impl->tc->maps.netmon_ifaces)));
  NETMON_ASSIGN_OR_RETURN(impl->xdp_prog, bpf::XdpProgram::FromObject(impl->xdp->obj, "netmon_xdp_ingress"));

  errno = 0;
  impl->rb.reset(ring_buffer__new(bpf_map__fd(impl->tc->maps.netmon_dns_ev), &Impl::OnDnsRecord, impl.get(), nullptr));
  if (!impl->rb) return ErrnoError("open ring buffer", NETMON_MAP_DNS_EVENTS, errno);
  impl->reader = std::make_unique<FlowReader>(bpf_map__fd(impl->tc->maps.netmon_flows));
  NETMON_LOG(kDebug, "flow", "packet layer loaded (flows ", cfg.flow_entries, ", DNS ring ", cfg.ringbuf_bytes,
             " bytes)");
  return std::unique_ptr<PacketLayer>(new PacketLayer(std::move(impl)));
}

absl::StatusOr<std::unique_ptr<AttachedIface>> PacketLayer::AttachOne(const InterfaceSpec& spec) {
  Impl& m = *impl_;
  auto resolved = Resolve(spec);
  if (!resolved.ok()) return resolved.status();
  for (const auto& a : m.ifaces) {
    if (a->ifindex != resolved->ifindex) continue;
    if (a->netns_inode == resolved->netns_inode) {
      return absl::AlreadyExistsError(StrCat("interface ", spec.name, " is attached already"));
    }
    return absl::FailedPreconditionError(
        StrCat("interfaces ", a->name, " (netns ", a->netns_inode, ") and ", spec.name, " (netns ",
               resolved->netns_inode, ") share ifindex ", resolved->ifindex,
               "; the packet layer tells interfaces apart by ifindex, so attach them from separate packet layers"));
  }
  const int ifaces_fd = bpf_map__fd(m.tc->maps.netmon_ifaces);
  auto a = std::make_unique<AttachedIface>();
  a->name = spec.name;
  a->netns = std::move(resolved->netns);
  a->netns_inode = resolved->netns_inode;
  a->ifindex = resolved->ifindex;
  a->xdp = spec.xdp_ingress;
  // The interface's facts go in first, so the first packet counted already carries the right netns.
  uint32_t key = static_cast<uint32_t>(a->ifindex);
  netmon_iface value{.netns = a->netns_inode, .flags = resolved->flags};
  if (int err = bpf_map_update_elem(ifaces_fd, &key, &value, BPF_ANY); err != 0) {
    return ErrnoError("update map", NETMON_MAP_IFACES, err);
  }
  // On a failure below, `a` detaches what it holds as it goes out of scope; its map entry is removed here.
  auto fail = [&](absl::Status st) {
    bpf_map_delete_elem(ifaces_fd, &key);
    return st;
  };
  bpf::TcTarget tc_target{a->name, a->ifindex, a->netns.get()};
  auto egress =
      bpf::TcAttachment::Attach(tc_target, bpf::TcDirection::kEgress, bpf_program__fd(m.tc->progs.netmon_tc_egress));
  if (!egress.ok()) return fail(egress.status());
  a->tc_egress = std::move(*egress);
  if (a->xdp) {
    auto xdp = bpf::XdpAttachment::Attach(bpf::XdpTarget{a->name, a->ifindex, a->netns.get()}, m.xdp_prog);
    if (!xdp.ok()) return fail(xdp.status());
    a->xdp_ingress = std::move(*xdp);
  } else {
    auto ingress = bpf::TcAttachment::Attach(tc_target, bpf::TcDirection::kIngress,
                                             bpf_program__fd(m.tc->progs.netmon_tc_ingress));
    if (!ingress.ok()) return fail(ingress.status());
    a->tc_ingress = std::move(*ingress);
  }
  NETMON_LOG(kInfo, "flow", "attached to ", a->name, " (ifindex ", a->ifindex, ", netns ", a->netns_inode,
             "): tc egress, ", a->xdp ? "xdp ingress, " + a->xdp_ingress.Describe() : "tc ingress");
  return a;
}

absl::Status PacketLayer::Attach(const std::vector<InterfaceSpec>& specs) {
  Impl& m = *impl_;
  if (!m.ifaces.empty()) return absl::FailedPreconditionError("packet layer already attached; Detach() first");
  if (specs.empty()) return absl::InvalidArgumentError("packet layer: no interfaces to attach to");
  for (const InterfaceSpec& spec : specs) {
    auto a = AttachOne(spec);
    if (!a.ok()) {
      Detach();  // all or nothing
      if (a.status().code() == absl::StatusCode::kAlreadyExists) {
        return absl::InvalidArgumentError(StrCat("interface ", spec.name, " is listed twice"));
      }
      return a.status();
    }
    m.ifaces.push_back(std::move(*a));
  }
  return absl::OkStatus();
}

size_t PacketLayer::AttachEach(const std::vector<InterfaceSpec>& specs) {
  Impl& m = *impl_;
  size_t attached = 0;
  for (const InterfaceSpec& spec : specs) {
    auto a = AttachOne(spec);
    if (a.ok()) {
      m.ifaces.push_back(std::move(*a));
      m.refused.erase(spec.name);
      ++attached;
    } else if (a.status().code() != absl::StatusCode::kAlreadyExists) {
      std::string why(a.status().message());
      auto [it, fresh] = m.refused.try_emplace(spec.name, why);
      // Said once per reason: a refused link's every state change comes back here.
      if (fresh || it->second != why) NETMON_LOG(kWarn, "flow", "not capturing on ", spec.name, ": ", why);
      it->second = why;
    }
  }
  return attached;
}

bool PacketLayer::DetachInterface(int ifindex) {
  Impl& m = *impl_;
  for (auto it = m.ifaces.begin(); it != m.ifaces.end(); ++it) {
    if ((*it)->ifindex != ifindex) continue;
    std::vector<std::unique_ptr<AttachedIface>> gone;
    gone.push_back(std::move(*it));
    m.ifaces.erase(it);
    m.DeleteIfaceEntries(gone);
    NETMON_LOG(kInfo, "flow", "detached from ", gone.front()->name, " (ifindex ", ifindex, ")");
    return true;
  }
  return false;
}

std::map<std::string, std::string> PacketLayer::Refused() const {
  return impl_->refused;
}

void PacketLayer::ForgetRefused() {
  impl_->refused.clear();
}

void PacketLayer::Detach() {
  if (!impl_) return;
  Impl& m = *impl_;
  if (m.ifaces.empty()) return;
  std::vector<std::unique_ptr<AttachedIface>> gone = std::move(m.ifaces);
  m.ifaces.clear();
  for (auto& a : gone) {
    a->xdp_ingress.Reset();
    a->tc_ingress.Reset();
    a->tc_egress.Reset();
  }
  m.DeleteIfaceEntries(gone);
  NETMON_LOG(kInfo, "flow", "detached from ", gone.size(), " interface(s)");
}

bool PacketLayer::attached() const {
  return !impl_->ifaces.empty();
}

absl::Status PacketLayer::ReadFlows(std::vector<FlowSample>* out) {
  return impl_->reader->ReadDeltas(out);
}

absl::Status PacketLayer::TakeClosedFlows(std::span<const netmon_tuple> keys, std::vector<FlowSample>* out) {
  // Only tuples of a namespace this layer counts in can have an entry: the others would each cost a lookup
  // syscall that finds nothing (half of them under a connection churn between two namespaces). Without interfaces
  // (packets fed by BPF_PROG_TEST_RUN) every key is tried.
  if (impl_->ifaces.empty()) return impl_->reader->TakeClosed(keys, out);
  std::vector<netmon_tuple> mine;
  mine.reserve(keys.size());
  for (const netmon_tuple& k : keys) {
    for (const auto& a : impl_->ifaces) {
      if (a->netns_inode == k.netns) {
        mine.push_back(k);
        break;
      }
    }
  }
  return impl_->reader->TakeClosed(mine, out);
}

int PacketLayer::PollDns(int timeout_ms, const std::function<void(const netmon_dns_event&)>& cb) {
  Impl& m = *impl_;
  m.poll_cb = &cb;
  int n = bpf::PollThenDrain(m.rb.get(), timeout_ms);
  m.poll_cb = nullptr;
  return n;
}

std::vector<bpf::ProgramLoad> PacketLayer::ProgramLoads() const {
  return impl_->loads;
}

std::vector<bpf::HookInfo> PacketLayer::Hooks() const {
  std::vector<bpf::HookInfo> out;
  const Impl& m = *impl_;
  // An interface that could not be attached: degraded, with the reason (the capture runs on the others).
  for (const auto& [name, why] : m.refused) out.push_back({"tc.egress", "tc", false, true, StrCat(name, ": ", why)});
  if (m.ifaces.empty()) {
    out.push_back({"tc.ingress", "tc", false, false, "not attached"});
    out.push_back({"tc.egress", "tc", false, false, "not attached"});
    out.push_back({"xdp.ingress", "xdp", false, false, "not attached (per interface, on request)"});
    return out;
  }
  for (const auto& a : m.ifaces) {
    out.push_back({"tc.egress", "tc", a->tc_egress.attached(), false, a->name});
    if (a->xdp) {
      // Degraded: generic (skb) mode costs more than native, and without the dispatcher nothing else may
      // share the interface's XDP hook.
      const bool degraded = a->xdp_ingress.mode() == bpf::XdpMode::kSkb || !a->xdp_ingress.via_dispatcher();
      out.push_back({"xdp.ingress", "xdp", a->xdp_ingress.attached(), degraded,
                     StrCat(a->name, ": ", a->xdp_ingress.Describe())});
    } else {
      out.push_back({"tc.ingress", "tc", a->tc_ingress.attached(), false, a->name});
    }
  }
  return out;
}

int PacketLayer::flows_map_fd() const {
  return bpf_map__fd(impl_->tc->maps.netmon_flows);
}
int PacketLayer::prog_fd_tc_ingress() const {
  return bpf_program__fd(impl_->tc->progs.netmon_tc_ingress);
}
int PacketLayer::prog_fd_tc_egress() const {
  return bpf_program__fd(impl_->tc->progs.netmon_tc_egress);
}
int PacketLayer::prog_fd_xdp() const {
  return impl_->xdp_prog.fd();
}
int PacketLayer::dns_map_fd() const {
  return bpf_map__fd(impl_->tc->maps.netmon_dns_ev);
}
int PacketLayer::ifaces_map_fd() const {
  return bpf_map__fd(impl_->tc->maps.netmon_ifaces);
}

}  // namespace netmon::flow
