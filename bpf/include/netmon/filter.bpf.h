/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Kernel-side filter check: does a flow or socket match any live session's filter? Pure functions over
 * plain structs so tests/unit can compile them as C++ too (see tests/unit/flow). The kernel filter may keep
 * more than a session wants (addresses match either side, since per packet the initiator is unknown);
 * userspace applies each session's exact filter.
 */
#ifndef NETMON_FILTER_BPF_H
#define NETMON_FILTER_BPF_H

#include "netmon/abi.h"

/* Compares the first `prefix` bits of two 16-byte addresses. */
static __always_inline int netmon_prefix_match(const __u8 *a, const __u8 *b, __u8 prefix)
{
	if (prefix > 128)
		prefix = 128;
#pragma unroll
	for (int i = 0; i < NETMON_ADDR_LEN; i++) {
		__u8 bits = prefix > i * 8 ? (prefix - i * 8 >= 8 ? 8 : prefix - i * 8) : 0;
		__u8 mask = bits == 0 ? 0 : (__u8)(0xff << (8 - bits));
		if ((a[i] ^ b[i]) & mask)
			return 0;
	}
	return 1;
}

/* `tgid` is the owning process if known, 0 if not: a PID filter never matches unattributed traffic, except
 * NETMON_TGID_UNKNOWN (the packet layer's "not known yet"), which every PID filter lets through. */
static __always_inline int netmon_filter_match_one(const struct netmon_filter *f,
						   const struct netmon_tuple *t, __u32 tgid)
{
	if ((f->flags & NETMON_FILTER_PID) && f->tgid != tgid && tgid != NETMON_TGID_UNKNOWN)
		return 0;
	if ((f->flags & NETMON_FILTER_PORT) && f->port != t->local_port && f->port != t->remote_port)
		return 0;
	if ((f->flags & NETMON_FILTER_SRC) &&
	    !netmon_prefix_match(f->src_addr, t->local_addr, f->src_prefix) &&
	    !netmon_prefix_match(f->src_addr, t->remote_addr, f->src_prefix))
		return 0;
	if ((f->flags & NETMON_FILTER_DST) &&
	    !netmon_prefix_match(f->dst_addr, t->local_addr, f->dst_prefix) &&
	    !netmon_prefix_match(f->dst_addr, t->remote_addr, f->dst_prefix))
		return 0;
	return 1;
}

#endif /* NETMON_FILTER_BPF_H */
