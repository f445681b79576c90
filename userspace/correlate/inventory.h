// SPDX-License-Identifier: Apache-2.0
// The device inventory of ServiceRadar's Network Mapper, and the address lookup the correlator needs from it.
//
// Input shapes (what the mapper publishes): devices {device_id, ip, hostname, mac, metadata{sys_name,
// sys_location, ...}} and interfaces {device_id, device_ip, if_index, if_name, if_descr, if_alias, ip_addresses[]}.
// A document is {"devices": [...], "interfaces": [...]}, or an array of such items (an item with "if_index" is an
// interface), or one item. Malformed items are skipped and counted; a malformed document is an error.
//
// Lookup: an exact address first (an interface address, then a device's management address), then the longest
// interface subnet containing it when ip_addresses carry prefixes ("10.1.1.1/24").
#pragma once

#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "correlate/ip.h"

namespace netmon::correlate {

struct Device {
  std::string device_id;
  std::string ip;
  std::string hostname;
  std::string mac;
  std::vector<std::pair<std::string, std::string>> metadata;  // sorted by key
  std::string sys_name;                                       // metadata.sys_name
  std::string sys_location;                                   // metadata.sys_location
};

struct Interface {
  std::string device_id;
  std::string device_ip;
  int64_t if_index = -1;  // -1: not given
  std::string if_name;
  std::string if_descr;
  std::string if_alias;
  std::vector<std::string> ip_addresses;  // as given: "10.1.1.1" or "10.1.1.1/24"
};

struct InventoryDoc {
  std::vector<Device> devices;
  std::vector<Interface> interfaces;
  uint64_t items_skipped = 0;      // malformed items left out
  uint64_t addresses_skipped = 0;  // unparsable ip / ip_addresses entries left out
  std::string first_error;         // why the first item was skipped, for the log
};

struct InventoryLimits {
  size_t max_bytes = 64u << 20;
  size_t max_items = 1u << 20;
};

absl::StatusOr<InventoryDoc> ParseInventory(std::string_view json, const InventoryLimits& limits = {});

enum class MatchKind : uint8_t { kExact, kSubnet };

// What an address resolves to. Pointers stay valid while the Inventory snapshot they came from is alive.
struct InventoryMatch {
  const Device* device = nullptr;    // never null
  const Interface* iface = nullptr;  // null when only the device is known
  MatchKind kind = MatchKind::kExact;
  int prefix_len = 0;  // of the matching subnet, in the address family's own terms (/24, /64)
};

class Inventory {
 public:
  // Builds the lookup structures. Interfaces whose device has no record get a placeholder device built from
  // their device_id / device_ip, so every match has a device.
  static std::shared_ptr<const Inventory> Build(std::vector<Device> devices, std::vector<Interface> interfaces);

  std::optional<InventoryMatch> Lookup(const IpAddr& addr) const;
  // The interface `if_index` of the device that owns `device_addr` (an exporter's source address, say).
  const Interface* FindInterface(const IpAddr& device_addr, uint32_t if_index) const;

  // hostname, else sys_name, else device_id, else ip.
  static std::string_view DeviceName(const Device& d);
  // if_name, else if_descr, else "if<index>".
  static std::string InterfaceName(const Interface& i);

  size_t device_count() const { return devices_.size(); }
  size_t interface_count() const { return interfaces_.size(); }
  size_t exact_count() const { return exact_.size(); }
  size_t prefix_count() const;

 private:
  struct Ref {
    uint32_t device;
    int32_t iface;  // -1: none
  };
  struct IfKey {
    uint32_t device;
    uint32_t if_index;
    bool operator==(const IfKey&) const = default;
  };
  struct IfKeyHash {
    size_t operator()(const IfKey& k) const { return (uint64_t{k.device} << 32 | k.if_index) * 0x9e3779b97f4a7c15ULL; }
  };

  InventoryMatch MakeMatch(const Ref& r, MatchKind kind, int prefix_len) const;

  std::vector<Device> devices_;
  std::vector<Interface> interfaces_;
  std::unordered_map<IpAddr, Ref, IpHash> exact_;
  // Subnets by prefix length (over the mapped 128-bit form); lengths_ lists the non-empty ones, longest first.
  std::array<std::unordered_map<IpAddr, Ref, IpHash>, 129> subnets_;
  std::vector<int> lengths_;
  std::unordered_map<IfKey, uint32_t, IfKeyHash> by_if_index_;
};

// The live inventory: a file layer (replaced on reload) under a NATS layer (items upserted as the mapper publishes
// them). Readers take an immutable snapshot; writers rebuild it. Thread-safe.
class InventoryStore {
 public:
  struct Counters {
    uint64_t file_loads = 0;
    uint64_t file_load_errors = 0;
    uint64_t nats_updates = 0;
    uint64_t nats_update_errors = 0;
    uint64_t items_skipped = 0;
    uint64_t addresses_skipped = 0;
    uint64_t rebuilds = 0;
  };

  InventoryStore();

  // Replaces the file layer with the parsed document at `path`. On error the previous layer stays.
  absl::Status LoadFile(const std::string& path, const InventoryLimits& limits = {});
  absl::Status ReplaceFileLayer(std::string_view json, const InventoryLimits& limits = {});
  // Upserts the items of one document into the NATS layer (devices by device_id or ip, interfaces by device and
  // if_index). The snapshot is rebuilt lazily, at most every `rebuild_interval_ns`.
  absl::Status ApplyUpdate(std::string_view json, const InventoryLimits& limits = {});

  // The current snapshot (never null). `now_ns` paces rebuilds after NATS updates (monotonic clock).
  std::shared_ptr<const Inventory> Snapshot(int64_t now_ns);
  std::shared_ptr<const Inventory> SnapshotNow();  // rebuilds if anything changed
  Counters counters() const;
  void set_rebuild_interval_ns(int64_t ns) { rebuild_interval_ns_ = ns; }

 private:
  void RebuildLocked();

  mutable std::mutex mu_;
  std::vector<Device> file_devices_;
  std::vector<Interface> file_interfaces_;
  std::unordered_map<std::string, Device> nats_devices_;        // by device_id, else "ip:" + ip
  std::unordered_map<std::string, Interface> nats_interfaces_;  // by device key + "#" + if_index
  std::shared_ptr<const Inventory> snapshot_;
  bool dirty_ = false;
  int64_t last_rebuild_ns_ = 0;
  int64_t rebuild_interval_ns_ = 250'000'000;
  Counters counters_;
};

}  // namespace netmon::correlate
