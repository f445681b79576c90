// SPDX-License-Identifier: Apache-2.0
#include "correlate/inventory.h"

#include <gtest/gtest.h>

namespace netmon::correlate {
namespace {

// ServiceRadar's Network Mapper shapes (pkg/agent mapper publisher): device updates and interface updates.
constexpr char kInventory[] = R"({
  "devices": [
    {"device_id": "default:10.1.1.254", "ip": "10.1.1.254", "hostname": "core-switch-01", "mac": "00:11:22:33:44:55",
     "source": "mapper", "is_available": true, "timestamp": "2025-01-01T00:00:00Z",
     "metadata": {"sys_name": "core-switch-01.dc1", "sys_location": "DC1 row 3 rack 12", "sys_descr": "IOS-XE",
                  "uptime": "123"}},
    {"device_id": "default:10.9.0.1", "ip": "10.9.0.1", "metadata": {"sys_name": "edge-router", "sys_location": "DC1 edge"}},
    {"device_id": "default:192.0.2.7", "ip": "192.0.2.7", "hostname": "lonely-host"}
  ],
  "interfaces": [
    {"device_id": "default:10.1.1.254", "device_ip": "10.1.1.254", "if_index": 24, "if_name": "Gi1/0/24",
     "if_descr": "GigabitEthernet1/0/24", "if_alias": "uplink to fw", "if_speed": 1000000000,
     "ip_addresses": ["10.1.1.1/24"], "if_admin_status": 1, "if_oper_status": 1},
    {"device_id": "default:10.1.1.254", "device_ip": "10.1.1.254", "if_index": 3, "if_name": "Gi1/0/3",
     "ip_addresses": ["10.1.0.1/16"]},
    {"device_id": "default:10.9.0.1", "device_ip": "10.9.0.1", "if_index": 1, "if_descr": "ge-0/0/1",
     "ip_addresses": ["10.9.0.1", "2001:db8:9::1/64"]},
    {"device_ip": "10.77.0.1", "if_index": 7, "if_name": "eth7", "ip_addresses": ["10.77.0.0/24"]}
  ]
})";

std::shared_ptr<const Inventory> Load(const char* json) {
  auto doc = ParseInventory(json);
  EXPECT_TRUE(doc.ok()) << doc.status();
  return Inventory::Build(doc->devices, doc->interfaces);
}

TEST(Inventory, ExactInterfaceAddressGivesDeviceInterfaceAndLocation) {
  auto inv = Load(kInventory);
  auto m = inv->Lookup(*ParseIp("10.1.1.1"));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->kind, MatchKind::kExact);
  EXPECT_EQ(Inventory::DeviceName(*m->device), "core-switch-01");
  ASSERT_NE(m->iface, nullptr);
  EXPECT_EQ(Inventory::InterfaceName(*m->iface), "Gi1/0/24");
  EXPECT_EQ(m->iface->if_alias, "uplink to fw");
  EXPECT_EQ(m->device->sys_location, "DC1 row 3 rack 12");
}

TEST(Inventory, ManagementAddressGivesTheDevice) {
  auto inv = Load(kInventory);
  auto m = inv->Lookup(*ParseIp("10.1.1.254"));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->kind, MatchKind::kExact);
  EXPECT_EQ(m->device->hostname, "core-switch-01");
  EXPECT_EQ(m->iface, nullptr);
  // No hostname: sys_name names it; no name at all: device_id.
  auto r = inv->Lookup(*ParseIp("10.9.0.1"));
  ASSERT_TRUE(r);
  EXPECT_EQ(Inventory::DeviceName(*r->device), "edge-router");
  ASSERT_NE(r->iface, nullptr);  // 10.9.0.1 is also an interface address: the interface is more specific
  EXPECT_EQ(Inventory::InterfaceName(*r->iface), "ge-0/0/1");
}

TEST(Inventory, LongestSubnetWins) {
  auto inv = Load(kInventory);
  auto in24 = inv->Lookup(*ParseIp("10.1.1.77"));
  ASSERT_TRUE(in24);
  EXPECT_EQ(in24->kind, MatchKind::kSubnet);
  EXPECT_EQ(in24->prefix_len, 24);
  EXPECT_EQ(Inventory::InterfaceName(*in24->iface), "Gi1/0/24");
  auto in16 = inv->Lookup(*ParseIp("10.1.200.9"));
  ASSERT_TRUE(in16);
  EXPECT_EQ(in16->prefix_len, 16);
  EXPECT_EQ(Inventory::InterfaceName(*in16->iface), "Gi1/0/3");
  auto v6 = inv->Lookup(*ParseIp("2001:db8:9::abcd"));
  ASSERT_TRUE(v6);
  EXPECT_EQ(v6->prefix_len, 64);
  EXPECT_EQ(Inventory::DeviceName(*v6->device), "edge-router");
}

TEST(Inventory, UnknownAddressIsNotMatched) {
  auto inv = Load(kInventory);
  EXPECT_FALSE(inv->Lookup(*ParseIp("172.16.5.5")));
  EXPECT_FALSE(inv->Lookup(*ParseIp("2001:db8:8::1")));
  // A v4 address never falls into a v6 prefix and vice versa.
  EXPECT_FALSE(inv->Lookup(*ParseIp("::10.1.1.1")));
}

TEST(Inventory, InterfaceWithoutDeviceRecordGetsAPlaceholder) {
  auto inv = Load(kInventory);
  auto m = inv->Lookup(*ParseIp("10.77.0.9"));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->device->ip, "10.77.0.1");
  EXPECT_EQ(Inventory::InterfaceName(*m->iface), "eth7");
  EXPECT_EQ(inv->FindInterface(*ParseIp("10.77.0.1"), 7), m->iface);
}

TEST(Inventory, ExporterInterfaceByIndex) {
  auto inv = Load(kInventory);
  const Interface* i = inv->FindInterface(*ParseIp("10.1.1.254"), 24);
  ASSERT_NE(i, nullptr);
  EXPECT_EQ(i->if_name, "Gi1/0/24");
  // The exporter may send from any of its addresses.
  EXPECT_EQ(inv->FindInterface(*ParseIp("10.1.1.1"), 3)->if_name, "Gi1/0/3");
  EXPECT_EQ(inv->FindInterface(*ParseIp("10.1.1.254"), 99), nullptr);
}

TEST(Inventory, MapperArrayFormAndMalformedItems) {
  auto doc = ParseInventory(R"([
    {"device_id": "d1", "ip": "10.2.0.1", "hostname": "sw2"},
    {"device_id": "d1", "device_ip": "10.2.0.1", "if_index": 5, "if_name": "xe-0/0/5", "ip_addresses": ["10.2.5.1/30", "bogus", 7]},
    {"ip": 12},
    "not an object",
    {"device_id": "d2", "if_index": "x"},
    {"hostname": "no id no ip"}
  ])");
  ASSERT_TRUE(doc.ok()) << doc.status();
  EXPECT_EQ(doc->devices.size(), 1u);
  EXPECT_EQ(doc->interfaces.size(), 1u);
  EXPECT_EQ(doc->items_skipped, 4u);
  EXPECT_EQ(doc->addresses_skipped, 2u);
  EXPECT_FALSE(doc->first_error.empty());
  auto inv = Inventory::Build(doc->devices, doc->interfaces);
  auto m = inv->Lookup(*ParseIp("10.2.5.2"));
  ASSERT_TRUE(m);
  EXPECT_EQ(m->prefix_len, 30);
}

TEST(Inventory, MalformedDocumentsAreErrors) {
  EXPECT_FALSE(ParseInventory("").ok());
  EXPECT_FALSE(ParseInventory("42").ok());
  EXPECT_FALSE(ParseInventory(R"({"devices": 5})").ok());
  InventoryLimits tiny;
  tiny.max_items = 1;
  EXPECT_FALSE(ParseInventory(R"([{"ip":"10.0.0.1"},{"ip":"10.0.0.2"}])", tiny).ok());
}

TEST(InventoryStore, NatsUpdatesUpsertOverTheFileLayer) {
  InventoryStore store;
  store.set_rebuild_interval_ns(0);
  ASSERT_TRUE(store.ReplaceFileLayer(kInventory).ok());
  EXPECT_EQ(Inventory::DeviceName(*store.SnapshotNow()->Lookup(*ParseIp("10.1.1.254"))->device), "core-switch-01");
  // The mapper renames the device and adds one.
  ASSERT_TRUE(
      store
          .ApplyUpdate(R"([{"device_id": "default:10.1.1.254", "ip": "10.1.1.254", "hostname": "core-sw-renamed"},
                                    {"device_id": "new", "ip": "10.5.5.5", "hostname": "newbie"}])")
          .ok());
  auto inv = store.Snapshot(1);
  EXPECT_EQ(Inventory::DeviceName(*inv->Lookup(*ParseIp("10.1.1.254"))->device), "core-sw-renamed");
  EXPECT_EQ(Inventory::DeviceName(*inv->Lookup(*ParseIp("10.5.5.5"))->device), "newbie");
  // The file's interfaces still resolve, now under the renamed device.
  EXPECT_EQ(Inventory::DeviceName(*inv->Lookup(*ParseIp("10.1.1.1"))->device), "core-sw-renamed");
  EXPECT_FALSE(store.ApplyUpdate("{").ok());
  EXPECT_FALSE(store.ReplaceFileLayer("[").ok());
  // A failed reload keeps the previous layer.
  EXPECT_TRUE(store.SnapshotNow()->Lookup(*ParseIp("10.9.0.1")));
  auto c = store.counters();
  EXPECT_EQ(c.file_loads, 1u);
  EXPECT_EQ(c.file_load_errors, 1u);
  EXPECT_EQ(c.nats_updates, 1u);
  EXPECT_EQ(c.nats_update_errors, 1u);
}

}  // namespace
}  // namespace netmon::correlate
