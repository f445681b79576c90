// SPDX-License-Identifier: Apache-2.0
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace netmon::bpf {

// Routes libbpf's print callback through the project's logger (warnings as warn, info as debug, debug as debug
// only when the level is debug), whole: a verifier log of any length reaches the log in one piece. Idempotent.
void RouteLibbpfLog();

// A program the kernel refused while an object loaded, with the verifier's own words.
struct ProgramRefusal {
  std::string program;  // BPF program name
  std::string reason;   // the verifier's verdict line ("R1 type=untrusted_ptr_sock expected=..."), or libbpf's error
  std::string log;      // the whole verifier log, as libbpf retrieved it (it grows its buffer until the log fits)
};

// The refusals libbpf reported on this thread since the last call (needs RouteLibbpfLog). Loaders call it before
// and after bpf_object__load to learn which program failed and why, without loading programs one by one.
std::vector<ProgramRefusal> TakeProgramRefusals();

// The verdict line of a verifier log: its last line that is not a statistic ("processed N insns ...").
std::string VerifierVerdict(std::string_view log);

}  // namespace netmon::bpf
