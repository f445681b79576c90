// SPDX-License-Identifier: Apache-2.0
#include "rpc/convert.h"

#include <string>

namespace netmon::rpc {

void ToProto(const join::Event& ev, uint64_t sequence, network_monitor::NetworkEvent* out) {
  out->set_timestamp_ns(ev.timestamp_ns);
  out->set_process_id(static_cast<int32_t>(ev.pid));
  out->set_process_name(ev.process_name);
  out->set_source_addr(ev.source_addr);
  out->set_dest_addr(ev.dest_addr);
  out->set_bytes_sent(ev.bytes_sent);
  out->set_bytes_received(ev.bytes_received);
  std::string_view type = join::EventTypeName(ev.type);
  out->set_event_type(type.data(), type.size());
  out->set_extra_info(ev.extra_info);
  out->set_sequence(sequence);
}

network_monitor::CaptureState ToProto(session::State state) {
  switch (state) {
    case session::State::kRunning: return network_monitor::CAPTURE_STATE_RUNNING;
    case session::State::kCompleted: return network_monitor::CAPTURE_STATE_COMPLETED;
    case session::State::kStopped: return network_monitor::CAPTURE_STATE_STOPPED;
    case session::State::kFailed: return network_monitor::CAPTURE_STATE_FAILED;
  }
  return network_monitor::CAPTURE_STATE_UNSPECIFIED;
}

void ToProto(const session::SessionStats& stats, network_monitor::CaptureStats* out) {
  out->set_events_total(stats.events_total);
  out->set_events_retained(stats.events_retained);
  out->set_events_dropped(stats.events_dropped);
  out->set_unattributed_bytes(stats.unattributed_bytes);
  out->set_unattributed_packets(stats.unattributed_packets);
  for (const auto& [reason, count] : stats.drops) (*out->mutable_drops())[reason] = count;
  out->set_started_ns(stats.started_ns);
  out->set_ended_ns(stats.ended_ns);
  out->set_state(ToProto(stats.state));
  out->set_last_sequence(stats.last_sequence);
}

void ToProto(const session::CaptureRequest& req, network_monitor::CaptureFilter* out) {
  out->set_process_id(req.process_id);
  out->set_port(req.port);
  out->set_source_ip(req.source_ip);
  out->set_destination_ip(req.destination_ip);
}

session::CaptureRequest FromProto(const network_monitor::StartCaptureRequest& req) {
  session::CaptureRequest r;
  r.session_id = req.session_id();
  r.duration_seconds = req.duration_seconds();
  r.process_id = req.filter().process_id();
  r.port = req.filter().port();
  r.source_ip = req.filter().source_ip();
  r.destination_ip = req.filter().destination_ip();
  return r;
}

grpc::Status ToGrpc(const absl::Status& status) {
  if (status.ok()) return grpc::Status::OK;
  return grpc::Status(static_cast<grpc::StatusCode>(status.code()), std::string(status.message()));
}

}  // namespace netmon::rpc
