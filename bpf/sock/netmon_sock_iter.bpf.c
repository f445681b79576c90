// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * Socket layer, iterator object: one pass over every task's files names the owners of sockets that predate
 * the capture (rung "iter" of sock.existing). An object of its own: kernels differ in what they let an
 * iterator do with the socket behind a file (6.18.44 builds since fc-v1252 type `sock->sk` as untrusted), and
 * a refusal here must leave the main object loaded; the loader then falls back to sock_diag and reports why.
 *
 * Every read of the socket is a CO-RE probe read, which the verifier allows on untrusted pointers. Helpers
 * that take a socket (bpf_get_socket_cookie) do not: a socket the kernel gave no cookie yet is counted and
 * its namespace named in netmon_seed_ns, so userspace can have cookies assigned and run the pass again.
 */
#include "sock_common.bpf.h"

char LICENSE[] SEC("license") = "Dual BSD/GPL";

/* Key: __u32 netns inode; value: __u32 tgid holding a cookie-less socket there (abi.h,
 * NETMON_MAP_SEED_NETNS). Written here, read and cleared by userspace/sock/socket_layer.cc. */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, NETMON_SEED_NETNS_MAX);
	__type(key, __u32);
	__type(value, __u32);
} netmon_seed_ns SEC(".maps");

SEC("iter/task_file")
int netmon_seed(struct bpf_iter__task_file *ctx)
{
	struct task_struct *task = ctx->task;
	struct file *file = ctx->file;
	if (!task || !file)
		return 0;
	struct socket *sock = bpf_sock_from_file(file);
	if (!sock)
		return 0;
	struct sock *sk = BPF_CORE_READ(sock, sk);
	if (!sk)
		return 0;
	struct netmon_tuple t;
	int family = netmon_sk_tuple(sk, &t);
	if (family < 0 || (t.proto != NETMON_IPPROTO_TCP && t.proto != NETMON_IPPROTO_UDP))
		return 0;
	__u64 cookie = BPF_CORE_READ(sk, __sk_common.skc_cookie.counter);
	__u32 tgid = BPF_CORE_READ(task, tgid);
	if (!cookie) {
		netmon_sctr(NETMON_SCTR_SEED_NO_COOKIE);
		bpf_map_update_elem(&netmon_seed_ns, &t.netns, &tgid, BPF_NOEXIST);
		return 0;
	}

	struct task_struct *leader = BPF_CORE_READ(task, group_leader);
	struct netmon_owner o = {};
	o.tgid = tgid;
	o.tid = BPF_CORE_READ(task, pid);
	o.uid = BPF_CORE_READ(task, cred, uid.val);
	o.netns = t.netns;
	o.cgroup_id = BPF_CORE_READ(task, cgroups, dfl_cgrp, kn, id);
	o.start_time_ns = BPF_CORE_READ(leader, start_boottime);
	o.seen_ns = bpf_ktime_get_ns();
	BPF_CORE_READ_STR_INTO(&o.comm, leader, comm);
	o.source = NETMON_SRC_EXISTING;
	__u8 state = BPF_CORE_READ(sk, __sk_common.skc_state);
	o.role = t.proto == NETMON_IPPROTO_TCP && state == NETMON_TCP_LISTEN ? NETMON_ROLE_PASSIVE
									     : NETMON_ROLE_UNKNOWN;
	o.family = family;
	o.proto = t.proto;
	/* NOEXIST: an owner a live hook captured is better evidence than "some task holds the fd"; of several
	 * tasks holding one socket, the first one walked wins. */
	if (bpf_map_update_elem(&netmon_owners, &cookie, &o, BPF_NOEXIST) == 0) {
		netmon_count(NETMON_CTR_OWNERS_ADDED, 1);
		netmon_sctr(NETMON_SCTR_SEEDED_OWNERS);
	}
	if (t.proto == NETMON_IPPROTO_TCP && state == NETMON_TCP_LISTEN)
		t.remote_port = 0;
	struct netmon_tuple key = t;
	if (t.remote_port == 0)
		netmon_tuple_wildcard(&key, &t, netmon_addr_is_zero(t.local_addr));
	if (key.local_port == 0)
		return 0;
	struct netmon_tuple_owner v = {.cookie = cookie, .seen_ns = o.seen_ns};
	if (bpf_map_update_elem(&netmon_tuples, &key, &v, BPF_NOEXIST) == 0) {
		netmon_count(NETMON_CTR_TUPLES_ADDED, 1);
		netmon_sctr(NETMON_SCTR_SEEDED_TUPLES);
	}
	return 0;
}
