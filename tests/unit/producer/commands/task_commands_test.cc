// TaskCommandService's client rules with in-memory ports: a client creates tasks for itself,
// an admin names an existing client, and the caller's identity goes into the events.
#include "commands/task_commands.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "conveyor/cloud_event.h"
#include "conveyor/task_codec.h"
#include "conveyor/time_format.h"
#include "support/producer_fakes.h"

namespace conveyor {
namespace {

class OneTypeCatalog final : public TaskTypeCatalog {
 public:
  Result<std::optional<TaskType>> Find(const Uuid& id) override {
    if (id != NoopTaskTypeId()) return std::optional<TaskType>();
    TaskType t;
    t.id = id;
    t.name = "noop";
    t.handler = "noop";
    t.clients = granted;
    return std::optional<TaskType>(t);
  }
  std::vector<Uuid> granted;  // the type's clients (empty: every client)
  Result<TaskType> Register(TaskType t) override { return t; }
  Result<std::vector<TaskType>> List() override { return std::vector<TaskType>{}; }
};

class CountingNumbers final : public TaskNumberAllocator {
 public:
  Result<std::int64_t> Next() override { return next_++; }
  Result<std::int64_t> NumberFor(const Uuid& id) override {
    auto [it, fresh] = by_id_.try_emplace(id, next_);
    if (fresh) ++next_;
    return it->second;
  }

 private:
  std::int64_t next_ = 1000;
  std::map<Uuid, std::int64_t> by_id_;
};

class SetOfClients final : public ClientDirectory {
 public:
  std::set<Uuid> ids;
  int lookups = 0;
  Result<std::optional<ClientRecord>> FindClient(const Uuid& id) override {
    ++lookups;
    if (!ids.contains(id)) return std::optional<ClientRecord>();
    ClientRecord c;
    c.id = id;
    return std::optional<ClientRecord>(c);
  }
};

class TaskCommandsTest : public ::testing::Test {
 protected:
  TaskCommandsTest() {
    client_.kind = Caller::Kind::kClient;
    client_.id = Uuid::Random();
    admin_.kind = Caller::Kind::kAdmin;
    admin_.id = Uuid::Random();
    clients_.ids.insert(client_.id);
    draft_.task_type_id = NoopTaskTypeId();
    draft_.parameters = "{}";
    draft_.content_type = "application/json";
  }
  // What a command hands its continuation (the fakes answer before the call returns).
  template <typename T, typename Start>
  static T Answered(Start start) {
    std::optional<T> out;
    start([&out](T t) { out = std::move(t); });
    EXPECT_TRUE(out.has_value()) << "no answer before the call returned";
    return std::move(out).value();
  }
  Result<CreatedTask> Create(Task draft, const Caller& caller, TaskCommandService::ClientRule rule,
                             const std::string& type_field) {
    return Answered<Result<CreatedTask>>([&](auto done) {
      service_.CreateThen(std::move(draft), caller, rule, type_field, std::nullopt, done);
    });
  }
  // A create as TwoSms asks for it (an admin must name the client).
  Result<CreatedTask> Create(const Caller& caller) {
    return Create(draft_, caller, TaskCommandService::ClientRule::kRequired, "TaskID");
  }
  auto CreateAll(const std::vector<Task>& drafts, const Caller& caller) {
    return Answered<TaskCommandService::CreateAllResult>([&](auto done) {
      service_.CreateAllThen(drafts, caller, TaskCommandService::ClientRule::kRequired, "TaskID",
                             std::nullopt, done);
    });
  }
  Status Cancel(const Task& t, const Caller& caller) {
    return Answered<Status>([&](auto done) { service_.CancelThen(t, caller, done); });
  }
  Status Delete(std::vector<Task> tasks, const Caller& caller) {
    return Answered<Status>([&](auto done) { service_.DeleteThen(tasks, caller, done); });
  }
  Status Delete(const Task& t, const Caller& caller) { return Delete(std::vector{t}, caller); }
  Result<Uuid> BatchUpdate(const Task& t, const BatchTaskUpdate& u, const Caller& caller) {
    return Answered<Result<Uuid>>([&](auto done) { service_.BatchUpdateThen(t, u, caller, done); });
  }
  Result<UpdatedTask> UpdateTask(const Task& t, const TaskUpdate& u, const Caller& caller,
                                 const std::string& type_field) {
    return Answered<Result<UpdatedTask>>(
        [&](auto done) { service_.UpdateTaskThen(t, u, caller, type_field, done); });
  }
  Result<TaskNote> AddNote(const Task& t, std::string text, const Caller& caller) {
    return Answered<Result<TaskNote>>(
        [&](auto done) { service_.AddNoteThen(t, std::move(text), caller, done); });
  }
  nlohmann::json LastEventData() {
    EXPECT_FALSE(publisher_.sent.empty());
    return CloudEvent::Parse(publisher_.sent.back().value)->data;
  }

  OneTypeCatalog catalog_;
  CountingNumbers numbers_;
  SetOfClients clients_;
  testing::RecordingPublisher publisher_;
  FakeClock clock_{*ParseDateTime("2026-11-25T10:00:00Z")};
  testing::RecordingAcceptedWrites accepted_;
  TaskCommandService service_{catalog_,  numbers_, clients_,   publisher_,
                              accepted_, clock_,   "commands", "/t"};
  Task draft_;
  Caller client_, admin_;
};

TEST_F(TaskCommandsTest, ClientCreatesForItselfAndIsRecordedAsCreator) {
  auto created = Create(client_);
  ASSERT_TRUE(created.has_value()) << created.error().Describe();
  EXPECT_EQ(created->task.client_id, client_.id);
  EXPECT_EQ(created->task.created_by, "client:" + client_.id.ToString());
  auto data = LastEventData();
  EXPECT_EQ(data["client_id"], client_.id.ToString());
  EXPECT_EQ(data["created_by"], "client:" + client_.id.ToString());
}

TEST_F(TaskCommandsTest, ClientNamingAnotherClientIsRefusedNamingClientId) {
  draft_.client_id = Uuid::Random();
  auto created = Create(client_);
  ASSERT_FALSE(created.has_value());
  EXPECT_EQ(created.error().field, "ClientID");
  EXPECT_TRUE(publisher_.sent.empty());
  draft_.client_id = client_.id;  // naming itself is fine
  EXPECT_TRUE(Create(client_).has_value());
}

TEST_F(TaskCommandsTest, AdminMustNameAnExistingClient) {
  auto none = Create(admin_);
  ASSERT_FALSE(none.has_value());
  EXPECT_EQ(none.error().code, ErrorCode::kInvalidArgument);
  EXPECT_EQ(none.error().field, "ClientID");
  draft_.client_id = Uuid::Random();
  auto unknown = Create(admin_);
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().field, "ClientID");
  EXPECT_NE(unknown.error().message.find("a client must be created first"), std::string::npos);
  EXPECT_TRUE(publisher_.sent.empty());

  draft_.client_id = client_.id;
  auto created = Create(admin_);
  ASSERT_TRUE(created.has_value()) << created.error().Describe();
  EXPECT_EQ(created->task.client_id, client_.id);
  EXPECT_EQ(LastEventData()["created_by"], "admin:" + admin_.id.ToString());
}

TEST_F(TaskCommandsTest, CancelRecordsWhoAsked) {
  Task t;
  t.id = Uuid::Random();
  ASSERT_TRUE(Cancel(t, client_).has_value());
  EXPECT_EQ(LastEventData()["requested_by"], "client:" + client_.id.ToString());
}

TEST_F(TaskCommandsTest, BatchUpdatePublishesOnlyTheFieldsItChangesAndWhoAsked) {
  Task t;
  t.id = Uuid::Random();
  BatchTaskUpdate u;
  u.request = "r2";
  u.run_change = BatchTaskUpdate::RunChange::kStop;
  auto event_id = BatchUpdate(t, u, client_);
  ASSERT_TRUE(event_id.has_value()) << event_id.error().Describe();
  auto event = CloudEvent::Parse(publisher_.sent.back().value);
  ASSERT_TRUE(event.has_value());
  EXPECT_EQ(event->type, kTaskBatchUpdateCommand);
  EXPECT_EQ(event->id, *event_id);
  EXPECT_EQ(event->subject, t.id.ToString());
  EXPECT_EQ(event->data, (nlohmann::json{{"task_id", t.id.ToString()},
                                         {"request", "r2"},
                                         {"run_change", "stop"},
                                         {"requested_by", "client:" + client_.id.ToString()}}));
  auto decoded = BatchTaskUpdateFromEventData(event->data);
  ASSERT_TRUE(decoded.has_value()) << decoded.error().Describe();
  EXPECT_FALSE(decoded->description.has_value());
  EXPECT_EQ(decoded->request, "r2");
  EXPECT_FALSE(decoded->response.has_value());
  EXPECT_EQ(decoded->run_change, BatchTaskUpdate::RunChange::kStop);
}

TEST_F(TaskCommandsTest, DeletingSeveralTasksPublishesOneDeleteEachAndReportsAFailedOne) {
  std::vector<Task> tasks(3);
  for (auto& t : tasks) t.id = Uuid::Random();
  ASSERT_TRUE(Delete(tasks, client_).has_value());
  ASSERT_EQ(publisher_.sent.size(), 3u);
  for (std::size_t i = 0; i < 3; ++i) {
    auto e = CloudEvent::Parse(publisher_.sent[i].value);
    ASSERT_TRUE(e.has_value());
    EXPECT_EQ(e->type, kTaskDeleteCommand);
    EXPECT_EQ(e->data["task_id"], tasks[i].id.ToString());
    EXPECT_EQ(e->data["requested_by"], "client:" + client_.id.ToString());
    EXPECT_EQ(publisher_.sent[i].key, tasks[i].id.ToString());
  }
  publisher_.fail_next = true;
  auto failed = Delete(tasks, client_);
  ASSERT_FALSE(failed.has_value());
  EXPECT_EQ(failed.error().code, ErrorCode::kUnavailable);
  EXPECT_EQ(publisher_.sent.size(), 5u);  // the other two were sent
}

TEST_F(TaskCommandsTest, UpdateDeleteAndNotesRecordWhoAsked) {
  Task t;
  t.id = Uuid::Random();
  t.task_type_id = NoopTaskTypeId();
  TaskUpdate u;
  u.task_type_id = NoopTaskTypeId();
  u.name = "renamed";
  ASSERT_TRUE(UpdateTask(t, u, admin_, "taskType").has_value());
  EXPECT_EQ(LastEventData()["requested_by"], "admin:" + admin_.id.ToString());
  ASSERT_TRUE(Delete(t, client_).has_value());
  EXPECT_EQ(LastEventData()["requested_by"], "client:" + client_.id.ToString());
  auto note = AddNote(t, "called back", client_);
  ASSERT_TRUE(note.has_value()) << note.error().Describe();
  EXPECT_EQ(note->created_by, "client:" + client_.id.ToString());
  EXPECT_EQ(LastEventData()["created_by"], "client:" + client_.id.ToString());
  EXPECT_EQ(LastEventData()["task_id"], t.id.ToString());
}

TEST_F(TaskCommandsTest, AdminsSystemTaskHasNoClientAndUnknownTypesAreNamedInTheDialect) {
  Task draft;
  draft.task_type_id = NoopTaskTypeId();
  auto created =
      Create(draft, admin_, TaskCommandService::ClientRule::kSystemTaskAllowed, "taskType");
  ASSERT_TRUE(created.has_value()) << created.error().Describe();
  EXPECT_FALSE(created->task.client_id.has_value());
  EXPECT_EQ(LastEventData()["created_by"], "admin:" + admin_.id.ToString());
  draft.task_type_id = Uuid::Random();
  auto unknown =
      Create(draft, client_, TaskCommandService::ClientRule::kSystemTaskAllowed, "taskType");
  ASSERT_FALSE(unknown.has_value());
  EXPECT_EQ(unknown.error().field, "taskType");
  TaskUpdate u;
  u.task_type_id = draft.task_type_id;
  auto update = UpdateTask(created->task, u, admin_, "taskType");
  ASSERT_FALSE(update.has_value());
  EXPECT_EQ(update.error().field, "taskType");
  EXPECT_EQ(publisher_.sent.size(), 1u);  // only the first create
}

TEST(CallerTest, ClientSeesOnlyItsOwnTasksAdminSeesAll) {
  Caller client{Caller::Kind::kClient, Uuid::Random(), "a"};
  Caller admin{Caller::Kind::kAdmin, Uuid::Random(), "ops"};
  Task own, other, unowned;
  own.client_id = client.id;
  other.client_id = Uuid::Random();
  EXPECT_TRUE(client.MaySee(own));
  EXPECT_FALSE(client.MaySee(other));
  EXPECT_FALSE(client.MaySee(unowned));
  EXPECT_TRUE(admin.MaySee(own) && admin.MaySee(other) && admin.MaySee(unowned));
}

TEST_F(TaskCommandsTest, CreateAllNumbersEveryTaskAndLooksAnAdminsClientUpOnce) {
  draft_.client_id = client_.id;
  std::vector<Task> drafts(50, draft_);
  auto created = CreateAll(drafts, admin_);
  ASSERT_TRUE(created.has_value()) << created.error().error.Describe();
  ASSERT_EQ(created->size(), 50u);
  std::set<std::int64_t> numbers;
  for (std::size_t i = 0; i < created->size(); ++i) {
    ASSERT_TRUE((*created)[i].has_value()) << i;
    EXPECT_EQ((*created)[i]->task.client_id, client_.id);
    EXPECT_EQ(CloudEvent::Parse(publisher_.sent[i].value)->subject,
              (*created)[i]->task.id.ToString());
    numbers.insert((*created)[i]->task.number);
  }
  EXPECT_EQ(numbers.size(), 50u);
  EXPECT_EQ(clients_.lookups, 1);
}

TEST_F(TaskCommandsTest, CreateAllRefusesTheFirstBadTaskByIndexAndPublishesNothing) {
  std::vector<Task> drafts(3, draft_);
  drafts[1].client_id = Uuid::Random();  // a client names another client
  auto created = CreateAll(drafts, client_);
  ASSERT_FALSE(created.has_value());
  EXPECT_EQ(created.error().index, 1u);
  EXPECT_EQ(created.error().error.field, "ClientID");
  EXPECT_TRUE(publisher_.sent.empty());
}

// --- what is recorded for the caller's next read (docs/adr/0006) -----------------------------

TEST_F(TaskCommandsTest, CreateRecordsTheNewTaskAtTheOffsetKafkaGaveItsCommand) {
  publisher_.sent.resize(41);  // the fake's next offset is 41
  auto created = Create(client_);
  ASSERT_TRUE(created.has_value()) << created.error().Describe();
  ASSERT_TRUE(accepted_.tasks.contains(created->task.id));
  const auto& a = accepted_.tasks.at(created->task.id);
  EXPECT_EQ(a.offset, 41);
  EXPECT_EQ(a.event_id, created->event_id);
  EXPECT_EQ(a.task.number, created->task.number);
  EXPECT_EQ(a.task.client_id, client_.id);
  EXPECT_EQ(a.modified_at, created->task.created_at);
  EXPECT_FALSE(a.deleted_at.has_value());
}

TEST_F(TaskCommandsTest, UpdateRecordsTheTaskAsTheUpdateLeavesIt) {
  auto created = Create(client_);
  ASSERT_TRUE(created.has_value());
  TaskUpdate u;
  u.task_type_id = draft_.task_type_id;
  u.parameters = R"({"v":2})";
  u.content_type = draft_.content_type;
  u.enabled = false;
  clock_.Advance(std::chrono::seconds(5));
  auto updated = UpdateTask(created->task, u, client_, "TaskID");
  ASSERT_TRUE(updated.has_value()) << updated.error().Describe();
  const auto& a = accepted_.tasks.at(created->task.id);
  EXPECT_EQ(a.offset, 1);
  EXPECT_EQ(a.task.parameters, R"({"v":2})");
  EXPECT_FALSE(a.task.enabled);
  EXPECT_EQ(a.modified_at, clock_.Now());
  EXPECT_EQ(a.modified_by, "client:" + client_.id.ToString());
  EXPECT_EQ(a.event_id, updated->event_id);
}

TEST_F(TaskCommandsTest, BatchUpdateAndDeleteRecordTheTaskAsTheyLeaveIt) {
  Task t;
  t.id = Uuid::Random();
  t.response = "old";
  BatchTaskUpdate u;
  u.description = "d2";
  u.run_change = BatchTaskUpdate::RunChange::kRunAgain;
  ASSERT_TRUE(BatchUpdate(t, u, client_).has_value());
  EXPECT_EQ(accepted_.tasks.at(t.id).task.description, "d2");
  EXPECT_FALSE(accepted_.tasks.at(t.id).task.response.has_value());  // a run-again clears it
  ASSERT_TRUE(Delete(t, admin_).has_value());
  const auto& a = accepted_.tasks.at(t.id);
  EXPECT_EQ(a.offset, 1);
  ASSERT_TRUE(a.deleted_at.has_value());
  EXPECT_EQ(a.deleted_by, "admin:" + admin_.id.ToString());
}

TEST_F(TaskCommandsTest, NoteIsRecordedWithItsTaskMarkedModified) {
  Task t;
  t.id = Uuid::Random();
  auto note = AddNote(t, "called back", client_);
  ASSERT_TRUE(note.has_value()) << note.error().Describe();
  ASSERT_EQ(accepted_.notes.size(), 1u);
  EXPECT_EQ(accepted_.notes[0].note.text, "called back");
  EXPECT_EQ(accepted_.tasks.at(t.id).modified_at, note->created_at);
}

TEST_F(TaskCommandsTest, CancelRecordsNothingForTheTask) {
  Task t;
  t.id = Uuid::Random();
  ASSERT_TRUE(Cancel(t, client_).has_value());
  EXPECT_TRUE(accepted_.tasks.empty());
}

TEST_F(TaskCommandsTest, EveryCommandAnswersOnlyOnceKafkaAcknowledgedItAndNoCallWaitsForThat) {
  publisher_.hold = true;
  Task t;
  t.id = Uuid::Random();
  t.task_type_id = NoopTaskTypeId();
  TaskUpdate u;
  u.task_type_id = NoopTaskTypeId();
  int answered = 0, ok = 0;
  auto count = [&](const auto& result) {
    ++answered;
    ok += result.has_value();
  };
  service_.CreateThen(draft_, client_, TaskCommandService::ClientRule::kRequired, "TaskID",
                      std::nullopt, count);
  service_.CreateAllThen(std::vector{draft_, draft_}, client_,
                         TaskCommandService::ClientRule::kRequired, "TaskID", std::nullopt, count);
  service_.UpdateTaskThen(t, u, client_, "TaskID", count);
  service_.BatchUpdateThen(t, {}, client_, count);
  service_.CancelThen(t, client_, count);
  service_.DeleteThen({t, t}, client_, count);
  service_.RunNowThen(t, client_, count);
  service_.AddNoteThen(t, "held", client_, count);
  EXPECT_EQ(answered, 0) << "a command answered before Kafka acknowledged it";
  EXPECT_TRUE(accepted_.tasks.empty()) << "recorded before Kafka acknowledged it";
  publisher_.Release();
  EXPECT_EQ(answered, 8);
  EXPECT_EQ(ok, 8);
  EXPECT_EQ(publisher_.sent.size(), 10u);
}

// The command is in Kafka and will be applied: the caller gets its answer.
TEST_F(TaskCommandsTest, CreateThatCannotBeRecordedIsStillAnsweredAsCreated) {
  accepted_.fail_next = true;
  auto created = Create(client_);
  ASSERT_TRUE(created.has_value()) << created.error().Describe();
  EXPECT_EQ(publisher_.sent.size(), 1u);
  EXPECT_TRUE(accepted_.tasks.empty());
}

TEST_F(TaskCommandsTest, CommandKafkaDidNotAcknowledgeIsNotRecorded) {
  publisher_.fail_next = true;
  ASSERT_FALSE(Create(client_).has_value());
  EXPECT_TRUE(accepted_.tasks.empty());
}

TEST_F(TaskCommandsTest, ATypeGrantedToOtherClientsIsToThisClientATypeThatDoesNotExist) {
  Caller other = client_;
  other.id = Uuid::Random();
  clients_.ids.insert(other.id);
  catalog_.granted = {client_.id};
  EXPECT_TRUE(Create(client_).has_value()) << "granted";
  auto refused = Create(other);
  ASSERT_FALSE(refused.has_value());
  EXPECT_EQ(refused.error().field, "TaskID");
  EXPECT_EQ(refused.error().message,
            NoopTaskTypeId().ToString() + " is not a registered task type");
  // An admin may use the type for a client granted it or for a system task, and is told why
  // not for another client.
  draft_.client_id = other.id;
  auto for_other = Create(admin_);
  ASSERT_FALSE(for_other.has_value());
  EXPECT_EQ(for_other.error().message,
            "task type noop is not granted to client " + other.id.ToString());
  draft_.client_id.reset();
  EXPECT_TRUE(Create(draft_, admin_, TaskCommandService::ClientRule::kSystemTaskAllowed, "TaskID")
                  .has_value());
  EXPECT_EQ(publisher_.sent.size(), 2u);
}

}  // namespace
}  // namespace conveyor
