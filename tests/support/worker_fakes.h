// In-memory fakes of the worker's ports that have no rules of their own to keep: the event
// source the consumer loop polls and the outbox the relay claims from. For unit tests without
// I/O.
#pragma once

#include <algorithm>
#include <atomic>
#include <deque>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "src/event_source.h"
#include "src/outbox_store.h"

namespace conveyor::testing {

// A consumer-group member's side of Kafka: messages queued by the test are delivered in
// order while the source is not paused; commits, pauses and resumes are recorded. Each Poll
// first calls `on_poll`, where a test checks what the loop did so far, hands partitions over
// (Revoke) or asks the loop to stop. Used from the loop's thread only, like the real one.
class FakeEventSource final : public EventSource {
 public:
  using Partition = std::pair<std::string, std::int32_t>;

  Result<std::vector<ConsumedMessage>> Poll(std::size_t max_messages,
                                            std::chrono::milliseconds) override {
    ++polls;
    if (on_poll) on_poll();
    if (fail_poll) return Fail(ErrorCode::kInternal, "consumer failed (fake)");
    std::vector<ConsumedMessage> out;
    while (!paused_ && !queued.empty() && out.size() < max_messages) {
      out.push_back(std::move(queued.front()));
      queued.pop_front();
    }
    delivered += out.size();
    return out;
  }
  Status Commit(const std::vector<PartitionOffset>& offsets) override {
    for (const auto& o : offsets) {
      commits.push_back(o);
      committed[{o.topic, o.partition}] = o.next_offset;
    }
    return {};
  }
  Status Pause() override {
    paused_ = true;
    ++pauses;
    return {};
  }
  Status Resume() override {
    paused_ = false;
    ++resumes;
    return {};
  }
  bool paused() const override { return paused_; }
  void Close() override { closed = true; }

  // The group takes these partitions away (`lost`: already given to another member): the
  // listener hands their work over, and their undelivered messages go to the next owner.
  void Revoke(const std::vector<Partition>& partitions, bool lost) {
    std::vector<TopicPartition> tps;
    for (const auto& [topic, partition] : partitions) tps.push_back({topic, partition});
    listener->OnRevoked(tps, lost);
    std::erase_if(queued, [&](const ConsumedMessage& m) {
      return std::find(partitions.begin(), partitions.end(), Partition{m.topic, m.partition}) !=
             partitions.end();
    });
  }

  // The latest committed offset of a partition; -1 when none was committed.
  std::int64_t CommittedOf(const Partition& p) const {
    auto it = committed.find(p);
    return it == committed.end() ? -1 : it->second;
  }

  RebalanceListener* listener = nullptr;
  std::deque<ConsumedMessage> queued;
  std::function<void()> on_poll;
  bool fail_poll = false;
  std::size_t polls = 0, delivered = 0, pauses = 0, resumes = 0;
  std::vector<PartitionOffset> commits;  // in the order they were made
  std::map<Partition, std::int64_t> committed;
  bool closed = false;

 private:
  bool paused_ = false;
};

// The outbox as a list of rows; a claim holds its rows until `publish` returns, so a claim
// made meanwhile (another relay's) does not see them. Thread-safe.
class FakeOutboxStore final : public OutboxStore {
 public:
  struct Row {
    OutboxRow row;
    bool sent = false;
    bool claimed = false;
  };

  std::int64_t Add(OutgoingMessage m) {
    std::lock_guard lock(mutex);
    rows.push_back({{next_id, std::move(m)}, false, false});
    return next_id++;
  }

  Result<std::size_t> ClaimUnsent(std::size_t limit, const PublishFn& publish) override {
    std::vector<OutboxRow> claim;
    {
      std::lock_guard lock(mutex);
      if (unavailable) return Fail(ErrorCode::kUnavailable, "database away (fake)");
      for (auto& r : rows) {
        if (claim.size() == limit) break;
        if (r.sent || r.claimed) continue;
        r.claimed = true;
        claim.push_back(r.row);
      }
      ++claims;
    }
    if (claim.empty()) return std::size_t{0};
    auto sent = publish(claim);
    std::lock_guard lock(mutex);
    for (auto& r : rows) {
      if (std::find_if(claim.begin(), claim.end(),
                       [&](const OutboxRow& c) { return c.id == r.row.id; }) == claim.end())
        continue;
      r.claimed = false;
      if (std::find(sent.begin(), sent.end(), r.row.id) != sent.end()) r.sent = true;
    }
    return claim.size();
  }

  Status DeleteSentBefore(std::chrono::seconds) override {
    std::lock_guard lock(mutex);
    std::erase_if(rows, [](const Row& r) { return r.sent; });
    ++cleanups;
    return {};
  }

  std::vector<std::int64_t> Unsent() {
    std::lock_guard lock(mutex);
    std::vector<std::int64_t> out;
    for (const auto& r : rows)
      if (!r.sent) out.push_back(r.row.id);
    return out;
  }

  std::mutex mutex;
  std::vector<Row> rows;
  std::int64_t next_id = 1;
  bool unavailable = false;
  std::atomic<int> claims = 0, cleanups = 0;
};

}  // namespace conveyor::testing
