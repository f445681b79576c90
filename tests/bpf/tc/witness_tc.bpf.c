// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Someone else's TC classifier for the chain test: counts the packets it sees per direction and gives no
 * verdict itself. Attached behind netmon's filter (a higher priority number), it sees a packet only if
 * netmon's program let the chain go on (TC_ACT_UNSPEC). Not named netmon_* on purpose: the stale-filter sweep
 * must leave it alone.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} witness_seen SEC(".maps");

static __always_inline int witness_count(__u32 dir)
{
	__u64 *n = bpf_map_lookup_elem(&witness_seen, &dir);
	if (n)
		*n += 1;
	return -1; /* TC_ACT_UNSPEC */
}

SEC("tc")
int witness_ingress(struct __sk_buff *skb)
{
	return witness_count(0);
}

SEC("tc")
int witness_egress(struct __sk_buff *skb)
{
	return witness_count(1);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
