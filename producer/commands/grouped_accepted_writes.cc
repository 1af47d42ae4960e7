#include "commands/grouped_accepted_writes.h"

#include <exception>
#include <string>
#include <unordered_map>
#include <utility>

namespace conveyor {

struct GroupedAcceptedWrites::Group {
  std::vector<AcceptedTask> tasks;
  std::unordered_map<Uuid, std::size_t> task_index;  // task id -> its place in `tasks`
  std::vector<AcceptedNote> notes;
  std::size_t callers = 0;
  bool done = false;
  Status status;

  void Add(const std::vector<AcceptedTask>& more, const std::vector<AcceptedNote>& more_notes) {
    for (const auto& t : more) {
      auto [it, fresh] = task_index.try_emplace(t.task.id, tasks.size());
      if (fresh)
        tasks.push_back(t);
      else if (tasks[it->second].offset < t.offset)
        tasks[it->second] = t;
    }
    notes.insert(notes.end(), more_notes.begin(), more_notes.end());
    ++callers;
  }
};

// The inner store's answer; an exception is one too, so that the writer's turn always ends
// (a writer that left by an exception would leave every later record waiting).
Status GroupedAcceptedWrites::WriteGroup(const Group& group) {
  try {
    return inner_.Record(group.tasks, group.notes);
  } catch (const std::exception& e) {
    return Fail(ErrorCode::kInternal, std::string("recording accepted commands: ") + e.what());
  }
}

Status GroupedAcceptedWrites::Record(const std::vector<AcceptedTask>& tasks,
                                     const std::vector<AcceptedNote>& notes) {
  if (tasks.empty() && notes.empty()) return {};
  std::unique_lock lock(mutex_);
  if (!open_) open_ = std::make_shared<Group>();
  auto mine = open_;
  mine->Add(tasks, notes);
  // Not done and nobody writing: no write has taken the group, so it is still open_, and
  // this caller writes it.
  while (!mine->done) {
    if (writing_) {
      written_.wait(lock);
      continue;
    }
    writing_ = true;
    auto group = std::exchange(open_, nullptr);
    lock.unlock();
    auto status = WriteGroup(*group);
    lock.lock();
    group->status = std::move(status);
    group->done = true;
    writing_ = false;
    written_.notify_all();
  }
  return mine->status;
}

std::size_t GroupedAcceptedWrites::Waiting() {
  std::lock_guard lock(mutex_);
  return open_ ? open_->callers : 0;
}

}  // namespace conveyor
