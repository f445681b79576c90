// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Someone else's XDP program for the coexistence test: counts the packets it sees and passes them. Not named
 * netmon_* on purpose, so netmon's stale-XDP sweep must leave it alone. Runs after netmon's observer in the
 * libxdp dispatcher (priority 20 > NETMON_XDP_RUN_PRIO).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <xdp/xdp_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} other_seen SEC(".maps");

struct {
	__uint(priority, 20);
	__uint(XDP_PASS, 1);
} XDP_RUN_CONFIG(other_xdp_pass);

SEC("xdp")
int other_xdp_pass(struct xdp_md *ctx)
{
	__u32 zero = 0;
	__u64 *n = bpf_map_lookup_elem(&other_seen, &zero);
	if (n)
		*n += 1;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
