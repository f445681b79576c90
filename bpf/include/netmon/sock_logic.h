/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Pure logic of the socket layer, shared by the bpf/sock programs and userspace (tests/unit/sock compiles it
 * as C++): address normalisation, tuple keys and the TCP state-transition -> lifecycle-event mapping. No
 * maps, no helpers, no kernel types, so every rule here is testable without a kernel.
 */
#ifndef NETMON_SOCK_LOGIC_H
#define NETMON_SOCK_LOGIC_H

#include "netmon/abi.h"

/* TCP states as include/net/tcp_states.h numbers them (UAPI-stable: ss and sock_diag report the same). */
#define NETMON_TCP_ESTABLISHED 1
#define NETMON_TCP_SYN_SENT 2
#define NETMON_TCP_SYN_RECV 3
#define NETMON_TCP_FIN_WAIT1 4
#define NETMON_TCP_FIN_WAIT2 5
#define NETMON_TCP_TIME_WAIT 6
#define NETMON_TCP_CLOSE 7
#define NETMON_TCP_CLOSE_WAIT 8
#define NETMON_TCP_LAST_ACK 9
#define NETMON_TCP_LISTEN 10
#define NETMON_TCP_CLOSING 11

/* asm-generic/errno.h values (identical on x86-64 and arm64). */
#define NETMON_ETIMEDOUT 110
#define NETMON_ECONNREFUSED 111

#define NETMON_AF_INET 2
#define NETMON_AF_INET6 10
#define NETMON_IPPROTO_TCP 6
#define NETMON_IPPROTO_UDP 17

/* uapi linux/stat.h: an inode's file type, and the socket type. */
#define NETMON_S_IFMT 00170000
#define NETMON_S_IFSOCK 0140000

/* What a TCP state transition means for the socket layer. */
enum netmon_tcp_action {
	NETMON_ACT_NONE = 0,
	NETMON_ACT_CONNECT_START = 1,  /* CLOSE -> SYN_SENT: connect() in process context */
	NETMON_ACT_CONNECT_DONE = 2,   /* SYN_SENT -> ESTABLISHED: CONNECT, outcome established */
	NETMON_ACT_CONNECT_FAILED = 3, /* SYN_SENT -> CLOSE: CONNECT, outcome from sk_err */
	NETMON_ACT_PASSIVE_CHILD = 4,  /* LISTEN -> SYN_RECV: a child socket was cloned from a listener */
	NETMON_ACT_PASSIVE_ESTABLISHED = 5, /* SYN_RECV -> ESTABLISHED: accepted side; no process yet */
	NETMON_ACT_CLOSE = 6,		    /* a connection that was established reached CLOSE */
};

static inline int netmon_tcp_transition(int oldstate, int newstate)
{
	if (newstate == NETMON_TCP_SYN_SENT)
		return NETMON_ACT_CONNECT_START;
	if (oldstate == NETMON_TCP_SYN_SENT)
		return newstate == NETMON_TCP_ESTABLISHED ? NETMON_ACT_CONNECT_DONE
		       : newstate == NETMON_TCP_CLOSE	  ? NETMON_ACT_CONNECT_FAILED
							  : NETMON_ACT_NONE;
	if (newstate == NETMON_TCP_SYN_RECV)
		return NETMON_ACT_PASSIVE_CHILD;
	if (oldstate == NETMON_TCP_SYN_RECV && newstate == NETMON_TCP_ESTABLISHED)
		return NETMON_ACT_PASSIVE_ESTABLISHED;
	if (newstate != NETMON_TCP_CLOSE)
		return NETMON_ACT_NONE;
	/* A listener closing, or a child that never got established, is no connection. Every established full
	 * socket ends in CLOSE: FIN_WAIT2/CLOSING -> CLOSE when it hands over to a timewait sock
	 * (tcp_time_wait -> tcp_done), LAST_ACK -> CLOSE on the last ACK, any state -> CLOSE on a reset. */
	switch (oldstate) {
	case NETMON_TCP_ESTABLISHED:
	case NETMON_TCP_FIN_WAIT1:
	case NETMON_TCP_FIN_WAIT2:
	case NETMON_TCP_CLOSE_WAIT:
	case NETMON_TCP_LAST_ACK:
	case NETMON_TCP_CLOSING:
		return NETMON_ACT_CLOSE;
	default:
		return NETMON_ACT_NONE;
	}
}

/* Outcome of a connect that left SYN_SENT for CLOSE: tcp_reset() stores ECONNREFUSED and tcp_write_err()
 * ETIMEDOUT (or the soft error, e.g. EHOSTUNREACH from ICMP) in sk_err before tcp_done() sets CLOSE. Zero
 * means the caller gave up (close() or shutdown() during the handshake). */
static inline __u8 netmon_connect_outcome(int sk_err)
{
	if (sk_err == NETMON_ECONNREFUSED)
		return NETMON_CONNECT_REFUSED;
	if (sk_err == NETMON_ETIMEDOUT)
		return NETMON_CONNECT_TIMEOUT;
	return NETMON_CONNECT_ERROR;
}

/*
 * Whether a connection that reached CLOSE from `oldstate` had queued its FIN. Not sk_shutdown: close() sets
 * SHUTDOWN_MASK whether or not a FIN goes out (a close() with unread data sends a reset instead), so only the
 * state says a FIN is in write_seq.
 */
static inline int netmon_tcp_fin_sent(int oldstate)
{
	return oldstate == NETMON_TCP_FIN_WAIT1 || oldstate == NETMON_TCP_FIN_WAIT2 ||
	       oldstate == NETMON_TCP_CLOSING || oldstate == NETMON_TCP_LAST_ACK;
}

/* enum sock_flags (include/net/sock.h): tcp_fin() sets SOCK_DONE when the peer's FIN is taken in sequence,
 * i.e. once rcv_nxt (and so bytes_received) covers it. Not RCV_SHUTDOWN: close() sets that too, and a
 * socket closed before the peer's FIN arrives ends (FIN_WAIT2 -> timewait) without having received it. */
#define NETMON_SOCK_DONE_BIT 1

/*
 * Payload bytes of a closed TCP connection from tcp_sock's RFC 4898 counters, which count sequence space: an
 * active opener's bytes_acked includes its SYN (snd_una starts at the ISN and the SYN-ACK acks it; a passive
 * child starts at ISN + 1), and either counter includes a FIN once it was acked / received.
 */
static inline __u64 netmon_tcp_payload_acked(__u64 bytes_acked, int active_open, int fin_acked)
{
	__u64 overhead = (active_open ? 1 : 0) + (fin_acked ? 1 : 0);
	return bytes_acked > overhead ? bytes_acked - overhead : 0;
}

static inline __u64 netmon_tcp_payload_received(__u64 bytes_received, int fin_received)
{
	return fin_received && bytes_received ? bytes_received - 1 : bytes_received;
}

/* IPv4 (network byte order) -> IPv4-mapped IPv6 (::ffff:a.b.c.d), the ABI's single address form. The
 * any-address stays all-zero so that "bound to any" has one key in both families. */
static inline void netmon_addr_from_v4(__u8 out[NETMON_ADDR_LEN], __u32 addr_be)
{
	for (int i = 0; i < 10; i++)
		out[i] = 0;
	const __u8 *b = (const __u8 *)&addr_be;
	int any = addr_be == 0;
	out[10] = any ? 0 : 0xff;
	out[11] = any ? 0 : 0xff;
	out[12] = b[0];
	out[13] = b[1];
	out[14] = b[2];
	out[15] = b[3];
}

/* Address tests as one comparison over OR-ed words, not a branch per byte: every branch is a path the
 * verifier walks, and byte loops in these helpers multiplied the socket programs' verifier steps
 * (netmon_set_state: 195k steps with byte loops). */
static inline int netmon_addr_is_v4mapped(const __u8 a[NETMON_ADDR_LEN])
{
	__u64 head;
	__builtin_memcpy(&head, a, sizeof(head));
	return (head | a[8] | a[9] | (__u8)(a[10] ^ 0xff) | (__u8)(a[11] ^ 0xff)) == 0;
}

static inline int netmon_addr_is_zero(const __u8 a[NETMON_ADDR_LEN])
{
	__u64 w[2];
	__builtin_memcpy(w, a, sizeof(w));
	return (w[0] | w[1]) == 0;
}

/* An IPv6 address as the ABI stores it: v4-mapped stays v4-mapped (a dual-stack socket talking to an IPv4
 * peer keys like the IPv4 packets it sends), ::ffff:0.0.0.0 becomes :: (any). */
static inline void netmon_addr_from_v6(__u8 out[NETMON_ADDR_LEN], const __u8 in[NETMON_ADDR_LEN])
{
	__builtin_memcpy(out, in, NETMON_ADDR_LEN);
	if (netmon_addr_is_v4mapped(in) && (in[12] | in[13] | in[14] | in[15]) == 0)
		__builtin_memset(out, 0, NETMON_ADDR_LEN);
}

/* The wildcard key of a bound socket: remote side zeroed (and the local address too if `any_local`). Ingress
 * lookups try the exact tuple, then (local addr, port), then (any, port), as the kernel's own demux does. */
static inline void netmon_tuple_wildcard(struct netmon_tuple *out, const struct netmon_tuple *t,
					 int any_local)
{
	*out = *t;
	__builtin_memset(out->remote_addr, 0, NETMON_ADDR_LEN);
	if (any_local)
		__builtin_memset(out->local_addr, 0, NETMON_ADDR_LEN);
	out->remote_port = 0;
}

#endif /* NETMON_SOCK_LOGIC_H */
