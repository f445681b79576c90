// SPDX-License-Identifier: Apache-2.0
// The event publisher while no NATS server answers: nothing blocks, the bounded buffer refuses what does not fit
// and counts it. (With a real server: tests/correlate.)
#include <gtest/gtest.h>

#include "correlate/event_publisher.h"

namespace netmon::correlate {
namespace {

TEST(EventPublisher, BuffersWhileNatsIsAwayAndCountsWhatDoesNotFit) {
  EventPublisherOptions o;
  // A loopback port nothing listens on (port 1 needs no listener to refuse).
  o.nats.urls = {"nats://127.0.0.1:1"};
  o.nats.connect_timeout_ms = 200;
  o.max_buffer_events = 3;
  o.retry_backoff_ms = 50;
  auto pub = EventPublisher::Start(o);
  ASSERT_TRUE(pub.ok()) << pub.status();
  Event ev;
  ev.timestamp_ns = 1;
  ev.event_type = "DATA";
  // assign(count, char), not = "a": GCC 12 at -O3 reports a false -Wrestrict inside libstdc++'s assignment of a
  // one-character literal here (GCC bug 105329).
  ev.agent_id.assign(1, 'a');
  ev.session_id.assign(1, 's');
  for (uint64_t i = 1; i <= 5; ++i) {
    ev.sequence = i;
    EXPECT_EQ((*pub)->PublishEvent(ev), i <= 3) << i;
  }
  auto c = (*pub)->counters();
  EXPECT_EQ(c.enqueued, 3u);
  EXPECT_EQ(c.dropped_buffer_full, 2u);
  EXPECT_EQ(c.buffered, 3u);
  EXPECT_EQ(c.published, 0u);
  EXPECT_FALSE(c.connected);
  EXPECT_FALSE((*pub)->Flush(100).ok());  // nothing can be acknowledged
  pub->reset();                           // stops promptly even though NATS never came
}

TEST(EventPublisher, AgentJsonGetsItsProvenance) {
  EventPublisherOptions o;
  o.nats.urls = {"nats://127.0.0.1:1"};
  o.nats.connect_timeout_ms = 200;
  auto pub = EventPublisher::Start(o);
  ASSERT_TRUE(pub.ok());
  EXPECT_TRUE(
      (*pub)->PublishEventJson("agent-1", "cap-1", 3, R"({"sequence":3,"timestamp_ns":1,"event_type":"DATA"})"));
  EXPECT_TRUE((*pub)->PublishEventJson("agent-1", "cap-1", 4, "{}\n"));
  EXPECT_FALSE((*pub)->PublishEventJson("agent-1", "cap-1", 5, "[1]"));
  EXPECT_FALSE((*pub)->PublishEventJson("agent-1", "cap-1", 6, ""));
  EXPECT_EQ((*pub)->counters().enqueued, 2u);
}

TEST(EventPublisher, RefusesBadOptions) {
  EventPublisherOptions o;
  o.nats.urls.clear();
  EXPECT_FALSE(EventPublisher::Start(o).ok());
}

}  // namespace
}  // namespace netmon::correlate
