#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Kernel matrix: runs the project's BPF-level tests inside Debian 12's own 6.1 cloud kernel under qemu (TCG),
# the other side of the hook ladder from the CI host (docs/architecture.md §6: 6.18 without kprobes/fentry but with the
# sock_send_length tracepoints; 6.1 is the opposite). Exit 0 only when every planned test passed (or skipped),
# every --expect-hook holds and the guest's summary arrived.
#
#   run-guest.sh --build-dir DIR [options]
#     --ctest PATH            ctest used to list the tests (default: ctest from PATH)
#     --probe PATH            hook probe binary, run first in the guest with the --expect-hook facts
#     --expect-hook NAME=available|unavailable   a fact the guest's probe must report (repeatable)
#     --extra-file PATH       another file the guest needs, at the same path (repeatable)
#     --module NAME           another kernel module to load (default: veth sch_ingress cls_bpf act_bpf bridge dummy
#                             inet_diag tcp_diag udp_diag: NETLINK_SOCK_DIAG, the socket layer's sock_diag rung)
#     --only REGEX            only tests whose CTest name matches (the probe always runs)
#     --label LABEL           run tests with this exact label instead of `bpf` (repeatable; km-guest always runs)
#     --timeout SECS          whole guest run, boot to power-off (default 780: inside CTest's 900)
#     --test-timeout SECS     per test binary, unless its CTest TIMEOUT is larger (default 300)
#     --memory MB / --smp N   guest size (default 1536 / 2)
#     --kernel-cache DIR      where the extracted kernel package is kept (default /var/cache/netmon-kernel-matrix,
#                             else BUILD/kernel-matrix/kernel-cache); env NETMON_KM_KERNEL_CACHE does the same
#     --log FILE              full serial log (default BUILD/kernel-matrix/guest.log)
#
# Which tests: every CTest test labelled exactly `bpf` or `km-guest`, minus those labelled `host-only` (km.py).
# The kernel is whatever the metapackage linux-image-cloud-amd64 currently depends on (linux-image-6.1.0-N-...),
# fetched with apt-get download and cached, so a Debian point release moves the matrix with it.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
usage() { sed -n '3,26p' "$0" | sed 's/^# \{0,1\}//'; }

build='' ctest_bin=ctest probe='' only='' log='' cache=${NETMON_KM_KERNEL_CACHE:-}
timeout_s=780 test_timeout=300 mem=1536 smp=2
expects=() extras=() labels=()
modules=(veth sch_ingress cls_bpf act_bpf bridge dummy inet_diag tcp_diag udp_diag)
while [ $# -gt 0 ]; do
  case "$1" in
    --build-dir) build=$2; shift 2 ;;
    --ctest) ctest_bin=$2; shift 2 ;;
    --probe) probe=$2; shift 2 ;;
    --expect-hook) expects+=("$2"); shift 2 ;;
    --extra-file) extras+=("$2"); shift 2 ;;
    --module) modules+=("$2"); shift 2 ;;
    --only) only=$2; shift 2 ;;
    --label) labels+=("$2"); shift 2 ;;
    --timeout) timeout_s=$2; shift 2 ;;
    --test-timeout) test_timeout=$2; shift 2 ;;
    --memory) mem=$2; shift 2 ;;
    --smp) smp=$2; shift 2 ;;
    --kernel-cache) cache=$2; shift 2 ;;
    --log) log=$2; shift 2 ;;
    -h|--help) usage; exit 0 ;;
    *) echo "run-guest.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
  esac
done
[ -n "$build" ] || { echo "run-guest.sh: --build-dir is required" >&2; usage >&2; exit 2; }
build=$(cd "$build" && pwd)
# The guest sees files at their host paths, so every path handed in must be absolute.
abspath() { case "$1" in /*) echo "$1" ;; *) echo "$PWD/$1" ;; esac; }
[ -z "$probe" ] || probe=$(abspath "$probe")
for i in "${!extras[@]}"; do extras[i]=$(abspath "${extras[i]}"); done
work=$build/kernel-matrix
mkdir -p "$work"
log=${log:-$work/guest.log}
t_start=$(date +%s)

missing=()
for tool in qemu-system-x86_64 busybox cpio modprobe depmod python3 apt-get apt-cache dpkg-deb timeout; do
  command -v "$tool" >/dev/null || missing+=("$tool")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "run-guest.sh: missing ${missing[*]}: run bash scripts/install-deps.sh" >&2
  exit 1
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/km-run.XXXXXX")
qpid='' tpid=''
# shellcheck disable=SC2317 # called from the traps
cleanup() {
  # Never leave a guest behind: timeout(1) forwards the TERM to qemu.
  local p
  for p in $qpid $tpid; do
    if kill -0 "$p" 2>/dev/null; then
      kill "$p" 2>/dev/null || true
      wait "$p" 2>/dev/null || true
    fi
  done
  rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- the 6.1 kernel: resolve, download once, cache -------------------------------------------------------
if [ -z "$cache" ]; then
  cache=/var/cache/netmon-kernel-matrix
  mkdir -p "$cache" 2>/dev/null && [ -w "$cache" ] || cache=$work/kernel-cache
fi
mkdir -p "$cache"

resolve_pkg() {
  # The metapackage names the current ABI (linux-image-6.1.0-N-cloud-amd64); fall back to the newest such
  # package apt knows if the metapackage points elsewhere (e.g. backports' newer kernel).
  local p
  p=$(apt-cache depends linux-image-cloud-amd64 2>/dev/null |
      sed -n 's/^ *Depends: \(linux-image-6\.1\.[0-9]*-[0-9]*-cloud-amd64\)$/\1/p' | head -n1)
  [ -n "$p" ] || p=$(apt-cache pkgnames linux-image-6.1. 2>/dev/null | grep -E -- '-cloud-amd64$' | sort -V | tail -n1)
  echo "$p"
}

exec 9>"$cache/.lock"
flock 9   # two runs at once share one download
pkg=$(resolve_pkg)
if [ -z "$pkg" ] && [ "$(id -u)" = 0 ]; then
  echo "run-guest.sh: apt knows no linux-image-cloud-amd64 yet; apt-get update"
  apt-get update -q >"$tmp/apt-update.log" 2>&1 || cat "$tmp/apt-update.log" >&2
  pkg=$(resolve_pkg)
fi
kdir=
if [ -n "$pkg" ]; then
  ver=$(apt-cache policy "$pkg" | awk '/Candidate:/ {print $2}')
  kdir=$cache/${pkg}_${ver//:/%}
  if [ ! -f "$kdir/.complete" ]; then
    echo "run-guest.sh: fetching $pkg $ver (once; cached in $cache)"
    mkdir -p "$tmp/deb"
    # Sandbox user root: the _apt user cannot write into our temp dir.
    (cd "$tmp/deb" && apt-get download -q -o APT::Sandbox::User=root "$pkg=$ver") >"$tmp/download.log" 2>&1 || {
      cat "$tmp/download.log" >&2
      echo "run-guest.sh: apt-get download $pkg=$ver failed" >&2
      exit 1
    }
    dpkg-deb -x "$tmp"/deb/*.deb "$tmp/x"
    kver=$(ls "$tmp/x/lib/modules")
    depmod -b "$tmp/x" "$kver"
    rm -rf "$kdir.partial"
    mkdir -p "$kdir.partial/boot" "$kdir.partial/lib"
    mv "$tmp/x/boot/vmlinuz-$kver" "$tmp/x/boot/config-$kver" "$kdir.partial/boot/"
    mv "$tmp/x/lib/modules" "$kdir.partial/lib/"
    echo "$kver" >"$kdir.partial/kernel-release"
    touch "$kdir.partial/.complete"
    rm -rf "$kdir"
    mv "$kdir.partial" "$kdir"
    # Keep the two newest kernels: a point release must not fill the disk over months.
    ls -d "$cache"/linux-image-*/ 2>/dev/null | sort -V | head -n -2 | xargs -r rm -rf
  fi
else
  kdir=$(ls -d "$cache"/linux-image-6.1.*/ 2>/dev/null | sort -V | tail -n1 || true)
  kdir=${kdir%/}
  [ -n "$kdir" ] && [ -f "$kdir/.complete" ] || {
    echo "run-guest.sh: cannot resolve linux-image-cloud-amd64's 6.1 kernel and nothing is cached" >&2
    exit 1
  }
  echo "run-guest.sh: WARNING: apt cannot resolve the kernel package; using the cached $(basename "$kdir")"
fi
flock -u 9
kver=$(cat "$kdir/kernel-release")
vmlinuz=$kdir/boot/vmlinuz-$kver
grep -q '^CONFIG_KPROBES=y' "$kdir/boot/config-$kver" ||
  echo "run-guest.sh: WARNING: $kver has no CONFIG_KPROBES: the guest will not cover the kprobe rung"

# ---- plan: which tests, which files ------------------------------------------------------------------------
(cd "$build" && "$ctest_bin" --show-only=json-v1) >"$tmp/ctest.json"
plan_args=(--ctest-json "$tmp/ctest.json" --plan "$work/plan.sh" --files "$tmp/files" --test-timeout "$test_timeout"
           --guest-check "$here/guest-env-check.sh")
[ -n "$probe" ] && plan_args+=(--probe "$probe")
[ -n "$only" ] && plan_args+=(--only "$only")
for e in "${expects[@]}"; do plan_args+=(--expect-hook "$e"); done
for l in "${labels[@]}"; do plan_args+=(--label "$l"); done
python3 "$here/km.py" plan "${plan_args[@]}"

{
  cat "$tmp/files"
  # Data the tests load at run time, and the tools they (or a person debugging in the guest) call.
  ls "$build"/bpf/*.bpf.o 2>/dev/null || true
  for f in "${extras[@]}"; do echo "$f"; done
  for tool in ip bpftool tc dnsmasq; do
    p=$(PATH=/usr/sbin:/usr/bin:/sbin:/bin command -v "$tool" || true)
    [ -n "$p" ] && echo "$p"
  done
  # Project binaries a capture test may start, wherever the build put them.
  find "$build" -maxdepth 4 -type f -perm -u+x \
       \( -name netmon-trafficgen -o -name netmon-server -o -name netmonctl \) 2>/dev/null || true
} | sort -u >"$tmp/all-files"

initrd=$work/initramfs.cpio
ib_args=(--out "$initrd" --init "$here/init" --plan "$work/plan.sh" --kernel-root "$kdir" --kernel-release "$kver"
         --files-from "$tmp/all-files")
for m in "${modules[@]}"; do ib_args+=(--module "$m"); done
bash "$here/build-initramfs.sh" "${ib_args[@]}"

# ---- boot ----------------------------------------------------------------------------------------------------
t_boot=$(date +%s)
echo "run-guest.sh: booting $kver under TCG (timeout ${timeout_s}s); full serial log: $log"
# -nic none: the guest has no network but what its tests create. -no-reboot + panic=-1: a panic ends qemu.
timeout -k 10 "$timeout_s" qemu-system-x86_64 \
  -accel tcg -cpu max -m "$mem" -smp "$smp" -nographic -no-reboot -nic none \
  -kernel "$vmlinuz" -initrd "$initrd" \
  -append "console=ttyS0 panic=-1 quiet" \
  </dev/null >"$log" 2>&1 &
qpid=$!
# Live progress: the lines that matter, as they arrive (tail ends when qemu does). In the background, because
# bash defers a TERM/INT trap until a foreground pipeline ends, while `wait` returns at once.
# SeaBIOS and the kernel reset the terminal with escape sequences at line starts: strip them with the CRs.
(tail -n +1 -F --pid="$qpid" "$log" 2>/dev/null | sed -u -e 's/\x1b\[[0-9;?]*[A-Za-z]//g; s/\x1bc//g; s/\r//g' |
  grep --line-buffered -E '^(KM-|\[  FAILED  \]|\[  SKIPPED \]|Kernel panic|BUG:|Oops|WARNING: CPU|qemu-system)' ||
  true) &
tpid=$!
qrc=0
wait "$qpid" || qrc=$?
qpid=''
wait "$tpid" || true
tpid=''
t_end=$(date +%s)
[ "$qrc" = 124 ] && echo "run-guest.sh: the guest hit the ${timeout_s}s timeout and was killed"
[ "$qrc" != 0 ] && [ "$qrc" != 124 ] && echo "run-guest.sh: qemu exited with $qrc"

check_args=(--log "$log" --plan "$work/plan.sh" --kernel "$kver")
for e in "${expects[@]}"; do check_args+=(--expect-hook "$e"); done
rc=0
python3 "$here/km.py" check "${check_args[@]}" || rc=$?
echo "run-guest.sh: prepare $((t_boot - t_start))s, guest $((t_end - t_boot))s, total $((t_end - t_start))s"
exit "$rc"
