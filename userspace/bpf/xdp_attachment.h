// SPDX-License-Identifier: Apache-2.0
// XDP through libxdp's multi-program dispatcher, so netmon's program coexists with other XDP programs on the
// same interface (docs/architecture.md §3).
//
// How the program gets loaded: the dispatcher calls its component programs as freplace (BPF_PROG_TYPE_EXT)
// extensions, so a component can only be loaded once the dispatcher it attaches to exists, and libxdp does that
// load itself. The caller therefore opens the BPF object (skeleton open), configures it (rodata, map sizes,
// bpf_map__reuse_fd for shared maps) and hands the *unloaded* object to XdpProgram; the first
// XdpAttachment::Attach loads it as an extension of that interface's dispatcher, and later attachments (other
// interfaces, or after a detach) re-attach the same loaded program to their dispatcher (kernel >= 5.10). The
// maps reused before that first load are the ones the program uses.
#pragma once

#include <bpf/libbpf.h>

#include <memory>
#include <string>

#include "absl/status/statusor.h"

struct xdp_program;

namespace netmon::bpf {

// Move-only owner of a libxdp xdp_program made from one program of an opened (not loaded) bpf_object. The
// object stays owned by the caller and must outlive this.
class XdpProgram {
 public:
  XdpProgram() = default;
  ~XdpProgram() { Reset(); }
  XdpProgram(XdpProgram&& other) noexcept;
  XdpProgram& operator=(XdpProgram&& other) noexcept;
  XdpProgram(const XdpProgram&) = delete;
  XdpProgram& operator=(const XdpProgram&) = delete;

  static absl::StatusOr<XdpProgram> FromObject(struct bpf_object* obj, const std::string& prog_name);

  struct xdp_program* get() const {
    return prog_;
  }
  // The loaded program's fd (-1 until the first attach has loaded it).
  int fd() const;
  unsigned int run_prio() const;
  explicit operator bool() const { return prog_ != nullptr; }
  void Reset();

 private:
  struct xdp_program* prog_ = nullptr;
};

enum class XdpMode { kNative, kSkb };
const char* XdpModeName(XdpMode mode);

struct XdpTarget {
  std::string ifname;
  int ifindex = 0;    // 0 = look ifname up inside the namespace
  int netns_fd = -1;  // nsfs fd of the interface's namespace; -1 = the caller's current namespace
};

// Move-only owner of one program's place in one interface's dispatcher. Destroying it removes our program
// only; libxdp rebuilds the dispatcher for the programs that remain, or removes it if none do.
class XdpAttachment {
 public:
  // Out of line: State is complete only in the .cc, and unique_ptr<State> needs it wherever these are emitted.
  XdpAttachment();
  ~XdpAttachment();
  XdpAttachment(XdpAttachment&& other) noexcept;
  XdpAttachment& operator=(XdpAttachment&& other) noexcept;
  XdpAttachment(const XdpAttachment&) = delete;
  XdpAttachment& operator=(const XdpAttachment&) = delete;

  // Mounts bpffs if needed (libxdp pins dispatchers there). Mode: the mode of a dispatcher already on the
  // interface (libxdp cannot mix modes); otherwise native, falling back to skb (generic) mode if the driver
  // refuses native XDP.
  static absl::StatusOr<XdpAttachment> Attach(const XdpTarget& target, XdpProgram& prog);

  bool attached() const { return state_ != nullptr; }
  XdpMode mode() const;
  // True if our program runs in libxdp's dispatcher; false if libxdp fell back to attaching it alone.
  bool via_dispatcher() const;
  // One line for logs and HookInfo: "native mode, libxdp dispatcher (priority 10)" ...
  std::string Describe() const;
  void Reset();

 private:
  struct State;
  std::unique_ptr<State> state_;
};

// Removes every XDP program named netmon_* from the interfaces of the current network namespace: our
// programs in libxdp dispatchers and a lone netmon_* program attached without one (leftovers of a crashed
// run; libxdp's pinned links keep them attached after the process is gone). Returns how many were removed.
int SweepStaleXdp();

}  // namespace netmon::bpf
