// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * TC clsact programs of the packet layer, one per direction, attached per interface by
 * userspace/flow/packet_layer.cc. They count L3 bytes and packets per flow, attribute flows to sockets and
 * hand DNS messages to userspace. Observers only: they never write to the packet, and always return
 * TC_ACT_UNSPEC ("no verdict"), so the filters behind ours in the clsact chain still run and decide the packet's
 * fate; with no filter behind, the kernel passes the packet as it would for TC_ACT_OK.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define NETMON_PKT_CTX struct __sk_buff
#define NETMON_PKT_IS_XDP 0
#include "netmon/packet.bpf.h"

/* Bytes made linear when the headers are not in the skb's linear part (rare: most drivers and every local
 * sender put the headers there). Covers two VLAN tags, IPv4 with options or IPv6 with a modest extension
 * chain, and TCP with options. */
#define NETMON_PULL_LEN 256

/*
 * The socket of an egress packet. Kernel control sockets (SOCK_RAW, used for v4 RSTs and time-wait ACKs) are
 * not the connection's owner: for those the tuple map answers instead. Only control segments (no payload) are
 * checked, so data packets pay nothing extra.
 */
static __always_inline __u64 netmon_egress_cookie(struct __sk_buff *skb, const struct netmon_pkt *p)
{
	__u64 cookie = bpf_get_socket_cookie(skb);
	if (cookie == 0 || p->proto != IPPROTO_TCP ||
	    (p->flags & NETMON_PKT_PAYLOAD && p->payload_off < p->l3_end))
		return cookie;
	struct bpf_sock *sk = skb->sk;
	if (!sk)
		return cookie;
	sk = bpf_sk_fullsock(sk);
	if (sk && sk->type == SOCK_RAW)
		return 0;
	return cookie;
}

/*
 * Parses the packet into *p, making the headers linear first if they run past the skb's linear data (content
 * unchanged). A global function on purpose: the verifier checks it once, and the caller continues with p's
 * fields as plain unknown values, instead of re-verifying the rest of the program for every combination of
 * header layouts the parser can end in.
 */
__noinline int netmon_tc_parse(struct __sk_buff *skb, struct netmon_pkt *p, __u32 iflags)
{
	if (!p)
		return NETMON_PARSE_ERR_L2;
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	int ret = netmon_parse(data, data_end, skb->len, iflags, p);
	if (!netmon_parse_incomplete(ret, p) || data_end - data >= skb->len)
		return ret;
	__u32 want = skb->len < NETMON_PULL_LEN ? skb->len : NETMON_PULL_LEN;
	if (bpf_skb_pull_data(skb, want) != 0)
		return ret;
	__builtin_memset(p, 0, sizeof(*p));
	data = (void *)(long)skb->data;
	data_end = (void *)(long)skb->data_end;
	return netmon_parse(data, data_end, skb->len, iflags, p);
}

static __always_inline int netmon_tc(struct __sk_buff *skb, const __u8 dir)
{
	netmon_count(NETMON_CTR_PACKETS, 1);
	if (!netmon_any_filter()) {
		netmon_count(NETMON_CTR_PACKETS_FILTERED, 1);
		return TC_ACT_UNSPEC;
	}
	__u32 ifindex = skb->ifindex;
	struct netmon_iface *iface = netmon_iface_of(ifindex);
	__u32 netns = iface ? iface->netns : 0;

	struct netmon_pkt p = {};
	int ret = netmon_tc_parse(skb, &p, iface ? iface->flags : 0);
	if (ret != NETMON_PARSE_OK) {
		netmon_count(ret == NETMON_PARSE_ERR_L2 ? NETMON_CTR_PARSE_L2 : NETMON_CTR_PARSE_L3, 1);
		return TC_ACT_UNSPEC;
	}
	__u64 cookie = dir == NETMON_DIR_EGRESS ? netmon_egress_cookie(skb, &p) : 0;
	netmon_account(skb, &p, dir, netns, ifindex, cookie);
	return TC_ACT_UNSPEC;
}

SEC("tc")
int netmon_tc_ingress(struct __sk_buff *skb)
{
	return netmon_tc(skb, NETMON_DIR_INGRESS);
}

SEC("tc")
int netmon_tc_egress(struct __sk_buff *skb)
{
	return netmon_tc(skb, NETMON_DIR_EGRESS);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
