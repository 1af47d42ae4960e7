// The task-state events (worker/src/task_state.h): the state of a task as its schema
// (schemas/events/conveyor.task.state.json) says, keyed by the task id; the tombstone.
#include "src/task_state.h"

#include <gtest/gtest.h>

#include "conveyor/cloud_event.h"
#include "conveyor/json_schema.h"
#include "conveyor/time_format.h"

namespace conveyor {
namespace {

TaskStateSettings Settings() { return {"tasks", "/conveyor/worker/w1", ""}; }

TaskView SampleView() {
  TaskView v;
  v.task.id = Uuid::Random();
  v.task.number = 12;
  v.task.task_type_id = Uuid::Random();
  v.task.parameters = "{}";
  v.task.content_type = "application/json";
  v.task.created_at = *ParseDateTime("2026-12-05T10:00:00Z");
  v.task.name = "sync";
  v.type_name = "noop";
  v.modified_at = *ParseDateTime("2026-12-05T10:01:00Z");
  v.modified_by = "admin:k1";
  RunView r;
  r.id = Uuid::Random();
  r.state = RunState::kStarted;
  r.queued_at = *ParseDateTime("2026-12-05T10:00:00.5Z");
  r.start_count = 1;
  r.started_at = *ParseDateTime("2026-12-05T10:00:01Z");
  r.worker = "w1";
  r.progress_percent = 40;
  r.progress_description = "halfway, almost";
  v.last_run = r;
  return v;
}

TEST(TaskState, TheEventIsTheTaskAsTheApiShowsItKeyedByItsIdAndPassesItsSchema) {
  auto view = SampleView();
  auto at = *ParseDateTime("2026-12-05T10:02:00Z");
  auto m = TaskStateMessage(view, Settings(), at);
  EXPECT_EQ(m.topic, "tasks");
  EXPECT_EQ(m.key, view.task.id.ToString());
  EXPECT_FALSE(m.tombstone);
  auto json = nlohmann::json::parse(m.value);
  auto schema = JsonSchema::Embedded("events/conveyor.task.state.json");
  ASSERT_TRUE(schema.has_value());
  auto valid = schema->Validate(json);
  EXPECT_TRUE(valid.has_value()) << valid.error().Describe() << "\n" << m.value;
  auto e = CloudEvent::FromJson(json);
  ASSERT_TRUE(e.has_value());
  EXPECT_EQ(e->type, kTaskStateEvent);
  EXPECT_EQ(e->subject, view.task.id.ToString());
  EXPECT_EQ(e->source, "/conveyor/worker/w1");
  EXPECT_EQ(e->time, at);
  EXPECT_EQ(e->data["task"]["number"], 12);
  EXPECT_EQ(e->data["task"]["name"], "sync");
  EXPECT_EQ(e->data["type_name"], "noop");
  EXPECT_EQ(e->data["modified_by"], "admin:k1");
  EXPECT_EQ(e->data["next_run_at"], nullptr);
  EXPECT_EQ(e->data["response"], nullptr);
  EXPECT_EQ(e->data["last_run"]["state"], "started");
  EXPECT_EQ(e->data["last_run"]["progress_percent"], 40);
  EXPECT_EQ(e->data["last_run"]["finished_at"], nullptr);
  EXPECT_EQ(m.headers, (std::vector<std::pair<std::string, std::string>>{
                           {"ce_type", "conveyor.task.state"}, {"ce_id", e->id.ToString()}}));
}

TEST(TaskState, ATaskWithoutARunHasANullLastRunAndStillPassesItsSchema) {
  auto view = SampleView();
  view.last_run.reset();
  view.next_run_at = *ParseDateTime("2026-12-06T06:30:00Z");
  auto json = nlohmann::json::parse(TaskStateMessage(view, Settings(), view.modified_at).value);
  EXPECT_EQ(json["data"]["last_run"], nullptr);
  EXPECT_EQ(json["data"]["next_run_at"], "2026-12-06T06:30:00.000000Z");
  auto schema = JsonSchema::Embedded("events/conveyor.task.state.json");
  ASSERT_TRUE(schema.has_value());
  EXPECT_TRUE(schema->Validate(json).has_value());
}

TEST(TaskState, AGoneTaskGetsATombstoneOnItsKey) {
  auto id = Uuid::Random();
  auto m = TaskStateTombstone(id, Settings());
  EXPECT_EQ(m.topic, "tasks");
  EXPECT_EQ(m.key, id.ToString());
  EXPECT_TRUE(m.tombstone);
}

}  // namespace
}  // namespace conveyor
