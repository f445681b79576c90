/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * DNS recognition for the packet layer: header plausibility and first-question extraction. Pure functions
 * over plain buffers (no helpers, no maps), so tests/unit/flow compiles them as C++ and checks them without a
 * kernel; the programs call them on the copy of the message in the ring-buffer record. Full decoding
 * (answers, compression) is userspace's job (userspace/dns); the kernel only extracts what routing and
 * filtering need.
 */
#ifndef NETMON_DNS_BPF_H
#define NETMON_DNS_BPF_H

#include "netmon/abi.h"
#include "netmon/bound.bpf.h"

#define NETMON_DNS_HDR_LEN 12
#define NETMON_DNS_MAX_WIRE_NAME 255 /* RFC 1035 §2.3.4: a name is at most 255 octets on the wire */

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

/*
 * Extracts the first question's name (dotted, no trailing dot) and type from ev->payload, where the question
 * starts at `start` (12 for UDP, 14 for TCP after the length prefix), reading only below ev->cap_len. Sets
 * name_len and qtype, or leaves both 0 when the name is not a plain, complete one (compression pointer,
 * label longer than 63, more than 255 bytes, or cut off). qname is NUL-terminated at name_len.
 *
 * The dotted form is the wire form shifted by one byte with every length byte after the first turned into
 * '.'. So it is built in two passes whose loops never branch back into themselves on packet data: copy the
 * wire bytes, then hop from length byte to length byte. A single byte-by-byte state machine (in a label or at
 * a length byte) made the verifier explore every label layout and exceed its 1M-instruction budget.
 */
static __always_inline void netmon_dns_qname(struct netmon_dns_event *ev, __u32 start)
{
	__u32 cap = ev->cap_len;
	ev->name_len = 0;
	ev->qtype = 0;
	ev->qname[0] = 0;
	if (ev->qdcount == 0 || cap > NETMON_DNS_MAX_PAYLOAD || start >= cap)
		return;

	for (__u32 i = 0; i + 1 < NETMON_DNS_MAX_WIRE_NAME; i++) {
		__u32 off = start + 1 + i;
		if (off >= cap)
			break;
		ev->qname[i & (NETMON_DNS_MAX_NAME - 1)] = ev->payload[off & (NETMON_DNS_MAX_PAYLOAD - 1)];
	}

	__u32 pos = start; /* the current length byte */
	for (__u32 k = 0; k < (NETMON_DNS_MAX_WIRE_NAME + 1) / 2; k++) {
		if (pos >= cap || pos - start >= NETMON_DNS_MAX_WIRE_NAME)
			break; /* cut off, or longer than a name may be */
		__u8 c = ev->payload[pos & (NETMON_DNS_MAX_PAYLOAD - 1)];
		if (c == 0) {
			/* End of name: qtype follows, if it was copied. */
			if (pos + 2 >= cap)
				break;
			__u32 name_len = pos > start ? pos - start - 1 : 0;
			ev->qtype = (__u16)ev->payload[(pos + 1) & (NETMON_DNS_MAX_PAYLOAD - 1)] << 8 |
				    ev->payload[(pos + 2) & (NETMON_DNS_MAX_PAYLOAD - 1)];
			ev->name_len = name_len;
			ev->qname[name_len & (NETMON_DNS_MAX_NAME - 1)] = 0;
			return;
		}
		if (c > 63)
			break; /* compression pointer (0xC0) or reserved label type: not in a first question
				*/
		if (pos > start)
			ev->qname[(pos - start - 1) & (NETMON_DNS_MAX_NAME - 1)] = '.';
		pos += 1 + c;
		/* A no-op for the value (pos < cap <= 512 is checked next round); for the verifier it makes
		 * every label layout reach the next round with the same bounds, so it keeps one state per
		 * round. */
		pos = netmon_bound(pos, 1023);
	}
	ev->qname[0] = 0;
}

#endif /* NETMON_DNS_BPF_H */
