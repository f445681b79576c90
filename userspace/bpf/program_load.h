// SPDX-License-Identifier: Apache-2.0
// What loading each BPF program cost the kernel: verifier steps and time. Reported by GetStatus and the bench,
// so a program that grows heavy to verify (and so, usually, to run) shows up before it slows a start.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

struct bpf_object;

namespace netmon::bpf {

struct ProgramLoad {
  std::string object;           // "netmon_sock", "netmon_tc" ...
  std::string name;             // the program's name
  uint32_t verified_insns = 0;  // verifier steps (bpf_prog_info.verified_insns, v5.16+; 0 where not reported)
  uint64_t load_ns = 0;         // verification and JIT (see DescribeLoads)
};

// CLOCK_BOOTTIME in ns: the clock of bpf_prog_info.load_time.
uint64_t BoottimeNs();

// The programs `obj` loaded, in load order. libbpf loads them one after another inside one bpf_object__load,
// and the kernel stamps each when its load ends (bpf_prog_info.load_time), so a program's cost is its stamp
// minus the one before (`started_boottime_ns`, read just before the load, for the first): verification and JIT,
// plus libbpf's work between two loads. The first program of an object also carries the object's preparation
// (maps, BTF, relocations), so it reads high.
std::vector<ProgramLoad> DescribeLoads(const std::string& object, const struct bpf_object* obj,
                                       uint64_t started_boottime_ns);

}  // namespace netmon::bpf
