// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * XDP ingress alternative of the packet layer: the same counting and DNS parsing as netmon_tc_ingress,
 * selected per interface, loaded by libxdp as one program of its multi-program dispatcher so it coexists with
 * other XDP programs. Shares netmon_flows / netmon_dns_ev / netmon_ifaces with the TC object (see
 * packet_maps.bpf.h). Observer only: always XDP_PASS, never writes to the packet. XDP runs before an skb
 * exists, so there is no socket: attribution is by the tuple map alone.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <xdp/xdp_helpers.h>

#define NETMON_PKT_CTX struct xdp_md
#define NETMON_PKT_IS_XDP 1
#include "netmon/packet.bpf.h"

/* libxdp dispatcher metadata: run early (observers should see packets a later program drops) and continue the
 * chain after XDP_PASS, the only verdict this program returns. */
struct {
	__uint(priority, NETMON_XDP_RUN_PRIO);
	__uint(XDP_PASS, 1);
} XDP_RUN_CONFIG(netmon_xdp_ingress);

/* A global function so the verifier checks the parser once (see netmon_tc_parse). */
__noinline int netmon_xdp_parse(struct xdp_md *ctx, struct netmon_pkt *p, __u32 iflags)
{
	if (!p)
		return NETMON_PARSE_ERR_L2;
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	return netmon_parse(data, data_end, data_end - data, iflags, p);
}

SEC("xdp")
int netmon_xdp_ingress(struct xdp_md *ctx)
{
	netmon_count(NETMON_CTR_PACKETS, 1);
	if (!netmon_any_filter()) {
		netmon_count(NETMON_CTR_PACKETS_FILTERED, 1);
		return XDP_PASS;
	}
	__u32 ifindex = ctx->ingress_ifindex;
	struct netmon_iface *iface = netmon_iface_of(ifindex);
	__u32 netns = iface ? iface->netns : 0;

	struct netmon_pkt p = {};
	int ret = netmon_xdp_parse(ctx, &p, iface ? iface->flags : 0);
	if (ret != NETMON_PARSE_OK) {
		netmon_count(ret == NETMON_PARSE_ERR_L2 ? NETMON_CTR_PARSE_L2 : NETMON_CTR_PARSE_L3, 1);
		return XDP_PASS;
	}
	netmon_account(ctx, &p, NETMON_DIR_INGRESS, netns, ifindex, 0);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
