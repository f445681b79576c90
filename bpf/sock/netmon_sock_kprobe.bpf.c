// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Socket layer, kprobe rung: the last resort, for kernels with neither the BTF tracepoints nor fentry. Kprobe
 * programs cannot call bpf_get_socket_cookie(), so the cookie is read from sk_cookie: it exists once anything
 * asked for it (cgroup/sock_create does for every socket; inet_sock_set_state does for every TCP socket; the
 * packet layer's egress does at the first packet). A socket with no cookie yet is counted and skipped here;
 * its next hook names it. Not loadable on this CI kernel (CONFIG_KPROBES=n); a 6.1 guest exercises it.
 */
#include "sock_common.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

static __always_inline __u64 netmon_kp_cookie(const struct sock *sk)
{
	return BPF_CORE_READ(sk, __sk_common.skc_cookie.counter);
}

SEC("kprobe/tcp_connect")
int BPF_KPROBE(netmon_kp_connect, struct sock *sk)
{
	__u64 cookie = netmon_kp_cookie(sk);
	if (cookie)
		netmon_on_tcp_state(sk, cookie, 0, NETMON_TCP_CLOSE, NETMON_TCP_SYN_SENT);
	return 0;
}

SEC("kretprobe/inet_csk_accept")
int BPF_KRETPROBE(netmon_kr_accept, struct sock *sk)
{
	if (sk)
		netmon_on_accept(sk, netmon_kp_cookie(sk));
	return 0;
}

static __always_inline void netmon_kp_io(struct sock *sk, int bytes, int is_send)
{
	__u16 family = BPF_CORE_READ(sk, __sk_common.skc_family);
	__u16 proto = BPF_CORE_READ(sk, sk_protocol);
	if (!netmon_inet_l4(family, proto))
		return;
	__u64 cookie = netmon_kp_cookie(sk);
	if (cookie)
		netmon_on_io(sk, cookie, family, (__u8)proto, bytes, is_send);
}

SEC("kprobe/tcp_sendmsg")
int BPF_KPROBE(netmon_kp_tcp_send, struct sock *sk)
{
	netmon_kp_io(sk, 0, 1);
	return 0;
}

SEC("kprobe/udp_sendmsg")
int BPF_KPROBE(netmon_kp_udp_send, struct sock *sk, struct msghdr *msg, size_t len)
{
	netmon_kp_io(sk, (int)len, 1);
	return 0;
}

SEC("kprobe/security_socket_sendmsg")
int BPF_KPROBE(netmon_kp_sec_send, struct socket *sock)
{
	struct sock *sk = BPF_CORE_READ(sock, sk);
	if (sk)
		netmon_kp_io(sk, 0, 1);
	return 0;
}

SEC("kprobe/security_socket_recvmsg")
int BPF_KPROBE(netmon_kp_sec_recv, struct socket *sock)
{
	struct sock *sk = BPF_CORE_READ(sock, sk);
	if (sk)
		netmon_kp_io(sk, 0, 0);
	return 0;
}

SEC("kprobe/tcp_close")
int BPF_KPROBE(netmon_kp_tcp_close, struct sock *sk)
{
	__u64 cookie = netmon_kp_cookie(sk);
	if (cookie)
		netmon_on_release(sk, cookie, NETMON_IPPROTO_TCP);
	return 0;
}

SEC("kprobe/inet_release")
int BPF_KPROBE(netmon_kp_release, struct socket *sock)
{
	struct sock *sk = BPF_CORE_READ(sock, sk);
	if (!sk || BPF_CORE_READ(sk, sk_protocol) != NETMON_IPPROTO_UDP)
		return 0;
	__u64 cookie = netmon_kp_cookie(sk);
	if (cookie)
		netmon_on_release(sk, cookie, NETMON_IPPROTO_UDP);
	return 0;
}
