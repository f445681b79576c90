/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Packet header parsing shared by bpf/tc and bpf/xdp: Ethernet (up to two 802.1Q/802.1ad tags), IPv4 (with
 * options), IPv6 (extension-header chain, bounded), TCP, UDP. Direct packet access only; every read is
 * checked against data_end, every loop is bounded. Works on [data, data_end) and never writes to the packet.
 *
 * Outcome: netmon_parse() returns 0 when the IP addresses were read — the packet can be counted — and sets
 * flags for what is missing beyond that (ports unknown, fragment, chain too long ...). A packet is then
 * counted under the most specific key that was parsed (address pair with ports 0 if L4 was not reached), so
 * bytes are never lost to a malformed or unusual upper layer. Without addresses (not IP, truncated IP header)
 * it returns the layer that failed and the packet is not counted in any flow.
 *
 * Lengths: l3_end - l3_off is what the packet layer counts, the IP header's own length (IPv4 total length,
 * IPv6 40 + payload length) clamped to the bytes present (a lying length cannot inflate counts; Ethernet
 * padding is not counted). A length of 0 (BIG TCP / jumbograms) means "the bytes present".
 */
#ifndef NETMON_PARSE_BPF_H
#define NETMON_PARSE_BPF_H

#include "netmon/abi.h"
#include "netmon/bound.bpf.h"

#ifndef TC_ACT_UNSPEC
#define TC_ACT_UNSPEC (-1) /* linux/pkt_cls.h, not in vmlinux.h */
#endif

#define NETMON_ETH_P_IP 0x0800
#define NETMON_ETH_P_IPV6 0x86DD
#define NETMON_ETH_P_8021Q 0x8100
#define NETMON_ETH_P_8021AD 0x88A8

/* IPv6 next-header values (linux/ipv6.h NEXTHDR_*, macros, so not in vmlinux.h). */
#define NETMON_NH_HOP 0
#define NETMON_NH_ROUTING 43
#define NETMON_NH_FRAGMENT 44
#define NETMON_NH_AUTH 51
#define NETMON_NH_DEST 60
#define NETMON_NH_ICMPV6 58
#define NETMON_NH_MOBILITY 135
#define NETMON_NH_HIP 139
#define NETMON_NH_SHIM6 140

/* Headers are only looked for this far into the packet: keeps offsets small for the verifier, and no sane
 * stack puts its L4 header further out. */
#define NETMON_MAX_L4_OFF 512

enum netmon_parse_result {
	NETMON_PARSE_OK = 0,
	NETMON_PARSE_ERR_L2 = 1, /* truncated link layer, or not IP */
	NETMON_PARSE_ERR_L3 = 2, /* truncated or malformed IP header: no addresses */
};

enum netmon_pkt_flags {
	NETMON_PKT_PORTS = 1 << 0,	/* sport/dport valid (TCP/UDP header present) */
	NETMON_PKT_L4_BAD = 1 << 1,	/* TCP/UDP header truncated or malformed: NETMON_CTR_PARSE_L4 */
	NETMON_PKT_FRAG = 1 << 2,	/* non-first fragment: no L4 header in this packet */
	NETMON_PKT_FIRST_FRAG = 1 << 3, /* first fragment of several: L4 header present, payload continues */
	NETMON_PKT_EXT_LIMIT = 1 << 4,	/* IPv6 extension chain longer than NETMON_IPV6_MAX_EXT */
	NETMON_PKT_EXT_BAD = 1 << 5,	/* IPv6 extension header truncated: NETMON_CTR_PARSE_L3 */
	NETMON_PKT_PAYLOAD = 1 << 6,	/* payload_off valid (TCP data offset sane / UDP) */
};

struct netmon_pkt {
	__u8 src[NETMON_ADDR_LEN]; /* network order, IPv4 mapped to ::ffff:a.b.c.d */
	__u8 dst[NETMON_ADDR_LEN];
	__u16 sport; /* host order */
	__u16 dport;
	__u8 proto; /* IPPROTO_*, or the IPv6 header where the walk stopped */
	__u8 tcp_flags;
	__u16 flags; /* enum netmon_pkt_flags */
	__u32 l3_off;
	__u32 l3_end;	   /* l3_off + counted L3 bytes */
	__u32 l4_off;	   /* valid with NETMON_PKT_PORTS */
	__u32 payload_off; /* valid with NETMON_PKT_PAYLOAD */
	__u32 udp_len;	   /* UDP length field (host order) */
};

static __always_inline __u32 netmon_l3_len(const struct netmon_pkt *p)
{
	return p->l3_end - p->l3_off;
}

static __always_inline void netmon_map_v4(__u8 *dst, __be32 addr)
{
	/* ::ffff:a.b.c.d, written as words; addr is already in network order. */
	__u32 *w = (__u32 *)dst;
	w[0] = 0;
	w[1] = 0;
	w[2] = bpf_htonl(0x0000ffff);
	w[3] = addr;
}

/*
 * Reads back a field just written to *p, bounded to [0, mask] (which it already is). Where p is memory the
 * verifier does not track (the parsers run in global functions, where p is an argument), the value comes back
 * as "some value <= mask" rather than the constant of the path that wrote it, so the layers after it are
 * verified once for all paths instead of once per header layout.
 */
static __always_inline __u32 netmon_forget(__u32 *field, const __u32 mask)
{
	return netmon_bound(*(volatile __u32 *)field, mask);
}

/* Returns the L3 protocol (ethertype, host order) and sets *off to the L3 header, or 0 on failure. */
static __always_inline __u16 netmon_parse_l2(void *data, void *data_end, __u32 iface_flags, __u32 *off)
{
	if (iface_flags & NETMON_IFACE_F_L3) {
		__u8 *first = data;
		if ((void *)(first + 1) > data_end)
			return 0;
		*off = 0;
		__u8 version = *first >> 4;
		return version == 4 ? NETMON_ETH_P_IP : version == 6 ? NETMON_ETH_P_IPV6 : 0;
	}
	struct ethhdr *eth = data;
	if ((void *)(eth + 1) > data_end)
		return 0;
	__u16 proto = bpf_ntohs(eth->h_proto);
	__u32 o = sizeof(*eth);
#pragma unroll
	for (int i = 0; i < 2; i++) {
		if (proto != NETMON_ETH_P_8021Q && proto != NETMON_ETH_P_8021AD)
			break;
		struct vlan_hdr *vh = data + o;
		if ((void *)(vh + 1) > data_end)
			return 0;
		proto = bpf_ntohs(vh->h_vlan_encapsulated_proto);
		o += sizeof(*vh);
	}
	*off = o;
	return proto;
}

/* Clamps a header-declared L3 length to the bytes present after l3_off. */
static __always_inline __u32 netmon_clamp_len(__u32 declared, __u32 pkt_len, __u32 l3_off)
{
	__u32 present = pkt_len > l3_off ? pkt_len - l3_off : 0;
	if (declared == 0 || declared > present)
		return present;
	return declared;
}

static __always_inline int netmon_parse_ipv4(void *data, void *data_end, __u32 pkt_len, __u32 l3_off,
					     struct netmon_pkt *p)
{
	struct iphdr *ip = data + l3_off;
	if ((void *)(ip + 1) > data_end)
		return NETMON_PARSE_ERR_L3;
	__u32 hlen = ip->ihl * 4;
	if (ip->version != 4 || hlen < sizeof(*ip))
		return NETMON_PARSE_ERR_L3;
	/* Options: the whole header must be present; hlen <= 60 keeps the offset bounded. */
	if (data + l3_off + hlen > data_end)
		return NETMON_PARSE_ERR_L3;
	__u32 tot = bpf_ntohs(ip->tot_len);
	if (tot != 0 && tot < hlen)
		return NETMON_PARSE_ERR_L3;
	netmon_map_v4(p->src, ip->saddr);
	netmon_map_v4(p->dst, ip->daddr);
	p->proto = ip->protocol;
	p->l3_end = l3_off + netmon_clamp_len(tot, pkt_len, l3_off);
	p->l4_off = l3_off + hlen;
	__u16 frag = bpf_ntohs(ip->frag_off);
	if (frag & 0x1fff)
		p->flags |= NETMON_PKT_FRAG;
	else if (frag & 0x2000)
		p->flags |= NETMON_PKT_FIRST_FRAG;
	return NETMON_PARSE_OK;
}

static __always_inline int netmon_ipv6_is_ext(__u8 nh)
{
	return nh == NETMON_NH_HOP || nh == NETMON_NH_ROUTING || nh == NETMON_NH_DEST ||
	       nh == NETMON_NH_AUTH || nh == NETMON_NH_FRAGMENT || nh == NETMON_NH_MOBILITY ||
	       nh == NETMON_NH_HIP || nh == NETMON_NH_SHIM6;
}

static __always_inline int netmon_parse_ipv6(void *data, void *data_end, __u32 pkt_len, __u32 l3_off,
					     struct netmon_pkt *p)
{
	struct ipv6hdr *ip6 = data + l3_off;
	if ((void *)(ip6 + 1) > data_end)
		return NETMON_PARSE_ERR_L3;
	if (ip6->version != 6)
		return NETMON_PARSE_ERR_L3;
	__builtin_memcpy(p->src, &ip6->saddr, NETMON_ADDR_LEN);
	__builtin_memcpy(p->dst, &ip6->daddr, NETMON_ADDR_LEN);
	__u32 plen = bpf_ntohs(ip6->payload_len);
	p->l3_end = l3_off + netmon_clamp_len(plen ? plen + sizeof(*ip6) : 0, pkt_len, l3_off);

	__u8 nh = ip6->nexthdr;
	__u32 off = l3_off + sizeof(*ip6);
	int i;
	/*
	 * Each step must leave the loop state identical whatever the header type was, or the verifier
	 * explores every combination of types over the iterations: the offset is re-bounded with a mask right
	 * after it grows, so every path reaches the back-edge (where states are compared) with the same
	 * offset bounds.
	 */
	for (i = 0; i < NETMON_IPV6_MAX_EXT; i++) {
		if (!netmon_ipv6_is_ext(nh))
			break;
		struct ipv6_opt_hdr *h = data + off;
		/* Every extension header is at least 8 bytes; the fragment header is exactly 8. */
		if ((void *)h + 8 > data_end || off + 8 > p->l3_end) {
			p->flags |= NETMON_PKT_EXT_BAD;
			break;
		}
		if (nh == NETMON_NH_FRAGMENT) {
			__u16 fo = bpf_ntohs(((struct frag_hdr *)h)->frag_off);
			if (fo & 0xfff8) {
				p->flags |= NETMON_PKT_FRAG;
				nh = h->nexthdr;
				off += 8;
				break;
			}
			if (fo & 1)
				p->flags |= NETMON_PKT_FIRST_FRAG;
		}
		/* AH counts its length in 4-byte units minus 2, the others in 8-byte units minus 1 (RFC 4302,
		 * 8200); the fragment header's second byte is reserved and the header is 8 bytes. */
		__u32 len = nh == NETMON_NH_AUTH       ? ((__u32)h->hdrlen + 2) * 4
			    : nh == NETMON_NH_FRAGMENT ? 8
						       : ((__u32)h->hdrlen + 1) * 8;
		nh = h->nexthdr;
		off += len;
		if (off >= NETMON_MAX_L4_OFF) {
			p->flags |= NETMON_PKT_EXT_BAD;
			break;
		}
		off = netmon_bound(off, NETMON_MAX_L4_OFF - 1);
	}
	p->proto = nh;
	p->l4_off = off;
	if (i == NETMON_IPV6_MAX_EXT && netmon_ipv6_is_ext(nh))
		p->flags |= NETMON_PKT_EXT_LIMIT;
	return NETMON_PARSE_OK;
}

static __always_inline void netmon_parse_l4(void *data, void *data_end, struct netmon_pkt *p)
{
	if (p->flags & (NETMON_PKT_FRAG | NETMON_PKT_EXT_BAD | NETMON_PKT_EXT_LIMIT))
		return;
	if (p->proto != IPPROTO_TCP && p->proto != IPPROTO_UDP)
		return;
	__u32 off = netmon_forget(&p->l4_off, 1023);
	if (off > NETMON_MAX_L4_OFF) {
		p->flags |= NETMON_PKT_L4_BAD;
		return;
	}
	if (p->proto == IPPROTO_TCP) {
		struct tcphdr *th = data + off;
		if ((void *)(th + 1) > data_end || off + sizeof(*th) > p->l3_end) {
			p->flags |= NETMON_PKT_L4_BAD;
			return;
		}
		p->sport = bpf_ntohs(th->source);
		p->dport = bpf_ntohs(th->dest);
		p->tcp_flags = ((__u8 *)th)[13];
		p->flags |= NETMON_PKT_PORTS;
		__u32 doff = th->doff * 4;
		if (doff < sizeof(*th) || off + doff > p->l3_end) {
			p->flags |= NETMON_PKT_L4_BAD;
			return;
		}
		p->payload_off = off + doff;
		p->flags |= NETMON_PKT_PAYLOAD;
		return;
	}
	struct udphdr *uh = data + off;
	if ((void *)(uh + 1) > data_end || off + sizeof(*uh) > p->l3_end) {
		p->flags |= NETMON_PKT_L4_BAD;
		return;
	}
	p->sport = bpf_ntohs(uh->source);
	p->dport = bpf_ntohs(uh->dest);
	p->udp_len = bpf_ntohs(uh->len);
	p->payload_off = off + sizeof(*uh);
	p->flags |= NETMON_PKT_PORTS | NETMON_PKT_PAYLOAD;
}

/*
 * Parses [data, data_end) of a packet of pkt_len bytes (pkt_len > data_end - data when the skb is not
 * linear). `p` must be zeroed by the caller.
 */
static __always_inline int netmon_parse(void *data, void *data_end, __u32 pkt_len, __u32 iface_flags,
					struct netmon_pkt *p)
{
	__u32 l3_off = 0;
	__u16 proto = netmon_parse_l2(data, data_end, iface_flags, &l3_off);
	int ret;
	p->l3_off = l3_off;
	/* One L3 walk for every link-layer layout (see netmon_forget). */
	l3_off = netmon_forget(&p->l3_off, 63);
	if (proto == NETMON_ETH_P_IP)
		ret = netmon_parse_ipv4(data, data_end, pkt_len, l3_off, p);
	else if (proto == NETMON_ETH_P_IPV6)
		ret = netmon_parse_ipv6(data, data_end, pkt_len, l3_off, p);
	else
		return NETMON_PARSE_ERR_L2;
	if (ret != NETMON_PARSE_OK)
		return ret;
	netmon_parse_l4(data, data_end, p);
	return NETMON_PARSE_OK;
}

/* Did parsing stop at the end of the linear data rather than at a malformed header? (TC may pull and retry.)
 */
static __always_inline int netmon_parse_incomplete(int ret, const struct netmon_pkt *p)
{
	return ret != NETMON_PARSE_OK || (p->flags & (NETMON_PKT_L4_BAD | NETMON_PKT_EXT_BAD));
}

#endif /* NETMON_PARSE_BPF_H */
