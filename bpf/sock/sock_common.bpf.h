/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * What every socket-layer object (netmon_sock, netmon_sock_fentry, netmon_sock_kprobe) shares: the socket
 * layer's own maps (the loader creates them with netmon_sock and hands the fds to the fallback objects),
 * owner capture from the current task, tuple building from a struct sock, and lifecycle-record emission.
 *
 * Rule for every function taking the current task: call it from process context only. State changes of TCP
 * sockets often run in softirq on whatever task was interrupted, so the inet_sock_set_state paths read the
 * owner from netmon_owners and never from the current task.
 */
#ifndef NETMON_SOCK_COMMON_BPF_H
#define NETMON_SOCK_COMMON_BPF_H

#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>

#include "netmon/maps.bpf.h"
#include "netmon/ringbuf.bpf.h"
#include "netmon/sock_logic.h"

/* Lifecycle records to userspace. Size set by the loader (SocketLayerConfig::ringbuf_bytes). */
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, NETMON_DEFAULT_RINGBUF_BYTES);
} netmon_sock_ev SEC(".maps");

/* cookie -> lifecycle state. Writers/readers: bpf/sock. Userspace deletes it with the owner. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, NETMON_DEFAULT_SK_STATE);
	__type(key, __u64);
	__type(value, struct netmon_sock_state);
} netmon_sk_state SEC(".maps");

/* The last process this CPU sent an OWNER record for. A process opening sockets in a loop (a client under
 * load, a server accepting) would otherwise send one per socket, while userspace needs one per process:
 * suppressing consecutive repeats halves the records of a connection-churn load (sock_bench_test). */
struct netmon_last_owner {
	__u32 tgid;
	__u32 pad;
	__u64 start_time_ns;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct netmon_last_owner);
} netmon_last_own SEC(".maps");

/* enum netmon_sock_counter -> per-CPU count. */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, NETMON_SCTR_MAX);
	__type(key, __u32);
	__type(value, __u64);
} netmon_sock_ctr SEC(".maps");

static __always_inline void netmon_sctr(__u32 counter)
{
	__u64 *v = bpf_map_lookup_elem(&netmon_sock_ctr, &counter);
	if (v)
		*v += 1;
}

static __always_inline int netmon_inet_l4(__u32 family, __u32 proto)
{
	return (family == NETMON_AF_INET || family == NETMON_AF_INET6) &&
	       (proto == NETMON_IPPROTO_TCP || proto == NETMON_IPPROTO_UDP);
}

/* Any session wants records of this process? Like netmon_filter_pass but for a socket whose tuple is not
 * known yet (OWNER records): only the PID part can be decided, so the check over-approximates, as the kernel
 * filter may. */
static __always_inline int netmon_filter_pass_tgid(__u32 tgid)
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
		if (f && (!(f->flags & NETMON_FILTER_PID) || f->tgid == tgid))
			return 1;
	}
	return 0;
}

static __always_inline __u32 netmon_task_netns(struct task_struct *task)
{
	return BPF_CORE_READ(task, nsproxy, net_ns, ns.inum);
}

static __always_inline __u32 netmon_sk_netns(const struct sock *sk)
{
	return BPF_CORE_READ(sk, __sk_common.skc_net.net, ns.inum);
}

/* The current process as owner. Process context only. The task is a trusted BTF pointer in every program type
 * that calls this, so its fields are plain loads (no probe-read helper calls). */
static __always_inline void netmon_owner_from_current(struct netmon_owner *o, __u32 netns, __u8 source,
						      __u8 role, __u8 family, __u8 proto)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct task_struct *leader = task->group_leader;
	__u64 pid_tgid = bpf_get_current_pid_tgid();

	__builtin_memset(o, 0, sizeof(*o));
	o->tgid = pid_tgid >> 32;
	o->tid = (__u32)pid_tgid;
	o->uid = (__u32)bpf_get_current_uid_gid();
	o->netns = netns ? netns : task->nsproxy->net_ns->ns.inum;
	o->cgroup_id = bpf_get_current_cgroup_id();
	/* start_boottime, not start_time: it is what /proc/<pid>/stat reports (in clock ticks), so userspace
	 * can match a live process against the owner and tell a reused PID apart. */
	o->start_time_ns = leader->start_boottime;
	o->seen_ns = bpf_ktime_get_ns();
	/* The process's name, not the calling thread's: threads are often renamed ("tokio-runtime-w"), and
	 * §4.3 reports the process. */
	__builtin_memcpy(o->comm, leader->comm, sizeof(o->comm));
	o->source = source;
	o->role = role;
	o->family = family;
	o->proto = proto;
}

/* The current process as owner without touching the task: for cgroup programs on kernels whose cgroup hooks
 * may not call bpf_get_current_task_btf() (it joined the helpers every program type gets only in later
 * kernels). The thread's comm stands in for the process's; start time and netns stay 0 until a hook that may
 * read the task completes the owner (netmon_capture with notask = 0, e.g. the first send or receive). */
static __always_inline void netmon_owner_from_current_notask(struct netmon_owner *o, __u32 netns, __u8 source,
							     __u8 role, __u8 family, __u8 proto)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();

	__builtin_memset(o, 0, sizeof(*o));
	o->tgid = pid_tgid >> 32;
	o->tid = (__u32)pid_tgid;
	o->uid = (__u32)bpf_get_current_uid_gid();
	o->netns = netns;
	o->cgroup_id = bpf_get_current_cgroup_id();
	o->seen_ns = bpf_ktime_get_ns();
	bpf_get_current_comm(o->comm, sizeof(o->comm));
	o->source = source;
	o->role = role;
	o->family = family;
	o->proto = proto;
}

__noinline int netmon_emit_owner_record(__u64 cookie, const struct netmon_owner *o);

/* What netmon_capture did. */
enum netmon_capture_result {
	NETMON_CAPTURE_KEPT =
		0,		/* the current process already owned the socket (facts completed if needed) */
	NETMON_CAPTURE_NEW = 1, /* the owner was written or handed to the current process */
	NETMON_CAPTURE_FAILED = 2, /* the owner map refused the write (counted) */
};

/*
 * Process context: make the current process the socket's owner unless it already is. A different process
 * doing I/O on a socket (fork after accept, fd passing) takes it over: that process is the one responsible
 * for the traffic from now on. `notask` (compile-time): the caller may not read the task (see
 * netmon_owner_from_current_notask). Returns an enum netmon_capture_result.
 */
static __always_inline int netmon_capture(__u64 cookie, __u32 netns, __u8 source, __u8 role, __u8 family,
					  __u8 proto, int notask)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct netmon_owner *cur = bpf_map_lookup_elem(&netmon_owners, &cookie);
	if (cur && cur->tgid == tgid) {
		if (cur->role == NETMON_ROLE_UNKNOWN && role != NETMON_ROLE_UNKNOWN)
			cur->role = role;
		if (!notask && !cur->start_time_ns) {
			/* Captured by a task-less hook: complete what it could not read. */
			struct netmon_owner full;
			netmon_owner_from_current(&full, netns ? netns : cur->netns, cur->source, cur->role,
						  cur->family, cur->proto);
			full.seen_ns = cur->seen_ns;
			full.released_ns = cur->released_ns;
			if (bpf_map_update_elem(&netmon_owners, &cookie, &full, BPF_EXIST))
				return NETMON_CAPTURE_FAILED;
		}
		return NETMON_CAPTURE_KEPT;
	}
	struct netmon_owner o;
	if (notask)
		netmon_owner_from_current_notask(&o, netns, source, role, family, proto);
	else
		netmon_owner_from_current(&o, netns, source, role, family, proto);
	if (cur) {
		netmon_sctr(NETMON_SCTR_OWNER_HANDOFF);
		netmon_owner_changed();
		if (o.role == NETMON_ROLE_UNKNOWN)
			o.role = cur->role;
		if (!netns && cur->netns)
			o.netns = cur->netns; /* may be the socket's own (read from the sock), not just the
						 task's */
	}
	if (bpf_map_update_elem(&netmon_owners, &cookie, &o, BPF_ANY)) {
		netmon_count(NETMON_CTR_OWNER_UPDATE_FAIL, 1);
		return NETMON_CAPTURE_FAILED;
	}
	if (!cur)
		netmon_count(NETMON_CTR_OWNERS_ADDED, 1);
	netmon_emit_owner_record(cookie, &o);
	return NETMON_CAPTURE_NEW;
}

/* A struct sock field: a plain load where `direct` (the pointer is a BTF pointer the verifier tracks: tp_btf,
 * fentry), a bpf_probe_read_kernel() otherwise (kprobe, raw_tp, pointers found by walking). `direct` is a
 * compile-time constant at every call site, so the other branch is dropped. Plain loads are several times
 * cheaper than helper calls on the hottest path (inet_sock_set_state). */
#define NETMON_SK_GET(direct, sk, field) ((direct) ? (sk)->field : BPF_CORE_READ(sk, field))

/* Local/remote tuple of a socket from its sock_common. */
static __always_inline int netmon_sk_tuple_x(const struct sock *sk, struct netmon_tuple *t, int direct)
{
	__builtin_memset(t, 0, sizeof(*t));
	__u16 family = NETMON_SK_GET(direct, sk, __sk_common.skc_family);
	if (family == NETMON_AF_INET) {
		netmon_addr_from_v4(t->local_addr, NETMON_SK_GET(direct, sk, __sk_common.skc_rcv_saddr));
		netmon_addr_from_v4(t->remote_addr, NETMON_SK_GET(direct, sk, __sk_common.skc_daddr));
	} else if (family == NETMON_AF_INET6) {
		__u8 a[NETMON_ADDR_LEN];
		if (direct)
			__builtin_memcpy(a, sk->__sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8, NETMON_ADDR_LEN);
		else
			BPF_CORE_READ_INTO(&a, sk, __sk_common.skc_v6_rcv_saddr.in6_u.u6_addr8);
		netmon_addr_from_v6(t->local_addr, a);
		if (direct)
			__builtin_memcpy(a, sk->__sk_common.skc_v6_daddr.in6_u.u6_addr8, NETMON_ADDR_LEN);
		else
			BPF_CORE_READ_INTO(&a, sk, __sk_common.skc_v6_daddr.in6_u.u6_addr8);
		netmon_addr_from_v6(t->remote_addr, a);
	} else {
		return -1;
	}
	t->local_port = NETMON_SK_GET(direct, sk, __sk_common.skc_num);
	if (!t->local_port) {
		/* tcp_set_state(TCP_CLOSE) releases the port (inet_put_port() zeroes inet_num) before the
		 * state tracepoint fires; inet_sport still holds it. (A probe read: inet_sock lies beyond the
		 * struct sock the verifier knows the pointer as.) */
		const struct inet_sock *inet = (const struct inet_sock *)sk;
		t->local_port = bpf_ntohs(BPF_CORE_READ(inet, inet_sport));
	}
	t->remote_port = bpf_ntohs(NETMON_SK_GET(direct, sk, __sk_common.skc_dport));
	t->proto = (__u8)NETMON_SK_GET(direct, sk, sk_protocol);
	t->netns = direct ? sk->__sk_common.skc_net.net->ns.inum : netmon_sk_netns(sk);
	return family;
}

static __always_inline int netmon_sk_tuple(const struct sock *sk, struct netmon_tuple *t)
{
	return netmon_sk_tuple_x(sk, t, 0);
}

/* Inserts tuple -> cookie unless the key exists. A connected socket gets its exact key, an unconnected one
 * the wildcard key of its bound address (see netmon_tuple_wildcard). */
static __always_inline void netmon_put_tuple(const struct netmon_tuple *t, __u64 cookie)
{
	struct netmon_tuple key = *t;
	if (t->remote_port == 0)
		netmon_tuple_wildcard(&key, t, netmon_addr_is_zero(t->local_addr));
	if (key.local_port == 0)
		return; /* not bound yet: nothing to key on */
	/* Looked up first: an LRU map's update takes a free element (evicting one when the map is full)
	 * before it checks the key, so an insert that finds the key present still costs an eviction. Every
	 * connection comes here with its key already present (CONNECT_DONE, accept()). */
	if (bpf_map_lookup_elem(&netmon_tuples, &key))
		return;
	struct netmon_tuple_owner v = {.cookie = cookie, .seen_ns = bpf_ktime_get_ns()};
	long err = bpf_map_update_elem(&netmon_tuples, &key, &v, BPF_NOEXIST);
	if (err == 0)
		netmon_count(NETMON_CTR_TUPLES_ADDED, 1);
	else if (err != -17 /* EEXIST */)
		netmon_count(NETMON_CTR_TUPLE_UPDATE_FAIL, 1);
}

/* Like netmon_put_tuple, but replaces an existing key: a new connection on a reused 4-tuple is a new socket.
 */
static __always_inline void netmon_set_tuple(const struct netmon_tuple *t, __u64 cookie)
{
	struct netmon_tuple_owner v = {.cookie = cookie, .seen_ns = bpf_ktime_get_ns()};
	if (bpf_map_update_elem(&netmon_tuples, t, &v, BPF_ANY))
		netmon_count(NETMON_CTR_TUPLE_UPDATE_FAIL, 1);
	else
		netmon_count(NETMON_CTR_TUPLES_ADDED, 1);
}

static __always_inline struct netmon_sock_state *netmon_state(__u64 cookie, int create)
{
	struct netmon_sock_state *s = bpf_map_lookup_elem(&netmon_sk_state, &cookie);
	if (s || !create)
		return s;
	struct netmon_sock_state fresh = {};
	/* EEXIST means another CPU created it first: fine, the lookup below finds theirs. */
	bpf_map_update_elem(&netmon_sk_state, &cookie, &fresh, BPF_NOEXIST);
	s = bpf_map_lookup_elem(&netmon_sk_state, &cookie);
	if (!s)
		netmon_sctr(NETMON_SCTR_STATE_UPDATE_FAIL);
	return s;
}

struct netmon_emit_args {
	__u8 type;
	__u8 outcome;
	__u8 role;
	__s32 err;
	__u64 latency_ns;
	__u64 bytes_sent;
	__u64 bytes_received;
};

/* The reader is woken per this much backlog (netmon_ringbuf_wakeup): with per-record wakeups the churn
 * benchmark ran at 58% of baseline connections/s (sock_bench_test); SocketLayer::PollEvents drains on its
 * timeout. */
#define NETMON_SOCK_WAKEUP_BYTES (64 * 1024)

/* The kernel filter as a global function: verified once on its own, not once per inlined call site (inlined
 * into netmon_set_state's three emit paths it took the verifier past its 1M-instruction limit). */
__noinline int netmon_sock_filter(const struct netmon_tuple *t, __u32 tgid)
{
	if (!t)
		return 0;
	return netmon_filter_pass(t, tgid);
}

__noinline int netmon_sock_filter_tgid(__u32 tgid)
{
	return netmon_filter_pass_tgid(tgid);
}

/* Emits a lifecycle record if a live session's filter wants it. `o` may be NULL (owner unknown). A global
 * function, like netmon_emit_owner_record: the verifier checks it once per program, on its own, instead of
 * once per inlined call site and path (netmon_set_state emits on three paths). */
__noinline int netmon_emit(__u64 cookie, const struct netmon_tuple *t, __u32 family,
			   const struct netmon_owner *o, const struct netmon_emit_args *a)
{
	if (!t || !a)
		return 0;
	if (!netmon_sock_filter(t, o ? o->tgid : 0)) {
		netmon_sctr(NETMON_SCTR_EVENTS_FILTERED);
		return 0;
	}
	__u64 backlog = bpf_ringbuf_query(&netmon_sock_ev, BPF_RB_AVAIL_DATA);
	struct netmon_sock_event *e = bpf_ringbuf_reserve(&netmon_sock_ev, sizeof(*e), 0);
	if (!e) {
		netmon_count(NETMON_CTR_SOCK_RINGBUF_FULL, 1);
		return 0;
	}
	e->ts_ns = bpf_ktime_get_ns();
	e->cookie = cookie;
	e->tuple = *t;
	e->type = a->type;
	e->outcome = a->outcome;
	e->family = family;
	e->role = a->role;
	e->err = a->err;
	e->pad = 0;
	e->latency_ns = a->latency_ns;
	e->bytes_sent = a->bytes_sent;
	e->bytes_received = a->bytes_received;
	if (o)
		e->owner = *o;
	else
		__builtin_memset(&e->owner, 0, sizeof(e->owner));
	bpf_ringbuf_submit(e, netmon_ringbuf_wakeup(&netmon_sock_ev, backlog, NETMON_SOCK_WAKEUP_BYTES));
	netmon_sctr(NETMON_SCTR_EVENTS);
	return 1;
}

/* OWNER records let userspace read /proc/<pid>/{exe,cmdline} while the process still lives. */
__noinline int netmon_emit_owner_record(__u64 cookie, const struct netmon_owner *o)
{
	if (!o)
		return 0;
	__u32 zero = 0;
	struct netmon_last_owner *last = bpf_map_lookup_elem(&netmon_last_own, &zero);
	if (last && last->tgid == o->tgid && last->start_time_ns == o->start_time_ns)
		return 0;
	if (!netmon_sock_filter_tgid(o->tgid))
		return 0;
	__u64 backlog = bpf_ringbuf_query(&netmon_sock_ev, BPF_RB_AVAIL_DATA);
	struct netmon_sock_event *e = bpf_ringbuf_reserve(&netmon_sock_ev, sizeof(*e), 0);
	if (!e) {
		netmon_count(NETMON_CTR_SOCK_RINGBUF_FULL, 1);
		return 0;
	}
	__builtin_memset(e, 0, sizeof(*e) - sizeof(e->owner));
	e->ts_ns = o->seen_ns;
	e->cookie = cookie;
	e->type = NETMON_SOCK_OWNER;
	e->family = o->family;
	e->role = o->role;
	e->tuple.proto = o->proto;
	e->tuple.netns = o->netns;
	e->owner = *o;
	bpf_ringbuf_submit(e, netmon_ringbuf_wakeup(&netmon_sock_ev, backlog, NETMON_SOCK_WAKEUP_BYTES));
	if (last) {
		last->tgid = o->tgid;
		last->start_time_ns = o->start_time_ns;
	}
	return 1;
}

/* ---- process-context first I/O, shared by every send/receive rung ---- */

/* A send or receive by the current task on `sk` (cookie known). Fills the owner if missing or handed off, and
 * on first sight keys the socket's tuple. UDP payload bytes are summed for the CLOSE record. Returns 1 if the
 * socket is settled afterwards: a UDP socket owned by the current process, its facts complete and its tuple
 * keyed (what lets the send/receive fast path skip all of this, netmon_sock.bpf.c). */
static __always_inline int netmon_on_io(const struct sock *sk, __u64 cookie, __u16 family, __u8 proto,
					int bytes, int is_send)
{
	__u8 role = proto == NETMON_IPPROTO_UDP ? (is_send ? NETMON_ROLE_ACTIVE : NETMON_ROLE_PASSIVE)
						: NETMON_ROLE_UNKNOWN;
	int captured = netmon_capture(cookie, 0, is_send ? NETMON_SRC_SEND : NETMON_SRC_RECV, role, family,
				      proto, 0);
	if (captured == NETMON_CAPTURE_NEW) {
		struct netmon_tuple t;
		if (netmon_sk_tuple(sk, &t) > 0) {
			netmon_put_tuple(&t, cookie);
			struct netmon_owner *o = bpf_map_lookup_elem(&netmon_owners, &cookie);
			if (o)
				o->netns = t.netns; /* the socket's own netns beats the task's */
		}
	}
	if (proto != NETMON_IPPROTO_UDP || bytes <= 0)
		return 0;
	struct netmon_sock_state *s = netmon_state(cookie, 1);
	if (!s)
		return 0;
	if (!(s->flags & NETMON_SKS_TUPLE)) {
		/* A connected UDP socket's exact key is only known after connect() returned: key it at first
		 * I/O. */
		if (netmon_sk_tuple(sk, &s->tuple) > 0) {
			netmon_put_tuple(&s->tuple, cookie);
			s->flags |= NETMON_SKS_TUPLE;
		}
	}
	if (is_send)
		__sync_fetch_and_add(&s->udp_bytes_sent, bytes);
	else
		__sync_fetch_and_add(&s->udp_bytes_received, bytes);
	return captured != NETMON_CAPTURE_FAILED && (s->flags & NETMON_SKS_TUPLE);
}

/* ---- TCP state machine (any context: never reads the current task except at CONNECT_START) ---- */

static __always_inline void netmon_on_tcp_state(const struct sock *sk, __u64 cookie, int direct, int oldstate,
						int newstate)
{
	int action = netmon_tcp_transition(oldstate, newstate);
	if (action == NETMON_ACT_NONE || action == NETMON_ACT_PASSIVE_CHILD)
		return; /* PASSIVE_CHILD: the caller generated the cookie, which is all accept() needs */

	struct netmon_tuple t;
	int family = netmon_sk_tuple_x(sk, &t, direct);
	if (family < 0)
		return;
	__u64 now = bpf_ktime_get_ns();

	if (action == NETMON_ACT_CONNECT_START) {
		/* tcp_v{4,6}_connect(), called by connect() or a Fast Open sendmsg(): process context. */
		netmon_capture(cookie, t.netns, NETMON_SRC_CONNECT, NETMON_ROLE_ACTIVE, family, t.proto, 0);
		struct netmon_sock_state *s = netmon_state(cookie, 1);
		if (s) {
			s->connect_ns = now;
			s->role = NETMON_ROLE_ACTIVE;
			s->tuple = t;
			s->flags |= NETMON_SKS_TUPLE;
		}
		/* The local port is bound by now: key the tuple before the SYN-ACK can arrive. */
		netmon_set_tuple(&t, cookie);
		return;
	}
	if (action == NETMON_ACT_PASSIVE_ESTABLISHED) {
		struct netmon_sock_state *s = netmon_state(cookie, 1);
		if (s) {
			s->established_ns = now;
			s->role = NETMON_ROLE_PASSIVE;
			s->tuple = t;
			s->flags |= NETMON_SKS_TUPLE;
		}
		netmon_set_tuple(&t, cookie);
		return;
	}

	struct netmon_owner *o = bpf_map_lookup_elem(&netmon_owners, &cookie);
	if (!o)
		netmon_count(NETMON_CTR_SOFTIRQ_NO_OWNER, 1);
	struct netmon_sock_state *s = netmon_state(cookie, 0);
	struct netmon_emit_args a = {};

	if (action == NETMON_ACT_CONNECT_DONE || action == NETMON_ACT_CONNECT_FAILED) {
		a.type = NETMON_SOCK_CONNECT;
		a.role = NETMON_ROLE_ACTIVE;
		a.latency_ns = s && s->connect_ns ? now - s->connect_ns : 0;
		if (action == NETMON_ACT_CONNECT_DONE) {
			a.outcome = NETMON_CONNECT_ESTABLISHED;
			if (s)
				s->established_ns = now;
			netmon_put_tuple(&t, cookie); /* attached mid-handshake: SYN_SENT was missed */
		} else {
			a.err = BPF_CORE_READ(sk, sk_err);
			a.outcome = netmon_connect_outcome(a.err);
			bpf_map_delete_elem(&netmon_sk_state, &cookie);
		}
		netmon_emit(cookie, &t, family, o, &a);
		return;
	}

	/* NETMON_ACT_CLOSE */
	a.type = NETMON_SOCK_CLOSE;
	a.role = s ? s->role : (o ? o->role : NETMON_ROLE_UNKNOWN);
	__u64 since = s && s->established_ns ? s->established_ns : (o ? o->seen_ns : 0);
	if (!s || !s->established_ns)
		netmon_sctr(NETMON_SCTR_CLOSE_NO_STATE);
	a.latency_ns = since ? now - since : 0;
	struct tcp_sock *tp = (struct tcp_sock *)sk;
	/* Our FIN is in write_seq once queued; snd_una reaching it means it was acked. */
	int fin_acked =
		netmon_tcp_fin_sent(oldstate) && BPF_CORE_READ(tp, snd_una) == BPF_CORE_READ(tp, write_seq);
	int fin_received = (BPF_CORE_READ(sk, __sk_common.skc_flags) >> NETMON_SOCK_DONE_BIT) & 1;
	a.bytes_sent = netmon_tcp_payload_acked(BPF_CORE_READ(tp, bytes_acked), a.role == NETMON_ROLE_ACTIVE,
						fin_acked);
	a.bytes_received = netmon_tcp_payload_received(BPF_CORE_READ(tp, bytes_received), fin_received);
	if (s)
		bpf_map_delete_elem(&netmon_sk_state, &cookie);
	netmon_emit(cookie, &t, family, o, &a);
}

/* ---- release ---- */

/* The process let go of the socket (close, exit). The owner stays for the grace period so late packets and
 * the TCP close handshake still resolve; userspace deletes it. UDP has no state machine: its CLOSE is emitted
 * here. */
static __always_inline void netmon_on_release(const struct sock *sk, __u64 cookie, __u8 proto)
{
	struct netmon_owner *o = bpf_map_lookup_elem(&netmon_owners, &cookie);
	__u64 now = bpf_ktime_get_ns();
	if (o && !o->released_ns)
		o->released_ns = now;
	if (proto != NETMON_IPPROTO_UDP)
		return;
	struct netmon_tuple t;
	int family = netmon_sk_tuple(sk, &t);
	if (family < 0)
		return;
	struct netmon_sock_state *s = netmon_state(cookie, 0);
	struct netmon_emit_args a = {.type = NETMON_SOCK_CLOSE};
	a.role = o ? o->role : NETMON_ROLE_UNKNOWN;
	a.latency_ns = o && o->seen_ns ? now - o->seen_ns : 0;
	if (s) {
		a.bytes_sent = s->udp_bytes_sent;
		a.bytes_received = s->udp_bytes_received;
		bpf_map_delete_elem(&netmon_sk_state, &cookie);
	}
	netmon_emit(cookie, &t, family, o, &a);
}

/* ---- accept() returned `sk` to the current task ---- */

static __always_inline void netmon_on_accept(const struct sock *sk, __u64 cookie)
{
	struct netmon_tuple t;
	int family = netmon_sk_tuple(sk, &t);
	if (family < 0 || t.proto != NETMON_IPPROTO_TCP)
		return;
	if (!cookie) {
		netmon_sctr(NETMON_SCTR_ACCEPT_NO_COOKIE);
		return;
	}
	/* The accepting process is authoritative: overwrite whatever (nothing, usually) was there. */
	struct netmon_owner o;
	netmon_owner_from_current(&o, t.netns, NETMON_SRC_ACCEPT, NETMON_ROLE_PASSIVE, family, t.proto);
	struct netmon_owner *prev = bpf_map_lookup_elem(&netmon_owners, &cookie);
	if (prev && prev->tgid == o.tgid)
		o.seen_ns = prev->seen_ns;
	else if (prev)
		netmon_owner_changed();
	if (bpf_map_update_elem(&netmon_owners, &cookie, &o, BPF_ANY)) {
		netmon_count(NETMON_CTR_OWNER_UPDATE_FAIL, 1);
	} else if (!prev) {
		netmon_count(NETMON_CTR_OWNERS_ADDED, 1);
		netmon_emit_owner_record(cookie, &o);
	}
	netmon_put_tuple(&t, cookie);
	struct netmon_sock_state *s = netmon_state(cookie, 0);
	struct netmon_emit_args a = {.type = NETMON_SOCK_ACCEPT, .role = NETMON_ROLE_PASSIVE};
	/* How long the connection waited in the accept queue. */
	if (s && s->established_ns)
		a.latency_ns = o.seen_ns - s->established_ns;
	netmon_emit(cookie, &t, family, &o, &a);
}

/* fd -> struct sock of the current task, by CO-RE reads (works from raw_tp, tracepoint and kprobe programs).
 */
static __always_inline struct sock *netmon_fd_to_sk(long fd)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	unsigned int max = BPF_CORE_READ(fdt, max_fds);
	if (fd < 0 || (unsigned long)fd >= max)
		return 0;
	struct file **fds = BPF_CORE_READ(fdt, fd);
	struct file *f = 0;
	bpf_core_read(&f, sizeof(f), &fds[fd]);
	if (!f)
		return 0;
	/* Another thread may have closed the fd and reused it before this exit hook ran: only a socket
	 * inode's file holds a struct socket. (The inode's type, not `f_op == &socket_file_ops`: a ksym would
	 * make libbpf parse /proc/kallsyms at every load, ~8% of start-up, and need CAP_SYSLOG where
	 * kptr_restrict is set.) An O_PATH file of a socket inode has no private_data, checked below. */
	if ((BPF_CORE_READ(f, f_inode, i_mode) & NETMON_S_IFMT) != NETMON_S_IFSOCK)
		return 0;
	struct socket *sock = BPF_CORE_READ(f, private_data);
	if (!sock)
		return 0;
	return BPF_CORE_READ(sock, sk);
}

/* accept()/accept4() returned `ret` in the current task. The cookie was generated by inet_sock_set_state when
 * the child was cloned (LISTEN -> SYN_RECV), so reading skc_cookie is enough: no helper needed. */
static __always_inline void netmon_on_accept_fd(long ret)
{
	if (ret < 0)
		return;
	struct sock *sk = netmon_fd_to_sk(ret);
	if (!sk) {
		netmon_sctr(NETMON_SCTR_ACCEPT_NO_SOCK);
		return;
	}
	__u64 cookie = BPF_CORE_READ(sk, __sk_common.skc_cookie.counter);
	netmon_on_accept(sk, cookie);
}

#endif /* NETMON_SOCK_COMMON_BPF_H */
