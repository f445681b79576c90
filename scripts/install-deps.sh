#!/usr/bin/env bash
# SPDX-License-Identifier: Apache-2.0
# Installs every build and test dependency of netmon from Debian 12 packages.
# Idempotent: packages already present are left alone by apt-get.
set -euo pipefail

if [ "$(id -u)" -ne 0 ]; then
  echo "install-deps.sh: must run as root (apt-get install)" >&2
  exit 1
fi

packages=(
  # build
  build-essential cmake pkg-config git
  clang llvm libelf-dev zlib1g-dev
  libbpf-dev libxdp-dev bpftool xdp-tools
  libgrpc++-dev libgrpc-dev protobuf-compiler protobuf-compiler-grpc libprotobuf-dev
  libssl-dev libabsl-dev nlohmann-json3-dev uuid-dev libclang-rt-14-dev
  googletest libgtest-dev libgmock-dev
  clang-format clang-tidy
  # test environment and traffic
  iproute2 dnsmasq-base dnsutils tcpdump iperf3 python3 python3-scapy openssl procps
  # kernel matrix (tests/kernel-matrix): boots Debian 12's 6.1 kernel under qemu with a busybox initramfs
  qemu-system-x86 busybox-static cpio xz-utils kmod
  # netmon-correlate: NATS C client, and a JetStream server for its tests
  libnats-dev nats-server
  # bench/: the bpftrace peer of the overhead benchmark, and the plot (iperf3 and tcpdump are listed above)
  bpftrace python3-matplotlib
)

export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends "${packages[@]}"
