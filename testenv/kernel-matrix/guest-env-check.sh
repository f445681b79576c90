#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Runs first inside the kernel-matrix guest (busybox sh, hence no bash features): checks that the guest gives
# the BPF tests what the host does (bpffs, tracefs, cgroup2, the packet-layer modules, network namespaces with a
# working veth pair and a clsact qdisc), so a broken guest shows up here as one clear failure instead of as
# every later test failing for reasons of its own. One `KM-ENV ok|FAIL <what>` line per check.
set -u
fails=0
ok() { echo "KM-ENV ok $*"; }
bad() { echo "KM-ENV FAIL $*"; fails=$((fails + 1)); }
check() {  # check WHAT CMD...: CMD's success is the check
  what=$1
  shift
  if "$@" >/tmp/km-env.out 2>&1; then ok "$what"; else bad "$what: $(tail -n 3 /tmp/km-env.out | tr '\n' ' ')"; fi
}

for fs in "bpf /sys/fs/bpf" "tracefs /sys/kernel/tracing" "cgroup2 /sys/fs/cgroup" "debugfs /sys/kernel/debug"; do
  # shellcheck disable=SC2086 # split "type dir" on purpose
  set -- $fs
  check "mount $1 on $2" grep -q " $2 $1 " /proc/mounts
done
for m in veth sch_ingress cls_bpf; do
  check "module $m" grep -q "^$m " /proc/modules
done
check "BTF at /sys/kernel/btf/vmlinux" test -s /sys/kernel/btf/vmlinux
check "lo up" sh -c 'ip -o link show lo | grep -q "UP"'

# A veth pair between the root namespace and a throwaway one, addresses only inside the guest.
ns=nmt-km-env
cleanup() {
  ip netns del "$ns" 2>/dev/null
  ip link del nmt-km-a 2>/dev/null
}
trap cleanup EXIT
cleanup
check "netns add" ip netns add "$ns"
check "veth pair" ip link add nmt-km-a type veth peer name nmt-km-b
check "veth into netns" ip link set nmt-km-b netns "$ns"
check "address a" ip addr add 10.211.0.1/24 dev nmt-km-a
check "address b" ip -n "$ns" addr add 10.211.0.2/24 dev nmt-km-b
check "links up" sh -c "ip link set nmt-km-a up && ip -n $ns link set nmt-km-b up && ip -n $ns link set lo up"
check "ping across veth" ping -c 1 -W 5 10.211.0.2
check "clsact qdisc" tc qdisc add dev nmt-km-a clsact
check "bpftool runs" bpftool version

if [ "$fails" -gt 0 ]; then
  echo "KM-ENV $fails check(s) failed: the guest is not fit for the BPF tests"
  exit 1
fi
echo "KM-ENV all checks passed"
