// SPDX-License-Identifier: Apache-2.0
#include "rpc/network_monitor_service.h"

#include <sys/utsname.h>

#include <algorithm>
#include <utility>

#include "common/log.h"
#include "common/status.h"
#include "common/str_cat.h"
#include "rpc/convert.h"

#ifndef NETMON_VERSION
#define NETMON_VERSION "0.0.0"
#endif

namespace netmon::rpc {
namespace {

// Wire overhead of one repeated message element: tag byte + length varint.
size_t ElementOverhead(size_t size) {
  size_t n = 1;
  do {
    ++n;
    size >>= 7;
  } while (size != 0);
  return n;
}

}  // namespace

NetworkMonitorServiceImpl::NetworkMonitorServiceImpl(session::SessionManager* sessions, ClientAllowList allow,
                                                     StatusSource status, ServiceOptions options)
    : sessions_(sessions), allow_(std::move(allow)), status_(std::move(status)), options_(options) {}

NetworkMonitorServiceImpl::NetworkMonitorServiceImpl(ClientAllowList allow, ServiceOptions options)
    : allow_(std::move(allow)), options_(options) {}

void NetworkMonitorServiceImpl::Ready(session::SessionManager* sessions, StatusSource status) {
  status_ = std::move(status);
  sessions_.store(sessions, std::memory_order_release);
}

absl::StatusOr<session::SessionManager*> NetworkMonitorServiceImpl::Admit(const grpc::ServerContext& context) const {
  NETMON_RETURN_IF_ERROR(allow_.Check(context));
  session::SessionManager* sessions = sessions_.load(std::memory_order_acquire);
  if (sessions == nullptr) {
    return absl::UnavailableError("netmon-server is starting (loading and verifying its BPF programs); retry shortly");
  }
  return sessions;
}

grpc::Status NetworkMonitorServiceImpl::StartCapture(grpc::ServerContext* context,
                                                     const network_monitor::StartCaptureRequest* request,
                                                     network_monitor::StartCaptureResponse* response) {
  auto admitted = Admit(*context);
  if (!admitted.ok()) return ToGrpc(admitted.status());
  session::SessionManager* const sessions = *admitted;
  session::CaptureRequest req = FromProto(*request);
  if (absl::Status s = sessions->Start(req); !s.ok()) return ToGrpc(s);
  response->set_success(true);
  response->set_message(StrCat("capture \"", req.session_id, "\" started for ", req.duration_seconds, " s"));
  return grpc::Status::OK;
}

grpc::Status NetworkMonitorServiceImpl::GetCaptureResults(
    grpc::ServerContext* context, const network_monitor::GetCaptureResultsRequest* request,
    grpc::ServerWriter<network_monitor::NetworkCaptureChunk>* writer) {
  auto admitted = Admit(*context);
  if (!admitted.ok()) return ToGrpc(admitted.status());
  session::SessionManager* const sessions = *admitted;
  auto found = sessions->Find(request->session_id());
  if (!found.ok()) return ToGrpc(found.status());
  std::shared_ptr<session::Session> session = *found;
  const bool snapshot = request->mode() == network_monitor::RESULTS_MODE_SNAPSHOT;
  uint64_t cursor = request->after_sequence();
  int32_t chunk_index = 0;

  network_monitor::NetworkCaptureChunk chunk;
  while (true) {
    if (context->IsCancelled()) return grpc::Status(grpc::StatusCode::CANCELLED, "client went away");
    session::Session::Batch batch = session->Read(cursor, options_.chunk_max_events);
    chunk.Clear();
    size_t bytes = 0;
    uint64_t taken = 0;
    for (const session::EventPtr& ev : batch.events) {
      network_monitor::NetworkEvent* pe = chunk.add_events();
      ToProto(*ev, batch.first_sequence + taken, pe);
      size_t sz = pe->ByteSizeLong();
      bytes += sz + ElementOverhead(sz);
      if (bytes > options_.chunk_max_bytes && taken > 0) {
        chunk.mutable_events()->RemoveLast();  // goes into the next chunk
        break;
      }
      ++taken;
    }
    cursor += taken;
    bool drained = cursor >= batch.last_sequence;
    bool final = drained && (batch.finished || snapshot || shutting_down_);
    if (taken > 0 || final) {
      chunk.set_chunk_index(chunk_index++);
      chunk.set_is_final(final);
      if (final) {
        ToProto(session->Stats(sessions->counters()), chunk.mutable_stats());
        AddInterfacesNotAttached(chunk.mutable_stats());
      }
      if (!writer->Write(chunk)) return grpc::Status(grpc::StatusCode::UNAVAILABLE, "stream closed by the client");
    }
    if (final) return grpc::Status::OK;
    if (drained) {
      session->WaitForMore(cursor, std::chrono::steady_clock::now() + options_.follow_poll);
      // Then gather up to half a chunk more, for at most follow_linger.
      const uint64_t want = std::max<uint64_t>(1, options_.chunk_max_events / 2);
      session->WaitForMore(cursor + want - 1, std::chrono::steady_clock::now() + options_.follow_linger);
    }
  }
}

grpc::Status NetworkMonitorServiceImpl::StopCapture(grpc::ServerContext* context,
                                                    const network_monitor::StopCaptureRequest* request,
                                                    network_monitor::StopCaptureResponse* response) {
  auto admitted = Admit(*context);
  if (!admitted.ok()) return ToGrpc(admitted.status());
  session::SessionManager* const sessions = *admitted;
  auto found = sessions->Stop(request->session_id());
  if (!found.ok()) return ToGrpc(found.status());
  const auto& session = *found;
  bool ended = session->WaitFinished(std::chrono::steady_clock::now() + options_.stop_wait);
  response->set_success(ended);
  response->set_message(ended ? StrCat("capture \"", session->id(), "\" ", session::StateName(session->state()))
                              : StrCat("capture \"", session->id(), "\" is still flushing its last events"));
  return grpc::Status::OK;
}

grpc::Status NetworkMonitorServiceImpl::ListCaptures(grpc::ServerContext* context,
                                                     const network_monitor::ListCapturesRequest* /*request*/,
                                                     network_monitor::ListCapturesResponse* response) {
  auto admitted = Admit(*context);
  if (!admitted.ok()) return ToGrpc(admitted.status());
  session::SessionManager* const sessions = *admitted;
  for (const auto& s : sessions->List()) {
    network_monitor::CaptureInfo* info = response->add_captures();
    info->set_session_id(s->id());
    ToProto(s->request(), info->mutable_filter());
    info->set_duration_seconds(s->request().duration_seconds);
    ToProto(s->Stats(sessions->counters()), info->mutable_stats());
  }
  return grpc::Status::OK;
}

void NetworkMonitorServiceImpl::AddInterfacesNotAttached(network_monitor::CaptureStats* stats) const {
  if (!status_.interfaces_not_attached) return;
  for (const auto& [name, why] : status_.interfaces_not_attached())
    (*stats->mutable_interfaces_not_attached())[name] = why;
}

grpc::Status NetworkMonitorServiceImpl::GetStatus(grpc::ServerContext* context,
                                                  const network_monitor::GetStatusRequest* /*request*/,
                                                  network_monitor::GetStatusResponse* response) {
  auto admitted = Admit(*context);
  if (!admitted.ok()) return ToGrpc(admitted.status());
  session::SessionManager* const sessions = *admitted;
  response->set_version(NETMON_VERSION);
  utsname u{};
  if (uname(&u) == 0) response->set_kernel(StrCat(u.sysname, " ", u.release, " ", u.machine));
  response->set_live_sessions(static_cast<int32_t>(sessions->live_count()));
  response->set_retained_sessions(static_cast<int32_t>(sessions->retained_count()));
  if (status_.hooks) {
    for (const bpf::HookInfo& h : status_.hooks()) {
      network_monitor::HookStatus* hs = response->add_hooks();
      hs->set_name(h.name);
      hs->set_rung(h.rung);
      hs->set_active(h.active);
      hs->set_degraded(h.degraded);
      hs->set_detail(h.detail);
    }
  }
  for (const bpf::ProgramLoad& p : status_.programs) {
    network_monitor::ProgramLoad* pl = response->add_programs();
    pl->set_object(p.object);
    pl->set_name(p.name);
    pl->set_verified_insns(p.verified_insns);
    pl->set_load_ns(static_cast<int64_t>(p.load_ns));
  }
  for (const std::string& i : status_.interfaces) response->add_interfaces(i);
  return grpc::Status::OK;
}

}  // namespace netmon::rpc
