// SPDX-License-Identifier: Apache-2.0
// The JetStream pipeline: a durable pull consumer on the events stream (filter nats.input_subject, explicit acks),
// each event enriched and published to nats.output_subject ({agent_id} replaced by the event's agent) with a
// publish acknowledgement; the input message is acknowledged only after its enriched copy was. A failed publication
// (NATS restarting) is retried in place until it is acknowledged, so a NATS restart loses nothing; a correlator
// crash leaves the inputs unacknowledged for JetStream to redeliver. Either way the output's Nats-Msg-Id, derived
// from the input's stream sequence, makes a re-publication a duplicate the stream drops. Malformed input is
// terminated (never redelivered) and counted.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>

#include "absl/status/status.h"
#include "correlate/service.h"

namespace netmon::correlate {

struct NatsPipelineCounters {
  uint64_t fetched = 0;
  uint64_t events = 0;
  uint64_t malformed = 0;  // terminated
  uint64_t published = 0;  // enriched events acknowledged by JetStream
  uint64_t duplicates = 0;
  uint64_t publish_failures = 0;  // publication attempts not acknowledged (each retried)
  uint64_t fetch_errors = 0;
  uint64_t released_early = 0;
  uint64_t redelivered = 0;  // inputs delivered more than once
};

class NatsPipeline {
 public:
  explicit NatsPipeline(Service* service);

  // Runs until `stop`; returns an error only for what retrying cannot fix (a consumer with another filter, an
  // output subject the input filter would consume).
  absl::Status Run(const std::atomic<bool>& stop);
  NatsPipelineCounters counters() const;
  void AppendCounters(std::string* out) const;

 private:
  Service* service_;
  struct {
    std::atomic<uint64_t> fetched{0}, events{0}, malformed{0}, published{0}, duplicates{0}, publish_failures{0},
        fetch_errors{0}, released_early{0}, redelivered{0}, held{0};
  } c_;
};

// nats.output_subject with "{agent_id}" replaced by the agent's subject token.
std::string OutputSubject(const std::string& pattern, const std::string& agent_id);

}  // namespace netmon::correlate
