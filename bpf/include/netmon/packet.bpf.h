/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The per-packet pipeline shared by bpf/tc and bpf/xdp, after parsing: flow key, socket attribution, filter,
 * flow counters, DNS hand-off. The programs differ only in how they get the packet, its socket (TC egress has
 * one) and how they copy bytes out (skb vs xdp load). The including program says which it is before the
 * #include:
 *   #define NETMON_PKT_CTX struct __sk_buff   (or struct xdp_md)
 *   #define NETMON_PKT_IS_XDP 0               (or 1)
 * BPF-only.
 */
#ifndef NETMON_PACKET_BPF_H
#define NETMON_PACKET_BPF_H

#include "netmon/abi.h"
#include "netmon/maps.bpf.h"
#include "netmon/packet_maps.bpf.h"
#include "netmon/parse.bpf.h"
#include "netmon/dns.bpf.h"
#include "netmon/ringbuf.bpf.h"

#if !defined(NETMON_PKT_CTX) || !defined(NETMON_PKT_IS_XDP)
#error "define NETMON_PKT_CTX and NETMON_PKT_IS_XDP before including netmon/packet.bpf.h"
#endif

#define NETMON_TCP_SYN 0x02
#define NETMON_TCP_ACK 0x10

/* Cheapest possible exit when no capture wants anything: one array lookup before any parsing. */
static __always_inline int netmon_any_filter(void)
{
	__u32 zero = 0;
	struct netmon_filter_state *st = bpf_map_lookup_elem(&netmon_filter_st, &zero);
	return st && st->count != 0;
}

static __always_inline struct netmon_iface *netmon_iface_of(__u32 ifindex)
{
	return bpf_map_lookup_elem(&netmon_ifaces, &ifindex);
}

/*
 * The shared filter check (maps.bpf.h) behind a global function: the verifier checks its loop over the
 * sessions' filters once, instead of once per path that reaches it.
 */
__noinline int netmon_pkt_filter_pass(const struct netmon_tuple *t, __u32 tgid)
{
	if (!t)
		return 0;
	return netmon_filter_pass(t, tgid);
}

/* Local/remote orientation: egress packets leave from the local side, ingress packets arrive at it. */
static __always_inline void netmon_make_tuple(const struct netmon_pkt *p, __u8 dir, __u32 netns,
					      struct netmon_tuple *t)
{
	if (dir == NETMON_DIR_EGRESS) {
		__builtin_memcpy(t->local_addr, p->src, NETMON_ADDR_LEN);
		__builtin_memcpy(t->remote_addr, p->dst, NETMON_ADDR_LEN);
		t->local_port = p->sport;
		t->remote_port = p->dport;
	} else {
		__builtin_memcpy(t->local_addr, p->dst, NETMON_ADDR_LEN);
		__builtin_memcpy(t->remote_addr, p->src, NETMON_ADDR_LEN);
		t->local_port = p->dport;
		t->remote_port = p->sport;
	}
	t->proto = p->proto;
	t->netns = netns;
}

/*
 * Socket cookie of a tuple from netmon_tuples: the exact connection first, then the wildcard keys the socket
 * layer writes for bound sockets (remote side zero; then local address zero too, for a socket bound to the
 * any-address), in the order the kernel's own socket lookup prefers them. 0 = unknown.
 */
static __always_inline __u64 netmon_lookup_cookie(const struct netmon_tuple *t)
{
	struct netmon_tuple_owner *o = bpf_map_lookup_elem(&netmon_tuples, t);
	if (o)
		return o->cookie;
	struct netmon_tuple k = *t;
	__builtin_memset(k.remote_addr, 0, NETMON_ADDR_LEN);
	k.remote_port = 0;
	o = bpf_map_lookup_elem(&netmon_tuples, &k);
	if (o)
		return o->cookie;
	__builtin_memset(k.local_addr, 0, NETMON_ADDR_LEN);
	o = bpf_map_lookup_elem(&netmon_tuples, &k);
	return o ? o->cookie : 0;
}

/*
 * Egress saw the socket: remember tuple -> cookie so replies resolve at ingress even where the socket layer
 * has not (yet) written the tuple. Looked up first so a steady flow costs a lookup, not a map write per
 * packet.
 */
static __always_inline void netmon_learn_tuple(const struct netmon_tuple *t, __u64 cookie)
{
	struct netmon_tuple_owner *o = bpf_map_lookup_elem(&netmon_tuples, t);
	if (o && o->cookie == cookie)
		return;
	struct netmon_tuple_owner v = {.cookie = cookie, .seen_ns = bpf_ktime_get_ns()};
	if (bpf_map_update_elem(&netmon_tuples, t, &v, BPF_ANY) != 0) {
		netmon_count(NETMON_CTR_TUPLE_UPDATE_FAIL, 1);
		return;
	}
	if (!o)
		netmon_count(NETMON_CTR_TUPLES_ADDED, 1);
}

/* Counts one packet in this CPU's slot of a flow. A slot starts zeroed on CPUs other than the inserting one.
 */
static __always_inline void netmon_flow_count(struct netmon_flow_stats *s, __u8 dir, __u32 len, __u32 segs,
					      __u8 tcp_flags, __u8 syn_dir)
{
	__u64 now = bpf_ktime_get_ns();
	if (s->first_seen_ns == 0) {
		s->first_seen_ns = now;
		s->first_dir = dir;
	}
	s->bytes[dir & 1] += len;
	s->packets[dir & 1] += 1;
	s->segments[dir & 1] += segs;
	s->last_seen_ns = now;
	s->tcp_flags[dir & 1] |= tcp_flags;
	if (syn_dir && !s->syn_dir)
		s->syn_dir = syn_dir;
}

/* What a flow's slow path decided, to cache in its slot (abi.h, struct netmon_flow_stats). */
struct netmon_flow_verdict_args {
	__u8 verdict; /* enum netmon_flow_verdict; NONE = decide again on the next packet */
	__u32 filter_gen;
	__u32 owner_gen;
};

static __always_inline void netmon_flow_remember(struct netmon_flow_stats *s, __u64 cookie,
						 const struct netmon_flow_verdict_args *v)
{
	s->verdict = v->verdict;
	s->filter_gen = v->filter_gen;
	s->owner_gen = v->owner_gen;
	if (cookie && s->cookie != cookie)
		s->cookie = cookie;
}

/*
 * The slow path's write: the flow's slot (`s`, or a new entry) takes the verdict, and is counted unless the
 * verdict is DROP (a DROP entry keeps no counts and first_seen_ns 0, so userspace skips it).
 */
static __always_inline void netmon_flow_update(const struct netmon_tuple *t, struct netmon_flow_stats *s,
					       __u64 cookie, __u8 dir, __u32 len, __u32 segs, __u8 tcp_flags,
					       __u8 syn_dir, const struct netmon_flow_verdict_args *v)
{
	const int count = v->verdict != NETMON_VERDICT_DROP;
	if (!s) {
		struct netmon_flow_stats init = {};
		init.cookie = cookie;
		init.verdict = v->verdict;
		init.filter_gen = v->filter_gen;
		init.owner_gen = v->owner_gen;
		if (count) {
			__u64 now = bpf_ktime_get_ns();
			init.bytes[dir & 1] = len;
			init.packets[dir & 1] = 1;
			init.segments[dir & 1] = segs;
			init.first_seen_ns = now;
			init.last_seen_ns = now;
			init.tcp_flags[dir & 1] = tcp_flags;
			init.first_dir = dir;
			init.syn_dir = syn_dir;
		}
		if (bpf_map_update_elem(&netmon_flows, t, &init, BPF_NOEXIST) == 0)
			return;
		/* Another CPU inserted the flow in between: its slot for this CPU is zeroed, update it below.
		 */
		s = bpf_map_lookup_elem(&netmon_flows, t);
		if (!s) {
			/* The map is full: the packet is lost to the counts, and counted as lost (a DROP
			 * entry only caches a verdict: nothing is lost without it). */
			if (count) {
				netmon_count(NETMON_CTR_FLOW_UPDATE_FAIL, 1);
				netmon_count(NETMON_CTR_FLOW_LOST_BYTES, len);
			}
			return;
		}
	}
	netmon_flow_remember(s, cookie, v);
	if (count)
		netmon_flow_count(s, dir, len, segs, tcp_flags, syn_dir);
}

static __always_inline int netmon_is_dns_port(const struct netmon_pkt *p)
{
#pragma unroll
	for (int i = 0; i < NETMON_MAX_DNS_PORTS; i++) {
		__u16 port = netmon_pkt_cfg.dns_ports[i];
		if (port != 0 && (p->sport == port || p->dport == port))
			return 1;
	}
	return 0;
}

static __always_inline long netmon_load_bytes(NETMON_PKT_CTX *ctx, __u32 off, void *to, __u32 len)
{
#if NETMON_PKT_IS_XDP
	return bpf_xdp_load_bytes(ctx, off, to, len);
#else
	return bpf_skb_load_bytes(ctx, off, to, len);
#endif
}

/* What the DNS hand-off needs from the packet path (a global function takes it by pointer). */
struct netmon_dns_req {
	struct netmon_pkt pkt;
	struct netmon_tuple tuple;
	__u64 cookie;
	__u32 ifindex;
	__u8 dir;
	__u8 pad[3];
};

/* Hands a DNS message (UDP) or segment (TCP) to userspace; see abi.h "packet layer" for the record's rules.
 */
/*
 * A global function, so the verifier checks it (and its bounded loops over the name) once, not once per path
 * that leads to it.
 */
__noinline int netmon_dns_emit(NETMON_PKT_CTX *ctx, const struct netmon_dns_req *req)
{
	if (!req)
		return 0;
	const struct netmon_pkt *p = &req->pkt;
	if (!(p->flags & NETMON_PKT_PAYLOAD) || p->payload_off > p->l3_end)
		return 0;
	__u32 present = p->l3_end - p->payload_off;
	if (present == 0 && p->proto == IPPROTO_TCP)
		return 0; /* a segment without data (ACK, SYN, FIN): nothing of the stream */
	__u8 hdr[2 + NETMON_DNS_HDR_LEN];
	__u32 msg_len = 0;
	int parsed = 0;

	if (p->proto == IPPROTO_UDP) {
		if (p->udp_len < 8 + NETMON_DNS_HDR_LEN || present < NETMON_DNS_HDR_LEN) {
			netmon_count(NETMON_CTR_DNS_MALFORMED, 1);
			return 0;
		}
		msg_len = p->udp_len - 8;
		/* A UDP length beyond the packet is a lie the kernel drops, except in a first fragment. */
		if (msg_len > present && !(p->flags & NETMON_PKT_FIRST_FRAG)) {
			netmon_count(NETMON_CTR_DNS_MALFORMED, 1);
			return 0;
		}
		if (netmon_load_bytes(ctx, p->payload_off, hdr, NETMON_DNS_HDR_LEN) != 0 ||
		    !netmon_dns_header_ok(hdr, msg_len)) {
			netmon_count(NETMON_CTR_DNS_MALFORMED, 1);
			return 0;
		}
		/* A UDP length shorter than the IP payload: the rest is not the message. */
		if (msg_len < present)
			present = msg_len;
		parsed = 1;
	} else if (present >= sizeof(hdr) && netmon_load_bytes(ctx, p->payload_off, hdr, sizeof(hdr)) == 0) {
		/* TCP: a segment that starts with a length prefix and a plausible header starts a message. */
		__u32 prefix = netmon_dns_be16(hdr);
		if (netmon_dns_header_ok(hdr + 2, prefix)) {
			msg_len = prefix;
			parsed = 1;
		}
	}

	/* The reader is woken per eighth of the ring (netmon_ringbuf_wakeup); PacketLayer::PollDns and the
	 * server's wait drain on their timeout. */
	__u64 backlog = bpf_ringbuf_query(&netmon_dns_ev, BPF_RB_AVAIL_DATA);
	struct netmon_dns_event *ev = bpf_ringbuf_reserve(&netmon_dns_ev, sizeof(*ev), 0);
	if (!ev) {
		netmon_count(NETMON_CTR_DNS_RINGBUF_FULL, 1);
		return 0;
	}
	__u32 cap = present < NETMON_DNS_MAX_PAYLOAD ? present : NETMON_DNS_MAX_PAYLOAD;
	if (cap == 0) {
		bpf_ringbuf_discard(ev, 0);
		return 0;
	}
	/* The same value, written so that the verifier knows 1 <= cap <= 512 for the copy: older verifiers
	 * (6.1) learn no lower bound from the cap != 0 test above and reject a copy that might be empty. */
	cap = netmon_bound(cap - 1, NETMON_DNS_MAX_PAYLOAD - 1) + 1;
	if (netmon_load_bytes(ctx, p->payload_off, ev->payload, cap) != 0) {
		bpf_ringbuf_discard(ev, 0);
		return 0;
	}
	ev->ts_ns = bpf_ktime_get_ns();
	ev->cookie = req->cookie;
	ev->tuple = req->tuple;
	ev->ifindex = req->ifindex;
	ev->dir = req->dir;
	ev->is_tcp = p->proto == IPPROTO_TCP;
	ev->msg_len = msg_len;
	ev->cap_len = cap;
	ev->id = 0;
	ev->flags = 0;
	ev->qdcount = 0;
	__builtin_memset(ev->pad, 0, sizeof(ev->pad));
	if (parsed)
		netmon_dns_fill_header(ev, ev->is_tcp ? hdr + 2 : hdr);
	int truncated = p->proto == IPPROTO_TCP ? present > cap : msg_len > cap;
	__u64 wakeup = netmon_ringbuf_wakeup(&netmon_dns_ev, backlog,
					     bpf_ringbuf_query(&netmon_dns_ev, BPF_RB_RING_SIZE) / 8);
	bpf_ringbuf_submit(ev, wakeup); /* ev is not ours to read after this */
	netmon_count(NETMON_CTR_DNS_MESSAGES, 1);
	if (truncated)
		netmon_count(NETMON_CTR_DNS_TRUNCATED, 1);
	return 0;
}

/*
 * Everything after parsing. `cookie` is the packet's socket if the hook knows it (TC egress), else 0 and the
 * tuple map is asked. Never alters the packet or its fate.
 */
static __always_inline void netmon_account(NETMON_PKT_CTX *ctx, const struct netmon_pkt *p, __u8 dir,
					   __u32 netns, __u32 ifindex, __u64 cookie)
{
	if (p->flags & NETMON_PKT_L4_BAD)
		netmon_count(NETMON_CTR_PARSE_L4, 1);
	if (p->flags & NETMON_PKT_EXT_BAD)
		netmon_count(NETMON_CTR_PARSE_L3, 1);
	if (p->flags & NETMON_PKT_EXT_LIMIT)
		netmon_count(NETMON_CTR_IPV6_EXT_LIMIT, 1);
	if (p->flags & NETMON_PKT_FRAG)
		netmon_count(NETMON_CTR_FRAGMENTS, 1);

	struct netmon_tuple t = {};
	netmon_make_tuple(p, dir, netns, &t);
	__u32 len = netmon_l3_len(p);
#if NETMON_PKT_IS_XDP
	__u32 segs = 1; /* XDP sees frames before GRO */
#else
	__u32 segs = ctx->gso_segs ? ctx->gso_segs : 1; /* 0 for a packet no offload touched */
#endif
	__u8 syn_dir = 0;
	if (p->proto == IPPROTO_TCP && (p->tcp_flags & (NETMON_TCP_SYN | NETMON_TCP_ACK)) == NETMON_TCP_SYN)
		syn_dir = 1 + dir;

	/* Array lookups: the verifier inlines them into a bounds check and an add. */
	__u32 k = NETMON_FILTER_ST_SESSIONS;
	struct netmon_filter_state *sessions = bpf_map_lookup_elem(&netmon_filter_st, &k);
	k = NETMON_FILTER_ST_OWNERS;
	struct netmon_filter_state *owners = bpf_map_lookup_elem(&netmon_filter_st, &k);
	if (!sessions || !owners)
		return;
	struct netmon_flow_verdict_args v = {.filter_gen = sessions->generation,
					     .owner_gen = owners->generation};

	/* A flow already decided on this CPU under the current filters and owners: one lookup. (An egress
	 * packet whose socket differs from the cached one is a new connection on a reused tuple: decided
	 * afresh.) */
	struct netmon_flow_stats *s = bpf_map_lookup_elem(&netmon_flows, &t);
	if (s && s->verdict != NETMON_VERDICT_NONE && s->filter_gen == v.filter_gen &&
	    s->owner_gen == v.owner_gen && (!cookie || cookie == s->cookie)) {
		if (s->verdict == NETMON_VERDICT_DROP) {
			netmon_count(NETMON_CTR_PACKETS_FILTERED, 1);
			return;
		}
		netmon_flow_count(s, dir, len, segs, p->tcp_flags, syn_dir);
		cookie = s->cookie;
	} else {
		if (cookie) {
			/* Without ports (fragments) the key would be an address pair: not worth teaching the
			 * tuple map. */
			if (!(p->flags & NETMON_PKT_FRAG))
				netmon_learn_tuple(&t, cookie);
		} else {
			cookie = netmon_lookup_cookie(&t);
		}
		struct netmon_owner *owner = cookie ? bpf_map_lookup_elem(&netmon_owners, &cookie) : 0;
		int pass = netmon_pkt_filter_pass(&t, owner ? owner->tgid : NETMON_TGID_UNKNOWN);
		/* A verdict that rests on an owner not known yet is not kept: the owner may come (accept()).
		 * The flags come from the bank header of the generation read above (the published entry's
		 * flags could already be the next set's). If the set changed since, the verdict is cached
		 * under the older generation and decided again at the next packet. */
		__u32 base = 0;
		struct netmon_filter_state *bank = netmon_filter_bank(&base);
		if (owner || (bank && !(bank->flags & NETMON_FSTATE_PID)))
			v.verdict = pass ? NETMON_VERDICT_COUNT : NETMON_VERDICT_DROP;
		if (!pass) {
			netmon_count(NETMON_CTR_PACKETS_FILTERED, 1);
			if (v.verdict == NETMON_VERDICT_DROP)
				netmon_flow_update(&t, s, cookie, dir, len, segs, p->tcp_flags, syn_dir, &v);
			return;
		}
		netmon_flow_update(&t, s, cookie, dir, len, segs, p->tcp_flags, syn_dir, &v);
	}
	if (!cookie) {
		netmon_count(NETMON_CTR_UNATTRIB_PACKETS, 1);
		netmon_count(NETMON_CTR_UNATTRIB_BYTES, len);
	}
	if ((p->flags & NETMON_PKT_PORTS) && netmon_is_dns_port(p)) {
		struct netmon_dns_req req = {
			.pkt = *p, .tuple = t, .cookie = cookie, .ifindex = ifindex, .dir = dir};
		netmon_dns_emit(ctx, &req);
	}
}

#endif /* NETMON_PACKET_BPF_H */
