/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Maps of the packet layer, declared by both bpf/tc and bpf/xdp. The loader (userspace/flow/packet_layer.cc)
 * loads the TC object first and hands these maps' fds to the XDP object before it loads (bpf_map__reuse_fd),
 * so a flow counted at XDP ingress and at TC egress lands in one entry. BPF-only.
 */
#ifndef NETMON_PACKET_MAPS_BPF_H
#define NETMON_PACKET_MAPS_BPF_H

#include "netmon/abi.h"

/* tuple -> flow counters. Per-CPU so the hot path updates its slot with plain stores (no atomics, no
 * cache-line bouncing between CPUs); userspace sums the slots. Not LRU: an eviction would drop a flow's
 * unread counts without a trace. When the map is full a new flow's packets are counted as lost instead
 * (NETMON_CTR_FLOW_UPDATE_FAIL, NETMON_CTR_FLOW_LOST_BYTES), and userspace keeps room by taking out, with
 * their last counts, closed flows and flows idle for a few reads. Writer: bpf/tc, bpf/xdp. Reader and expiry:
 * userspace (PacketLayer::ReadFlows, TakeClosedFlows). */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, NETMON_DEFAULT_FLOWS);
	__type(key, struct netmon_tuple);
	__type(value, struct netmon_flow_stats);
} netmon_flows SEC(".maps");

/* DNS messages to userspace (struct netmon_dns_event). Writer: bpf/tc, bpf/xdp. Reader: PacketLayer::PollDns.
 */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, NETMON_DEFAULT_RINGBUF_BYTES);
} netmon_dns_ev SEC(".maps");

/* ifindex -> interface facts (its netns inode for tuple keys, link type). Writer: userspace at attach.
 * Reader: bpf/tc, bpf/xdp. A packet on an interface missing here is keyed with netns 0. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, NETMON_MAX_IFACES);
	__type(key, __u32);
	__type(value, struct netmon_iface);
} netmon_ifaces SEC(".maps");

/* Set by userspace before load (see struct netmon_packet_config). */
const volatile struct netmon_packet_config netmon_pkt_cfg = {
	.dns_ports = {53, 0, 0, 0},
};

#endif /* NETMON_PACKET_MAPS_BPF_H */
