// SPDX-License-Identifier: Apache-2.0
// Dropping every capability the server does not need (docs/architecture.md §5). Capabilities are per thread, so this must
// run before any other thread exists (gRPC starts its threads lazily; the engine thread starts later): every
// thread created afterwards inherits the reduced sets.
#pragma once

#include <string>
#include <vector>

#include "absl/status/status.h"

namespace netmon::server {

// Keeps only `keep` (CAP_* numbers) in the effective, permitted and bounding sets, clears the inheritable and
// ambient sets, and sets no_new_privs. Capabilities the process does not have are ignored.
absl::Status KeepOnlyCapabilities(const std::vector<int>& keep);

// The capabilities the running server keeps: CAP_BPF and CAP_PERFMON (load, attach, read maps), CAP_NET_ADMIN
// (TC/XDP, cgroup socket hooks), CAP_SYS_ADMIN (the layers setns() into each interface's namespace at attach, the
// host's included: measured on 6.18, without it the first capture fails with EPERM from setns; also BPF object ids
// and iterators, and kernels before 5.8 need it for all of BPF), CAP_SYS_PTRACE and CAP_DAC_READ_SEARCH (reading
// /proc/PID/fd to attribute sockets that predate a capture), CAP_SYS_RESOURCE (memlock on kernels that still charge BPF
// maps to it), and CAP_NET_BIND_SERVICE only when listening on a port below 1024.
std::vector<int> ServerCapabilities(bool bind_privileged_port);

// "cap_bpf,cap_net_admin,..." of the calling thread's effective set (logs and tests).
std::string EffectiveCapabilities();

}  // namespace netmon::server
