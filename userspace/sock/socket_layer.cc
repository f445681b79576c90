// SPDX-License-Identifier: Apache-2.0
#include "sock/socket_layer.h"

#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <map>
#include <set>
#include <utility>

#include "bpf/abi_check.h"
#include "bpf/libbpf_log.h"
#include "bpf/link.h"
#include "bpf/program_load.h"
#include "bpf/ring_buffer.h"
#include "bpf/skeleton.h"
#include "common/log.h"
#include "common/status.h"
#include "common/str_cat.h"
#include "common/unique_fd.h"
#include "netmon/sock_logic.h"
#include "netmon_sock.skel.h"
#include "netmon_sock_fentry.skel.h"
#include "netmon_sock_iter.skel.h"
#include "netmon_sock_kprobe.skel.h"
#include "sock/addr.h"
#include "sock/map_iter.h"
#include "sock/probe.h"
#include "sock/seed_diag.h"

namespace netmon::sock {
namespace {

using MainSkel = NETMON_SKELETON(netmon_sock);
using IterSkel = NETMON_SKELETON(netmon_sock_iter);
using FentrySkel = NETMON_SKELETON(netmon_sock_fentry);
using KprobeSkel = NETMON_SKELETON(netmon_sock_kprobe);

// The socket layer's own maps, created with the main object and handed to the fallback objects.
constexpr const char* kSockMaps[] = {NETMON_MAP_SOCK_EVENTS, NETMON_MAP_SK_STATE, NETMON_MAP_SOCK_CTR,
                                     "netmon_last_own"};

// Ring buffers must be a power-of-two multiple of the page size.
uint32_t RingBytes(uint32_t wanted) {
  uint32_t page = static_cast<uint32_t>(sysconf(_SC_PAGESIZE));
  uint32_t size = page;
  while (size < wanted && size < (1u << 30)) size <<= 1;
  return size;
}

void SetAutoload(struct bpf_object* obj, const std::set<std::string>& want) {
  struct bpf_program* prog;
  bpf_object__for_each_program(prog, obj) {
    bpf_program__set_autoload(prog, want.count(bpf_program__name(prog)) != 0);
  }
}

}  // namespace

struct SocketLayer::Impl {
  const bpf::SharedMaps* shared = nullptr;
  SocketLayerConfig cfg;
  Features features;
  std::vector<HookChoice> choices;
  std::set<std::string> skip_programs;  // chosen but absent on this host (sys_exit_accept on arm64 ...)
  MainSkel main;
  IterSkel iter;
  FentrySkel fentry;
  KprobeSkel kprobe;
  std::map<ObjectId, std::set<std::string>> loaded_with;    // the programs each loaded object was loaded with
  bool main_io_fast = false;                                // the main object was loaded with the fast path on
  std::map<ObjectId, std::vector<bpf::ProgramLoad>> loads;  // what each loaded object's programs cost to load
  UniqueFd cgroup_fd;
  std::vector<bpf::Link> links;
  bpf::RingBuffer ring;
  std::unique_ptr<proc::ProcessCache> procs;
  const std::function<void(const netmon_sock_event&)>* poll_cb = nullptr;
  std::atomic<uint64_t> owners_deleted{0}, tuples_deleted{0}, records_read{0}, records_malformed{0};
  std::atomic<uint64_t> owners_live{0}, owners_evicted{0};

  struct bpf_object* Object(ObjectId id) const {
    switch (id) {
      case ObjectId::kMain: return main ? main->obj : nullptr;
      case ObjectId::kIter: return iter ? iter->obj : nullptr;
      case ObjectId::kFentry: return fentry ? fentry->obj : nullptr;
      case ObjectId::kKprobe: return kprobe ? kprobe->obj : nullptr;
      case ObjectId::kUserspace: return nullptr;
    }
    return nullptr;
  }

  const RungSpec* Chosen(const std::string& hook) const {
    const auto& table = HookTable();
    for (size_t i = 0; i < table.size(); ++i) {
      if (table[i].hook == hook && choices[i].rung >= 0) return &table[i].rungs[static_cast<size_t>(choices[i].rung)];
    }
    return nullptr;
  }

  std::set<std::string> Wanted(ObjectId id) const {
    std::set<std::string> out;
    const auto& table = HookTable();
    for (size_t i = 0; i < table.size(); ++i) {
      if (choices[i].rung < 0) continue;
      const RungSpec& r = table[i].rungs[static_cast<size_t>(choices[i].rung)];
      if (r.object != id) continue;
      for (const auto& p : r.programs) {
        if (skip_programs.count(p) == 0) out.insert(p);
      }
    }
    return out;
  }

  absl::Status LoadMain(MainSkel* skel, const std::set<std::string>& want) const {
    NETMON_ASSIGN_OR_RETURN(*skel, MainSkel::Open("netmon_sock"));
    SetAutoload((*skel)->obj, want);
    if (int err = bpf_map__set_max_entries((*skel)->maps.netmon_sock_ev, RingBytes(cfg.ringbuf_bytes)); err != 0) {
      return ErrnoError("size ring buffer", NETMON_MAP_SOCK_EVENTS, err);
    }
    NETMON_RETURN_IF_ERROR(shared->ReuseIn((*skel)->obj));
    (*skel)->rodata->netmon_io_fast = IoFastWanted() ? 1 : 0;
    if (cfg.before_load) cfg.before_load("netmon_sock", (*skel)->obj);
    return skel->Load();
  }

  // The UDP send/receive fast path counts payload in socket-local storage, which only the main object's full
  // cgroup/sock_release reads back (bpf/sock/netmon_sock.bpf.c): on with that rung, off with any other.
  bool IoFastWanted() const {
    const RungSpec* release = Chosen("sock.release");
    return release != nullptr && release->kind == RungKind::kCgroup && !cfg.disable_io_fast_path;
  }

  template <typename Skel>
  absl::Status LoadFallback(Skel* skel, const char* name, const std::set<std::string>& want) const {
    NETMON_ASSIGN_OR_RETURN(*skel, Skel::Open(name));
    SetAutoload((*skel)->obj, want);
    NETMON_RETURN_IF_ERROR(shared->ReuseIn((*skel)->obj));
    for (const char* map_name : kSockMaps) {
      struct bpf_map* ours = bpf_object__find_map_by_name((*skel)->obj, map_name);
      struct bpf_map* theirs = bpf_object__find_map_by_name(main->obj, map_name);
      if (ours == nullptr || theirs == nullptr) continue;
      if (int err = bpf_map__reuse_fd(ours, bpf_map__fd(theirs)); err != 0) {
        return ErrnoError("share map", StrCat(map_name, " with ", name), err);
      }
    }
    if (cfg.before_load) cfg.before_load(name, (*skel)->obj);
    return skel->Load();
  }

  static const char* ObjectName(ObjectId id) {
    switch (id) {
      case ObjectId::kMain: return "netmon_sock";
      case ObjectId::kIter: return "netmon_sock_iter";
      case ObjectId::kFentry: return "netmon_sock_fentry";
      case ObjectId::kKprobe: return "netmon_sock_kprobe";
      case ObjectId::kUserspace: break;
    }
    return "";
  }

  // Loads one object with `want`; the main object first, the others sharing its maps.
  absl::Status LoadObject(ObjectId id, const std::set<std::string>& want) {
    switch (id) {
      case ObjectId::kMain: return LoadMain(&main, want);
      case ObjectId::kIter: return LoadFallback(&iter, ObjectName(id), want);
      case ObjectId::kFentry: return LoadFallback(&fentry, ObjectName(id), want);
      case ObjectId::kKprobe: return LoadFallback(&kprobe, ObjectName(id), want);
      case ObjectId::kUserspace: break;
    }
    return absl::OkStatus();
  }

  void ResetObject(ObjectId id) {
    switch (id) {
      case ObjectId::kMain: main.Reset(); break;
      case ObjectId::kIter: iter.Reset(); break;
      case ObjectId::kFentry: fentry.Reset(); break;
      case ObjectId::kKprobe: kprobe.Reset(); break;
      case ObjectId::kUserspace: break;
    }
    loaded_with.erase(id);
    loads.erase(id);
  }

  // Probe -> choose -> load, re-choosing when the kernel refuses a chosen program. Each object is loaded (and each
  // program verified) once: libbpf names the refused program and the verifier's verdict (bpf/libbpf_log.h), so
  // nothing is loaded twice to find the culprit, and an object whose wanted programs did not change is kept. The
  // optional rungs (iterator, fentry, kprobe) live in objects of their own, so their refusal never reloads the main
  // one. Each round refuses at least one rung, so the loop ends.
  absl::Status ProbeAndLoad() {
    features = ProbeFeatures(cfg.cgroup_path);
    std::map<std::pair<std::string, size_t>, std::string> refused;
    auto unavailable = [&](const HookSpec& h, const RungSpec& r) -> std::optional<std::string> {
      if (auto why = StaticUnavailable(features, cfg.disabled_rungs, h, r)) return why;
      auto it = refused.find({h.hook, static_cast<size_t>(&r - h.rungs.data())});
      if (it != refused.end()) return it->second;
      return std::nullopt;
    };
    // Marks the rungs of `obj` that use `prog` (every rung of `obj` if `prog` is empty) as unavailable.
    auto refuse = [&](ObjectId obj, const std::string& prog, const std::string& why) {
      for (const HookSpec& h : HookTable()) {
        for (size_t i = 0; i < h.rungs.size(); ++i) {
          const RungSpec& r = h.rungs[i];
          if (r.object != obj) continue;
          for (const auto& p : r.programs) {
            if (prog.empty() || p == prog) refused[{h.hook, i}] = why;
          }
        }
      }
    };
    constexpr ObjectId kObjects[] = {ObjectId::kMain, ObjectId::kIter, ObjectId::kFentry, ObjectId::kKprobe};
    for (size_t round = 0; round < 4 * HookTable().size(); ++round) {
      choices = ChooseRungs(HookTable(), unavailable);
      skip_programs.clear();
      if (const RungSpec* accept = Chosen("sock.accept"); accept && accept->kind == RungKind::kTracepoint) {
        // arm64 and other newer ABIs have accept4 only.
        if (access("/sys/kernel/tracing/events/syscalls/sys_exit_accept/id", R_OK) != 0) {
          skip_programs.insert("netmon_accept_exit");
        }
      }
      bool rechoose = false;
      for (ObjectId id : kObjects) {
        const std::set<std::string> want = Wanted(id);
        auto loaded = loaded_with.find(id);
        if (loaded != loaded_with.end() && loaded->second == want &&
            (id != ObjectId::kMain || main_io_fast == IoFastWanted())) {
          continue;
        }
        ResetObject(id);
        if (id == ObjectId::kMain) {
          // The others hold the main object's maps: they follow it.
          for (ObjectId other : kObjects) {
            if (other != ObjectId::kMain) ResetObject(other);
          }
        }
        if (want.empty() && id != ObjectId::kMain) continue;
        bpf::TakeProgramRefusals();
        const uint64_t started = bpf::BoottimeNs();
        absl::Status st = LoadObject(id, want);
        std::vector<bpf::ProgramRefusal> refusals = bpf::TakeProgramRefusals();
        if (st.ok()) {
          loaded_with[id] = want;
          if (id == ObjectId::kMain) main_io_fast = IoFastWanted();
          const struct bpf_object* obj = Object(id);
          loads[id] = bpf::DescribeLoads(ObjectName(id), obj, started);
          continue;
        }
        ResetObject(id);
        if (refusals.empty()) {
          // Not a program's fault (maps, memory ...): fatal for the main object, the rungs' loss otherwise.
          if (id == ObjectId::kMain) return st;
          refuse(id, "", StrCat("load failed: ", st.message()));
        }
        for (const bpf::ProgramRefusal& r : refusals) {
          NETMON_LOG(kWarn, "sock", "the kernel refused ", r.program, ": ", r.reason);
          refuse(id, r.program, StrCat("load failed: ", r.program, ": ", r.reason));
        }
        rechoose = true;
        break;
      }
      if (!rechoose) return absl::OkStatus();
    }
    return absl::InternalError("socket layer: no loadable set of hooks found");
  }

  static int OnRecord(void* ctx, void* data, size_t size) {
    auto* self = static_cast<Impl*>(ctx);
    if (size < sizeof(netmon_sock_event)) {
      self->records_malformed.fetch_add(1, std::memory_order_relaxed);
      return 0;
    }
    netmon_sock_event e;
    memcpy(&e, data, sizeof(e));
    self->records_read.fetch_add(1, std::memory_order_relaxed);
    if (e.owner.tgid != 0) {
      std::string_view comm(e.owner.comm, strnlen(e.owner.comm, sizeof(e.owner.comm)));
      self->procs->Note(e.owner.tgid, e.owner.start_time_ns, comm);
    }
    if (self->poll_cb != nullptr && *self->poll_cb) (*self->poll_cb)(e);
    return 0;
  }
};

SocketLayer::SocketLayer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}

SocketLayer::~SocketLayer() {
  Detach();
}

absl::StatusOr<std::unique_ptr<SocketLayer>> SocketLayer::Create(const bpf::SharedMaps& shared,
                                                                 const SocketLayerConfig& cfg) {
  bpf::RouteLibbpfLog();
  auto impl = std::make_unique<Impl>();
  impl->shared = &shared;
  impl->cfg = cfg;
  impl->procs = std::make_unique<proc::ProcessCache>(cfg.process_cache_entries);
  NETMON_RETURN_IF_ERROR(impl->ProbeAndLoad());
  if (!impl->features.cgroup_path.empty()) {
    impl->cgroup_fd.Reset(open(impl->features.cgroup_path.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (!impl->cgroup_fd.valid()) return ErrnoError("open cgroup", impl->features.cgroup_path, errno);
  }
  struct ring_buffer* rb =
      ring_buffer__new(bpf_map__fd(impl->main->maps.netmon_sock_ev), &Impl::OnRecord, impl.get(), nullptr);
  if (rb == nullptr) return ErrnoError("open ring buffer", NETMON_MAP_SOCK_EVENTS, errno);
  impl->ring.reset(rb);
  std::unique_ptr<SocketLayer> layer(new SocketLayer(std::move(impl)));
  for (const bpf::HookInfo& h : layer->Hooks()) {
    if (h.rung.empty()) {
      NETMON_LOG(kWarn, "sock", h.name, ": no usable hook (", h.detail, ")");
    } else {
      const std::string line = StrCat(h.name, " -> ", h.rung, h.degraded ? " (degraded)" : "", ": ", h.detail);
      if (h.degraded) {
        NETMON_LOG(kWarn, "sock", line);
      } else {
        NETMON_LOG(kInfo, "sock", line);
      }
    }
  }
  return layer;
}

absl::Status SocketLayer::Attach() {
  if (attached()) return absl::OkStatus();
  const auto& table = HookTable();
  std::vector<bpf::Link> links;
  for (size_t i = 0; i < table.size(); ++i) {
    if (impl_->choices[i].rung < 0) continue;
    const RungSpec& r = table[i].rungs[static_cast<size_t>(impl_->choices[i].rung)];
    if (r.kind == RungKind::kIter || r.object == ObjectId::kUserspace) continue;
    struct bpf_object* obj = impl_->Object(r.object);
    for (const std::string& name : r.programs) {
      if (impl_->skip_programs.count(name) != 0) continue;
      struct bpf_program* prog = obj ? bpf_object__find_program_by_name(obj, name.c_str()) : nullptr;
      if (prog == nullptr) return absl::InternalError(StrCat("program ", name, " is not loaded"));
      const bool cgroup = r.kind == RungKind::kCgroup || r.kind == RungKind::kCgroupNoTask;
      struct bpf_link* raw =
          cgroup ? bpf_program__attach_cgroup(prog, impl_->cgroup_fd.get()) : bpf_program__attach(prog);
      const std::string what = cgroup ? StrCat(name, " to ", impl_->features.cgroup_path)
                                      : StrCat(name, " (", table[i].hook, ", ", RungName(r.kind), ")");
      NETMON_ASSIGN_OR_RETURN(bpf::Link link, bpf::Link::Adopt(raw, what));  // `links` detaches on return
      links.push_back(std::move(link));
    }
  }
  impl_->links = std::move(links);
  NETMON_LOG(kInfo, "sock", "attached ", impl_->links.size(), " socket-layer programs");
  return absl::OkStatus();
}

void SocketLayer::Detach() {
  if (!impl_ || impl_->links.empty()) return;
  size_t n = impl_->links.size();
  impl_->links.clear();
  NETMON_LOG(kInfo, "sock", "detached ", n, " socket-layer programs");
}

bool SocketLayer::attached() const {
  return !impl_->links.empty();
}

absl::Status SocketLayer::RunSeedIterator() {
  NETMON_ASSIGN_OR_RETURN(
      bpf::Link link,
      bpf::Link::Adopt(bpf_program__attach_iter(impl_->iter->progs.netmon_seed, nullptr), "netmon_seed iterator"));
  UniqueFd iter(bpf_iter_create(bpf_link__fd(link.get())));
  if (!iter.valid()) return ErrnoError("create iterator", "netmon_seed", errno);
  char buf[256];
  ssize_t n;
  // The program writes nothing; reading to the end runs it over every task's files.
  while ((n = read(iter.get(), buf, sizeof(buf))) > 0) {
  }
  if (n < 0) return ErrnoError("run iterator", "netmon_seed", errno);
  return absl::OkStatus();
}

absl::Status SocketLayer::SeedExistingSockets() {
  const RungSpec* rung = impl_->Chosen("sock.existing");
  if (rung == nullptr) return absl::UnimplementedError("no way to walk existing sockets on this host");
  if (rung->kind == RungKind::kIter) {
    NETMON_RETURN_IF_ERROR(RunSeedIterator());
    // Sockets the kernel had given no cookie: the iterator could not make one (bpf/sock/netmon_sock_iter.bpf.c).
    // Have sock_diag assign them in the namespaces it named, then walk again (owners already written stay).
    const int ns_fd = bpf_map__fd(impl_->iter->maps.netmon_seed_ns);
    std::map<uint32_t, uint32_t> netns_tgid;
    ForEachEntry<uint32_t, uint32_t>(ns_fd, [&](const uint32_t& ns, const uint32_t& tgid) { netns_tgid[ns] = tgid; });
    if (!netns_tgid.empty()) {
      NETMON_ASSIGN_OR_RETURN(uint64_t reported, AssignCookies(netns_tgid));
      for (const auto& [ns, tgid] : netns_tgid) bpf_map_delete_elem(ns_fd, &ns);
      NETMON_LOG(kInfo, "sock", "sockets without a cookie in ", netns_tgid.size(),
                 " network namespaces: cookies assigned through sock_diag (", reported, " sockets), walking again");
      NETMON_RETURN_IF_ERROR(RunSeedIterator());
    }
    SockStats s = Stats();
    NETMON_LOG(kInfo, "sock",
               "seeded existing sockets with the task_file iterator: ", s.kernel[NETMON_SCTR_SEEDED_OWNERS],
               " owners, ", s.kernel[NETMON_SCTR_SEEDED_TUPLES], " tuples so far");
  } else {
    NETMON_RETURN_IF_ERROR(SeedFromSockDiag(*impl_->shared, impl_->features.cgroup_path).status());
  }
  // Name the processes now, while they live: reading /proc when their events arrive may be too late.
  ForEachEntry<uint64_t, netmon_owner>(impl_->shared->owners_fd(), [&](const uint64_t&, const netmon_owner& o) {
    if (o.source == NETMON_SRC_EXISTING && o.tgid != 0) {
      impl_->procs->Note(o.tgid, o.start_time_ns, std::string_view(o.comm, strnlen(o.comm, sizeof(o.comm))));
    }
  });
  return absl::OkStatus();
}

int SocketLayer::PollEvents(int timeout_ms, const std::function<void(const netmon_sock_event&)>& cb) {
  impl_->poll_cb = &cb;
  int n = bpf::PollThenDrain(impl_->ring.get(), timeout_ms);
  impl_->poll_cb = nullptr;
  return n;
}

int SocketLayer::events_map_fd() const {
  return bpf_map__fd(impl_->main->maps.netmon_sock_ev);
}

void SocketLayer::SweepReleased(uint64_t now_monotonic_ns) {
  const int state_fd = bpf_map__fd(impl_->main->maps.netmon_sk_state);
  std::set<uint64_t> doomed;
  uint64_t live = 0;
  // Read before the scan: owners inserted while it runs then count as live but not as added, so the eviction
  // estimate below errs low under churn, never high.
  auto counters = impl_->shared->ReadCounters();
  ForEachEntry<uint64_t, netmon_owner>(impl_->shared->owners_fd(), [&](const uint64_t& cookie, const netmon_owner& o) {
    ++live;
    if (o.released_ns == 0 || now_monotonic_ns < o.released_ns + impl_->cfg.release_grace_ns) return;
    if (o.proto == IPPROTO_TCP && now_monotonic_ns < o.released_ns + impl_->cfg.tcp_linger_ns) {
      // Released by the process but still closing: netmon_sk_state lives until the CLOSE record went out.
      netmon_sock_state st{};
      if (bpf_map_lookup_elem(state_fd, &cookie, &st) == 0 && !(st.flags & NETMON_SKS_CLOSED)) return;
    }
    doomed.insert(cookie);
  });
  // Evictions: what was inserted and is neither deleted by us nor still there. Owners userspace wrote (sock_diag
  // seeding) are not in OWNERS_ADDED, so the estimate errs low, never high.
  if (counters.ok()) {
    const uint64_t added = (*counters)[NETMON_CTR_OWNERS_ADDED];
    const uint64_t gone = impl_->owners_deleted.load() + live;
    impl_->owners_evicted.store(added > gone ? added - gone : 0);
  }
  impl_->owners_live.store(live - doomed.size());
  if (doomed.empty()) return;
  std::vector<netmon_tuple> tuples;
  ForEachEntry<netmon_tuple, netmon_tuple_owner>(impl_->shared->tuples_fd(),
                                                 [&](const netmon_tuple& t, const netmon_tuple_owner& v) {
                                                   if (doomed.count(v.cookie) != 0) tuples.push_back(t);
                                                 });
  for (const netmon_tuple& t : tuples) {
    if (impl_->shared->DeleteTuple(t).ok()) impl_->tuples_deleted.fetch_add(1, std::memory_order_relaxed);
  }
  for (uint64_t cookie : doomed) {
    bpf_map_delete_elem(state_fd, &cookie);
    if (impl_->shared->DeleteOwner(cookie).ok()) impl_->owners_deleted.fetch_add(1, std::memory_order_relaxed);
  }
}

std::vector<bpf::ProgramLoad> SocketLayer::ProgramLoads() const {
  std::vector<bpf::ProgramLoad> out;
  for (const auto& [id, loads] : impl_->loads) out.insert(out.end(), loads.begin(), loads.end());
  return out;
}

std::vector<bpf::HookInfo> SocketLayer::Hooks() const {
  return DescribeChoices(HookTable(), impl_->choices, attached());
}

std::optional<netmon_owner> SocketLayer::LookupOwner(uint64_t cookie) const {
  return impl_->shared->LookupOwner(cookie);
}

std::optional<uint64_t> SocketLayer::LookupCookie(const netmon_tuple& tuple) const {
  for (const netmon_tuple& key : LookupKeys(tuple)) {
    if (auto v = impl_->shared->LookupTuple(key)) return v->cookie;
  }
  return std::nullopt;
}

const proc::ProcessCache& SocketLayer::processes() const {
  return *impl_->procs;
}

SockStats SocketLayer::Stats() const {
  SockStats s;
  int ncpu = libbpf_num_possible_cpus();
  std::vector<uint64_t> per_cpu(static_cast<size_t>(ncpu > 0 ? ncpu : 1));
  const int fd = bpf_map__fd(impl_->main->maps.netmon_sock_ctr);
  for (uint32_t i = 0; i < NETMON_SCTR_MAX; ++i) {
    if (bpf_map_lookup_elem(fd, &i, per_cpu.data()) != 0) continue;
    for (uint64_t v : per_cpu) s.kernel[i] += v;
  }
  s.owners_deleted = impl_->owners_deleted.load();
  s.tuples_deleted = impl_->tuples_deleted.load();
  s.records_read = impl_->records_read.load();
  s.owners_live = impl_->owners_live.load();
  s.owners_evicted = impl_->owners_evicted.load();
  s.records_malformed = impl_->records_malformed.load();
  return s;
}

std::vector<uint32_t> SocketLayer::AttachedProgramIds() const {
  std::vector<uint32_t> ids;
  for (const bpf::Link& link : impl_->links) {
    bpf_link_info info{};
    uint32_t len = sizeof(info);
    if (bpf_obj_get_info_by_fd(bpf_link__fd(link.get()), &info, &len) == 0) ids.push_back(info.prog_id);
  }
  return ids;
}

}  // namespace netmon::sock
