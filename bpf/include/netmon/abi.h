/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * The one ABI between netmon's BPF programs and userspace: every map key, map value, ring-buffer record and
 * counter index. Included by every bpf/{tc,xdp,sock} program and by userspace; userspace static_asserts every
 * size and offset in userspace/bpf/abi_check.h. Fixed-width types only, explicit padding, no bitfields.
 *
 * Byte order: addresses are network byte order; ports and every other integer are host byte order.
 * Addresses: IPv4 is stored IPv4-mapped (::ffff:a.b.c.d) so one key type serves both families and a v6 socket
 * talking to a v4 peer keys the same as the packets it sends.
 * Times: bpf_ktime_get_ns() (CLOCK_MONOTONIC); userspace converts to wall clock.
 */
#ifndef NETMON_ABI_H
#define NETMON_ABI_H

#ifndef __VMLINUX_H__
#include <linux/types.h>
#endif

#define NETMON_COMM_LEN 16
#define NETMON_ADDR_LEN 16
#define NETMON_MAX_FILTERS 16
#define NETMON_MAX_DNS_PORTS 4
#define NETMON_DNS_MAX_PAYLOAD 512

/* Map names (kept in one place so the loader shares them between objects by name). */
#define NETMON_MAP_OWNERS "netmon_owners"
#define NETMON_MAP_TUPLES "netmon_tuples"
#define NETMON_MAP_COUNTERS "netmon_counters"
#define NETMON_MAP_FILTERS "netmon_filters"
#define NETMON_MAP_FILTER_STATE "netmon_filter_st"
#define NETMON_MAP_IFACES "netmon_ifaces"
#define NETMON_MAP_FLOWS "netmon_flows"
#define NETMON_MAP_DNS_EVENTS "netmon_dns_ev"
#define NETMON_MAP_SOCK_EVENTS "netmon_sock_ev"

/* Default map sizes; the loader overrides them from the server config before load. */
#define NETMON_DEFAULT_OWNERS 65536
#define NETMON_DEFAULT_TUPLES 65536
#define NETMON_DEFAULT_FLOWS 65536
#define NETMON_DEFAULT_RINGBUF_BYTES (4u << 20)

enum netmon_dir {
	NETMON_DIR_EGRESS = 0,
	NETMON_DIR_INGRESS = 1,
	NETMON_DIR_COUNT = 2,
};

/*
 * A connection or flow as seen from this host: local side and remote side, in the network namespace `netns`
 * (namespace inode number). Egress packets fill local from the source, ingress packets from the destination.
 * Used as key of netmon_tuples (tuple -> socket) and netmon_flows (tuple -> counters). For protocols without
 * ports (ICMP ...) both ports are 0 so the key is the address pair.
 */
struct netmon_tuple {
	__u8 local_addr[NETMON_ADDR_LEN];
	__u8 remote_addr[NETMON_ADDR_LEN];
	__u16 local_port;
	__u16 remote_port;
	__u8 proto; /* IPPROTO_* */
	__u8 pad[3];
	__u32 netns;
}; /* 44 bytes */

/* Which hook captured a socket's owner: reported as attribution provenance. */
enum netmon_owner_source {
	NETMON_SRC_NONE = 0,
	NETMON_SRC_SOCK_CREATE = 1, /* cgroup/sock_create: the process that called socket() */
	NETMON_SRC_CONNECT = 2,	    /* cgroup/connect4/6 */
	NETMON_SRC_SENDMSG = 3,	    /* cgroup/sendmsg4/6 (unconnected UDP) */
	NETMON_SRC_RECVMSG = 4,	    /* cgroup/recvmsg4/6 */
	NETMON_SRC_BIND = 5,	    /* cgroup/post_bind4/6 */
	NETMON_SRC_ACCEPT = 6,	    /* accept()/accept4() return: the accepting process */
	NETMON_SRC_SEND = 7,	    /* first send in process context (sock_send_length, tcp_sendmsg ...) */
	NETMON_SRC_RECV = 8,	    /* first receive in process context */
	NETMON_SRC_EXISTING = 9,    /* seeded at capture start from sockets that already existed */
	NETMON_SRC_COUNT = 10,
};

enum netmon_role {
	NETMON_ROLE_UNKNOWN = 0,
	NETMON_ROLE_ACTIVE = 1,	 /* this side initiated (connect, or first sent an unconnected datagram) */
	NETMON_ROLE_PASSIVE = 2, /* this side responded (accepted, or a bound server) */
};

/*
 * Who owns a socket. Captured in the kernel in process context the first time the socket is seen, so a
 * process that exits right after sending is still named. Value of netmon_owners (key: __u64 socket cookie).
 */
struct netmon_owner {
	__u32 tgid; /* process id in the host (init) PID namespace */
	__u32 tid;
	__u32 uid;
	__u32 netns;	     /* network namespace inode of the socket */
	__u64 cgroup_id;     /* cgroup v2 id of the process */
	__u64 start_time_ns; /* group leader's start_boottime: (tgid, start) survives PID reuse */
	__u64 seen_ns;	     /* when captured */
	__u64 released_ns;   /* socket released at; 0 while it lives. Deleted after a grace */
	char comm[NETMON_COMM_LEN];
	__u8 source; /* enum netmon_owner_source */
	__u8 role;   /* enum netmon_role */
	__u8 family; /* AF_INET / AF_INET6 of the socket */
	__u8 proto;  /* IPPROTO_TCP / IPPROTO_UDP */
	__u32 pad;
}; /* 72 bytes */

/* Value of netmon_tuples. */
struct netmon_tuple_owner {
	__u64 cookie;
	__u64 seen_ns;
};

/*
 * Value of netmon_flows (per-CPU LRU hash, key struct netmon_tuple). Counters are totals since the flow was
 * first seen; userspace reports deltas. L3 bytes: IP header + payload, as NetFlow counts octets.
 *
 * The first packet of a flow on a CPU does the costly work (socket cookie by tuple, owner, the session
 * filters) and caches the outcome in `verdict`, valid while the filter and owner generations it was decided
 * under are current (struct netmon_filter_state). Later packets of the flow cost one lookup: they are
 * counted, or (NETMON_VERDICT_DROP, an entry with no counts and first_seen_ns 0) left alone.
 */
struct netmon_flow_stats {
	__u64 cookie; /* owning socket, 0 = not attributed by the packet layer */
	__u64 bytes[NETMON_DIR_COUNT];
	__u64 packets[NETMON_DIR_COUNT];
	__u64 first_seen_ns;
	__u64 last_seen_ns;
	__u8 tcp_flags[NETMON_DIR_COUNT]; /* OR of TCP flags seen per direction */
	__u8 first_dir;			  /* enum netmon_dir of the first packet seen: initiator hint */
	__u8 syn_dir;			  /* 1 + dir of a SYN without ACK (initiator), 0 = none seen */
	__u8 verdict;			  /* enum netmon_flow_verdict cached for this CPU's slot */
	__u8 pad[3];
	__u32 filter_gen; /* netmon_filter_st[NETMON_FILTER_ST_SESSIONS].generation the verdict was decided
			     under */
	__u32 owner_gen; /* netmon_filter_st[NETMON_FILTER_ST_OWNERS].generation the verdict was decided under
			  */
	/* Segments on the wire: a GSO/GRO packet counts once in packets[] but gso_segs times here, so packet
	 * counts can be set beside a router's NetFlow. Equal to packets[] where no offload merged any. */
	__u64 segments[NETMON_DIR_COUNT];
}; /* 88 bytes */

enum netmon_flow_verdict {
	NETMON_VERDICT_NONE = 0, /* decide on the next packet */
	NETMON_VERDICT_COUNT = 1,
	NETMON_VERDICT_DROP = 2, /* no live session wants the flow */
};

/* Value of netmon_ifaces (key: __u32 ifindex): what the packet layer needs to know per attached interface. */
struct netmon_iface {
	__u32 netns; /* namespace inode the interface lives in: the netns part of tuple keys */
	__u32 flags;
};

/*
 * Kernel-side capture filter: the union of the live sessions' filters. An entry matches a packet or socket
 * when every set field matches (zero = any); the kernel keeps what matches any entry. Userspace re-checks
 * each session's own filter exactly, so the kernel side may over-approximate but never under-approximate.
 */
enum netmon_filter_flags {
	NETMON_FILTER_PID = 1 << 0,
	NETMON_FILTER_PORT = 1 << 1, /* local or remote port */
	NETMON_FILTER_SRC =
		1 << 2, /* address/prefix; either side in the kernel (initiator unknown per packet) */
	NETMON_FILTER_DST = 1 << 3,
};

struct netmon_filter {
	__u32 flags; /* enum netmon_filter_flags */
	__u32 tgid;
	__u16 port;
	__u8 src_prefix; /* prefix length over the 128-bit (v4-mapped) address */
	__u8 dst_prefix;
	__u8 src_addr[NETMON_ADDR_LEN];
	__u8 dst_addr[NETMON_ADDR_LEN];
	__u32 pad;
}; /* 48 bytes */

/*
 * Values of netmon_filter_st (ARRAY, four entries). [NETMON_FILTER_ST_SESSIONS] is written by userspace only:
 * the filter set in use (count, flags) and a generation it bumps at every change. [NETMON_FILTER_ST_OWNERS]
 * is written by BPF only: its generation is bumped (atomically) whenever a socket's owner changes to another
 * process, which may change a flow's verdict under a PID filter. Either generation moving makes cached flow
 * verdicts stale.
 *
 * The filters are double-buffered, so a change is atomic for every other live capture: netmon_filters holds
 * NETMON_FILTER_BANKS banks of NETMON_MAX_FILTERS entries, and the bank in use is [SESSIONS].generation & 1,
 * with its own header (count, generation, flags) at [NETMON_FILTER_ST_BANK0 + bank]. Userspace writes the
 * other bank and its header, then publishes [SESSIONS] (one 4-byte generation decides the bank), then waits
 * an RCU grace period before it may write that old bank again (userspace/bpf/shared_maps.cc). A reader takes
 * the generation once and reads the bank it names, which nobody writes while it can be read.
 */
#define NETMON_FILTER_ST_SESSIONS 0
#define NETMON_FILTER_ST_OWNERS 1
#define NETMON_FILTER_ST_BANK0 2
#define NETMON_FILTER_ST_ENTRIES 4
#define NETMON_FILTER_BANKS 2

struct netmon_filter_state {
	__u32 count;	  /* entries of the bank in use; 0 = count nothing ([SESSIONS] and bank headers) */
	__u32 generation; /* starts at 1; cached verdicts carry the one they were decided under */
	__u32 flags;	  /* enum netmon_filter_state_flags ([SESSIONS] and bank headers) */
	__u32 pad;
};

enum netmon_filter_state_flags {
	NETMON_FSTATE_PID =
		1 << 0, /* some live filter names a process: a flow's verdict depends on its owner */
};

/* The packet layer's stand-in for "owner not known yet" (data before accept(), an unseen socket): passes
 * every PID filter, so nothing is lost to a filter before userspace, which resolves the owner when it reads
 * the flow, applies each session's filter exactly. The socket layer passes 0 (its records name known owners).
 */
#define NETMON_TGID_UNKNOWN 0xffffffffu

/* Per-CPU counters (netmon_counters, a PERCPU_ARRAY indexed by this enum): every loss and bail-out. */
enum netmon_counter {
	NETMON_CTR_PACKETS = 0,	      /* packets seen by the packet layer */
	NETMON_CTR_PACKETS_FILTERED,  /* matched no live session's filter */
	NETMON_CTR_PARSE_L2,	      /* truncated/unknown link layer */
	NETMON_CTR_PARSE_L3,	      /* truncated or malformed IPv4/IPv6 header */
	NETMON_CTR_PARSE_L4,	      /* truncated TCP/UDP header */
	NETMON_CTR_IPV6_EXT_LIMIT,    /* gave up walking an IPv6 extension-header chain */
	NETMON_CTR_FRAGMENTS,	      /* non-first fragments: counted by address pair only */
	NETMON_CTR_FLOW_UPDATE_FAIL,  /* flow map insert failed */
	NETMON_CTR_UNATTRIB_PACKETS,  /* packets with no owning socket found */
	NETMON_CTR_UNATTRIB_BYTES,    /* their L3 bytes */
	NETMON_CTR_DNS_MESSAGES,      /* DNS messages handed to userspace */
	NETMON_CTR_DNS_MALFORMED,     /* on a DNS port but failed header validation */
	NETMON_CTR_DNS_TRUNCATED,     /* longer than NETMON_DNS_MAX_PAYLOAD: copied in part */
	NETMON_CTR_DNS_RINGBUF_FULL,  /* DNS record lost: ring buffer reserve failed */
	NETMON_CTR_SOCK_RINGBUF_FULL, /* lifecycle record lost: ring buffer reserve failed */
	NETMON_CTR_OWNER_UPDATE_FAIL, /* netmon_owners insert failed */
	NETMON_CTR_TUPLE_UPDATE_FAIL, /* netmon_tuples insert failed */
	NETMON_CTR_OWNERS_ADDED,      /* owners inserted (with deletes, lets userspace infer LRU evictions) */
	NETMON_CTR_TUPLES_ADDED,      /* tuples inserted */
	NETMON_CTR_SOFTIRQ_NO_OWNER,  /* a softirq-context event whose socket had no owner yet */
	NETMON_CTR_FLOW_LOST_BYTES,   /* L3 bytes of the packets counted in NETMON_CTR_FLOW_UPDATE_FAIL */
	NETMON_CTR_MAX,
};

/* Lifecycle records on netmon_sock_ev (ring buffer). */
enum netmon_sock_event_type {
	NETMON_SOCK_CONNECT = 1, /* outbound TCP attempt finished: outcome + latency */
	NETMON_SOCK_ACCEPT = 2,	 /* inbound TCP connection returned by accept() */
	NETMON_SOCK_CLOSE = 3,	 /* TCP connection ended (or UDP socket released): duration + totals */
	NETMON_SOCK_OWNER = 4,	 /* a socket got its owner (lets userspace cache process metadata early) */
};

enum netmon_connect_outcome {
	NETMON_CONNECT_NONE = 0,
	NETMON_CONNECT_ESTABLISHED = 1,
	NETMON_CONNECT_REFUSED = 2,
	NETMON_CONNECT_TIMEOUT = 3,
	NETMON_CONNECT_ERROR = 4, /* other error: see err */
};

struct netmon_sock_event {
	__u64 ts_ns;
	__u64 cookie;
	struct netmon_tuple tuple; /* local/remote as for packets */
	__u8 type;		   /* enum netmon_sock_event_type */
	__u8 outcome;		   /* enum netmon_connect_outcome (CONNECT) */
	__u8 family;		   /* AF_INET / AF_INET6 of the socket */
	__u8 role;		   /* enum netmon_role */
	__s32 err;		   /* sk_err for failed connects, else 0 */
	__u32 pad;
	__u64 latency_ns;	   /* CONNECT: connect() to outcome; CLOSE: connection lifetime */
	__u64 bytes_sent;	   /* CLOSE (TCP): tcp_sock bytes_acked, payload bytes */
	__u64 bytes_received;	   /* CLOSE (TCP): tcp_sock bytes_received, payload bytes */
	struct netmon_owner owner; /* owner at the time of the event; tgid 0 = none known */
};				   /* 176 bytes */

/* DNS messages on netmon_dns_ev (ring buffer): header fields parsed in the kernel plus a bounded copy. The
 * question and answers are decoded in userspace from the copy (userspace/dns): extracting the name in the
 * kernel as well was a 255-step copy loop per DNS packet, and 256 bytes more of every record. */
struct netmon_dns_event {
	__u64 ts_ns;
	__u64 cookie; /* owning socket if known, else 0 */
	struct netmon_tuple tuple;
	__u32 ifindex;
	__u8 dir;    /* enum netmon_dir */
	__u8 is_tcp; /* message came from a TCP stream (length prefix stripped) */
	__u16 id;    /* DNS header id */
	__u16 flags; /* DNS header flags word (QR, opcode, AA, TC, RD, RA, rcode) */
	__u16 qdcount;
	__u16 msg_len; /* length of the whole DNS message */
	__u16 cap_len; /* bytes copied into payload (<= NETMON_DNS_MAX_PAYLOAD) */
	__u8 pad[4];
	__u8 payload[NETMON_DNS_MAX_PAYLOAD]; /* the message from its header on */
};

/* ---- socket layer (bpf/sock) ------------------------------------------------------------------------------
 */

#define NETMON_MAP_SK_STATE "netmon_sk_state"
#define NETMON_MAP_SOCK_CTR "netmon_sock_ctr"
#define NETMON_DEFAULT_SK_STATE 65536

/*
 * netmon_seed_ns (HASH, in the iterator's own object): key __u32 network-namespace inode, value __u32 a tgid
 * that holds a socket there. The task_file iterator reaches sockets through pointers newer kernels type as
 * untrusted, so it may read a socket's cookie but not make one (bpf_get_socket_cookie refuses them). It names
 * here each namespace with a socket that has no cookie yet; userspace makes the kernel assign them (a
 * sock_diag dump in that namespace) and runs the iterator again.
 */
#define NETMON_MAP_SEED_NETNS "netmon_seed_ns"
#define NETMON_SEED_NETNS_MAX 1024

/*
 * Per-socket lifecycle state (value of netmon_sk_state, key: __u64 socket cookie), private to bpf/sock: when
 * the connect started and the connection was established (CONNECT latency, CLOSE duration), and payload bytes
 * of UDP sockets (TCP totals come from tcp_sock at close). Created at the first lifecycle hook that sees the
 * socket, deleted when its CLOSE is emitted; userspace also drops it with the owner after the grace period.
 */
struct netmon_sock_state {
	__u64 connect_ns;     /* CLOSE -> SYN_SENT, 0 if not seen */
	__u64 established_ns; /* -> ESTABLISHED, 0 if not seen */
	__u64 udp_bytes_sent;
	__u64 udp_bytes_received;
	struct netmon_tuple
		tuple; /* valid with NETMON_SKS_TUPLE: cgroup/sock_release cannot read the addresses */
	__u8 role;     /* enum netmon_role as the state machine saw it */
	__u8 flags;    /* enum netmon_sock_state_flags */
	__u8 pad[2];
}; /* 80 bytes */

enum netmon_sock_state_flags {
	NETMON_SKS_TUPLE = 1 << 0,  /* `tuple` is set and keyed in netmon_tuples */
	NETMON_SKS_CLOSED = 1 << 1, /* CLOSE emitted */
};

/* Socket-layer counters beyond the shared ones (netmon_sock_ctr, PERCPU_ARRAY indexed by this enum). */
enum netmon_sock_counter {
	NETMON_SCTR_EVENTS = 0,	       /* lifecycle records submitted */
	NETMON_SCTR_EVENTS_FILTERED,   /* lifecycle records not emitted: no live session's filter matched */
	NETMON_SCTR_OWNER_HANDOFF,     /* a different process did I/O on a socket: owner moved to it */
	NETMON_SCTR_ACCEPT_NO_SOCK,    /* accept() returned an fd we could not resolve to a socket */
	NETMON_SCTR_ACCEPT_NO_COOKIE,  /* accepted socket had no cookie yet: ACCEPT lost */
	NETMON_SCTR_STATE_UPDATE_FAIL, /* netmon_sk_state insert failed */
	NETMON_SCTR_CLOSE_NO_STATE, /* CLOSE without connect/establish times: duration from owner seen_ns */
	NETMON_SCTR_SEEDED_OWNERS,  /* owners written by the existing-socket iterator */
	NETMON_SCTR_SEEDED_TUPLES,  /* tuples written by the existing-socket iterator */
	NETMON_SCTR_SEED_NO_COOKIE, /* iterator met a socket the kernel had given no cookie yet (see below) */
	NETMON_SCTR_MAX,
};

/* ---- packet layer (bpf/tc, bpf/xdp)
 * ------------------------------------------------------------------------ */

#define NETMON_MAX_IFACES 256  /* netmon_ifaces entries: interfaces one PacketLayer attaches to */
#define NETMON_IPV6_MAX_EXT 8  /* IPv6 extension headers walked before NETMON_CTR_IPV6_EXT_LIMIT */
#define NETMON_XDP_RUN_PRIO 10 /* libxdp dispatcher order: observers run before programs that may drop */

/* netmon_iface.flags */
enum netmon_iface_flags {
	NETMON_IFACE_F_L3 =
		1 << 0, /* no link-layer header: packets start at the IP header (tun, wireguard) */
};

/*
 * Load-time configuration of the packet programs: one `const volatile` rodata struct (netmon_pkt_cfg), set by
 * userspace between open and load, so the verifier prunes what is switched off.
 */
struct netmon_packet_config {
	__u16 dns_ports[NETMON_MAX_DNS_PORTS]; /* host order; 0 = unused slot; all zero = no DNS parsing */
	__u32 flags;			       /* reserved, 0 */
	__u32 pad;
}; /* 16 bytes */

/*
 * How the packet layer fills netmon_dns_event:
 * - UDP: payload is the datagram payload (the DNS message); msg_len is the UDP length minus 8; cap_len is
 *   min(msg_len, bytes present, NETMON_DNS_MAX_PAYLOAD). A first IP fragment carries the start of a message.
 * - TCP (is_tcp = 1): payload is the TCP segment payload verbatim, length prefix included where the segment
 *   starts a message, so userspace can reassemble messages that span segments
 * (userspace/dns/tcp_reassembler.h). msg_len is the 2-byte length prefix when the segment starts with one
 * followed by a plausible header, and the header fields (id, flags, qdcount, qtype, qname) come from the
 * message after the prefix; otherwise the segment continues an earlier message and msg_len and the header
 * fields are 0. cap_len is min(segment payload, NETMON_DNS_MAX_PAYLOAD). No TCP sequence number is carried:
 * records arrive in the order the program saw the segments.
 * - qname is dotted, without the trailing dot, raw label bytes (not escaped); name_len 0 and qtype 0 when the
 *   first question could not be read within cap_len (compression pointer, label > 63, name > 255 bytes).
 */

#endif /* NETMON_ABI_H */
