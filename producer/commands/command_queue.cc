#include "commands/command_queue.h"

namespace conveyor {
namespace {

constexpr std::chrono::seconds kKafkaTimeout{5};
constexpr char kClientId[] = "conveyor-producer-queue";

}  // namespace

Result<QueueState> KafkaCommandQueue::State() {
  QueueState state{commands_topic_, settings_.worker_group, settings_.dlq_topic, {}, {}};
  auto commands = GroupProgress(kafka_, commands_topic_, settings_.worker_group, kKafkaTimeout);
  if (!commands) return std::unexpected(commands.error());
  state.commands = std::move(*commands);
  auto dead = GroupProgress(kafka_, settings_.dlq_topic, "", kKafkaTimeout);
  if (!dead && dead.error().code == ErrorCode::kNotFound) return state;  // the lag still tells
  if (!dead) return std::unexpected(dead.error());
  state.dead_letters = 0;
  for (const auto& p : *dead) *state.dead_letters += p.messages();
  return state;
}

Result<std::vector<DeadLetter>> KafkaCommandQueue::DeadLetters() {
  return ReadDeadLetters(kafka_, settings_.dlq_topic, kClientId);
}

Result<std::vector<Replayed>> KafkaCommandQueue::Replay(const std::vector<DeadLetterRef>& refs) {
  auto letters = DeadLetters();
  if (!letters) return std::unexpected(letters.error());
  auto replays = ReplaysOf(*letters, refs, settings_.dlq_topic);
  if (!replays) return std::unexpected(replays.error());
  std::vector<Replayed> out;
  for (std::size_t i = 0; i < replays->size(); ++i) {
    auto sent = publisher_.Publish((*replays)[i]);
    if (!sent) return std::unexpected(sent.error());
    out.push_back({refs[i], (*replays)[i].topic, *sent});
  }
  return out;
}

}  // namespace conveyor
