// The five faults of the suite (fault_fixture.h). Each runs a producer and two workers under a
// recorded load, applies its fault, heals it, and audits: every create answered 2xx is
// recorded once, every run ends once, one notification per final state, nothing poisoned.
#include <signal.h>

#include "faults/fault_fixture.h"
#include "support/tcp_proxy.h"

namespace conveyor::testing {
namespace {

class Faults : public FaultTest {};

TEST_F(Faults, PartitionLeaderKilledDuringCreatesThenRestarted) {
  auto producer = StartProducer(KafkaBrokers());
  auto a = StartWorker("fault-a", WorkerFlags());
  auto b = StartWorker("fault-b", WorkerFlags());
  LoadClient load(TwoSmsCreates("leader"), Tasks());
  load.Start(8);
  ASSERT_TRUE(PollUntil([&] { return load.answered() >= load.count() / 5; }, 120s));

  int leader = PartitionLeader(commands_, 0);
  ASSERT_GE(leader, 1) << "no leader for " << commands_ << "[0]";
  auto killed_at = LoadClock::now();
  Script("cluster", "kill " + std::to_string(leader));
  load.Join();
  Script("cluster", "start " + std::to_string(leader));

  Audit("partition leader (broker " + std::to_string(leader) + ") killed with SIGKILL", load,
        killed_at);
}

TEST_F(Faults, PostgresStoppedImmediatelyForLongerThanMaxPollIntervalUnderLoad) {
  auto producer = StartProducer(KafkaBrokers());
  auto a = StartWorker("fault-a", WorkerFlags());
  auto b = StartWorker("fault-b", WorkerFlags());
  LoadClient load(TwoSmsCreates("postgres"), kMostCreates);
  load.Start(4, 20ms);
  ASSERT_TRUE(PollUntil([&] { return load.answered() >= 200; }, 120s));

  Script("postgres", "crash");
  HoldFor(kMaxPollInterval + 2s);
  Script("postgres", "start");
  auto healed_at = LoadClock::now();
  SendOnFor(load, 200);

  auto figures = Audit("PostgreSQL stopped with -m immediate for 12 s", load, healed_at);
  EXPECT_GT(figures.unavailable, 0) << "the producer did not answer 503 while PostgreSQL was down";
  EXPECT_TRUE(a->running()) << a->Log();
  EXPECT_TRUE(b->running()) << b->Log();
}

TEST_F(Faults, WorkerCutOffFromTheBrokersLongerThanTheSessionTimeoutThenHealed) {
  std::vector<std::unique_ptr<TcpProxy>> proxies;
  std::string proxied;
  for (int node = 1; node <= 3; ++node) {
    proxies.push_back(std::make_unique<TcpProxy>(ClusterPort(30, node), ClusterPort(20, node)));
    ASSERT_TRUE(proxies.back()->listening());
    proxied += (proxied.empty() ? "" : ",") + std::string("127.0.0.1:") +
               std::to_string(ClusterPort(30, node));
  }
  auto producer = StartProducer(KafkaBrokers());
  auto cut = StartWorker("fault-cut", WorkerFlags(), proxied);
  auto other = StartWorker("fault-other", WorkerFlags());
  LoadClient load(
      TwoSmsCreates("cut", [&](int i) { return i % 20 == 0 ? SleepTask(1, 2) : SeedRequest(); }),
      kMostCreates);
  load.Start(4, 20ms);
  ASSERT_TRUE(PollUntil(
      [&] { return Count("SELECT count(*) FROM runs WHERE worker = 'fault-cut'") > 0; }, 120s))
      << cut->Log();

  for (auto& p : proxies) p->Cut();
  HoldFor(kSessionTimeout + 2s);
  auto moved = DbMillis();  // the group has dropped the cut worker by now
  HoldFor(2s);
  auto healed = DbMillis();
  for (auto& p : proxies) p->Heal();
  auto healed_at = LoadClock::now();
  SendOnFor(load, 200);

  auto figures = Audit("a worker cut off from the brokers for 10 s", load, healed_at);
  // Its partitions moved: from then until the heal, runs started on the other worker only.
  auto started_between = [&](const std::string& worker) {
    return Count("SELECT count(*) FROM runs WHERE worker = '" + worker +
                 "' AND started_at >= to_timestamp(" + moved + " / 1000.0) AND started_at < " +
                 "to_timestamp(" + healed + " / 1000.0)");
  };
  EXPECT_GT(started_between("fault-other"), 0) << "nothing ran while the worker was cut off";
  EXPECT_EQ(started_between("fault-cut"), 0) << "the cut-off worker started runs it had lost";
  EXPECT_LE(Count("SELECT coalesce(max(start_count), 0) FROM runs"), 2)
      << "a run started more than twice";
  EXPECT_GE(figures.answers_back_s, 0);
}

TEST_F(Faults, NotificationsWaitWhileEveryBrokerIsDownThenAllGoOutInOrder) {
  auto producer = StartProducer(KafkaBrokers());
  auto a = StartWorker("fault-a", WorkerFlags());
  auto b = StartWorker("fault-b", WorkerFlags());
  LoadClient load(TwoSmsCreates("outbox", [](int) { return SleepTask(1.5, 3); }), 96);
  load.Start(4);
  load.Join();
  ASSERT_TRUE(PollUntil(
      [&] { return Count("SELECT count(*) FROM runs WHERE state = 'started'") > 0; }, 60s));

  Script("cluster", "stop");
  long long waiting = 0;
  PollUntil(
      [&] {
        waiting = Count("SELECT count(*) FROM outbox WHERE sent_at IS NULL AND topic = '" +
                        notifications_ + "'");
        return waiting >= 8;
      },
      30s, 100ms);
  std::printf("notifications waiting in the outbox while the brokers were down: %lld\n", waiting);
  Script("cluster", "start");
  auto healed_at = LoadClock::now();

  EXPECT_GT(waiting, 0) << "no notification waited in the outbox while the brokers were down";
  Audit("every broker stopped while runs ended (the outbox relay cannot publish)", load, healed_at);
  EXPECT_EQ(Count("SELECT count(*) FROM outbox WHERE sent_at IS NULL"), 0);
}

TEST_F(Faults, AWorkerKilledWithSigkillTenTimesInARowUnderLoad) {
  auto producer = StartProducer(KafkaBrokers());
  auto steady = StartWorker("fault-steady", WorkerFlags());
  auto victim = StartWorker("fault-victim", WorkerFlags());
  LoadClient load(
      TwoSmsCreates("kill", [&](int i) { return i % 10 == 0 ? SleepTask(0.5, 1) : SeedRequest(); }),
      kMostCreates);
  load.Start(4, 40ms);
  auto first_kill = LoadClock::now();
  for (int kill = 1; kill <= 10; ++kill) {
    // A run this start of the victim began (one it began and a live worker started again
    // afterwards names that worker, so a count of the victim's runs can go down).
    auto since = DbMillis();
    ASSERT_TRUE(PollUntil(
        [&] {
          return Count(
                     "SELECT count(*) FROM runs WHERE worker = 'fault-victim' AND started_at >= "
                     "to_timestamp(" +
                     since + " / 1000.0)") > 0;
        },
        60s))
        << "kill " << kill << ": the victim ran nothing\n"
        << victim->Log();
    if (kill == 1) first_kill = LoadClock::now();
    victim->Stop(SIGKILL);
    victim = StartWorker("fault-victim", WorkerFlags());
  }
  SendOnFor(load, 200);
  Audit("a worker killed with SIGKILL ten times in a row", load, first_kill);
}

}  // namespace
}  // namespace conveyor::testing
