// SPDX-License-Identifier: Apache-2.0
// Userspace's guard on the BPF ABI (bpf/include/netmon/abi.h): a size or layout change on one side that the
// other side did not make fails the build here, not at run time.
#pragma once

#include <cstddef>

#include "netmon/abi.h"

static_assert(sizeof(struct netmon_tuple) == 44);
static_assert(offsetof(struct netmon_tuple, local_port) == 32);
static_assert(offsetof(struct netmon_tuple, proto) == 36);
static_assert(offsetof(struct netmon_tuple, netns) == 40);
static_assert(sizeof(struct netmon_owner) == 72);
static_assert(offsetof(struct netmon_owner, cgroup_id) == 16);
static_assert(offsetof(struct netmon_owner, comm) == 48);
static_assert(offsetof(struct netmon_owner, source) == 64);
static_assert(sizeof(struct netmon_tuple_owner) == 16);
static_assert(offsetof(struct netmon_flow_stats, verdict) == 60);
static_assert(offsetof(struct netmon_flow_stats, filter_gen) == 64);
static_assert(offsetof(struct netmon_flow_stats, segments) == 72);
static_assert(sizeof(struct netmon_flow_stats) == 88);
static_assert(offsetof(struct netmon_flow_stats, tcp_flags) == 56);
static_assert(sizeof(struct netmon_iface) == 8);
static_assert(sizeof(struct netmon_filter) == 48);
static_assert(offsetof(struct netmon_filter, src_addr) == 12);
static_assert(sizeof(struct netmon_filter_state) == 16);
static_assert(offsetof(struct netmon_sock_event, tuple) == 16);
static_assert(offsetof(struct netmon_sock_event, type) == 60);
static_assert(offsetof(struct netmon_sock_event, latency_ns) == 72);
static_assert(offsetof(struct netmon_sock_event, owner) == 96);
static_assert(sizeof(struct netmon_sock_event) == 168);
static_assert(offsetof(struct netmon_dns_event, ifindex) == 60);
static_assert(offsetof(struct netmon_dns_event, payload) == 80);
static_assert(sizeof(struct netmon_dns_event) == 592);
static_assert(NETMON_CTR_MAX <= 64, "counter array sized for 64 entries at most");

// packet layer
static_assert(sizeof(struct netmon_packet_config) == 16);
static_assert(offsetof(struct netmon_dns_event, dir) == 64);
static_assert(offsetof(struct netmon_dns_event, msg_len) == 72);
static_assert(NETMON_DNS_MAX_PAYLOAD == 512, "bpf/include/netmon/dns.bpf.h masks payload offsets with 511");

// socket layer
static_assert(sizeof(struct netmon_sock_state) == 80);
static_assert(offsetof(struct netmon_sock_state, tuple) == 32);
static_assert(offsetof(struct netmon_sock_state, role) == 76);
static_assert(offsetof(struct netmon_sock_state, flags) == 77);
static_assert(NETMON_SCTR_MAX <= 64, "socket counter array sized for 64 entries at most");
