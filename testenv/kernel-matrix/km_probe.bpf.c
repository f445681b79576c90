/* SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause) */
/*
 * Kernel-matrix hook probe: one trivial program per rung of the socket layer's hook ladder (docs/architecture.md §6).
 * probe_hooks.cc loads and attaches them one at a time, so a missing hook fails only its own program, and
 * then fires each hook once (a loopback TCP connect and send) to show it really runs. Each program only
 * counts its calls: what is being probed is whether the kernel accepts and runs this kind of program at this
 * hook, not any logic.
 */
#include "vmlinux.h"

#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Calls per program, indexed as enum km_hook in probe_hooks.cc. Only calls from the probe's own process
 * count, so other processes' traffic on the host does not fake a "fired". */
#define KM_HOOKS 6
__u64 km_hits[KM_HOOKS] = {};
const volatile __u32 km_tgid = 0;

static __always_inline void km_hit(int idx)
{
	if ((__u32)(bpf_get_current_pid_tgid() >> 32) != km_tgid)
		return;
	if (idx >= 0 && idx < KM_HOOKS)
		__sync_fetch_and_add(&km_hits[idx], 1);
}

SEC("kprobe/tcp_connect")
int km_kprobe_tcp_connect(struct pt_regs *ctx)
{
	km_hit(0);
	return 0;
}

SEC("fentry/tcp_connect")
int BPF_PROG(km_fentry_tcp_connect, struct sock *sk)
{
	km_hit(1);
	return 0;
}

/* Added in 6.3: absent on Debian 12's 6.1, so this one must fail to load there. */
SEC("tp_btf/sock_send_length")
int BPF_PROG(km_tp_sock_send_length, struct sock *sk, int ret, int flags)
{
	km_hit(2);
	return 0;
}

SEC("tp_btf/sock_recv_length")
int BPF_PROG(km_tp_sock_recv_length, struct sock *sk, int ret, int flags)
{
	km_hit(3);
	return 0;
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(km_tp_inet_sock_set_state, const struct sock *sk, const int oldstate, const int newstate)
{
	km_hit(4);
	return 0;
}

/* Returning 1 lets every connect through: the probe attaches to the root cgroup for a moment. */
SEC("cgroup/connect4")
int km_cgroup_connect4(struct bpf_sock_addr *ctx)
{
	km_hit(5);
	return 1;
}
