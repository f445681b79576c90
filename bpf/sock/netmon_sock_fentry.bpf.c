// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Socket layer, fentry/fexit rung: for kernels without the BTF tracepoints sock_send_length/sock_recv_length
 * (before v6.3) or without cgroup socket hooks. Loaded only when the probe picks one of its programs, so a
 * kernel that refuses fentry (this CI kernel: EPERM) never stops the main object. Shares the socket layer's
 * maps with netmon_sock (the loader hands over the fds before load).
 */
#include "sock_common.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* tcp_connect() runs in connect()'s process context once the local port is bound. */
SEC("fentry/tcp_connect")
int BPF_PROG(netmon_fe_connect, struct sock *sk)
{
	netmon_on_tcp_state(sk, bpf_get_socket_cookie(sk), 1, NETMON_TCP_CLOSE, NETMON_TCP_SYN_SENT);
	return 0;
}

/* inet_csk_accept() returns the child to accept(): the accepting process. Its signature changed in v6.10
 * (flags/err/kern folded into struct proto_accept_arg), so the return value is read with bpf_get_func_ret(),
 * which does not depend on the argument count. */
SEC("fexit/inet_csk_accept")
int netmon_fx_accept(unsigned long long *ctx)
{
	__u64 ret = 0;
	if (bpf_get_func_ret(ctx, &ret) || !ret)
		return 0;
	struct sock *sk = (struct sock *)ret;
	netmon_on_accept(sk, BPF_CORE_READ(sk, __sk_common.skc_cookie.counter));
	return 0;
}

static __always_inline void netmon_fe_io(struct sock *sk, int bytes, int is_send)
{
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
	__u16 proto = BPF_CORE_READ(sk, sk_protocol);
	if (netmon_inet_l4(family, proto))
		netmon_on_io(sk, bpf_get_socket_cookie(sk), family, (__u8)proto, bytes, is_send);
}

/* The protocol-independent inet entry points, at their return: what sock_sendmsg()/sock_recvmsg() call for
 * every AF_INET/AF_INET6 socket (TCP and UDP, recvmmsg's later datagrams included), with the same return
 * value the v6.3+ tracepoints sock_send_length/sock_recv_length report. So UDP payload totals are exact on
 * this rung too. Their signatures have been (socket, msghdr, size[, flags]) -> int since long before fexit
 * existed. */
static __always_inline void netmon_fx_io(struct socket *sock, int ret, int is_send)
{
	struct sock *sk = sock->sk;
	if (sk)
		netmon_fe_io(sk, ret, is_send);
}

SEC("fexit/inet_sendmsg")
int BPF_PROG(netmon_fx_inet_send, struct socket *sock, struct msghdr *msg, size_t size, int ret)
{
	netmon_fx_io(sock, ret, 1);
	return 0;
}

SEC("fexit/inet6_sendmsg")
int BPF_PROG(netmon_fx_inet6_send, struct socket *sock, struct msghdr *msg, size_t size, int ret)
{
	netmon_fx_io(sock, ret, 1);
	return 0;
}

SEC("fexit/inet_recvmsg")
int BPF_PROG(netmon_fx_inet_recv, struct socket *sock, struct msghdr *msg, size_t size, int flags, int ret)
{
	netmon_fx_io(sock, ret, 0);
	return 0;
}

SEC("fexit/inet6_recvmsg")
int BPF_PROG(netmon_fx_inet6_recv, struct socket *sock, struct msghdr *msg, size_t size, int flags, int ret)
{
	netmon_fx_io(sock, ret, 0);
	return 0;
}

/* Every protocol's send and receive pass the LSM hook with the socket: one hook for TCP, UDP, v4 and v6, for
 * a kernel whose inet6_* functions are not traceable (IPv6 as a module not loaded). At entry, so without the
 * byte count: UDP payload totals stay 0 on this rung (owners and tuples are complete). */
SEC("fentry/security_socket_sendmsg")
int BPF_PROG(netmon_fe_sec_send, struct socket *sock, struct msghdr *msg, int size)
{
	struct sock *sk = sock->sk;
	if (sk)
		netmon_fe_io(sk, 0, 1);
	return 0;
}

SEC("fentry/security_socket_recvmsg")
int BPF_PROG(netmon_fe_sec_recv, struct socket *sock, struct msghdr *msg, int size, int flags)
{
	struct sock *sk = sock->sk;
	if (sk)
		netmon_fe_io(sk, 0, 0);
	return 0;
}

/* close() of a TCP socket (process context or the exiting task). */
SEC("fentry/tcp_close")
int BPF_PROG(netmon_fe_tcp_close, struct sock *sk, long timeout)
{
	netmon_on_release(sk, bpf_get_socket_cookie(sk), NETMON_IPPROTO_TCP);
	return 0;
}

/* Release of any inet socket: UDP's CLOSE record comes from here on this rung. */
SEC("fentry/inet_release")
int BPF_PROG(netmon_fe_release, struct socket *sock)
{
	struct sock *sk = sock->sk;
	if (!sk)
		return 0;
	__u16 proto = BPF_CORE_READ(sk, sk_protocol);
	if (proto == NETMON_IPPROTO_UDP)
		netmon_on_release(sk, bpf_get_socket_cookie(sk), NETMON_IPPROTO_UDP);
	return 0;
}
