#include "conveyor/trace_context.h"

#include <gtest/gtest.h>

#include "conveyor/cloud_event.h"

namespace conveyor {
namespace {

constexpr char kSample[] = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01";

TEST(Traceparent, ParsesTheW3cExampleAndWritesItBack) {
  auto t = ParseTraceparent(kSample);
  ASSERT_TRUE(t.has_value());
  EXPECT_EQ(t->trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_EQ(t->parent_id, "00f067aa0ba902b7");
  EXPECT_EQ(t->flags, "01");
  EXPECT_EQ(t->ToTraceparent(), kSample);
  EXPECT_EQ(TraceIdOf(kSample), "4bf92f3577b34da6a3ce929d0e0e4736");
}

TEST(Traceparent, RefusesWhatTheSpecificationRefuses) {
  for (const char* bad : {
           "",
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7",       // no flags
           "00-4BF92F3577B34DA6A3CE929D0E0E4736-00f067aa0ba902b7-01",    // upper case
           "00-00000000000000000000000000000000-00f067aa0ba902b7-01",    // zero trace id
           "00-4bf92f3577b34da6a3ce929d0e0e4736-0000000000000000-01",    // zero parent id
           "ff-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",    // version ff
           "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01-x",  // 00 has no more fields
           "00_4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01",    // separator
           "00-4bf92f3577b34da6a3ce929d0e0e473g-00f067aa0ba902b7-01",    // not hex
       })
    EXPECT_FALSE(ParseTraceparent(bad).has_value()) << bad;
  // A later version may add fields after its own.
  EXPECT_TRUE(ParseTraceparent(std::string("01-") + (kSample + 3) + "-later").has_value());
}

TEST(Traceparent, ANewTraceIsValidAndTheNextHopKeepsTheTraceWithAParentOfItsOwn) {
  auto fresh = NewTrace();
  ASSERT_TRUE(ParseTraceparent(fresh.ToTraceparent()).has_value()) << fresh.ToTraceparent();
  EXPECT_NE(NewTrace().trace_id, fresh.trace_id);
  auto next = NextHop(*ParseTraceparent(kSample));
  EXPECT_EQ(next.trace_id, "4bf92f3577b34da6a3ce929d0e0e4736");
  EXPECT_NE(next.parent_id, "00f067aa0ba902b7");
  EXPECT_EQ(next.flags, "01");
}

TEST(ScopedTrace, IsTheThreadsCurrentTraceUntilItEndsAndNestsOtherwiseUntouched) {
  EXPECT_EQ(CurrentTrace(), nullptr);
  {
    ScopedTrace outer(*ParseTraceparent(kSample));
    ASSERT_NE(CurrentTrace(), nullptr);
    EXPECT_EQ(CurrentTrace()->ToTraceparent(), kSample);
    {
      ScopedTrace inner(NewTrace());
      EXPECT_NE(CurrentTrace()->ToTraceparent(), kSample);
    }
    EXPECT_EQ(CurrentTrace()->ToTraceparent(), kSample);
  }
  EXPECT_EQ(CurrentTrace(), nullptr);
}

TEST(CloudEventTraceparent, RoundTripsAndAnInvalidOneIsDroppedNotRefused) {
  CloudEvent e;
  e.id = Uuid::Random();
  e.source = "/test";
  e.type = "conveyor.task.create";
  e.subject = "s";
  e.traceparent = kSample;
  auto back = CloudEvent::Parse(e.Serialize());
  ASSERT_TRUE(back.has_value());
  EXPECT_EQ(back->traceparent, kSample);

  auto j = e.ToJson();
  j["traceparent"] = "garbage";
  auto dropped = CloudEvent::FromJson(j);
  ASSERT_TRUE(dropped.has_value());
  EXPECT_EQ(dropped->traceparent, "");
  e.traceparent.clear();
  EXPECT_FALSE(e.ToJson().contains("traceparent"));
}

}  // namespace
}  // namespace conveyor
