// SPDX-License-Identifier: Apache-2.0
#include "bpf/program_load.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include <algorithm>
#include <ctime>

namespace netmon::bpf {

uint64_t BoottimeNs() {
  timespec ts{};
  clock_gettime(CLOCK_BOOTTIME, &ts);
  return static_cast<uint64_t>(ts.tv_sec) * 1'000'000'000ull + static_cast<uint64_t>(ts.tv_nsec);
}

std::vector<ProgramLoad> DescribeLoads(const std::string& object, const struct bpf_object* obj,
                                       uint64_t started_boottime_ns) {
  struct Stamped {
    ProgramLoad load;
    uint64_t stamp = 0;
  };
  std::vector<Stamped> progs;
  struct bpf_program* prog;
  bpf_object__for_each_program(prog, obj) {
    const int fd = bpf_program__fd(prog);
    if (fd < 0) continue;  // not loaded (autoload off)
    bpf_prog_info info{};
    uint32_t len = sizeof(info);
    if (bpf_obj_get_info_by_fd(fd, &info, &len) != 0) continue;
    Stamped s;
    s.load.object = object;
    s.load.name = bpf_program__name(prog);
    s.load.verified_insns = info.verified_insns;
    s.stamp = info.load_time;
    progs.push_back(std::move(s));
  }
  std::sort(progs.begin(), progs.end(), [](const Stamped& a, const Stamped& b) { return a.stamp < b.stamp; });
  std::vector<ProgramLoad> out;
  uint64_t previous = started_boottime_ns;
  for (Stamped& s : progs) {
    s.load.load_ns = s.stamp > previous ? s.stamp - previous : 0;
    previous = std::max(previous, s.stamp);
    out.push_back(std::move(s.load));
  }
  return out;
}

}  // namespace netmon::bpf
