#include "commands/grouped_accepted_writes.h"

#include <exception>
#include <future>
#include <string>
#include <unordered_map>
#include <utility>

#include "conveyor/logging.h"

namespace conveyor {

struct GroupedAcceptedWrites::Group {
  std::vector<AcceptedTask> tasks;
  std::unordered_map<Uuid, std::size_t> task_index;  // task id -> its place in `tasks`
  std::vector<AcceptedNote> notes;
  std::vector<std::function<void(Status)>> callers;

  void Add(std::vector<AcceptedTask> more, std::vector<AcceptedNote> more_notes,
           std::function<void(Status)> done) {
    for (auto& t : more) {
      auto [it, fresh] = task_index.try_emplace(t.task.id, tasks.size());
      if (fresh)
        tasks.push_back(std::move(t));
      else if (tasks[it->second].offset < t.offset)
        tasks[it->second] = std::move(t);
    }
    for (auto& n : more_notes) notes.push_back(std::move(n));
    callers.push_back(std::move(done));
  }
};

GroupedAcceptedWrites::GroupedAcceptedWrites(AcceptedWrites& inner)
    : inner_(inner), writer_([this] { WriteGroups(); }) {}

GroupedAcceptedWrites::~GroupedAcceptedWrites() { Stop(); }

void GroupedAcceptedWrites::Stop() {
  {
    std::lock_guard lock(mutex_);
    stopping_ = true;
  }
  recorded_.notify_all();
  if (writer_.joinable()) writer_.join();
}

// The writing thread: takes the open group as soon as it has records and writes it; stops
// once stopping and nothing is left.
void GroupedAcceptedWrites::WriteGroups() {
  for (;;) {
    std::unique_lock lock(mutex_);
    recorded_.wait(lock, [&] { return open_ || stopping_; });
    if (!open_) return;
    auto group = std::exchange(open_, nullptr);
    lock.unlock();
    auto status = WriteGroup(*group);
    for (auto& done : group->callers) {
      try {
        done(status);
      } catch (const std::exception& e) {  // a bug in a caller's continuation; the others go on
        logging::Get("ingest")->error("after recording accepted commands: {}", e.what());
      }
    }
  }
}

// The inner store's answer; an exception is one too, so that the writer goes on.
Status GroupedAcceptedWrites::WriteGroup(const Group& group) {
  try {
    return inner_.Record(group.tasks, group.notes);
  } catch (const std::exception& e) {
    return Fail(ErrorCode::kInternal, std::string("recording accepted commands: ") + e.what());
  }
}

void GroupedAcceptedWrites::RecordThen(std::vector<AcceptedTask> tasks,
                                       std::vector<AcceptedNote> notes,
                                       std::function<void(Status)> done) {
  if (tasks.empty() && notes.empty()) return done({});
  {
    std::unique_lock lock(mutex_);
    if (stopping_) {
      lock.unlock();
      return done(Fail(ErrorCode::kUnavailable, "the producer is stopping"));
    }
    if (!open_) open_ = std::make_unique<Group>();
    open_->Add(std::move(tasks), std::move(notes), std::move(done));
  }
  recorded_.notify_one();
}

Status GroupedAcceptedWrites::Record(const std::vector<AcceptedTask>& tasks,
                                     const std::vector<AcceptedNote>& notes) {
  std::promise<Status> written;
  auto status = written.get_future();
  RecordThen(tasks, notes, [&written](Status s) { written.set_value(std::move(s)); });
  return status.get();
}

std::size_t GroupedAcceptedWrites::Waiting() {
  std::lock_guard lock(mutex_);
  return open_ ? open_->callers.size() : 0;
}

}  // namespace conveyor
