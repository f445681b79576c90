/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * DNS recognition for the packet layer: header plausibility and the header fields. Pure functions over
 * plain buffers (no helpers, no maps), so tests/unit/flow compiles them as C++ and checks them without a
 * kernel. Decoding (question, answers, compression) is userspace's job (userspace/dns), on the copy of the
 * message in the ring-buffer record.
 */
#ifndef NETMON_DNS_BPF_H
#define NETMON_DNS_BPF_H

#include "netmon/abi.h"
#include "netmon/bound.bpf.h"

#define NETMON_DNS_HDR_LEN 12

static __always_inline __u16 netmon_dns_be16(const __u8 *p)
{
	return (__u16)((__u16)p[0] << 8 | p[1]);
}

/*
 * Is `h` (the 12-byte header of a message of msg_len bytes) plausibly DNS? Rejects opcodes that are not
 * assigned (3, 7..15) and section counts that cannot fit: a question takes at least 5 bytes (root name, type,
 * class), a resource record at least 11. That separates DNS from other traffic on port 53 cheaply, and bounds
 * what userspace is asked to decode.
 */
static __always_inline int netmon_dns_header_ok(const __u8 *h, __u32 msg_len)
{
	if (msg_len < NETMON_DNS_HDR_LEN)
		return 0;
	__u16 flags = netmon_dns_be16(h + 2);
	__u8 opcode = (flags >> 11) & 0xf;
	if (opcode == 3 || opcode > 6)
		return 0;
	__u32 need = (__u32)netmon_dns_be16(h + 4) * 5 +
		     ((__u32)netmon_dns_be16(h + 6) + netmon_dns_be16(h + 8) + netmon_dns_be16(h + 10)) * 11;
	return need <= msg_len - NETMON_DNS_HDR_LEN;
}

static __always_inline void netmon_dns_fill_header(struct netmon_dns_event *ev, const __u8 *h)
{
	ev->id = netmon_dns_be16(h);
	ev->flags = netmon_dns_be16(h + 2);
	ev->qdcount = netmon_dns_be16(h + 4);
}

#endif /* NETMON_DNS_BPF_H */
