// SPDX-License-Identifier: Apache-2.0
#include "correlate/inventory.h"

#include <algorithm>
#include <fstream>
#include <sstream>

#include "common/str_cat.h"
#include "correlate/json_in.h"

namespace netmon::correlate {
namespace {

constexpr size_t kMaxFieldBytes = 1024;
constexpr size_t kMaxAddressesPerInterface = 1024;
constexpr size_t kMaxMetadataEntries = 256;

// The address part of "10.1.1.1" or "10.1.1.1/24".
std::optional<IpAddr> HostOf(std::string_view text) {
  return ParseIp(text.substr(0, text.find('/')));
}

// Reads an optional string member; false (with *why set) if present with the wrong type or too long.
bool OptString(const Json& item, const char* key, std::string* out, std::string* why) {
  auto it = item.find(key);
  if (it == item.end() || it->is_null()) return true;
  if (!it->is_string()) {
    *why = StrCat(key, " is not a string");
    return false;
  }
  const auto& s = it->get_ref<const std::string&>();
  if (s.size() > kMaxFieldBytes) {
    *why = StrCat(key, " is longer than ", kMaxFieldBytes, " bytes");
    return false;
  }
  *out = s;
  return true;
}

bool ParseDevice(const Json& item, Device* d, InventoryDoc* doc, std::string* why) {
  if (!OptString(item, "device_id", &d->device_id, why) || !OptString(item, "ip", &d->ip, why) ||
      !OptString(item, "hostname", &d->hostname, why) || !OptString(item, "mac", &d->mac, why)) {
    return false;
  }
  if (!d->ip.empty() && (!ParsePrefix(d->ip) || !HostOf(d->ip))) {
    // The device stays (its id and name are still useful to interfaces), its address does not.
    ++doc->addresses_skipped;
    d->ip.clear();
  }
  if (d->device_id.empty() && d->ip.empty()) {
    *why = "device has neither device_id nor a valid ip";
    return false;
  }
  if (auto it = item.find("metadata"); it != item.end() && !it->is_null()) {
    if (!it->is_object()) {
      *why = "metadata is not an object";
      return false;
    }
    for (const auto& [key, value] : it->items()) {
      if (d->metadata.size() >= kMaxMetadataEntries) break;
      if (key.size() > kMaxFieldBytes) continue;
      std::string text;
      if (value.is_string()) {
        text = value.get<std::string>();
      } else if (value.is_number() || value.is_boolean()) {
        text = value.dump();
      } else {
        continue;  // nested values are not metadata the correlator reports
      }
      if (text.size() > kMaxFieldBytes) text.resize(kMaxFieldBytes);
      if (key == "sys_name") d->sys_name = text;
      if (key == "sys_location") d->sys_location = text;
      d->metadata.emplace_back(key, std::move(text));
    }
    std::sort(d->metadata.begin(), d->metadata.end());
  }
  return true;
}

bool ParseInterface(const Json& item, Interface* i, InventoryDoc* doc, std::string* why) {
  if (!OptString(item, "device_id", &i->device_id, why) || !OptString(item, "device_ip", &i->device_ip, why) ||
      !OptString(item, "if_name", &i->if_name, why) || !OptString(item, "if_descr", &i->if_descr, why) ||
      !OptString(item, "if_alias", &i->if_alias, why)) {
    return false;
  }
  auto idx = item.find("if_index");
  int64_t index = -1;
  if (idx == item.end() || !GetInt64(*idx, &index) || index < 0 || index > 0xffffffffLL) {
    *why = "if_index is missing or not an integer in 0..4294967295";
    return false;
  }
  i->if_index = index;
  if (!i->device_ip.empty() && !ParseIp(i->device_ip)) {
    ++doc->addresses_skipped;
    i->device_ip.clear();
  }
  if (i->device_id.empty() && i->device_ip.empty()) {
    *why = "interface has neither device_id nor a valid device_ip";
    return false;
  }
  if (auto it = item.find("ip_addresses"); it != item.end() && !it->is_null()) {
    if (!it->is_array()) {
      *why = "ip_addresses is not an array";
      return false;
    }
    for (const auto& a : *it) {
      if (i->ip_addresses.size() >= kMaxAddressesPerInterface) break;
      if (!a.is_string() || !ParsePrefix(a.get_ref<const std::string&>())) {
        ++doc->addresses_skipped;
        continue;
      }
      i->ip_addresses.push_back(a.get<std::string>());
    }
  }
  return true;
}

void AddItem(const Json& item, InventoryDoc* doc) {
  std::string why;
  if (!item.is_object()) {
    why = "item is not an object";
  } else if (item.contains("if_index")) {
    Interface i;
    if (ParseInterface(item, &i, doc, &why)) {
      doc->interfaces.push_back(std::move(i));
      return;
    }
  } else {
    Device d;
    if (ParseDevice(item, &d, doc, &why)) {
      doc->devices.push_back(std::move(d));
      return;
    }
  }
  ++doc->items_skipped;
  if (doc->first_error.empty()) doc->first_error = why;
}

std::string DeviceKey(const Device& d) {
  return d.device_id.empty() ? "ip:" + d.ip : d.device_id;
}
std::string InterfaceKey(const Interface& i) {
  return StrCat(i.device_id.empty() ? "ip:" + i.device_ip : i.device_id, "#", i.if_index);
}

}  // namespace

absl::StatusOr<InventoryDoc> ParseInventory(std::string_view json, const InventoryLimits& limits) {
  auto parsed = ParseJson(json, limits.max_bytes, 16);
  if (!parsed.ok()) return parsed.status();
  const Json& root = *parsed;
  InventoryDoc doc;
  size_t items = 0;
  auto add_all = [&](const Json& arr, const char* where) -> absl::Status {
    if (!arr.is_array()) return absl::InvalidArgumentError(StrCat(where, " must be an array"));
    for (const auto& item : arr) {
      if (++items > limits.max_items) {
        return absl::InvalidArgumentError(StrCat("inventory holds more than ", limits.max_items, " items"));
      }
      AddItem(item, &doc);
    }
    return absl::OkStatus();
  };
  if (root.is_array()) {
    auto st = add_all(root, "inventory");
    if (!st.ok()) return st;
  } else if (root.is_object() && (root.contains("devices") || root.contains("interfaces"))) {
    for (const char* key : {"devices", "interfaces"}) {
      auto it = root.find(key);
      if (it == root.end() || it->is_null()) continue;
      // Items are classified by their own shape, so a device list that holds an interface still reads right.
      auto st = add_all(*it, key);
      if (!st.ok()) return st;
    }
  } else if (root.is_object()) {
    AddItem(root, &doc);
  } else {
    return absl::InvalidArgumentError("inventory must be an object or an array");
  }
  return doc;
}

std::shared_ptr<const Inventory> Inventory::Build(std::vector<Device> devices, std::vector<Interface> interfaces) {
  auto inv = std::make_shared<Inventory>();
  inv->devices_ = std::move(devices);
  inv->interfaces_ = std::move(interfaces);

  std::unordered_map<std::string, uint32_t> by_id;
  std::unordered_map<IpAddr, uint32_t, IpHash> by_ip;
  for (uint32_t d = 0; d < inv->devices_.size(); ++d) {
    const Device& dev = inv->devices_[d];
    if (!dev.device_id.empty()) by_id.emplace(dev.device_id, d);
    if (auto h = HostOf(dev.ip)) by_ip.emplace(*h, d);
  }
  // Placeholder devices for interfaces whose device has no record of its own.
  std::vector<uint32_t> iface_device(inv->interfaces_.size());
  for (uint32_t i = 0; i < inv->interfaces_.size(); ++i) {
    const Interface& itf = inv->interfaces_[i];
    std::optional<uint32_t> dev;
    if (!itf.device_id.empty()) {
      if (auto it = by_id.find(itf.device_id); it != by_id.end()) dev = it->second;
    }
    auto dip = ParseIp(itf.device_ip);
    if (!dev && dip) {
      if (auto it = by_ip.find(*dip); it != by_ip.end()) dev = it->second;
    }
    if (!dev) {
      Device placeholder;
      placeholder.device_id = itf.device_id;
      placeholder.ip = itf.device_ip;
      inv->devices_.push_back(std::move(placeholder));
      dev = static_cast<uint32_t>(inv->devices_.size() - 1);
      if (!itf.device_id.empty()) by_id.emplace(itf.device_id, *dev);
      if (dip) by_ip.emplace(*dip, *dev);
    }
    iface_device[i] = *dev;
  }

  // Exact addresses: device management addresses first, then interface addresses, which know the interface too
  // and so replace a device-only entry for the same address.
  for (uint32_t d = 0; d < inv->devices_.size(); ++d) {
    if (auto h = HostOf(inv->devices_[d].ip)) inv->exact_.emplace(*h, Ref{d, -1});
  }
  for (uint32_t i = 0; i < inv->interfaces_.size(); ++i) {
    const Interface& itf = inv->interfaces_[i];
    Ref ref{iface_device[i], static_cast<int32_t>(i)};
    inv->by_if_index_.emplace(IfKey{ref.device, static_cast<uint32_t>(itf.if_index)}, i);
    for (const auto& text : itf.ip_addresses) {
      auto host = HostOf(text);
      auto prefix = ParsePrefix(text);
      if (!host || !prefix) continue;
      auto [it, inserted] = inv->exact_.emplace(*host, ref);
      if (!inserted && it->second.iface < 0) it->second = ref;
      if (prefix->length < 128) inv->subnets_[prefix->length].emplace(prefix->network, ref);
    }
  }
  for (int len = 128; len >= 0; --len) {
    if (!inv->subnets_[len].empty()) inv->lengths_.push_back(len);
  }
  return inv;
}

InventoryMatch Inventory::MakeMatch(const Ref& r, MatchKind kind, int prefix_len) const {
  InventoryMatch m;
  m.device = &devices_[r.device];
  m.iface = r.iface >= 0 ? &interfaces_[static_cast<size_t>(r.iface)] : nullptr;
  m.kind = kind;
  m.prefix_len = prefix_len;
  return m;
}

std::optional<InventoryMatch> Inventory::Lookup(const IpAddr& addr) const {
  int family_bits = addr.IsV4() ? 32 : 128;
  if (auto it = exact_.find(addr); it != exact_.end()) return MakeMatch(it->second, MatchKind::kExact, family_bits);
  for (int len : lengths_) {
    // An IPv4 address only falls in mapped prefixes (length >= 96), and an IPv6 one never in those.
    if (addr.IsV4() != (len >= 96)) continue;
    const auto& table = subnets_[len];
    if (auto it = table.find(MaskAddr(addr, len)); it != table.end()) {
      return MakeMatch(it->second, MatchKind::kSubnet, addr.IsV4() ? len - 96 : len);
    }
  }
  return std::nullopt;
}

const Interface* Inventory::FindInterface(const IpAddr& device_addr, uint32_t if_index) const {
  auto it = exact_.find(device_addr);
  if (it == exact_.end()) return nullptr;
  auto f = by_if_index_.find(IfKey{it->second.device, if_index});
  return f == by_if_index_.end() ? nullptr : &interfaces_[f->second];
}

std::string_view Inventory::DeviceName(const Device& d) {
  if (!d.hostname.empty()) return d.hostname;
  if (!d.sys_name.empty()) return d.sys_name;
  if (!d.device_id.empty()) return d.device_id;
  return d.ip;
}

std::string Inventory::InterfaceName(const Interface& i) {
  if (!i.if_name.empty()) return i.if_name;
  if (!i.if_descr.empty()) return i.if_descr;
  return StrCat("if", i.if_index);
}

size_t Inventory::prefix_count() const {
  size_t n = 0;
  for (int len : lengths_) n += subnets_[len].size();
  return n;
}

InventoryStore::InventoryStore() : snapshot_(Inventory::Build({}, {})) {}

absl::Status InventoryStore::LoadFile(const std::string& path, const InventoryLimits& limits) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    std::lock_guard<std::mutex> lock(mu_);
    ++counters_.file_load_errors;
    return absl::NotFoundError(StrCat("inventory file ", path, ": cannot open"));
  }
  std::string text;
  // Read at most one byte past the limit, so an oversized file is refused without reading all of it.
  text.resize(limits.max_bytes + 1);
  in.read(text.data(), static_cast<std::streamsize>(text.size()));
  text.resize(static_cast<size_t>(in.gcount()));
  auto st = ReplaceFileLayer(text, limits);
  if (!st.ok()) return absl::Status(st.code(), StrCat("inventory file ", path, ": ", st.message()));
  return st;
}

absl::Status InventoryStore::ReplaceFileLayer(std::string_view json, const InventoryLimits& limits) {
  auto doc = ParseInventory(json, limits);
  std::lock_guard<std::mutex> lock(mu_);
  if (!doc.ok()) {
    ++counters_.file_load_errors;
    return doc.status();
  }
  ++counters_.file_loads;
  counters_.items_skipped += doc->items_skipped;
  counters_.addresses_skipped += doc->addresses_skipped;
  file_devices_ = std::move(doc->devices);
  file_interfaces_ = std::move(doc->interfaces);
  // A file load is rare and deliberate: the new snapshot is built right away.
  RebuildLocked();
  return absl::OkStatus();
}

absl::Status InventoryStore::ApplyUpdate(std::string_view json, const InventoryLimits& limits) {
  auto doc = ParseInventory(json, limits);
  std::lock_guard<std::mutex> lock(mu_);
  if (!doc.ok()) {
    ++counters_.nats_update_errors;
    return doc.status();
  }
  ++counters_.nats_updates;
  counters_.items_skipped += doc->items_skipped;
  counters_.addresses_skipped += doc->addresses_skipped;
  for (auto& d : doc->devices) {
    std::string key = DeviceKey(d);
    nats_devices_[key] = std::move(d);
  }
  for (auto& i : doc->interfaces) {
    std::string key = InterfaceKey(i);
    nats_interfaces_[key] = std::move(i);
  }
  dirty_ = true;
  return absl::OkStatus();
}

void InventoryStore::RebuildLocked() {
  std::vector<Device> devices;
  std::vector<Interface> interfaces;
  // The NATS layer wins over the file layer item by item.
  std::unordered_map<std::string, size_t> seen;
  devices.reserve(file_devices_.size() + nats_devices_.size());
  for (const auto& [key, d] : nats_devices_) {
    seen.emplace(key, devices.size());
    devices.push_back(d);
  }
  for (const auto& d : file_devices_) {
    if (!seen.contains(DeviceKey(d))) devices.push_back(d);
  }
  seen.clear();
  for (const auto& [key, i] : nats_interfaces_) {
    seen.emplace(key, interfaces.size());
    interfaces.push_back(i);
  }
  for (const auto& i : file_interfaces_) {
    if (!seen.contains(InterfaceKey(i))) interfaces.push_back(i);
  }
  snapshot_ = Inventory::Build(std::move(devices), std::move(interfaces));
  dirty_ = false;
  ++counters_.rebuilds;
}

std::shared_ptr<const Inventory> InventoryStore::Snapshot(int64_t now_ns) {
  std::lock_guard<std::mutex> lock(mu_);
  if (dirty_ && (last_rebuild_ns_ == 0 || now_ns - last_rebuild_ns_ >= rebuild_interval_ns_)) {
    RebuildLocked();
    last_rebuild_ns_ = now_ns;
  }
  return snapshot_;
}

std::shared_ptr<const Inventory> InventoryStore::SnapshotNow() {
  std::lock_guard<std::mutex> lock(mu_);
  if (dirty_) RebuildLocked();
  return snapshot_;
}

InventoryStore::Counters InventoryStore::counters() const {
  std::lock_guard<std::mutex> lock(mu_);
  return counters_;
}

}  // namespace netmon::correlate
