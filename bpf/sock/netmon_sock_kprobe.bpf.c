// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Socket layer, kprobe rung: the last resort, for kernels with neither the BTF tracepoints nor fentry. Kprobe
 * programs cannot call bpf_get_socket_cookie(), so the cookie is read from sk_cookie: it exists once anything
 * asked for it (cgroup/sock_create does for every socket; inet_sock_set_state does for every TCP socket; the
 * packet layer's egress does at the first packet). A socket with no cookie yet is counted and skipped here;
 * its next hook names it. Loads but cannot attach on this CI kernel (CONFIG_KPROBES=n); the 6.1 guest
 * attaches it (sock_live_test: KprobeRungsAttribute).
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

/* The protocol-independent inet entry points (every TCP/UDP, v4/v6 sendmsg and recvmsg), in two halves: the
 * kprobe remembers the socket per thread, the kretprobe reads the return value, the byte count the v6.3+
 * tracepoints report. So UDP payload totals are exact on this rung too. */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);   /* pid_tgid */
	__type(value, __u64); /* struct socket * */
} netmon_kp_io_sock SEC(".maps");

static __always_inline void netmon_kp_io_enter(struct socket *sock)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u64 ptr = (__u64)sock;
	bpf_map_update_elem(&netmon_kp_io_sock, &id, &ptr, BPF_ANY);
}

static __always_inline void netmon_kp_io_exit(int ret, int is_send)
{
	__u64 id = bpf_get_current_pid_tgid();
	__u64 *ptr = bpf_map_lookup_elem(&netmon_kp_io_sock, &id);
	if (!ptr)
		return;
	struct socket *sock = (struct socket *)*ptr;
	bpf_map_delete_elem(&netmon_kp_io_sock, &id);
	struct sock *sk = BPF_CORE_READ(sock, sk);
	if (sk)
		netmon_kp_io(sk, ret, is_send);
}

SEC("kprobe/inet_sendmsg")
int BPF_KPROBE(netmon_kp_inet_send, struct socket *sock)
{
	netmon_kp_io_enter(sock);
	return 0;
}

SEC("kretprobe/inet_sendmsg")
int BPF_KRETPROBE(netmon_kr_inet_send, int ret)
{
	netmon_kp_io_exit(ret, 1);
	return 0;
}

SEC("kprobe/inet6_sendmsg")
int BPF_KPROBE(netmon_kp_inet6_send, struct socket *sock)
{
	netmon_kp_io_enter(sock);
	return 0;
}

SEC("kretprobe/inet6_sendmsg")
int BPF_KRETPROBE(netmon_kr_inet6_send, int ret)
{
	netmon_kp_io_exit(ret, 1);
	return 0;
}

SEC("kprobe/inet_recvmsg")
int BPF_KPROBE(netmon_kp_inet_recv, struct socket *sock)
{
	netmon_kp_io_enter(sock);
	return 0;
}

SEC("kretprobe/inet_recvmsg")
int BPF_KRETPROBE(netmon_kr_inet_recv, int ret)
{
	netmon_kp_io_exit(ret, 0);
	return 0;
}

SEC("kprobe/inet6_recvmsg")
int BPF_KPROBE(netmon_kp_inet6_recv, struct socket *sock)
{
	netmon_kp_io_enter(sock);
	return 0;
}

SEC("kretprobe/inet6_recvmsg")
int BPF_KRETPROBE(netmon_kr_inet6_recv, int ret)
{
	netmon_kp_io_exit(ret, 0);
	return 0;
}

/* At entry of the LSM hook, so without the byte count: UDP payload totals stay 0 on this rung. */
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
