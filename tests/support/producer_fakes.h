// In-memory fakes of the producer's ports (accepted writes, the task-type catalogue, task
// numbers, the task reader, the client directory; the event publisher is in
// recording_publisher.h), for unit tests and fuzz targets that drive the producer on plain
// requests, without a broker or a database.
#pragma once

#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <vector>

#include "auth/client_directory.h"
#include "commands/accepted_writes.h"
#include "commands/command_queue.h"
#include "commands/task_commands.h"
#include "conveyor/task_types.h"
#include "conveyor/task_view.h"
#include "support/recording_publisher.h"

namespace conveyor::testing {

// Keeps what the producer recorded of accepted commands, by task id, with PgAcceptedWrites's
// rule: a task recorded at a higher offset is not replaced by one at a lower offset.
class RecordingAcceptedWrites final : public AcceptedWrites {
 public:
  Status Record(const std::vector<AcceptedTask>& recorded,
                const std::vector<AcceptedNote>& recorded_notes) override {
    std::lock_guard lock(mutex);
    if (fail_next) {
      fail_next = false;
      return Fail(ErrorCode::kUnavailable, "database away (fake)");
    }
    for (const auto& t : recorded) {
      auto [it, fresh] = tasks.try_emplace(t.task.id, t);
      if (!fresh && it->second.offset < t.offset) it->second = t;
    }
    notes.insert(notes.end(), recorded_notes.begin(), recorded_notes.end());
    return {};
  }
  std::mutex mutex;
  std::map<Uuid, AcceptedTask> tasks;
  std::vector<AcceptedNote> notes;
  bool fail_next = false;
};

class FakeCatalog final : public TaskTypeCatalog {
 public:
  Result<std::optional<TaskType>> Find(const Uuid& id) override {
    for (const auto& t : types)
      if (t.id == id) return std::optional<TaskType>(t);
    return std::optional<TaskType>();
  }
  Result<TaskType> Register(TaskType t) override { return t; }
  Result<std::vector<TaskType>> List() override { return types; }
  std::vector<TaskType> types;
};

class FakeNumbers final : public TaskNumberAllocator {
 public:
  Result<std::int64_t> Next() override { return ++next; }
  Result<std::int64_t> NumberFor(const Uuid& id) override {
    auto [it, fresh] = by_id.try_emplace(id, next + 1);
    if (fresh) ++next;
    return it->second;
  }
  std::int64_t next = 1000;
  std::map<Uuid, std::int64_t> by_id;
};

// Serves `views` by id and number; a list query is recorded and pages the views.
class FakeReader final : public TaskReader {
 public:
  Result<std::optional<TaskView>> FindTask(const Uuid& id) override {
    for (const auto& v : views)
      if (v.task.id == id) return std::optional<TaskView>(v);
    return std::optional<TaskView>();
  }
  Result<std::optional<TaskView>> FindTaskByNumber(std::int64_t number) override {
    for (const auto& v : views)
      if (v.task.number == number) return std::optional<TaskView>(v);
    return std::optional<TaskView>();
  }
  Result<TaskPage> QueryTasks(const TaskQuery& q) override {
    last_offset = q.offset;
    last_limit = q.limit;
    last_client = q.client_id;
    TaskPage page;
    page.total = static_cast<std::int64_t>(views.size());
    for (auto i = q.offset; i < q.offset + q.limit && i < page.total; ++i)
      page.tasks.push_back(views[static_cast<std::size_t>(i)]);
    page.has_more = q.offset + q.limit < page.total;
    return page;
  }
  Result<NotePage> ListNotes(const Uuid&, std::int64_t, std::int64_t) override {
    return NotePage{};
  }
  Result<std::optional<TaskNote>> FindNote(const Uuid&, std::int64_t) override {
    return std::optional<TaskNote>();
  }
  Result<std::vector<RunView>> ListRuns(const Uuid& id, std::size_t) override { return runs[id]; }
  Result<std::optional<RunLog>> FindRunLog(const Uuid& task_id, const Uuid& run_id,
                                           std::size_t tail_chars) override {
    auto it = logs.find({task_id, run_id});
    if (it == logs.end()) return std::optional<RunLog>();
    const auto& whole = it->second;
    auto from = whole.size() > tail_chars ? whole.size() - tail_chars : 0;
    return RunLog{whole.substr(from), static_cast<std::int64_t>(whole.size())};
  }
  std::vector<TaskView> views;
  std::map<std::pair<Uuid, Uuid>, std::string> logs;  // by task and run
  std::map<Uuid, std::vector<RunView>> runs;
  std::int64_t last_offset = -1;
  std::int64_t last_limit = -1;
  std::optional<Uuid> last_client;
};

// No client exists (a test that calls as a client never looks itself up).
class NoClients final : public ClientDirectory {
 public:
  Result<std::optional<ClientRecord>> FindClient(const Uuid&) override {
    return std::optional<ClientRecord>();
  }
};

// The queue in memory: a fixed state and dead letters; replays are recorded, and answered as
// CommandQueue would (ReplaysOf finds them, or says why not).
class FakeCommandQueue final : public CommandQueue {
 public:
  Result<QueueState> State() override {
    if (unavailable) return Fail(ErrorCode::kUnavailable, "Kafka does not answer");
    return state;
  }
  Result<std::vector<DeadLetter>> DeadLetters() override {
    if (unavailable) return Fail(ErrorCode::kUnavailable, "Kafka does not answer");
    return letters;
  }
  Result<std::vector<Replayed>> Replay(const std::vector<DeadLetterRef>& refs) override {
    auto replays = ReplaysOf(letters, refs, state.dlq_topic);
    if (!replays) return std::unexpected(replays.error());
    std::vector<Replayed> out;
    for (std::size_t i = 0; i < refs.size(); ++i) {
      replayed.push_back((*replays)[i]);
      out.push_back(
          {refs[i], (*replays)[i].topic, {0, static_cast<std::int64_t>(replayed.size())}});
    }
    return out;
  }

  QueueState state{"conveyor.commands", "conveyor-workers", "conveyor.commands.dlq", {}, 0};
  std::vector<DeadLetter> letters;
  std::vector<OutgoingMessage> replayed;
  bool unavailable = false;
};

}  // namespace conveyor::testing
