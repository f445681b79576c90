// SPDX-License-Identifier: Apache-2.0
// Plain C++ (join events, session stats, absl statuses) to the wire types of proto/network_monitor.proto.
#pragma once

#include <grpcpp/grpcpp.h>

#include "absl/status/status.h"
#include "join/event.h"
#include "network_monitor.pb.h"
#include "session/session.h"
#include "session/validation.h"

namespace netmon::rpc {

void ToProto(const join::Event& ev, uint64_t sequence, network_monitor::NetworkEvent* out);
void ToProto(const session::SessionStats& stats, network_monitor::CaptureStats* out);
network_monitor::CaptureState ToProto(session::State state);
void ToProto(const session::CaptureRequest& req, network_monitor::CaptureFilter* out);
session::CaptureRequest FromProto(const network_monitor::StartCaptureRequest& req);

// absl and gRPC share the canonical code numbering; the message is kept.
grpc::Status ToGrpc(const absl::Status& status);

}  // namespace netmon::rpc
