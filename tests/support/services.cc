#include "support/services.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <librdkafka/rdkafka.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <cstring>
#include <fstream>
#include <memory>
#include <pqxx/pqxx>
#include <sstream>
#include <thread>

#include "conveyor/uuid.h"

extern char** environ;

namespace conveyor::testing {
namespace {

std::string EnvOr(const char* name, const char* fallback) {
  const char* v = std::getenv(name);
  return v && *v ? v : fallback;
}

// The server URL with its database name replaced by `db`.
std::string WithDatabase(const std::string& url, const std::string& db) {
  auto slash = url.rfind('/');
  auto query = url.find('?', slash);
  return url.substr(0, slash + 1) + db + (query == std::string::npos ? "" : url.substr(query));
}

}  // namespace

std::string KafkaBrokers() { return EnvOr("CONVEYOR_KAFKA_BROKERS", CONVEYOR_TEST_KAFKA_BROKERS); }
std::string ServerPgUrl() { return EnvOr("CONVEYOR_PG_URL", CONVEYOR_TEST_PG_URL); }

std::string UniqueName(const std::string& prefix) {
  return prefix + Uuid::Random().ToString().substr(0, 8);
}

ScratchDatabase::ScratchDatabase() : name_(UniqueName("t")) {
  pqxx::connection admin(ServerPgUrl());
  pqxx::nontransaction tx(admin);
  tx.exec0("CREATE DATABASE " + name_);
  url_ = WithDatabase(ServerPgUrl(), name_);
}

ScratchDatabase::~ScratchDatabase() {
  try {
    pqxx::connection admin(ServerPgUrl());
    pqxx::nontransaction tx(admin);
    tx.exec0("DROP DATABASE IF EXISTS " + name_ + " WITH (FORCE)");
  } catch (const std::exception& e) {
    ADD_FAILURE() << "dropping " << name_ << ": " << e.what();
  }
}

long long ScratchDatabase::Count(const std::string& sql) const {
  pqxx::connection conn(url_);
  pqxx::read_transaction tx(conn);
  return tx.exec1(sql)[0].as<long long>();
}

void CreateTopics(const std::vector<std::string>& names, int partitions, int replication,
                  const std::map<std::string, std::string>& configs) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", KafkaBrokers().c_str(), err, sizeof err);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  ASSERT_NE(rk, nullptr) << err;
  std::vector<rd_kafka_NewTopic_t*> topics;
  for (const auto& n : names) {
    topics.push_back(rd_kafka_NewTopic_new(n.c_str(), partitions, replication, err, sizeof err));
    for (const auto& [name, value] : configs)
      rd_kafka_NewTopic_set_config(topics.back(), name.c_str(), value.c_str());
  }
  rd_kafka_queue_t* queue = rd_kafka_queue_new(rk);
  rd_kafka_CreateTopics(rk, topics.data(), topics.size(), nullptr, queue);
  rd_kafka_event_t* ev = rd_kafka_queue_poll(queue, 30000);
  ASSERT_NE(ev, nullptr) << "CreateTopics gave no answer in 30 s";
  size_t count = 0;
  const rd_kafka_topic_result_t** results =
      rd_kafka_CreateTopics_result_topics(rd_kafka_event_CreateTopics_result(ev), &count);
  for (size_t i = 0; i < count; ++i)
    EXPECT_EQ(rd_kafka_topic_result_error(results[i]), RD_KAFKA_RESP_ERR_NO_ERROR)
        << rd_kafka_topic_result_name(results[i]) << ": "
        << (rd_kafka_topic_result_error_string(results[i])
                ? rd_kafka_topic_result_error_string(results[i])
                : "");
  rd_kafka_event_destroy(ev);
  rd_kafka_queue_destroy(queue);
  for (auto* t : topics) rd_kafka_NewTopic_destroy(t);
  rd_kafka_destroy(rk);
}

namespace {

// A producer handle for metadata queries; nullptr (with a failure recorded) when none.
std::unique_ptr<rd_kafka_t, void (*)(rd_kafka_t*)> MetadataClient() {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", KafkaBrokers().c_str(), err, sizeof err);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof err);
  EXPECT_NE(rk, nullptr) << err;
  return {rk, &rd_kafka_destroy};
}

// The topic's metadata (one topic) through `rk`; nullptr when the broker gave none in 10 s.
std::unique_ptr<const rd_kafka_metadata_t, void (*)(const rd_kafka_metadata_t*)> TopicMetadata(
    rd_kafka_t* rk, const std::string& topic) {
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_topic_t* t = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
  if (rd_kafka_metadata(rk, 0, t, &md, 10000) != RD_KAFKA_RESP_ERR_NO_ERROR) md = nullptr;
  rd_kafka_topic_destroy(t);
  return {md, &rd_kafka_metadata_destroy};
}

}  // namespace

int PartitionLeader(const std::string& topic, std::int32_t partition) {
  auto rk = MetadataClient();
  if (!rk) return -1;
  auto md = TopicMetadata(rk.get(), topic);
  if (!md || md->topic_cnt != 1) return -1;
  const auto& t = md->topics[0];
  for (int i = 0; i < t.partition_cnt; ++i)
    if (t.partitions[i].id == partition) return t.partitions[i].leader;
  return -1;
}

std::int64_t MessageCount(const std::string& topic) {
  auto rk = MetadataClient();
  if (!rk) return -1;
  auto md = TopicMetadata(rk.get(), topic);
  if (!md || md->topic_cnt != 1) return -1;
  std::int64_t total = 0;
  for (int i = 0; i < md->topics[0].partition_cnt; ++i) {
    std::int64_t low = 0, high = 0;
    if (rd_kafka_query_watermark_offsets(rk.get(), topic.c_str(), md->topics[0].partitions[i].id,
                                         &low, &high, 10000) != RD_KAFKA_RESP_ERR_NO_ERROR)
      return -1;
    total += high;
  }
  return total;
}

std::int64_t CommittedOffset(const std::string& group, const std::string& topic,
                             std::int32_t partition) {
  char err[512];
  rd_kafka_conf_t* conf = rd_kafka_conf_new();
  rd_kafka_conf_set(conf, "bootstrap.servers", KafkaBrokers().c_str(), err, sizeof err);
  rd_kafka_conf_set(conf, "group.id", group.c_str(), err, sizeof err);
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof err);
  if (!rk) return -1;
  rd_kafka_topic_partition_list_t* list = rd_kafka_topic_partition_list_new(1);
  rd_kafka_topic_partition_list_add(list, topic.c_str(), partition);
  std::int64_t offset = -1;
  if (rd_kafka_committed(rk, list, 10000) == RD_KAFKA_RESP_ERR_NO_ERROR &&
      list->elems[0].err == RD_KAFKA_RESP_ERR_NO_ERROR)
    offset = list->elems[0].offset;
  rd_kafka_topic_partition_list_destroy(list);
  rd_kafka_destroy(rk);
  return offset;
}

TopicReader::TopicReader(const std::string& topic) {
  KafkaSettings s;
  s.brokers = KafkaBrokers();
  auto c = KafkaConsumer::Create(s, UniqueName("reader-"), "test-reader", {topic});
  EXPECT_TRUE(c.has_value()) << c.error().Describe();
  if (c) consumer_ = std::move(*c);
}

std::vector<ConsumedMessage> TopicReader::ReadUntil(
    const std::function<bool(const std::vector<ConsumedMessage>&)>& done,
    std::chrono::milliseconds deadline) {
  auto until = std::chrono::steady_clock::now() + deadline;
  while (consumer_ && !done(seen_) && std::chrono::steady_clock::now() < until) {
    auto batch = consumer_->Poll(100, std::chrono::milliseconds(100));
    if (!batch) break;
    for (auto& m : *batch) seen_.push_back(std::move(m));
  }
  return seen_;
}

ChildProcess::ChildProcess(std::vector<std::string> argv, std::vector<std::string> extra_env,
                           const std::string& log_path)
    : log_path_(log_path) {
  std::vector<std::string> env;
  for (char** e = environ; *e; ++e) env.emplace_back(*e);
  for (auto& e : extra_env) env.push_back(std::move(e));
  std::vector<char*> argv_c, env_c;
  for (auto& a : argv) argv_c.push_back(a.data());
  argv_c.push_back(nullptr);
  for (auto& e : env) env_c.push_back(e.data());
  env_c.push_back(nullptr);
  posix_spawn_file_actions_t actions;
  posix_spawn_file_actions_init(&actions);
  posix_spawn_file_actions_addopen(&actions, 2, log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC,
                                   0644);
  posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0);
  // The test runner may block signals in its threads; the child starts with none blocked.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
  int rc = posix_spawn(&pid_, argv_c[0], &actions, &attr, argv_c.data(), env_c.data());
  posix_spawn_file_actions_destroy(&actions);
  posix_spawnattr_destroy(&attr);
  if (rc != 0) {
    ADD_FAILURE() << "cannot start " << argv[0] << ": " << std::strerror(rc);
    pid_ = -1;
  }
}

ChildProcess::~ChildProcess() {
  if (pid_ > 0 && !reaped_) Stop(SIGTERM);
}

bool ChildProcess::running() {
  if (pid_ <= 0 || reaped_) return false;
  int status = 0;
  if (waitpid(pid_, &status, WNOHANG) == pid_) {
    reaped_ = true;
    status_ = status;
    return false;
  }
  return true;
}

int ChildProcess::Stop(int signal, std::chrono::milliseconds deadline) {
  if (pid_ <= 0 || reaped_) return -1;
  kill(pid_, signal);
  int status = 0;
  auto until = std::chrono::steady_clock::now() + deadline;
  while (std::chrono::steady_clock::now() < until) {
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      reaped_ = true;
      return status;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  kill(pid_, SIGKILL);
  waitpid(pid_, &status, 0);
  reaped_ = true;
  ADD_FAILURE() << "pid " << pid_ << " did not stop within " << deadline.count() << " ms of signal "
                << signal << "; killed";
  return status;
}

std::string ChildProcess::Log() const {
  std::ifstream in(log_path_);
  std::stringstream s;
  s << in.rdbuf();
  return s.str();
}

int FreePort() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr);
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  int port = ntohs(addr.sin_port);
  close(fd);
  return port;
}

}  // namespace conveyor::testing
