// Access to the real Kafka broker and PostgreSQL server that the `services` ctest fixture
// started (scripts/test-services), and isolation between tests: each test gets databases
// and topics of its own, with random names.
//
// The addresses are those the fixture's services listen on (compiled in from
// tests/CMakeLists.txt); CONVEYOR_KAFKA_BROKERS and CONVEYOR_PG_URL override them. When the
// services are not running the tests fail (they are never skipped): run them through ctest.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "conveyor/kafka.h"
#include "support/wait.h"

namespace conveyor::testing {

std::string KafkaBrokers();
// The server's URL; connect to `ScratchDatabase::url()` instead of writing to it.
std::string ServerPgUrl();
// A short random name such as "t3f9a1c2", for topics and databases.
std::string UniqueName(const std::string& prefix);

// A database created for one test and dropped afterwards.
class ScratchDatabase {
 public:
  ScratchDatabase();
  ~ScratchDatabase();
  const std::string& url() const { return url_; }
  const std::string& name() const { return name_; }
  // The number a one-row, one-column query answers (a count), read in its own transaction.
  long long Count(const std::string& sql) const;

 private:
  std::string name_;
  std::string url_;
};

// Creates topics on the test broker with `replication` replicas and the topic `configs`
// (e.g. cleanup.policy=compact); fails the test on error.
void CreateTopics(const std::vector<std::string>& names, int partitions, int replication = 1,
                  const std::map<std::string, std::string>& configs = {});

// The id of the broker that leads the partition (on a cluster, scripts/kafka/cluster's node
// number); -1 when the metadata does not say.
int PartitionLeader(const std::string& topic, std::int32_t partition);

// How many messages the topic holds: the sum of its partitions' high watermarks.
std::int64_t MessageCount(const std::string& topic);

// Reads a topic from its beginning with a consumer group of its own.
class TopicReader {
 public:
  explicit TopicReader(const std::string& topic);
  // Reads until `done(all messages so far)` holds or the deadline passes; returns all read.
  std::vector<ConsumedMessage> ReadUntil(
      const std::function<bool(const std::vector<ConsumedMessage>&)>& done,
      std::chrono::milliseconds deadline);

 private:
  std::unique_ptr<KafkaConsumer> consumer_;
  std::vector<ConsumedMessage> seen_;
};

// The offset that consumer group `group` committed for the partition; -1 when none.
std::int64_t CommittedOffset(const std::string& group, const std::string& topic,
                             std::int32_t partition);

// A child process started from argv with extra environment; stopped with SIGTERM (then
// SIGKILL after 10 s) when destroyed. Its stderr goes to `log_path`.
class ChildProcess {
 public:
  ChildProcess(std::vector<std::string> argv, std::vector<std::string> extra_env,
               const std::string& log_path);
  ~ChildProcess();
  int pid() const { return pid_; }
  bool running();
  // The exit status as waitpid reported it, once running() found the process gone; -1 before.
  int status() const { return status_; }
  // Sends `signal` and waits for the exit; returns the exit status as waitpid reports it.
  int Stop(int signal, std::chrono::milliseconds deadline = std::chrono::seconds(10));
  std::string Log() const;

 private:
  int pid_ = -1;
  bool reaped_ = false;
  int status_ = -1;
  std::string log_path_;
};

// A TCP port on 127.0.0.1 that was free a moment ago.
int FreePort();

}  // namespace conveyor::testing
