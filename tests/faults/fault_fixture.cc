#include "faults/fault_fixture.h"

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <fstream>

namespace conveyor::testing {
namespace {

// Where the suite's own services are (compiled in from tests/CMakeLists.txt), for the support
// code and the scripts that read them from the environment. They replace whatever the
// environment held (scripts/stack's PG_PORT, say): the tests crash and kill these services.
const bool kServicesInEnvironment = [] {
  setenv("CONVEYOR_KAFKA_BROKERS", CONVEYOR_FAULT_KAFKA_BROKERS, 1);
  setenv("CONVEYOR_PG_URL", CONVEYOR_FAULT_PG_URL, 1);
  setenv("CONVEYOR_FAULT_KAFKA_STATE", CONVEYOR_FAULT_KAFKA_STATE, 1);
  setenv("CONVEYOR_FAULT_PG_STATE", CONVEYOR_FAULT_PG_STATE, 1);
  setenv("KAFKA_CLUSTER_PORT", CONVEYOR_FAULT_KAFKA_PORT, 1);
  setenv("PG_PORT", CONVEYOR_FAULT_PG_PORT, 1);
  return true;
}();

double SecondsBetween(LoadClock::time_point from, LoadClock::time_point to) {
  return std::chrono::duration<double>(to - from).count();
}

std::set<std::string> Column(const std::string& url, const std::string& sql) {
  pqxx::connection conn(url);
  pqxx::read_transaction tx(conn);
  std::set<std::string> out;
  for (const auto& row : tx.exec(sql)) out.insert(row[0].c_str());
  return out;
}

// "1.2 s", or "-" for a time not measured (no request was sent after the heal).
std::string Seconds(double s) {
  if (s < 0) return "-";
  char text[32];
  std::snprintf(text, sizeof text, "%.1f s", s);
  return text;
}

bool IsFinal(std::string_view type) {
  return type == kRunSucceededEvent || type == kRunFailedEvent || type == kRunCancelledEvent;
}

// A task's events in the order its partition holds them: within a start of its run, progress
// never goes back; starts never go back; nothing follows the final event. A repeat of an event
// already seen (same id) is a redelivery, allowed.
bool InOrder(const std::vector<CloudEvent>& events) {
  std::set<std::string> seen;
  bool ended = false;
  std::pair<int, int> last{0, -1};  // (start_count, percent)
  for (const auto& e : events) {
    if (!seen.insert(e.id.ToString()).second) continue;
    if (ended) return false;
    if (IsFinal(e.type)) {
      ended = true;
      continue;
    }
    std::pair<int, int> now{e.data.value("start_count", 0), e.data.value("percent", 0)};
    if (now < last) return false;
    last = now;
  }
  return true;
}

}  // namespace

FaultFigures FaultTest::Audit(const std::string& fault, LoadClient& load,
                              LoadClock::time_point healed_at) {
  FaultFigures f;
  std::set<std::string> acknowledged;
  CountAnswers(load, healed_at, f, acknowledged);
  CountRecords(acknowledged, healed_at, f);
  CountNotifications(acknowledged, f);
  f.dead_lettered = MessageCount(dlq_);
  if (!f.lost_tasks.empty()) ExplainLost(f.lost_tasks);

  std::printf(
      "FAULT %s: sent %d, acknowledged %d (+%d when asked again with the same key; %d first "
      "answered 503), recorded %d, duplicated %d, lost %d, recorded unknown to the client %d; runs "
      "unfinished %d, restarted %d; notified %d (twice %d, out of order %d), dead-lettered %lld; "
      "answers back in %s, every run final in %s\n",
      fault.c_str(), f.sent, f.acknowledged, f.acknowledged_on_retry, f.unavailable, f.recorded,
      f.duplicated, f.lost, f.unknown, f.unfinished, f.restarted, f.notified, f.notified_twice,
      f.out_of_order, static_cast<long long>(f.dead_lettered), Seconds(f.answers_back_s).c_str(),
      Seconds(f.all_final_s).c_str());
  std::fflush(stdout);

  EXPECT_EQ(f.acknowledged + f.acknowledged_on_retry, f.sent) << "creates never answered 2xx";
  EXPECT_EQ(f.recorded, f.sent);
  EXPECT_EQ(f.lost, 0);
  EXPECT_EQ(f.unknown, 0);
  EXPECT_EQ(f.duplicated, 0);
  EXPECT_EQ(f.unfinished, 0);
  EXPECT_EQ(f.notified, f.sent);
  EXPECT_EQ(f.notified_twice, 0);
  EXPECT_EQ(f.out_of_order, 0);
  EXPECT_EQ(f.dead_lettered, 0) << "nothing sent was poison";
  return f;
}

void FaultTest::CountAnswers(LoadClient& load, LoadClock::time_point healed_at, FaultFigures& f,
                             std::set<std::string>& acknowledged) {
  load.Join();
  EXPECT_TRUE(load.Settle(std::chrono::seconds(120)))
      << "some creates were still not answered 2xx after 120 s of asking again";
  auto first = load.first();
  auto last = load.last();
  f.sent = load.count();
  for (std::size_t i = 0; i < last.size(); ++i) {
    f.unavailable += first[i].status == 503 ? 1 : 0;
    if (first[i].ok())
      ++f.acknowledged;
    else if (last[i].ok())
      ++f.acknowledged_on_retry;
    if (last[i].ok()) acknowledged.insert(last[i].task_id);
    if (last[i].ok() && last[i].sent_at >= healed_at) {
      double back = SecondsBetween(healed_at, last[i].answered_at);
      if (f.answers_back_s < 0 || back < f.answers_back_s) f.answers_back_s = back;
    }
  }
}

void FaultTest::CountRecords(const std::set<std::string>& acknowledged,
                             LoadClock::time_point healed_at, FaultFigures& f) {
  const std::string final_runs =
      "SELECT count(*) FROM runs WHERE state IN ('succeeded', 'failed', 'cancelled')";
  bool all_final =
      PollUntil([&] { return Count(final_runs) >= static_cast<long long>(acknowledged.size()); },
                180s, 100ms);
  if (all_final) f.all_final_s = SecondsBetween(healed_at, LoadClock::now());
  auto recorded = Column(db_.url(), "SELECT id::text FROM tasks");
  f.recorded = static_cast<int>(recorded.size());
  for (const auto& id : acknowledged)
    if (!recorded.contains(id)) f.lost_tasks.insert(id);
  f.lost = static_cast<int>(f.lost_tasks.size());
  for (const auto& id : recorded) f.unknown += acknowledged.contains(id) ? 0 : 1;
  f.duplicated =
      static_cast<int>(Count("SELECT count(*) FROM (SELECT task_id FROM runs GROUP BY task_id "
                             "HAVING count(*) > 1) AS twice"));
  f.unfinished = static_cast<int>(
      Count("SELECT count(*) FROM runs WHERE state NOT IN ('succeeded', 'failed', 'cancelled')") +
      Count("SELECT count(*) FROM tasks t WHERE NOT EXISTS "
            "(SELECT 1 FROM runs r WHERE r.task_id = t.id)"));
  f.restarted = static_cast<int>(Count("SELECT count(*) FROM runs WHERE start_count > 1"));
}

void FaultTest::CountNotifications(const std::set<std::string>& acknowledged, FaultFigures& f) {
  // Everything the workers will publish is on the topic once the outbox is empty: read all of
  // it, so that a second final event, or one after the final, is seen too.
  EXPECT_TRUE(PollUntil(
      [&] { return Count("SELECT count(*) FROM outbox WHERE sent_at IS NULL") == 0; }, 120s, 100ms))
      << "notifications still unsent after 120 s";
  const auto published =
      static_cast<std::size_t>(std::max<std::int64_t>(0, MessageCount(notifications_)));
  TopicReader reader(notifications_);
  std::map<std::string, std::set<std::string>> finals;  // task -> ids of its final events
  std::map<std::string, std::vector<CloudEvent>> events;
  std::size_t read = 0;
  reader.ReadUntil(
      [&](const std::vector<ConsumedMessage>& all) {
        for (; read < all.size(); ++read) {
          auto e = CloudEvent::Parse(all[read].value);
          if (!e) continue;
          if (IsFinal(e->type)) finals[e->subject].insert(e->id.ToString());
          events[e->subject].push_back(std::move(*e));
        }
        return read >= published;
      },
      120s);
  EXPECT_GE(read, published) << "the notifications topic was not read to its end";
  for (const auto& id : acknowledged) {
    auto it = finals.find(id);
    if (it == finals.end()) continue;
    ++f.notified;
    if (it->second.size() > 1) ++f.notified_twice;
  }
  for (const auto& [task, list] : events) f.out_of_order += InOrder(list) ? 0 : 1;
}

// The lines of each worker's log that tell how its consumer's partitions moved.
void FaultTest::PrintConsumerEvents() const {
  static const std::vector<std::string> kMarks = {"partition(s)", "paused", "resumed",
                                                  "consumer:", "not applied"};
  for (const auto& path : worker_logs_) {
    std::ifstream in(path);
    std::printf("-- %s\n", path.c_str());
    int printed = 0;
    for (std::string line; std::getline(in, line) && printed < 200;) {
      if (std::none_of(kMarks.begin(), kMarks.end(),
                       [&](const auto& m) { return line.find(m) != std::string::npos; }))
        continue;
      std::printf("%s\n", line.c_str());
      ++printed;
    }
  }
}

void FaultTest::ExplainLost(const std::set<std::string>& lost) {
  const auto published =
      static_cast<std::size_t>(std::max<std::int64_t>(0, MessageCount(commands_)));
  TopicReader reader(commands_);
  auto all = reader.ReadUntil(
      [&](const std::vector<ConsumedMessage>& read) { return read.size() >= published; }, 120s);
  std::set<std::string> found;
  for (const auto& m : all) {
    auto e = CloudEvent::Parse(m.value);
    if (!e || !lost.contains(e->subject)) continue;
    found.insert(e->subject);
    std::printf("LOST task %s: %s at %s[%d] offset %lld; the group committed %lld there\n",
                e->subject.c_str(), e->type.c_str(), commands_.c_str(), m.partition,
                static_cast<long long>(m.offset),
                static_cast<long long>(CommittedOffset(commands_, commands_, m.partition)));
  }
  PrintConsumerEvents();
  for (const auto& id : lost)
    if (!found.contains(id))
      std::printf("LOST task %s: no command of it among the %zu read from %s\n", id.c_str(),
                  all.size(), commands_.c_str());
  std::fflush(stdout);
}

}  // namespace conveyor::testing
