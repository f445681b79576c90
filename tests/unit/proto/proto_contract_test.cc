// SPDX-License-Identifier: Apache-2.0
// The wire contract of docs/architecture.md §4.1/§4.2, checked on the wire: every specified field is set on its own, the
// message is serialised, and the single tag on the wire must carry the specified field number and wire type.
// A renumbered or retyped field fails here even if the .proto still compiles.
#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/io/coded_stream.h>
#include <google/protobuf/message.h>
#include <google/protobuf/wire_format_lite.h>
#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "monitoring.pb.h"
#include "network_monitor.pb.h"

namespace {

using google::protobuf::Descriptor;
using google::protobuf::DescriptorPool;
using google::protobuf::FieldDescriptor;
using google::protobuf::Message;
using google::protobuf::MessageFactory;
using WFL = google::protobuf::internal::WireFormatLite;

struct FieldSpec {
  const char* message;  // full name
  const char* field;
  int number;
  FieldDescriptor::Type type;
};

constexpr auto kInt32 = FieldDescriptor::TYPE_INT32;
constexpr auto kInt64 = FieldDescriptor::TYPE_INT64;
constexpr auto kUint64 = FieldDescriptor::TYPE_UINT64;
constexpr auto kString = FieldDescriptor::TYPE_STRING;
constexpr auto kBytes = FieldDescriptor::TYPE_BYTES;
constexpr auto kBool = FieldDescriptor::TYPE_BOOL;
constexpr auto kMsg = FieldDescriptor::TYPE_MESSAGE;
constexpr auto kEnum = FieldDescriptor::TYPE_ENUM;

// The specification, transcribed from docs/architecture.md §4 (original fields) plus netmon's documented extensions.
const std::vector<FieldSpec> kSpec = {
    {"network_monitor.CaptureFilter", "process_id", 1, kInt32},
    {"network_monitor.CaptureFilter", "port", 2, kInt32},
    {"network_monitor.CaptureFilter", "source_ip", 3, kString},
    {"network_monitor.CaptureFilter", "destination_ip", 4, kString},
    {"network_monitor.StartCaptureRequest", "filter", 1, kMsg},
    {"network_monitor.StartCaptureRequest", "duration_seconds", 2, kInt32},
    {"network_monitor.StartCaptureRequest", "session_id", 3, kString},
    {"network_monitor.StartCaptureResponse", "success", 1, kBool},
    {"network_monitor.StartCaptureResponse", "message", 2, kString},
    {"network_monitor.GetCaptureResultsRequest", "session_id", 1, kString},
    {"network_monitor.GetCaptureResultsRequest", "after_sequence", 2, kUint64},
    {"network_monitor.GetCaptureResultsRequest", "mode", 3, kEnum},
    {"network_monitor.NetworkEvent", "timestamp_ns", 1, kInt64},
    {"network_monitor.NetworkEvent", "process_id", 2, kInt32},
    {"network_monitor.NetworkEvent", "process_name", 3, kString},
    {"network_monitor.NetworkEvent", "source_addr", 4, kString},
    {"network_monitor.NetworkEvent", "dest_addr", 5, kString},
    {"network_monitor.NetworkEvent", "bytes_sent", 6, kInt64},
    {"network_monitor.NetworkEvent", "bytes_received", 7, kInt64},
    {"network_monitor.NetworkEvent", "event_type", 8, kString},
    {"network_monitor.NetworkEvent", "extra_info", 9, kString},
    {"network_monitor.NetworkEvent", "sequence", 10, kUint64},
    {"network_monitor.NetworkCaptureChunk", "events", 1, kMsg},
    {"network_monitor.NetworkCaptureChunk", "is_final", 2, kBool},
    {"network_monitor.NetworkCaptureChunk", "chunk_index", 3, kInt32},
    {"network_monitor.NetworkCaptureChunk", "stats", 4, kMsg},

    {"monitoring.StatusRequest", "service_name", 1, kString},
    {"monitoring.StatusRequest", "service_type", 2, kString},
    {"monitoring.StatusRequest", "agent_id", 3, kString},
    {"monitoring.StatusRequest", "poller_id", 4, kString},
    {"monitoring.StatusRequest", "details", 5, kString},
    {"monitoring.StatusRequest", "port", 6, kInt32},
    {"monitoring.StatusResponse", "available", 1, kBool},
    {"monitoring.StatusResponse", "message", 2, kBytes},
    {"monitoring.StatusResponse", "service_name", 3, kString},
    {"monitoring.StatusResponse", "service_type", 4, kString},
    {"monitoring.StatusResponse", "response_time", 5, kInt64},
    {"monitoring.StatusResponse", "agent_id", 6, kString},
    {"monitoring.StatusResponse", "poller_id", 7, kString},
    {"monitoring.ResultsRequest", "service_name", 1, kString},
    {"monitoring.ResultsRequest", "service_type", 2, kString},
    {"monitoring.ResultsRequest", "agent_id", 3, kString},
    {"monitoring.ResultsRequest", "poller_id", 4, kString},
    {"monitoring.ResultsRequest", "details", 5, kString},
    {"monitoring.ResultsRequest", "last_sequence", 6, kString},
    {"monitoring.ResultsRequest", "completion_status", 7, kMsg},
    {"monitoring.SweepCompletionStatus", "status", 1, kEnum},
    {"monitoring.SweepCompletionStatus", "completion_time", 2, kInt64},
    {"monitoring.SweepCompletionStatus", "target_sequence", 3, kString},
    {"monitoring.SweepCompletionStatus", "total_targets", 4, kInt32},
    {"monitoring.SweepCompletionStatus", "completed_targets", 5, kInt32},
    {"monitoring.SweepCompletionStatus", "error_message", 6, kString},
    {"monitoring.ResultsResponse", "available", 1, kBool},
    {"monitoring.ResultsResponse", "data", 2, kBytes},
    {"monitoring.ResultsResponse", "service_name", 3, kString},
    {"monitoring.ResultsResponse", "service_type", 4, kString},
    {"monitoring.ResultsResponse", "response_time", 5, kInt64},
    {"monitoring.ResultsResponse", "agent_id", 6, kString},
    {"monitoring.ResultsResponse", "poller_id", 7, kString},
    {"monitoring.ResultsResponse", "timestamp", 8, kInt64},
    {"monitoring.ResultsResponse", "current_sequence", 9, kString},
    {"monitoring.ResultsResponse", "has_new_data", 10, kBool},
    {"monitoring.ResultsResponse", "sweep_completion", 11, kMsg},
    {"monitoring.ResultsChunk", "data", 1, kBytes},
    {"monitoring.ResultsChunk", "is_final", 2, kBool},
    {"monitoring.ResultsChunk", "chunk_index", 3, kInt32},
    {"monitoring.ResultsChunk", "total_chunks", 4, kInt32},
    {"monitoring.ResultsChunk", "current_sequence", 5, kString},
    {"monitoring.ResultsChunk", "timestamp", 6, kInt64},
    {"monitoring.TriggerNetworkCaptureRequest", "agent_id", 1, kString},
    {"monitoring.TriggerNetworkCaptureRequest", "poller_id", 2, kString},
    {"monitoring.TriggerNetworkCaptureRequest", "process_id", 3, kInt32},
    {"monitoring.TriggerNetworkCaptureRequest", "port", 4, kInt32},
    {"monitoring.TriggerNetworkCaptureRequest", "duration_seconds", 5, kInt32},
    {"monitoring.TriggerNetworkCaptureRequest", "source_ip", 6, kString},
    {"monitoring.TriggerNetworkCaptureRequest", "destination_ip", 7, kString},
    {"monitoring.TriggerNetworkCaptureResponse", "success", 1, kBool},
    {"monitoring.TriggerNetworkCaptureResponse", "message", 2, kString},
    {"monitoring.TriggerNetworkCaptureResponse", "session_id", 3, kString},
};

// Sets `field` to a non-default value so that proto3 serialises it.
void SetNonDefault(Message* msg, const FieldDescriptor* field) {
  const auto* refl = msg->GetReflection();
  if (field->is_repeated()) {
    ASSERT_EQ(field->cpp_type(), FieldDescriptor::CPPTYPE_MESSAGE) << field->full_name();
    refl->AddMessage(msg, field);
    return;
  }
  switch (field->cpp_type()) {
    case FieldDescriptor::CPPTYPE_INT32: refl->SetInt32(msg, field, 7); break;
    case FieldDescriptor::CPPTYPE_INT64: refl->SetInt64(msg, field, 7); break;
    case FieldDescriptor::CPPTYPE_UINT64: refl->SetUInt64(msg, field, 7); break;
    case FieldDescriptor::CPPTYPE_BOOL: refl->SetBool(msg, field, true); break;
    case FieldDescriptor::CPPTYPE_STRING: refl->SetString(msg, field, "x"); break;
    case FieldDescriptor::CPPTYPE_ENUM: refl->SetEnumValue(msg, field, 1); break;
    case FieldDescriptor::CPPTYPE_MESSAGE: refl->MutableMessage(msg, field); break;
    default: FAIL() << "unhandled type of " << field->full_name();
  }
}

WFL::WireType ExpectedWireType(FieldDescriptor::Type type) {
  switch (type) {
    case kString:
    case kBytes:
    case kMsg: return WFL::WIRETYPE_LENGTH_DELIMITED;
    default: return WFL::WIRETYPE_VARINT;
  }
}

class ProtoContract : public ::testing::TestWithParam<FieldSpec> {};

TEST_P(ProtoContract, FieldHasSpecifiedNumberAndTypeOnTheWire) {
  const FieldSpec& spec = GetParam();
  // Touch the generated types so their descriptors are registered.
  network_monitor::NetworkEvent().GetDescriptor();
  monitoring::ResultsChunk().GetDescriptor();
  const Descriptor* desc = DescriptorPool::generated_pool()->FindMessageTypeByName(spec.message);
  ASSERT_NE(desc, nullptr) << spec.message << " is missing";
  const FieldDescriptor* field = desc->FindFieldByName(spec.field);
  ASSERT_NE(field, nullptr) << spec.message << "." << spec.field << " is missing";
  EXPECT_EQ(field->type(), spec.type) << field->full_name() << " has type " << field->type_name();

  std::unique_ptr<Message> msg(MessageFactory::generated_factory()->GetPrototype(desc)->New());
  SetNonDefault(msg.get(), field);
  std::string wire;
  ASSERT_TRUE(msg->SerializeToString(&wire));
  google::protobuf::io::CodedInputStream in(reinterpret_cast<const uint8_t*>(wire.data()),
                                            static_cast<int>(wire.size()));
  uint32_t tag = in.ReadTag();
  ASSERT_NE(tag, 0u) << field->full_name() << " did not serialise";
  EXPECT_EQ(WFL::GetTagFieldNumber(tag), spec.number) << field->full_name();
  EXPECT_EQ(WFL::GetTagWireType(tag), ExpectedWireType(spec.type)) << field->full_name();
}

INSTANTIATE_TEST_SUITE_P(Spec, ProtoContract, ::testing::ValuesIn(kSpec), [](const auto& info) {
  std::string name = std::string(info.param.message) + "_" + info.param.field;
  for (char& c : name) {
    if (c == '.') c = '_';
  }
  return name;
});

// Every field the .proto files declare on a specified message is in the table above: a field added without a
// decision about its number is caught too.
TEST(ProtoContractCoverage, NoUnspecifiedFieldsOnSpecifiedMessages) {
  network_monitor::NetworkEvent().GetDescriptor();
  monitoring::ResultsChunk().GetDescriptor();
  for (const FieldSpec& spec : kSpec) {
    const Descriptor* desc = DescriptorPool::generated_pool()->FindMessageTypeByName(spec.message);
    ASSERT_NE(desc, nullptr);
    for (int i = 0; i < desc->field_count(); ++i) {
      const FieldDescriptor* f = desc->field(i);
      bool listed = false;
      for (const FieldSpec& s : kSpec)
        listed |= (f->containing_type()->full_name() == s.message && f->name() == s.field);
      EXPECT_TRUE(listed) << f->full_name() << " is not in the contract table";
    }
  }
}

TEST(ProtoContractFiles, PackagesAndGoPackages) {
  const auto* nm = network_monitor::NetworkEvent::descriptor()->file();
  EXPECT_EQ(nm->package(), "network_monitor");
  EXPECT_EQ(nm->options().go_package(), "github.com/carverauto/serviceradar/proto/network_monitor");
  const auto* mon = monitoring::ResultsChunk::descriptor()->file();
  EXPECT_EQ(mon->package(), "monitoring");
  EXPECT_EQ(mon->options().go_package(), "github.com/carverauto/serviceradar/proto");
}

TEST(ProtoContractServices, MethodsAndStreaming) {
  const auto* svc = DescriptorPool::generated_pool()->FindServiceByName("network_monitor.NetworkMonitorService");
  ASSERT_NE(svc, nullptr);
  const auto* start = svc->FindMethodByName("StartCapture");
  ASSERT_NE(start, nullptr);
  EXPECT_EQ(start->input_type()->full_name(), "network_monitor.StartCaptureRequest");
  EXPECT_EQ(start->output_type()->full_name(), "network_monitor.StartCaptureResponse");
  const auto* results = svc->FindMethodByName("GetCaptureResults");
  ASSERT_NE(results, nullptr);
  EXPECT_TRUE(results->server_streaming());
  EXPECT_FALSE(results->client_streaming());
  EXPECT_EQ(results->output_type()->full_name(), "network_monitor.NetworkCaptureChunk");

  const auto* agent = DescriptorPool::generated_pool()->FindServiceByName("monitoring.AgentService");
  ASSERT_NE(agent, nullptr);
  for (const char* m : {"GetStatus", "GetResults", "StreamResults", "TriggerNetworkCapture"}) {
    EXPECT_NE(agent->FindMethodByName(m), nullptr) << m;
  }
  EXPECT_TRUE(agent->FindMethodByName("StreamResults")->server_streaming());
  EXPECT_EQ(agent->FindMethodByName("StreamResults")->output_type()->full_name(), "monitoring.ResultsChunk");
  EXPECT_FALSE(agent->FindMethodByName("GetResults")->server_streaming());
}

TEST(ProtoContractEnums, SweepCompletionStatusValues) {
  using S = monitoring::SweepCompletionStatus;
  EXPECT_EQ(S::UNKNOWN, 0);
  EXPECT_EQ(S::NOT_STARTED, 1);
  EXPECT_EQ(S::IN_PROGRESS, 2);
  EXPECT_EQ(S::COMPLETED, 3);
  EXPECT_EQ(S::FAILED, 4);
}

}  // namespace
