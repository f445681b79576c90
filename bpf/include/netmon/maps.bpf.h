/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Maps shared by the socket layer (bpf/sock) and the packet layer (bpf/tc, bpf/xdp). Each object declares
 * them by including this header; the loader creates them once (with the first object it loads) and hands the
 * same fds to the other objects with bpf_map__reuse_fd() before they load, so every program sees one set.
 * BPF-only: userspace reads the layouts from netmon/abi.h.
 */
#ifndef NETMON_MAPS_BPF_H
#define NETMON_MAPS_BPF_H

#include "netmon/abi.h"
#include "netmon/filter.bpf.h"

/* socket cookie -> owner. Writers: bpf/sock (process context only); userspace (sockets that predate the
 * capture). Readers: bpf/sock, bpf/tc, bpf/xdp, userspace join. Deleted by userspace a grace period after
 * released_ns is set; the LRU only guards against a leak. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, NETMON_DEFAULT_OWNERS);
	__type(key, __u64);
	__type(value, struct netmon_owner);
} netmon_owners SEC(".maps");

/* tuple (local/remote, netns) -> socket cookie, for ingress packets that carry no socket. Also holds
 * wildcard entries for bound sockets: remote address and port zero (and local address zero for a socket bound
 * to the any-address), looked up after the exact tuple misses, as the kernel's own demux does.
 * Writers: bpf/sock, bpf/tc egress, userspace (existing sockets). Readers: bpf/tc, bpf/xdp, userspace. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, NETMON_DEFAULT_TUPLES);
	__type(key, struct netmon_tuple);
	__type(value, struct netmon_tuple_owner);
} netmon_tuples SEC(".maps");

/* enum netmon_counter -> per-CPU count. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, NETMON_CTR_MAX);
	__type(key, __u32);
	__type(value, __u64);
} netmon_counters SEC(".maps");

/* The union of live sessions' filters, double-buffered (abi.h, netmon_filter_st): bank b is entries
 * [b * NETMON_MAX_FILTERS, (b + 1) * NETMON_MAX_FILTERS). Written by userspace when sessions start and end.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NETMON_FILTER_BANKS *NETMON_MAX_FILTERS);
	__type(key, __u32);
	__type(value, struct netmon_filter);
} netmon_filters SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, NETMON_FILTER_ST_ENTRIES);
	__type(key, __u32);
	__type(value, struct netmon_filter_state);
} netmon_filter_st SEC(".maps");

/* The filter set in use: its bank's header (count, flags), and in *base the bank's first entry in
 * netmon_filters. The published generation is read once, so count, flags and entries all come from one set.
 */
static __always_inline struct netmon_filter_state *netmon_filter_bank(__u32 *base)
{
	__u32 k = NETMON_FILTER_ST_SESSIONS;
	struct netmon_filter_state *pub = bpf_map_lookup_elem(&netmon_filter_st, &k);
	if (!pub)
		return 0;
	__u32 bank = pub->generation & 1;
	*base = bank * NETMON_MAX_FILTERS;
	k = NETMON_FILTER_ST_BANK0 + bank;
	return bpf_map_lookup_elem(&netmon_filter_st, &k);
}

/* The owner generation (abi.h): moves whenever a socket passes to another process. */
static __always_inline __u32 netmon_owner_gen(void)
{
	__u32 k = NETMON_FILTER_ST_OWNERS;
	struct netmon_filter_state *st = bpf_map_lookup_elem(&netmon_filter_st, &k);
	return st ? st->generation : 0;
}

/* A socket's owner changed to another process: cached flow verdicts may be wrong now (abi.h). */
static __always_inline void netmon_owner_changed(void)
{
	__u32 k = NETMON_FILTER_ST_OWNERS;
	struct netmon_filter_state *st = bpf_map_lookup_elem(&netmon_filter_st, &k);
	if (st)
		__sync_fetch_and_add(&st->generation, 1);
}

static __always_inline void netmon_count(__u32 counter, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(&netmon_counters, &counter);
	if (v)
		*v += n; /* per-CPU slot: no other writer */
}

/* One session's filter against a tuple. A global function: the verifier checks the match once per program, on
 * its own. Inlined into the loop below it was checked once per iteration and path (NETMON_MAX_FILTERS times
 * the prefix compares' branches): ~130k verifier steps in every socket program that emits, ~1 s of load each.
 */
__noinline int netmon_filter_one(const struct netmon_filter *f, const struct netmon_tuple *t, __u32 tgid)
{
	if (!f || !t)
		return 0;
	return netmon_filter_match_one(f, t, tgid);
}

/* Does a flow/socket match any live session? An empty filter set keeps nothing. */
static __always_inline int netmon_filter_pass(const struct netmon_tuple *t, __u32 tgid)
{
	__u32 base = 0;
	struct netmon_filter_state *st = netmon_filter_bank(&base);
	if (!st)
		return 0;
	__u32 n = st->count;
	for (__u32 i = 0; i < NETMON_MAX_FILTERS; i++) {
		if (i >= n)
			break;
		__u32 k = base + i;
		struct netmon_filter *f = bpf_map_lookup_elem(&netmon_filters, &k);
		if (netmon_filter_one(f, t, tgid))
			return 1;
	}
	return 0;
}

#endif /* NETMON_MAPS_BPF_H */
