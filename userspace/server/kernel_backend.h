// SPDX-License-Identifier: Apache-2.0
// The CaptureBackend of a real host: the shared maps, the socket layer (userspace/sock) and the packet layer
// (userspace/flow) on the configured interfaces. Programs are loaded once at start-up (so a kernel that cannot
// run them fails the start, not the first capture) and attached only while captures run.
#pragma once

#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <span>
#include <vector>

#include "absl/status/statusor.h"
#include "bpf/shared_maps.h"
#include "common/unique_fd.h"
#include "flow/link_watch.h"
#include "flow/packet_layer.h"
#include "server/capture_backend.h"
#include "server/config.h"
#include "sock/socket_layer.h"

namespace netmon::server {

class KernelBackend final : public CaptureBackend {
 public:
  static absl::StatusOr<std::unique_ptr<KernelBackend>> Create(const ServerConfig& config);
  ~KernelBackend() override;

  absl::Status Attach() override;
  void Detach() override;
  bool attached() const override;
  absl::Status SeedExistingSockets() override;
  absl::Status SetFilters(const std::vector<netmon_filter>& filters) override;
  int PollSockEvents(int timeout_ms, const std::function<void(const netmon_sock_event&)>& cb) override;
  int PollDnsEvents(const std::function<void(const netmon_dns_event&)>& cb) override;
  absl::Status ReadFlows(std::vector<flow::FlowSample>* out) override;
  absl::Status TakeClosedFlows(std::span<const netmon_tuple> keys, std::vector<flow::FlowSample>* out) override;
  void SweepReleased(uint64_t now_monotonic_ns) override;
  join::OwnerSource Owners() override;
  std::vector<bpf::HookInfo> Hooks() const override;
  std::map<std::string, std::string> InterfacesNotAttached() const override;
  std::vector<bpf::ProgramLoad> ProgramLoads() const override;
  std::map<std::string, uint64_t> Counters() override;

 private:
  explicit KernelBackend(bpf::SharedMaps maps) : maps_(std::move(maps)) {}
  // Calls fn on every attached packet layer, all of them even after a failure; returns the last failure.
  absl::Status ForEachAttachedLayer(const std::function<absl::Status(flow::PacketLayer&)>& fn);

  bpf::SharedMaps maps_;
  std::unique_ptr<sock::SocketLayer> sock_;
  // One packet layer per network namespace: a layer tells its interfaces apart by ifindex, which is unique only
  // within a namespace.
  struct PacketGroup {
    std::unique_ptr<flow::PacketLayer> layer;
    std::vector<flow::InterfaceSpec> interfaces;
    bool every_interface = false;  // the server's namespace, every interface now and later (no `interfaces` key)
  };
  // Attaches interfaces that appeared and detaches those that left (every_interface only).
  void FollowLinks();
  // Every interface of the server's namespace now, lo included.
  static std::vector<flow::InterfaceSpec> EveryInterface();
  std::vector<PacketGroup> packets_;
  std::vector<UniqueFd> netns_fds_;       // keep the interfaces' namespaces open while we may attach there
  std::optional<flow::LinkWatch> links_;  // rtnetlink, when a group covers every interface
  // epoll over every ring buffer (lifecycle and each layer's DNS): the engine's wait ends on either.
  UniqueFd wait_fd_;
};

}  // namespace netmon::server
