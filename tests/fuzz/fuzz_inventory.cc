// SPDX-License-Identifier: Apache-2.0
// libFuzzer target for the Network Mapper inventory: the document parser, the index build and the lookups, and the
// store's upsert path. Checks: every exact address an item declares is found again, subnet matches really contain
// the address, and interface lookups by (device, ifIndex) return an interface with that index.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#include "correlate/inventory.h"
#include "fuzz_check.h"

namespace {

using namespace netmon::correlate;

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  InventoryLimits limits;
  limits.max_bytes = 1 << 16;
  limits.max_items = 256;
  auto doc = ParseInventory(text, limits);
  if (!doc.ok()) return 0;
  auto inv = Inventory::Build(doc->devices, doc->interfaces);
  for (const Device& d : doc->devices) {
    auto ip = ParseIp(std::string_view(d.ip).substr(0, d.ip.find('/')));
    if (ip) Check(inv->Lookup(*ip).has_value());
  }
  for (const Interface& i : doc->interfaces) {
    for (const auto& a : i.ip_addresses) {
      auto host = ParseIp(std::string_view(a).substr(0, a.find('/')));
      Check(host.has_value());
      auto m = inv->Lookup(*host);
      Check(m.has_value() && m->kind == MatchKind::kExact);
      // Any address in the declared subnet matches some prefix at least as long.
      auto p = ParsePrefix(a);
      Check(p.has_value());
      IpAddr other = p->network;
      other.bytes[15] ^= 1;
      if (auto s = inv->Lookup(other); s && s->kind == MatchKind::kSubnet) {
        // A subnet match names an interface that declares a prefix of that length containing the address.
        Check(s->iface != nullptr);
        int len = other.IsV4() ? s->prefix_len + 96 : s->prefix_len;
        bool contained = false;
        for (const auto& decl : s->iface->ip_addresses) {
          auto dp = ParsePrefix(decl);
          if (dp && dp->length == len && MaskAddr(other, len) == dp->network) contained = true;
        }
        Check(contained);
      }
    }
    if (auto dip = ParseIp(i.device_ip)) {
      if (const Interface* f = inv->FindInterface(*dip, static_cast<uint32_t>(i.if_index))) {
        Check(f->if_index == i.if_index);
      }
    }
  }
  InventoryStore store;
  store.set_rebuild_interval_ns(0);
  (void)store.ApplyUpdate(text, limits);
  (void)store.Snapshot(1)->Lookup(*ParseIp("10.1.1.1"));
  return 0;
}
