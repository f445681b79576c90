// SPDX-License-Identifier: Apache-2.0
// How one hook of the socket or packet layer is served on this kernel: reported in logs and by GetStatus.
#pragma once

#include <string>

namespace netmon::bpf {

struct HookInfo {
  std::string name;       // "sock.connect", "sock.accept", "tc.ingress", "xdp.ingress" ...
  std::string rung;       // what serves it: "cgroup", "tp_btf", "raw_tp", "fentry", "kprobe", "tc", "xdp", "" = none
  bool active = false;    // attached right now
  bool degraded = false;  // a better rung exists but is unavailable here
  std::string detail;     // why degraded / what was tried, in words an operator can act on
};

}  // namespace netmon::bpf
