// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Socket layer, main object: cgroup v2 socket hooks, BTF tracepoints and syscall-exit hooks. The loader
 * (userspace/sock/probe.cc) switches each program's autoload by feature probe, so this object loads on any
 * kernel that has BTF; the fentry, kprobe and iterator rungs live in their own objects, so that one of them
 * refused never costs the others their load. Which program serves which hook: userspace/sock/probe.cc,
 * kHookTable.
 *
 * cgroup programs must return 1 (allow): netmon observes and never changes a socket's fate.
 */
#include "sock_common.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* ---- the UDP send/receive fast path ----
 *
 * A UDP socket's every send and receive would otherwise cost two hash lookups (owner, state) in each of its
 * hooks. Once a hook has settled a socket (owner is the current process with complete facts, tuple keyed),
 * the socket's local storage remembers that, and the next NETMON_IO_FAST_RUN sends and receives by the same
 * process under the same owner generation cost one storage lookup: the socket itself points at it. Then one
 * I/O takes the full path again, which re-asserts the owner and tuple entries (an LRU map may have evicted
 * them meanwhile). Payload bytes counted on the fast path live here and are added at release, so the loader
 * turns the fast path on (netmon_io_fast) only where the release hook that reads them is this object's
 * cgroup/sock_release (userspace/sock/socket_layer.cc).
 */
const volatile __u32 netmon_io_fast = 0;

#define NETMON_IO_FAST_RUN 64

struct netmon_sk_local {
	__u32 tgid;	 /* the owner last confirmed by the full path */
	__u32 owner_gen; /* netmon_filter_st[OWNERS].generation then: a handoff anywhere invalidates */
	__u32 fast_left; /* fast-path I/Os before the full path runs again */
	__u32 pad;
	__u64 udp_bytes_sent; /* payload counted on the fast path (the full path counts in netmon_sk_state) */
	__u64 udp_bytes_received;
};

struct {
	__uint(type, BPF_MAP_TYPE_SK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct netmon_sk_local);
} netmon_sk_local SEC(".maps");

/* One send or receive of a settled socket: counted, and 1 returned; 0 = take the full path. */
static __always_inline int netmon_io_fast_hit(struct netmon_sk_local *l, int bytes, int is_send)
{
	if (!l || l->fast_left == 0 || l->tgid != bpf_get_current_pid_tgid() >> 32 ||
	    l->owner_gen != netmon_owner_gen())
		return 0;
	l->fast_left -= 1;
	if (bytes > 0) {
		if (is_send)
			__sync_fetch_and_add(&l->udp_bytes_sent, bytes);
		else
			__sync_fetch_and_add(&l->udp_bytes_received, bytes);
	}
	return 1;
}

static __always_inline void netmon_io_settle(struct netmon_sk_local *l)
{
	if (!l)
		return;
	l->tgid = bpf_get_current_pid_tgid() >> 32;
	l->owner_gen = netmon_owner_gen();
	l->fast_left = NETMON_IO_FAST_RUN;
}

/* ---- cgroup v2 socket hooks: process context, the caller's identity ----
 *
 * Each hook comes twice: the full program, and a `_nt` twin (`notask`, compile-time) that never touches the
 * task for kernels whose cgroup programs may not call bpf_get_current_task_btf(); the probe loads the full
 * set and falls back to the twins if the kernel refuses it (rung "cgroup_notask"). Without the task the twins
 * know no netns, so they leave tuple keys to the hooks that see the socket (first I/O, state changes).
 */

static __always_inline int netmon_sk_create_x(struct bpf_sock *ctx, int notask)
{
	if (netmon_inet_l4(ctx->family, ctx->protocol))
		netmon_capture(bpf_get_socket_cookie(ctx), 0, NETMON_SRC_SOCK_CREATE, NETMON_ROLE_UNKNOWN,
			       ctx->family, ctx->protocol, notask);
	return 1;
}

SEC("cgroup/sock_create")
int netmon_sk_create(struct bpf_sock *ctx)
{
	return netmon_sk_create_x(ctx, 0);
}

SEC("cgroup/sock_create")
int netmon_sk_create_nt(struct bpf_sock *ctx)
{
	return netmon_sk_create_x(ctx, 1);
}

/* Local half of a struct bpf_sock's tuple (remote left zero: the callers key bound or unconnected sockets,
 * whose wildcard key has no remote side). Each attach type may read only some fields
 * (sock_filter_is_valid_access(): post_bind4 no src_ip6, post_bind6 no src_ip4), so the family's half is
 * chosen at compile time. */
static __always_inline void netmon_bpf_sock_local4(const struct bpf_sock *sk, struct netmon_tuple *t)
{
	/* Plain 32-bit loads first: sock pointers allow no pointer arithmetic, which clang otherwise emits.
	 */
	__u32 ip = sk->src_ip4, port = sk->src_port;
	barrier_var(ip);
	barrier_var(port);
	__builtin_memset(t, 0, sizeof(*t));
	netmon_addr_from_v4(t->local_addr, ip);
	t->local_port = (__u16)port;
}

static __always_inline void netmon_bpf_sock_local6(const struct bpf_sock *sk, struct netmon_tuple *t)
{
	__u32 a[4];
	__builtin_memset(t, 0, sizeof(*t));
	a[0] = sk->src_ip6[0];
	a[1] = sk->src_ip6[1];
	a[2] = sk->src_ip6[2];
	a[3] = sk->src_ip6[3];
	__u32 port = sk->src_port;
	barrier_var(port);
	netmon_addr_from_v6(t->local_addr, (const __u8 *)a);
	t->local_port = (__u16)port;
}

/* `with_local` (compile-time): add the bytes the fast path counted in the socket's local storage. */
static __always_inline int netmon_sk_release_x(struct bpf_sock *ctx, int with_local)
{
	if (!netmon_inet_l4(ctx->family, ctx->protocol))
		return 1;
	__u64 cookie = bpf_get_socket_cookie(ctx);
	__u64 now = bpf_ktime_get_ns();
	struct netmon_owner *o = bpf_map_lookup_elem(&netmon_owners, &cookie);
	if (o && !o->released_ns)
		o->released_ns = now;
	if (ctx->protocol != NETMON_IPPROTO_UDP)
		return 1; /* TCP: CLOSE comes from the state machine, which outlives close() */
	/* This attach type may not read the socket's addresses (sock_filter_is_valid_access() allows src_*
	 * only for post_bind): the tuple comes from the state the I/O hooks recorded. A socket that never
	 * sent nor received has no flow to close. */
	struct netmon_sock_state *s = netmon_state(cookie, 0);
	if (!s)
		return 1;
	if (s->flags & NETMON_SKS_TUPLE) {
		struct netmon_emit_args a = {.type = NETMON_SOCK_CLOSE};
		a.role = o ? o->role : NETMON_ROLE_UNKNOWN;
		a.latency_ns = o && o->seen_ns ? now - o->seen_ns : 0;
		a.bytes_sent = s->udp_bytes_sent;
		a.bytes_received = s->udp_bytes_received;
		if (with_local && netmon_io_fast) {
			struct netmon_sk_local *l = bpf_sk_storage_get(&netmon_sk_local, ctx, 0, 0);
			if (l) {
				a.bytes_sent += l->udp_bytes_sent;
				a.bytes_received += l->udp_bytes_received;
			}
		}
		netmon_emit(cookie, &s->tuple, ctx->family, o, &a);
	}
	bpf_map_delete_elem(&netmon_sk_state, &cookie);
	return 1;
}

SEC("cgroup/sock_release")
int netmon_sk_release(struct bpf_sock *ctx)
{
	return netmon_sk_release_x(ctx, 1);
}

/* The same body without the local storage (the fast path is never on with this rung): a rung's programs load
 * and attach together, and kernels whose cgroup programs lack the task may lack that helper too. */
SEC("cgroup/sock_release")
int netmon_sk_release_nt(struct bpf_sock *ctx)
{
	return netmon_sk_release_x(ctx, 0);
}

/* connect(): the caller initiates. The tuple and the connect start time are taken at CLOSE -> SYN_SENT, when
 * the kernel has bound the local port; UDP connects are keyed at their first send. */
static __always_inline int netmon_connect(struct bpf_sock_addr *ctx, int notask)
{
	if (netmon_inet_l4(ctx->family, ctx->protocol))
		netmon_capture(bpf_get_socket_cookie(ctx), 0, NETMON_SRC_CONNECT, NETMON_ROLE_ACTIVE,
			       ctx->family, ctx->protocol, notask);
	return 1;
}

SEC("cgroup/connect4")
int netmon_connect4(struct bpf_sock_addr *ctx)
{
	return netmon_connect(ctx, 0);
}

SEC("cgroup/connect6")
int netmon_connect6(struct bpf_sock_addr *ctx)
{
	return netmon_connect(ctx, 0);
}

SEC("cgroup/connect4")
int netmon_connect4_nt(struct bpf_sock_addr *ctx)
{
	return netmon_connect(ctx, 1);
}

SEC("cgroup/connect6")
int netmon_connect6_nt(struct bpf_sock_addr *ctx)
{
	return netmon_connect(ctx, 1);
}

/* Unconnected UDP sendmsg()/recvmsg(): owner, and the wildcard key of the bound port (inet_send_prepare()
 * autobinds before these hooks run, so the port is known). */
static __always_inline int netmon_udp_msg(struct bpf_sock_addr *ctx, __u8 source, __u8 role, int notask)
{
	if (!netmon_inet_l4(ctx->family, ctx->protocol))
		return 1;
	struct bpf_sock *sk = ctx->sk;
	if (!notask && netmon_io_fast && sk &&
	    netmon_io_fast_hit(bpf_sk_storage_get(&netmon_sk_local, sk, 0, 0), 0, 0))
		return 1;
	__u64 cookie = bpf_get_socket_cookie(ctx);
	int captured = netmon_capture(cookie, 0, source, role, ctx->family, ctx->protocol, notask);
	if (!sk || notask)
		return 1;
	__u32 proto = ctx->protocol;
	struct netmon_sock_state *s = netmon_state(cookie, 1);
	if (!s)
		return 1;
	if (s->flags & NETMON_SKS_TUPLE) {
		if (netmon_io_fast && captured != NETMON_CAPTURE_FAILED && proto == NETMON_IPPROTO_UDP)
			netmon_io_settle(
				bpf_sk_storage_get(&netmon_sk_local, sk, 0, BPF_SK_STORAGE_GET_F_CREATE));
		return 1;
	}
	struct netmon_owner *o = bpf_map_lookup_elem(&netmon_owners, &cookie);
	if (sk->family == NETMON_AF_INET)
		netmon_bpf_sock_local4(sk, &s->tuple);
	else
		netmon_bpf_sock_local6(sk, &s->tuple);
	s->tuple.proto = proto;
	s->tuple.netns = o && o->netns ? o->netns : netmon_task_netns(bpf_get_current_task_btf());
	s->flags |= NETMON_SKS_TUPLE;
	netmon_put_tuple(&s->tuple, cookie);
	return 1;
}

SEC("cgroup/sendmsg4")
int netmon_sendmsg4(struct bpf_sock_addr *ctx)
{
	return netmon_udp_msg(ctx, NETMON_SRC_SENDMSG, NETMON_ROLE_ACTIVE, 0);
}

SEC("cgroup/sendmsg6")
int netmon_sendmsg6(struct bpf_sock_addr *ctx)
{
	return netmon_udp_msg(ctx, NETMON_SRC_SENDMSG, NETMON_ROLE_ACTIVE, 0);
}

SEC("cgroup/recvmsg4")
int netmon_recvmsg4(struct bpf_sock_addr *ctx)
{
	return netmon_udp_msg(ctx, NETMON_SRC_RECVMSG, NETMON_ROLE_PASSIVE, 0);
}

SEC("cgroup/recvmsg6")
int netmon_recvmsg6(struct bpf_sock_addr *ctx)
{
	return netmon_udp_msg(ctx, NETMON_SRC_RECVMSG, NETMON_ROLE_PASSIVE, 0);
}

SEC("cgroup/sendmsg4")
int netmon_sendmsg4_nt(struct bpf_sock_addr *ctx)
{
	return netmon_udp_msg(ctx, NETMON_SRC_SENDMSG, NETMON_ROLE_ACTIVE, 1);
}

SEC("cgroup/sendmsg6")
int netmon_sendmsg6_nt(struct bpf_sock_addr *ctx)
{
	return netmon_udp_msg(ctx, NETMON_SRC_SENDMSG, NETMON_ROLE_ACTIVE, 1);
}

SEC("cgroup/recvmsg4")
int netmon_recvmsg4_nt(struct bpf_sock_addr *ctx)
{
	return netmon_udp_msg(ctx, NETMON_SRC_RECVMSG, NETMON_ROLE_PASSIVE, 1);
}

SEC("cgroup/recvmsg6")
int netmon_recvmsg6_nt(struct bpf_sock_addr *ctx)
{
	return netmon_udp_msg(ctx, NETMON_SRC_RECVMSG, NETMON_ROLE_PASSIVE, 1);
}

/* bind() finished: owner and the wildcard key(s) of the bound address, so ingress to a server (TCP SYNs to a
 * listener, datagrams to a UDP server) resolves before any connection exists. */
static __always_inline int netmon_post_bind(struct bpf_sock *ctx, int v6, int notask)
{
	if (!netmon_inet_l4(ctx->family, ctx->protocol))
		return 1;
	__u64 cookie = bpf_get_socket_cookie(ctx);
	netmon_capture(cookie, 0, NETMON_SRC_BIND, NETMON_ROLE_UNKNOWN, ctx->family, ctx->protocol, notask);
	if (notask)
		return 1;
	struct netmon_owner *o = bpf_map_lookup_elem(&netmon_owners, &cookie);
	struct netmon_tuple t;
	if (v6)
		netmon_bpf_sock_local6(ctx, &t);
	else
		netmon_bpf_sock_local4(ctx, &t);
	t.proto = ctx->protocol;
	t.remote_port = 0; /* a bind is never a connection, whatever the socket was before */
	t.netns = o && o->netns ? o->netns : netmon_task_netns(bpf_get_current_task_btf());
	netmon_put_tuple(&t, cookie);
	return 1;
}

SEC("cgroup/post_bind4")
int netmon_post_bind4(struct bpf_sock *ctx)
{
	return netmon_post_bind(ctx, 0, 0);
}

SEC("cgroup/post_bind6")
int netmon_post_bind6(struct bpf_sock *ctx)
{
	return netmon_post_bind(ctx, 1, 0);
}

SEC("cgroup/post_bind4")
int netmon_post_bind4_nt(struct bpf_sock *ctx)
{
	return netmon_post_bind(ctx, 0, 1);
}

SEC("cgroup/post_bind6")
int netmon_post_bind6_nt(struct bpf_sock *ctx)
{
	return netmon_post_bind(ctx, 1, 1);
}

/* ---- BTF tracepoints ---- */

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(netmon_set_state, const struct sock *sk, const int oldstate, const int newstate)
{
	/* Most transitions (ESTABLISHED -> FIN_WAIT1 ...) mean nothing here: leave before any helper call. */
	if (netmon_tcp_transition(oldstate, newstate) == NETMON_ACT_NONE)
		return 0;
	if (sk->sk_protocol != NETMON_IPPROTO_TCP)
		return 0;
	__u16 family = sk->__sk_common.skc_family;
	if (family != NETMON_AF_INET && family != NETMON_AF_INET6)
		return 0;
	/* Generates the cookie if the socket has none yet: a child cloned from a listener gets one here,
	 * before accept() can return it (netmon_on_accept_fd reads it back without a helper). */
	__u64 cookie = bpf_get_socket_cookie((void *)sk);
	netmon_on_tcp_state(sk, cookie, 1, oldstate, newstate);
	return 0;
}

/* sock_sendmsg()/sock_recvmsg() returned (v6.3+): the caller's process context, with the socket. First I/O
 * names the owner of sockets no earlier hook saw: accepted sockets used by a forked child, sockets passed
 * over unix sockets, sockets that predate the capture. */
static __always_inline void netmon_io(struct sock *sk, int ret, int is_send)
{
	__u16 family = sk->__sk_common.skc_family;
	__u16 proto = sk->sk_protocol;
	if (!netmon_inet_l4(family, proto))
		return;
	const int fast = netmon_io_fast && proto == NETMON_IPPROTO_UDP;
	if (fast && netmon_io_fast_hit(bpf_sk_storage_get(&netmon_sk_local, sk, 0, 0), ret, is_send))
		return;
	if (netmon_on_io(sk, bpf_get_socket_cookie(sk), family, (__u8)proto, ret, is_send) && fast)
		netmon_io_settle(bpf_sk_storage_get(&netmon_sk_local, sk, 0, BPF_SK_STORAGE_GET_F_CREATE));
}

SEC("tp_btf/sock_send_length")
int BPF_PROG(netmon_send_len, struct sock *sk, int ret, int flags)
{
	netmon_io(sk, ret, 1);
	return 0;
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(netmon_recv_len, struct sock *sk, int ret, int flags)
{
	netmon_io(sk, ret, 0);
	return 0;
}

/* Release rung for TCP where cgroup/sock_release is unavailable: the socket is being destroyed. */
SEC("tp_btf/tcp_destroy_sock")
int BPF_PROG(netmon_tcp_destroy, struct sock *sk)
{
	__u64 cookie = bpf_get_socket_cookie(sk);
	struct netmon_owner *o = bpf_map_lookup_elem(&netmon_owners, &cookie);
	if (o && !o->released_ns)
		o->released_ns = bpf_ktime_get_ns();
	return 0;
}

/* ---- accept() return: the accepting process ---- */

/* Syscall tracepoints fire only for their own syscall (cheapest); they need tracefs to attach. */
SEC("tracepoint/syscalls/sys_exit_accept4")
int netmon_accept4_exit(struct trace_event_raw_sys_exit *ctx)
{
	netmon_on_accept_fd(ctx->ret);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_accept")
int netmon_accept_exit(struct trace_event_raw_sys_exit *ctx)
{
	netmon_on_accept_fd(ctx->ret);
	return 0;
}

/* raw_tp/sys_exit fires for every syscall of every task: the syscall number is checked first. Native 64-bit
 * syscalls only; 32-bit compat accept() goes unseen on this rung (its first I/O still names the owner). */
#if defined(__TARGET_ARCH_x86)
#define NETMON_NR_ACCEPT 43
#define NETMON_NR_ACCEPT4 288
#define NETMON_SYSCALL_NR(regs) BPF_CORE_READ(regs, orig_ax)
#elif defined(__TARGET_ARCH_arm64)
#define NETMON_NR_ACCEPT 202
#define NETMON_NR_ACCEPT4 242
#define NETMON_SYSCALL_NR(regs) BPF_CORE_READ(regs, syscallno)
#endif

#ifdef NETMON_NR_ACCEPT
SEC("raw_tp/sys_exit")
int BPF_PROG(netmon_sys_exit, struct pt_regs *regs, long ret)
{
	if (ret < 0)
		return 0;
	long nr = NETMON_SYSCALL_NR(regs);
	if (nr == NETMON_NR_ACCEPT || nr == NETMON_NR_ACCEPT4)
		netmon_on_accept_fd(ret);
	return 0;
}
#endif
