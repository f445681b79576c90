#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Builds the kernel-matrix guest's initramfs (a newc cpio): busybox, the given files at their host paths with
# every shared library `ldd` resolves for them (and the ELF interpreter), the given kernel modules with their
# dependencies in insmod order, a minimal /etc, the init script and the test plan.
#
#   build-initramfs.sh --out FILE --init FILE --kernel-root DIR --kernel-release VER
#                      [--plan FILE] [--module NAME]... [--file PATH]... [--files-from LIST] [--gzip]
#
# Files keep their absolute host paths in the guest (/work/main/build/tests/bpf/...), so tests that find their
# BPF objects or helper binaries through paths compiled in at build time work unchanged. The tree mirrors
# Debian 12's merged /usr (bin, sbin, lib, lib64 are links into usr/), so libraries land where ldd found them.
# Binaries from the build tree are copied without debug info: the guest unpacks every byte under TCG.
set -euo pipefail

usage() { sed -n '3,14p' "$0" | sed 's/^# \{0,1\}//'; }

out='' init='' plan='' kroot='' kver='' gzip=0
modules=() files=()
while [ $# -gt 0 ]; do
  case "$1" in
    --out) out=$2; shift 2 ;;
    --init) init=$2; shift 2 ;;
    --plan) plan=$2; shift 2 ;;
    --kernel-root) kroot=$2; shift 2 ;;
    --kernel-release) kver=$2; shift 2 ;;
    --module) modules+=("$2"); shift 2 ;;
    --file) files+=("$2"); shift 2 ;;
    --files-from) while IFS= read -r f; do [ -n "$f" ] && files+=("$f"); done <"$2"; shift 2 ;;
    --gzip) gzip=1; shift ;;
    -h|--help) usage; exit 0 ;;
    *) echo "build-initramfs.sh: unknown argument $1" >&2; usage >&2; exit 2 ;;
  esac
done
for v in out init kroot kver; do
  if [ -z "${!v}" ]; then echo "build-initramfs.sh: --${v/kroot/kernel-root} is required" >&2; exit 2; fi
done
[ "$kver" = "${kver#*/}" ] || { echo "build-initramfs.sh: bad kernel release '$kver'" >&2; exit 2; }
for tool in cpio ldd modprobe depmod; do
  command -v "$tool" >/dev/null || { echo "build-initramfs.sh: $tool missing (bash scripts/install-deps.sh)" >&2; exit 1; }
done
busybox=$(command -v busybox || true)
[ -n "$busybox" ] || { echo "build-initramfs.sh: busybox missing (busybox-static)" >&2; exit 1; }

stage=$(mktemp -d "${TMPDIR:-/tmp}/km-initramfs.XXXXXX")
trap 'rm -rf "$stage"' EXIT

mkdir -p "$stage"/usr/{bin,sbin,lib,lib64} "$stage"/{km/bin,etc,proc,sys,dev,tmp,run,root}
for d in bin sbin lib lib64; do ln -s "usr/$d" "$stage/$d"; done
mkdir -p "$stage/var"
ln -s ../run "$stage/var/run"   # ip netns keeps its mounts under /var/run/netns
chmod 1777 "$stage/tmp"
# The kernel opens /dev/console before init runs; without this node init's first lines go nowhere.
mknod -m 600 "$stage/dev/console" c 5 1 2>/dev/null || true

declare -A copied=()

# copy_one SRC: SRC's content at the same path in the tree (symlinks followed, so a library's soname link
# becomes a real file).
copy_one() {
  local src=$1 dest="$stage$1"
  [ -z "${copied[$src]:-}" ] || return 0
  copied[$src]=1
  mkdir -p "$(dirname "$dest")"
  if [ -d "$src" ]; then
    cp -rL "$src/." "$dest/"
    return 0
  fi
  case "$src" in
    /usr/*|/lib*|/bin/*|/sbin/*) cp -L "$src" "$dest" ;;
    # Project binaries: RelWithDebInfo debug sections are most of their size.
    *.o) cp -L "$src" "$dest" ;;   # BPF objects: their BTF and relocations are the point, never strip
    *) if head -c4 "$src" | grep -q $'^\x7fELF' && strip --strip-debug -o "$dest" "$src" 2>/dev/null; then
         chmod --reference="$src" "$dest"
       else
         cp -L "$src" "$dest"
       fi ;;
  esac
}

# copy_with_libs PATH: the file, and for a dynamic ELF file every library ldd resolves plus its interpreter.
copy_with_libs() {
  local src=$1 line lib
  case "$src" in
    /*) ;;
    *) echo "build-initramfs.sh: $src: files must be given by absolute path (the guest sees them there)" >&2
       return 1 ;;
  esac
  if [ ! -e "$src" ]; then
    echo "build-initramfs.sh: $src does not exist" >&2
    return 1
  fi
  copy_one "$src"
  [ -f "$src" ] && head -c4 "$src" | grep -q $'^\x7fELF' || return 0
  local deps
  deps=$(ldd "$src" 2>&1) || true   # "not a dynamic executable" for static binaries and .o files
  if grep -q 'not found' <<<"$deps"; then
    echo "build-initramfs.sh: $src needs libraries this host lacks:" >&2
    grep 'not found' <<<"$deps" >&2
    return 1
  fi
  while read -r line; do
    lib=
    case "$line" in
      *'=> /'*) lib=${line#*=> }; lib=${lib%% (*} ;;
      /*) lib=${line%% (*} ;;
    esac
    [ -n "$lib" ] && copy_one "$lib"
  done <<<"$deps"
  # libxdp loads its dispatcher and AF_XDP programs from object files at run time.
  if grep -q 'libxdp\.so' <<<"$deps" && [ -d /usr/lib/x86_64-linux-gnu/bpf ]; then
    copy_one /usr/lib/x86_64-linux-gnu/bpf
  fi
}

# busybox as /km/bin with all its applets; real binaries copied below (ip, bpftool, ...) come first in PATH.
copy_with_libs "$busybox"
cp -L "$busybox" "$stage/km/bin/busybox"
for applet in $("$busybox" --list); do
  [ "$applet" = busybox ] || ln -sf busybox "$stage/km/bin/$applet"
done

for f in "${files[@]}"; do copy_with_libs "$f"; done

# /bin/sh is dash, as on the host, not busybox: Debian's busybox shell runs its own applets before anything in
# PATH, so system("ip netns ...") in a test would get busybox's ip, which lacks netns, instead of iproute2's.
# /sbin/modprobe (busybox) serves the kernel's module autoloading (request_module) unless a real one was copied.
if [ ! -e "$stage/usr/bin/sh" ]; then
  if [ -x /bin/dash ]; then
    copy_with_libs /bin/dash
    ln -s dash "$stage/usr/bin/sh"
  else
    ln -s /km/bin/busybox "$stage/usr/bin/sh"
  fi
fi
[ -e "$stage/usr/sbin/modprobe" ] || ln -s /km/bin/busybox "$stage/usr/sbin/modprobe"

# Modules: dependencies first, in the order modprobe itself would load them. modules.dep comes from the
# extracted package (depmod'ed by run-guest.sh when it cached the kernel).
mdir=/lib/modules/$kver
[ -f "$kroot$mdir/modules.dep" ] || depmod -b "$kroot" "$kver"
mkdir -p "$stage$mdir"
: >"$stage/km/modules.list"
for m in "${modules[@]}"; do
  deps=$(modprobe -d "$kroot" -S "$kver" --show-depends "$m") || {
    echo "build-initramfs.sh: module $m not in the $kver package" >&2
    exit 1
  }
  while read -r verb path _; do
    [ "$verb" = insmod ] || continue   # "builtin NAME": nothing to load
    rel=${path#"$kroot"}
    ko=${rel%.xz}; ko=${ko%.zst}; ko=${ko%.gz}
    grep -qxF "$ko" "$stage/km/modules.list" && continue
    mkdir -p "$(dirname "$stage$ko")"
    case "$path" in   # busybox insmod takes plain .ko only
      *.xz) xz -dc "$path" >"$stage$ko" ;;
      *.zst) zstd -qdc "$path" >"$stage$ko" ;;
      *.gz) gzip -dc "$path" >"$stage$ko" ;;
      *) cp "$path" "$stage$ko" ;;
    esac
    echo "$ko" >>"$stage/km/modules.list"
  done <<<"$deps"
done
for f in modules.builtin modules.builtin.modinfo modules.order; do
  [ -f "$kroot$mdir/$f" ] && cp "$kroot$mdir/$f" "$stage$mdir/"
done
# modules.dep for the copied subset, so busybox modprobe (and request_module) can load them in the guest too.
depmod -b "$stage" "$kver"

cat >"$stage/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/sh
EOF
cat >"$stage/etc/group" <<'EOF'
root:x:0:
nogroup:x:65534:
EOF
cat >"$stage/etc/hosts" <<'EOF'
127.0.0.1 localhost km-guest
::1 localhost ip6-localhost ip6-loopback
EOF
echo 'passwd: files
group: files
hosts: files
services: files
protocols: files' >"$stage/etc/nsswitch.conf"
for f in /etc/protocols /etc/services /etc/ld.so.cache; do
  [ -f "$f" ] && cp "$f" "$stage$f"
done

install -m 755 "$init" "$stage/init"
if [ -n "$plan" ]; then install -m 644 "$plan" "$stage/km/plan.sh"; fi

mkdir -p "$(dirname "$out")"
tmp_out="$out.tmp.$$"
trap 'rm -rf "$stage" "$tmp_out" "$tmp_out.raw"' EXIT
(cd "$stage" && find . -mindepth 1 | LC_ALL=C sort | cpio -o -H newc -R 0:0 --quiet) >"$tmp_out.raw"
if [ "$gzip" = 1 ]; then
  gzip -1 -c "$tmp_out.raw" >"$tmp_out"
  rm -f "$tmp_out.raw"
else
  mv "$tmp_out.raw" "$tmp_out"
fi
mv "$tmp_out" "$out"
echo "build-initramfs.sh: $out ($(du -h "$out" | cut -f1), $(wc -l <"$stage/km/modules.list") module(s), ${#files[@]} file(s) + libraries)"
