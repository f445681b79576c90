// SPDX-License-Identifier: Apache-2.0
#include "bpf/xdp_attachment.h"

#include <net/if.h>
#include <xdp/libxdp.h>

#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <mutex>
#include <optional>
#include <utility>

#include "bpf/live_objects.h"
#include "bpf/mounts.h"
#include "common/log.h"
#include "common/netns.h"
#include "common/status.h"

namespace netmon::bpf {
namespace {

int PrintToLog(enum libxdp_print_level level, const char* format, va_list args) {
  log::Level ours = level == LIBXDP_WARN ? log::Level::kWarn : log::Level::kDebug;
  if (!log::Enabled(ours)) return 0;
  char buf[1024];
  int n = vsnprintf(buf, sizeof(buf), format, args);
  log::Write(ours, "libxdp", buf);
  return n;
}

void RouteLibxdpLog() {
  static std::once_flag once;
  std::call_once(once, [] { libxdp_set_print(PrintToLog); });
}

// libxdp has error codes of its own beyond errno (LIBXDP_ERRNO__*); its strerror knows both.
absl::Status XdpError(const std::string& op, const std::string& object, int err) {
  if (err < 0) err = -err;
  char buf[256] = {};
  libxdp_strerror(-err, buf, sizeof(buf));
  absl::Status errno_status = ErrnoError(op, object, err);
  return absl::Status(errno_status.code(), StrCat(op, " ", object, ": ", buf, " (", err, ")"));
}

enum xdp_attach_mode LibxdpMode(XdpMode mode) {
  return mode == XdpMode::kNative ? XDP_MODE_NATIVE : XDP_MODE_SKB;
}

// Serialises our libxdp attach/detach calls: libxdp locks the dispatcher per interface in bpffs, but two of our
// own threads rebuilding one dispatcher would still retry against each other.
std::mutex g_xdp_mu;

}  // namespace

XdpProgram::XdpProgram(XdpProgram&& other) noexcept : prog_(std::exchange(other.prog_, nullptr)) {}

XdpProgram& XdpProgram::operator=(XdpProgram&& other) noexcept {
  if (this != &other) {
    Reset();
    prog_ = std::exchange(other.prog_, nullptr);
  }
  return *this;
}

absl::StatusOr<XdpProgram> XdpProgram::FromObject(struct bpf_object* obj, const std::string& prog_name) {
  RouteLibxdpLog();
  DECLARE_LIBXDP_OPTS(xdp_program_opts, opts, .obj = obj, .prog_name = prog_name.c_str());
  struct xdp_program* raw = xdp_program__create(&opts);
  long err = libxdp_get_error(raw);
  if (raw == nullptr || err != 0) {
    return XdpError("create libxdp program from", prog_name, err != 0 ? static_cast<int>(err) : EINVAL);
  }
  XdpProgram out;
  out.prog_ = raw;
  return out;
}

int XdpProgram::fd() const {
  return prog_ == nullptr ? -1 : xdp_program__fd(prog_);
}

unsigned int XdpProgram::run_prio() const {
  return prog_ == nullptr ? 0 : xdp_program__run_prio(prog_);
}

void XdpProgram::Reset() {
  if (prog_ == nullptr) return;
  // The bpf_object came from the caller (from_external_obj): libxdp leaves it to them.
  xdp_program__close(prog_);
  prog_ = nullptr;
}

const char* XdpModeName(XdpMode mode) {
  return mode == XdpMode::kNative ? "native" : "skb";
}

struct XdpAttachment::State {
  XdpTarget target;
  UniqueFd netns;
  struct xdp_program* prog = nullptr;  // owned by the XdpProgram, which outlives the attachment
  XdpMode mode = XdpMode::kNative;
  bool via_dispatcher = true;
  unsigned int prio = 0;
  std::string native_refusal;  // why native mode was not used, if it was not
};

XdpAttachment::XdpAttachment() = default;
XdpAttachment::~XdpAttachment() {
  Reset();
}

XdpAttachment::XdpAttachment(XdpAttachment&& other) noexcept : state_(std::move(other.state_)) {}

XdpAttachment& XdpAttachment::operator=(XdpAttachment&& other) noexcept {
  if (this != &other) {
    Reset();
    state_ = std::move(other.state_);
  }
  return *this;
}

absl::StatusOr<XdpAttachment> XdpAttachment::Attach(const XdpTarget& target, XdpProgram& prog) {
  RouteLibxdpLog();
  if (!prog) return absl::InvalidArgumentError("XdpAttachment::Attach: no program");
  NETMON_ASSIGN_OR_RETURN(MountResult bpffs, EnsureBpffs());
  if (bpffs.mounted_now) NETMON_LOG(kInfo, "xdp", "mounted bpffs at ", bpffs.path, " for libxdp's dispatcher");

  auto state = std::make_unique<State>();
  state->target = target;
  state->prog = prog.get();
  state->prio = prog.run_prio();
  NETMON_ASSIGN_OR_RETURN(state->netns,
                          OpenNetns(target.netns_fd >= 0 ? "/proc/self/fd/" + std::to_string(target.netns_fd)
                                                         : std::string("/proc/thread-self/ns/net")));
  NetnsGuard in_ns(state->netns.get());
  if (!in_ns.ok()) return in_ns.status();
  int ifindex = target.ifindex;
  if (ifindex == 0) {
    ifindex = static_cast<int>(if_nametoindex(target.ifname.c_str()));
    if (ifindex == 0) return ErrnoError("find interface", target.ifname, errno);
  }
  state->target.ifindex = ifindex;

  std::lock_guard<std::mutex> lock(g_xdp_mu);
  // A dispatcher already on the interface fixes the mode: libxdp cannot run two modes side by side.
  std::optional<XdpMode> existing;
  struct xdp_multiprog* mp = xdp_multiprog__get_from_ifindex(ifindex);
  if (mp != nullptr && libxdp_get_error(mp) == 0) {
    enum xdp_attach_mode m = xdp_multiprog__attach_mode(mp);
    if (m == XDP_MODE_SKB) existing = XdpMode::kSkb;
    if (m == XDP_MODE_NATIVE) existing = XdpMode::kNative;
    // A program attached without libxdp's dispatcher cannot be shared; replacing it would silently disable
    // someone else's XDP (a firewall, a load balancer): refuse instead.
    struct xdp_program* main = xdp_multiprog__is_legacy(mp) ? xdp_multiprog__main_prog(mp) : nullptr;
    std::string foreign = main != nullptr ? xdp_program__name(main) : "";
    xdp_multiprog__close(mp);
    if (!foreign.empty()) {
      return absl::FailedPreconditionError(
          StrCat("interface ", target.ifname, " already runs XDP program '", foreign,
                 "' outside libxdp's dispatcher; netmon will not replace it. Use TC ingress for this interface, or "
                 "load the other program through libxdp so both can share it"));
    }
  }

  int err = 0;
  if (existing) {
    state->mode = *existing;
    err = xdp_program__attach(prog.get(), ifindex, LibxdpMode(*existing), 0);
    if (err != 0) {
      return XdpError(StrCat("attach XDP program (", XdpModeName(*existing), " mode, as the XDP already there) to"),
                      target.ifname, err);
    }
  } else {
    err = xdp_program__attach(prog.get(), ifindex, XDP_MODE_NATIVE, 0);
    if (err == 0) {
      state->mode = XdpMode::kNative;
    } else {
      char buf[256] = {};
      libxdp_strerror(err, buf, sizeof(buf));
      state->native_refusal = buf;
      NETMON_LOG(kInfo, "xdp", "native XDP refused on ", target.ifname, " (", buf, "); trying skb mode");
      int err_skb = xdp_program__attach(prog.get(), ifindex, XDP_MODE_SKB, 0);
      if (err_skb != 0) {
        return XdpError(StrCat("attach XDP program (native mode: ", buf, "; skb mode) to"), target.ifname, err_skb);
      }
      state->mode = XdpMode::kSkb;
    }
  }
  mp = xdp_multiprog__get_from_ifindex(ifindex);
  if (mp != nullptr && libxdp_get_error(mp) == 0) {
    state->via_dispatcher = !xdp_multiprog__is_legacy(mp);
    xdp_multiprog__close(mp);
  }
  CountCreated(ObjectKind::kXdp);
  XdpAttachment out;
  out.state_ = std::move(state);
  NETMON_LOG(kInfo, "xdp", "attached ", xdp_program__name(prog.get()), " to ", target.ifname, ": ", out.Describe());
  return out;
}

XdpMode XdpAttachment::mode() const {
  return state_ ? state_->mode : XdpMode::kNative;
}

bool XdpAttachment::via_dispatcher() const {
  return state_ && state_->via_dispatcher;
}

std::string XdpAttachment::Describe() const {
  if (!state_) return "not attached";
  std::string out = StrCat(XdpModeName(state_->mode), " mode, ");
  out += state_->via_dispatcher
             ? StrCat("libxdp dispatcher (priority ", state_->prio, ")")
             : std::string(
                   "attached alone, without libxdp's dispatcher (the kernel refuses the freplace programs it "
                   "needs, or LIBXDP_SKIP_DISPATCHER is set): no other XDP program can share this interface "
                   "meanwhile");
  if (!state_->native_refusal.empty()) out += StrCat("; native refused: ", state_->native_refusal);
  return out;
}

void XdpAttachment::Reset() {
  if (!state_) return;
  std::unique_ptr<State> state = std::move(state_);
  CountDestroyed(ObjectKind::kXdp);
  NetnsGuard in_ns(state->netns.get());
  if (!in_ns.ok()) {
    NETMON_LOG(kError, "xdp", "cannot enter namespace to detach from ", state->target.ifname, ": ",
               in_ns.status().message());
    return;
  }
  std::lock_guard<std::mutex> lock(g_xdp_mu);
  int err = xdp_program__detach(state->prog, state->target.ifindex, LibxdpMode(state->mode), 0);
  // ENOENT/ENODEV: the interface (or its namespace) went away, and our program with it.
  if (err != 0 && err != -ENOENT && err != -ENODEV) {
    char buf[256] = {};
    libxdp_strerror(err, buf, sizeof(buf));
    NETMON_LOG(kWarn, "xdp", "detach from ", state->target.ifname, " failed: ", buf);
  }
}

int SweepStaleXdp() {
  RouteLibxdpLog();
  int removed = 0;
  struct if_nameindex* ifs = if_nameindex();
  if (ifs == nullptr) return 0;
  std::lock_guard<std::mutex> lock(g_xdp_mu);
  for (struct if_nameindex* i = ifs; i->if_index != 0; ++i) {
    const int ifindex = static_cast<int>(i->if_index);
    struct xdp_multiprog* mp = xdp_multiprog__get_from_ifindex(ifindex);
    if (mp == nullptr || libxdp_get_error(mp) != 0) continue;
    enum xdp_attach_mode mode = xdp_multiprog__attach_mode(mp);
    if (xdp_multiprog__is_legacy(mp)) {
      struct xdp_program* main = xdp_multiprog__main_prog(mp);
      if (main != nullptr && std::string(xdp_program__name(main)).rfind("netmon_", 0) == 0 &&
          xdp_multiprog__detach(mp) == 0) {
        ++removed;
        NETMON_LOG(kWarn, "xdp", "removed stale XDP program ", xdp_program__name(main), " from ", i->if_name);
      }
      xdp_multiprog__close(mp);
      continue;
    }
    for (struct xdp_program* p = xdp_multiprog__next_prog(nullptr, mp); p != nullptr;
         p = xdp_multiprog__next_prog(p, mp)) {
      std::string name = xdp_program__name(p);
      if (name.rfind("netmon_", 0) != 0) continue;
      if (xdp_program__detach(p, ifindex, mode, 0) == 0) {
        ++removed;
        NETMON_LOG(kWarn, "xdp", "removed stale XDP program ", name, " from ", i->if_name, "'s dispatcher");
      }
    }
    xdp_multiprog__close(mp);
  }
  if_freenameindex(ifs);
  return removed;
}

}  // namespace netmon::bpf
