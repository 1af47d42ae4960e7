// The fixture of the worker's pipeline tests: CommandProcessor and RunEngine together, as the
// consumer loop drives them, on in-memory fakes, with the messages of every command kind and
// handlers that fail, block or report progress on demand. Time is fake: it moves only when a
// test moves it (AdvanceTime, or time_per_tick_ on every Tick), or the engine waits on it.
#pragma once

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "conveyor/json_schema.h"
#include "conveyor/scheduling.h"
#include "conveyor/task_codec.h"
#include "conveyor/task_types.h"
#include "conveyor/time_format.h"
#include "src/command_processor.h"
#include "src/run_engine.h"
#include "support/fakes.h"
#include "support/wait.h"

namespace conveyor {

using testing::FakeTaskStore;
using testing::RecordingPublisher;

class CommandProcessorTest : public ::testing::Test {
 protected:
  void SetUp() override {
    store_.known_types.insert(NoopTaskTypeId());
    auto p = CommandProcessor::Create({"dlq"}, store_, publisher_);
    ASSERT_TRUE(p.has_value()) << p.error().message;
    processor_.emplace(std::move(*p));
  }

  RunEngine& Engine() {
    if (!engine_) {
      EngineSettings s;
      s.worker_name = "worker-a";
      s.source = "/test";
      s.notifications_topic = "notifications";
      s.concurrency = concurrency_;
      s.handler_limits = limits_;
      s.heartbeat_interval = std::chrono::milliseconds(20);
      engine_.emplace(s, store_, handlers_, clock_, monotonic_, &metrics_);
    }
    return *engine_;
  }

  // What the consumer loop does with a batch: ingest it, hand its runs to the engine, then
  // tick until the engine holds nothing (or the deadline passes).
  Result<IngestReport> Process(const std::vector<ConsumedMessage>& batch,
                               std::chrono::milliseconds deadline = std::chrono::seconds(10)) {
    auto report = processor_->Ingest(batch);
    if (!report) return report;
    HandOver(*report);
    EXPECT_TRUE(TickUntil([&] { return Engine().Load() == 0; }, deadline));
    return report;
  }

  // Moves both clocks, the wall clock the store sees and the engine's monotonic one.
  void AdvanceTime(std::chrono::milliseconds by) {
    clock_.Advance(by);
    monotonic_.Advance(by);
  }

  std::size_t concurrency_ = 4;
  std::map<std::string, std::size_t> limits_;

  ConsumedMessage CreateCommand(TaskNotification notification, std::int64_t offset,
                                Uuid type = NoopTaskTypeId()) {
    Task t;
    t.id = Uuid::Random();
    t.number = 1000 + offset;
    t.task_type_id = type;
    t.parameters = "{}";
    t.content_type = "application/json";
    t.notification = notification;
    t.created_at = clock_.Now();
    CloudEvent e;
    e.id = Uuid::Random();
    e.source = "/test";
    e.type = kTaskCreateCommand;
    e.subject = t.id.ToString();
    e.time = t.created_at;
    e.data = TaskToEventData(t);
    return ConsumedMessage{"commands", 0, offset, e.subject, e.Serialize(), {}};
  }

  ConsumedMessage CancelCommand(const std::string& task_id, std::int64_t offset) {
    CloudEvent e;
    e.id = Uuid::Random();
    e.source = "/test";
    e.type = kTaskCancelCommand;
    e.subject = task_id;
    e.time = clock_.Now();
    e.data = {{"task_id", task_id}, {"requested_by", "test"}};
    return ConsumedMessage{"commands", 0, offset, task_id, e.Serialize(), {}};
  }

  // conveyor.task.batch-update of the task `task_id`.
  ConsumedMessage BatchUpdateCommand(const std::string& task_id, BatchTaskUpdate u,
                                     std::int64_t offset) {
    CloudEvent e;
    e.id = Uuid::Random();
    e.source = "/test";
    e.subject = task_id;
    e.time = clock_.Now();
    e.type = kTaskBatchUpdateCommand;
    u.task_id = *Uuid::Parse(task_id);
    u.requested_by = "test";
    e.data = BatchTaskUpdateToEventData(u);
    return ConsumedMessage{"commands", 0, offset, task_id, e.Serialize(), {}};
  }

  // conveyor.task.fire of the task `task_id` for the due time `due`, as a scheduler sends it.
  ConsumedMessage FireCommand(const std::string& task_id, Timestamp due, std::int64_t offset) {
    TaskFire f;
    f.task_id = *Uuid::Parse(task_id);
    f.due_at = due;
    f.requested_by = "scheduler:test";
    CloudEvent e;
    e.id = FireEventId(f.task_id, due);
    e.source = "/test";
    e.type = kTaskFireCommand;
    e.subject = task_id;
    e.time = clock_.Now();
    e.data = FireToEventData(f);
    return ConsumedMessage{"commands", 0, offset, task_id, e.Serialize(), {}};
  }

  // conveyor.task.update of the task `task_id` (of type `type`) with `enabled`, or
  // conveyor.task.delete when `del`.
  ConsumedMessage UpdateCommand(const std::string& task_id, Uuid type, std::optional<bool> enabled,
                                std::int64_t offset, bool del = false) {
    CloudEvent e;
    e.id = Uuid::Random();
    e.source = "/test";
    e.subject = task_id;
    e.time = clock_.Now();
    if (del) {
      e.type = kTaskDeleteCommand;
      e.data = {{"task_id", task_id}, {"requested_by", "test"}};
    } else {
      TaskUpdate u;
      u.task_id = *Uuid::Parse(task_id);
      u.task_type_id = type;
      u.enabled = enabled;
      u.parameters = "{}";
      u.content_type = "application/json";
      u.notification = TaskNotification::kFailure;
      e.type = kTaskUpdateCommand;
      e.data = TaskUpdateToEventData(u);
    }
    return ConsumedMessage{"commands", 0, offset, task_id, e.Serialize(), {}};
  }

  // What the consumer loop does with an ingested batch: stops first, then the runs the store
  // started, then the others.
  void HandOver(IngestReport& report) {
    for (const auto& t : report.cancelled_tasks) Engine().Cancel(t);
    for (auto& [run, m] : report.started) Engine().AdmitStarted(run, OriginOf(*m));
    for (auto& [run, m] : report.runs) Engine().Admit(run, OriginOf(*m));
  }
  static RunOrigin OriginOf(const ConsumedMessage& m) { return {m.topic, m.partition, m.offset}; }

  // Ingests a batch and hands its runs to the engine without waiting for them.
  void Feed(const std::vector<ConsumedMessage>& batch) {
    auto report = processor_->Ingest(batch);
    ASSERT_TRUE(report.has_value()) << report.error().Describe();
    HandOver(*report);
  }

  // Like Feed, as the consumer loop does it: the engine's offer lets the store start runs as
  // it queues them, and those go to the pool at once.
  void FeedOffered(const std::vector<ConsumedMessage>& batch) {
    auto report = processor_->Ingest(batch, [this] { return Engine().Offer(); });
    ASSERT_TRUE(report.has_value()) << report.error().Describe();
    HandOver(*report);
  }

  // Ticks (moving time by time_per_tick_ first) until `done` holds; false when it did not
  // within `deadline` of real time: handlers run on real threads.
  bool TickUntil(const std::function<bool()>& done,
                 std::chrono::milliseconds deadline = std::chrono::seconds(10)) {
    return testing::PollUntil(
        [&] {
          AdvanceTime(time_per_tick_);
          EXPECT_TRUE(Engine().Tick().has_value());
          return done();
        },
        deadline);
  }

  // Every notification must satisfy its published schema.
  void ExpectOutboxMatchesSchema() {
    auto finished = JsonSchema::Embedded("events/conveyor.run.finished.json");
    auto progress = JsonSchema::Embedded("events/conveyor.run.progress.json");
    ASSERT_TRUE(finished.has_value() && progress.has_value());
    for (const auto& m : store_.outbox) {
      auto& schema = Header(m, "ce_type") == kRunProgressEvent ? *progress : *finished;
      auto valid = schema.Validate(nlohmann::json::parse(m.value));
      EXPECT_TRUE(valid.has_value()) << valid.error().Describe() << "\n" << m.value;
    }
  }

  std::vector<nlohmann::json> OutboxOfType(std::string_view type) {
    std::vector<nlohmann::json> events;
    for (const auto& m : store_.outbox)
      if (auto e = CloudEvent::Parse(m.value); e && e->type == type) events.push_back(e->data);
    return events;
  }

  FakeTaskStore::Run& RunOf(const ConsumedMessage& m) {
    for (auto& [id, r] : store_.runs)
      if (r.task_id.ToString() == m.key) return r;
    throw std::runtime_error("no run for " + m.key);
  }

  std::string Header(const OutgoingMessage& m, const std::string& name) {
    for (const auto& [k, v] : m.headers)
      if (k == name) return v;
    return "<absent>";
  }

  FakeClock clock_{*ParseDateTime("2026-11-22T10:00:00Z")};
  FakeMonotonicClock monotonic_;
  std::chrono::milliseconds time_per_tick_{0};
  FakeTaskStore store_;
  HandlerRegistry handlers_ = HandlerRegistry::WithBuiltins();
  RecordingPublisher publisher_;
  std::optional<CommandProcessor> processor_;
  metrics::Registry registry_;
  WorkerMetrics metrics_{registry_};  // what the engine counted (registry_.Render())
  std::optional<RunEngine> engine_;
};

// A handler that fails a given number of times (retryable or not), then succeeds, and
// remembers when (on `clock`) and with which attempt it was called.
class FlakyHandler final : public Handler {
 public:
  FlakyHandler(int failures, bool retryable, const MonotonicClock& clock)
      : failures_(failures), retryable_(retryable), clock_(clock) {}
  HandlerResult Run(const HandlerContext& c) override {
    std::lock_guard lock(mu_);
    calls.push_back({clock_.Now(), c.attempt});
    if (static_cast<int>(calls.size()) <= failures_)
      return std::unexpected(
          HandlerFailure{"boom " + std::to_string(calls.size()), retryable_, {}});
    return HandlerOutput{"fine", {}, {}};
  }
  std::size_t Calls() {
    std::lock_guard lock(mu_);
    return calls.size();
  }
  std::mutex mu_;
  std::vector<std::pair<MonotonicTime, int>> calls;

 private:
  int failures_;
  bool retryable_;
  const MonotonicClock& clock_;
};

// Blocks until released (or cancelled), counting how many run at once.
class GateHandler final : public Handler {
 public:
  HandlerResult Run(const HandlerContext& c) override {
    int now = ++running;
    int seen = peak.load();
    while (now > seen && !peak.compare_exchange_weak(seen, now)) {
    }
    while (!open && !c.cancel.WaitFor(std::chrono::milliseconds(5))) {
    }
    --running;
    if (c.cancel.cancelled()) return std::unexpected(HandlerFailure{"cancelled", false, {}});
    return HandlerOutput{"passed", {}, {}};
  }
  std::atomic<int> running{0}, peak{0};
  std::atomic<bool> open{false};
};

// Reports `percent` once, then blocks until released (or cancelled).
class ReportThenWaitHandler final : public Handler {
 public:
  explicit ReportThenWaitHandler(int percent) : percent_(percent) {}
  HandlerResult Run(const HandlerContext& c) override {
    c.progress.Report(percent_, "halfway there");
    while (!open && !c.cancel.WaitFor(std::chrono::milliseconds(5))) {
    }
    return HandlerOutput{"done", {}, {}};
  }
  std::atomic<bool> open{false};

 private:
  int percent_;
};

// A handler that ignores cancellation, released only by the test.
class StubbornHandler final : public Handler {
 public:
  HandlerResult Run(const HandlerContext&) override {
    running = true;
    open.wait(false);
    return HandlerOutput{"finally", {}, {}};
  }
  void Open() {
    open = true;
    open.notify_all();
  }
  std::atomic<bool> running{false}, open{false};
};

class RunEngineTest : public CommandProcessorTest {
 protected:
  void Use(const std::string& handler, std::shared_ptr<Handler> h) {
    Uuid type = Uuid::Random();
    store_.known_types.insert(type);
    store_.handler_of[type] = handler;
    handlers_.Register(handler, std::move(h));
    type_ = type;
  }
  Uuid type_;
};

}  // namespace conveyor
