#include "conveyor/kafka.h"

#include <librdkafka/rdkafka.h>

#include <algorithm>
#include <atomic>
#include <future>
#include <mutex>
#include <thread>

#include "conveyor/logging.h"

namespace conveyor {
namespace {

struct ConfDeleter {
  void operator()(rd_kafka_conf_t* c) const { rd_kafka_conf_destroy(c); }
};
using ConfPtr = std::unique_ptr<rd_kafka_conf_t, ConfDeleter>;

struct HandleDeleter {
  void operator()(rd_kafka_t* rk) const { rd_kafka_destroy(rk); }
};
using HandlePtr = std::unique_ptr<rd_kafka_t, HandleDeleter>;

struct PartitionListDeleter {
  void operator()(rd_kafka_topic_partition_list_t* l) const {
    rd_kafka_topic_partition_list_destroy(l);
  }
};
using PartitionListPtr = std::unique_ptr<rd_kafka_topic_partition_list_t, PartitionListDeleter>;

Status Set(rd_kafka_conf_t* conf, const std::string& key, const std::string& value) {
  char err[512];
  if (rd_kafka_conf_set(conf, key.c_str(), value.c_str(), err, sizeof err) != RD_KAFKA_CONF_OK)
    return Fail(ErrorCode::kInvalidArgument, err, "kafka property " + key);
  return {};
}

void LogCallback(const rd_kafka_t*, int level, const char* fac, const char* buf) {
  auto log = logging::Get("kafka");
  // syslog levels: 0-3 error, 4 warning, 5-6 info, 7 debug.
  if (level <= 3)
    log->error("{}: {}", fac, buf);
  else if (level == 4)
    log->warn("{}: {}", fac, buf);
  else if (level <= 6)
    log->info("{}: {}", fac, buf);
  else
    log->debug("{}: {}", fac, buf);
}

void ErrorCallback(rd_kafka_t* rk, int err, const char* reason, void*) {
  auto log = logging::Get("kafka");
  auto code = static_cast<rd_kafka_resp_err_t>(err);
  if (code == RD_KAFKA_RESP_ERR__FATAL) {
    char buf[512];
    rd_kafka_fatal_error(rk, buf, sizeof buf);
    log->error("fatal client error: {}", buf);
  } else {
    // Broker-down and transport errors are retried by librdkafka on its own.
    log->warn("{} ({})", reason, rd_kafka_err2name(code));
  }
}

Result<ConfPtr> BaseConf(const KafkaSettings& settings, const std::string& client_id,
                         const std::map<std::string, std::string>& defaults) {
  ConfPtr conf(rd_kafka_conf_new());
  std::map<std::string, std::string> all = defaults;
  all["bootstrap.servers"] = settings.brokers;
  all["client.id"] = client_id;
  for (const auto& [k, v] : settings.properties) all[k] = v;
  for (const auto& [k, v] : all)
    if (auto s = Set(conf.get(), k, v); !s) return std::unexpected(s.error());
  rd_kafka_conf_set_log_cb(conf.get(), LogCallback);
  rd_kafka_conf_set_error_cb(conf.get(), ErrorCallback);
  return conf;
}

// Completion state shared between a Publish call and the delivery thread.
struct DeliveryReport {
  std::function<void(Result<Delivery>)> done;
};

}  // namespace

Status AddKafkaProperty(KafkaSettings& settings, std::string_view kv) {
  auto eq = kv.find('=');
  if (eq == std::string_view::npos || eq == 0)
    return Fail(ErrorCode::kInvalidArgument,
                "'" + std::string(kv) + "' is not a librdkafka property; expected key=value",
                "kafka property");
  settings.properties[std::string(kv.substr(0, eq))] = std::string(kv.substr(eq + 1));
  return {};
}

Status AddKafkaProperties(KafkaSettings& settings, std::string_view list) {
  std::size_t start = 0;
  while (start <= list.size()) {
    auto end = list.find_first_of(";\n", start);
    if (end == std::string_view::npos) end = list.size();
    auto item = list.substr(start, end - start);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t')) item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\r')) item.remove_suffix(1);
    if (!item.empty())
      if (auto s = AddKafkaProperty(settings, item); !s) return s;
    start = end + 1;
  }
  return {};
}

// ---------------------------------------------------------------------------------------
// KafkaProducer

struct KafkaProducer::Impl {
  HandlePtr rk;
  std::chrono::milliseconds delivery_timeout{};
  std::atomic<bool> running{true};
  std::thread poller;

  ~Impl() {
    if (rk) rd_kafka_flush(rk.get(), 5000);
    running = false;
    if (poller.joinable()) poller.join();
  }

  static void OnDelivery(rd_kafka_t*, const rd_kafka_message_t* m, void*) {
    std::unique_ptr<DeliveryReport> d(static_cast<DeliveryReport*>(m->_private));
    if (!d) return;
    Result<Delivery> result =
        m->err == RD_KAFKA_RESP_ERR_NO_ERROR
            ? Result<Delivery>(Delivery{m->partition, m->offset})
            : Fail(ErrorCode::kUnavailable,
                   std::string("Kafka did not acknowledge the event: ") + rd_kafka_err2str(m->err));
    // Nothing may leave through librdkafka's C frames: a throwing `done` (a bug) is logged.
    try {
      d->done(std::move(result));
    } catch (const std::exception& e) {
      logging::Get("kafka")->error("a delivery report's handler failed: {}", e.what());
    }
  }
};

KafkaProducer::KafkaProducer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
KafkaProducer::~KafkaProducer() = default;

Result<std::unique_ptr<KafkaProducer>> KafkaProducer::Create(
    const KafkaSettings& settings, const std::string& client_id,
    std::chrono::milliseconds delivery_timeout) {
  auto conf = BaseConf(settings, client_id,
                       {
                           {"enable.idempotence", "true"},
                           {"acks", "all"},
                           {"message.timeout.ms", std::to_string(delivery_timeout.count())},
                           // Events published together share produce requests: a longer
                           // linger makes fewer, larger batches (less broker CPU per event)
                           // for at most 5 ms more per answer. The producer, whose events come
                           // one request at a time, sets 20 (producer/options.cc).
                           {"linger.ms", "5"},
                           // The events are JSON: zstd keeps the topics, which the commands
                           // and the journal are for ever, 8 to 12 times smaller on disk
                           // (bench/e2e --rebuild: 906 and 1,931 bytes per task without it,
                           // 111 and 160 with it), at no cost in throughput measured there.
                           {"compression.type", "zstd"},
                           // Topics are made on purpose (scripts/kafka/kafka create-topics),
                           // never by a metadata request (CheckTopic) or a publish.
                           {"allow.auto.create.topics", "false"},
                       });
  if (!conf) return std::unexpected(conf.error());
  rd_kafka_conf_set_dr_msg_cb(conf->get(), &Impl::OnDelivery);
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf->get(), err, sizeof err);
  if (!rk) return Fail(ErrorCode::kInvalidArgument, std::string("Kafka producer: ") + err);
  conf->release();  // rd_kafka_new took ownership
  auto impl = std::make_unique<Impl>();
  impl->rk.reset(rk);
  impl->delivery_timeout = delivery_timeout;
  impl->poller = std::thread([raw = impl.get()] {
    while (raw->running) rd_kafka_poll(raw->rk.get(), 100);
  });
  return std::unique_ptr<KafkaProducer>(new KafkaProducer(std::move(impl)));
}

void KafkaProducer::PublishThen(const OutgoingMessage& m, DeliveryDone done) {
  rd_kafka_headers_t* headers = nullptr;
  if (!m.headers.empty()) {
    headers = rd_kafka_headers_new(m.headers.size());
    for (const auto& [k, v] : m.headers)
      rd_kafka_header_add(headers, k.data(), k.size(), v.data(), v.size());
  }
  auto delivery = std::make_unique<DeliveryReport>(DeliveryReport{std::move(done)});
  rd_kafka_resp_err_t err =
      rd_kafka_producev(impl_->rk.get(), RD_KAFKA_V_TOPIC(m.topic.c_str()),
                        RD_KAFKA_V_KEY(const_cast<char*>(m.key.data()), m.key.size()),
                        RD_KAFKA_V_VALUE(m.tombstone ? nullptr : const_cast<char*>(m.value.data()),
                                         m.tombstone ? 0 : m.value.size()),
                        RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(headers),
                        RD_KAFKA_V_OPAQUE(delivery.get()), RD_KAFKA_V_END);
  if (err == RD_KAFKA_RESP_ERR_NO_ERROR) {
    delivery.release();  // owned by the delivery report now
    return;
  }
  if (headers) rd_kafka_headers_destroy(headers);  // not taken on failure
  delivery->done(Fail(ErrorCode::kUnavailable,
                      std::string("Kafka refused the event locally: ") + rd_kafka_err2str(err)));
}

void KafkaProducer::PublishAllThen(const std::vector<OutgoingMessage>& messages,
                                   DeliveriesDone done) {
  if (messages.empty()) return done({});
  struct Pending {
    std::mutex mutex;
    std::vector<Result<Delivery>> out;
    std::size_t left;
    DeliveriesDone done;
  };
  auto pending = std::make_shared<Pending>();
  pending->out.resize(messages.size());
  pending->left = messages.size();
  pending->done = std::move(done);
  for (std::size_t i = 0; i < messages.size(); ++i)
    PublishThen(messages[i], [pending, i](Result<Delivery> d) {
      std::unique_lock lock(pending->mutex);
      pending->out[i] = std::move(d);
      if (--pending->left > 0) return;
      lock.unlock();
      pending->done(std::move(pending->out));
    });
}

Result<Delivery> KafkaProducer::Publish(const OutgoingMessage& m) {
  auto promise = std::make_shared<std::promise<Result<Delivery>>>();
  auto future = promise->get_future();
  PublishThen(m, [promise](Result<Delivery> d) { promise->set_value(std::move(d)); });
  // librdkafka reports every message by message.timeout.ms; the margin covers a slow report.
  if (future.wait_for(impl_->delivery_timeout + std::chrono::seconds(5)) !=
      std::future_status::ready)
    return Fail(ErrorCode::kUnavailable, "Kafka gave no delivery report in time");
  return future.get();
}

std::vector<Result<Delivery>> KafkaProducer::PublishAll(
    const std::vector<OutgoingMessage>& messages) {
  std::vector<std::future<Result<Delivery>>> pending(messages.size());
  for (std::size_t i = 0; i < messages.size(); ++i) {
    auto promise = std::make_shared<std::promise<Result<Delivery>>>();
    pending[i] = promise->get_future();
    PublishThen(messages[i], [promise](Result<Delivery> d) { promise->set_value(std::move(d)); });
  }
  // librdkafka reports every queued message by message.timeout.ms, counted from when it was
  // queued; the margin covers a slow report. Each message answers for itself.
  auto deadline =
      std::chrono::steady_clock::now() + impl_->delivery_timeout + std::chrono::seconds(5);
  std::vector<Result<Delivery>> out;
  out.reserve(messages.size());
  for (auto& p : pending)
    out.push_back(p.wait_until(deadline) == std::future_status::ready
                      ? p.get()
                      : Fail(ErrorCode::kUnavailable, "Kafka gave no delivery report in time"));
  return out;
}

void KafkaProducer::Purge() {
  rd_kafka_purge(impl_->rk.get(), RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
  rd_kafka_flush(impl_->rk.get(), 1000);  // the purged messages' reports
}

Status KafkaProducer::Flush(std::chrono::milliseconds timeout) {
  auto err = rd_kafka_flush(impl_->rk.get(), static_cast<int>(timeout.count()));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
    return Fail(ErrorCode::kUnavailable, std::string("Kafka flush: ") + rd_kafka_err2str(err));
  return {};
}

Status KafkaProducer::CheckBrokers(std::chrono::milliseconds timeout) {
  const rd_kafka_metadata_t* metadata = nullptr;
  auto err =
      rd_kafka_metadata(impl_->rk.get(), 0, nullptr, &metadata, static_cast<int>(timeout.count()));
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
    return Fail(ErrorCode::kUnavailable,
                std::string("no Kafka broker answered a metadata request within ") +
                    std::to_string(timeout.count()) + " ms: " + rd_kafka_err2str(err));
  int brokers = metadata->broker_cnt;
  rd_kafka_metadata_destroy(metadata);
  if (brokers == 0) return Fail(ErrorCode::kUnavailable, "Kafka's metadata names no broker");
  return {};
}

// ---------------------------------------------------------------------------------------
// KafkaConsumer

namespace {

// The message as Conveyor's code sees it (a message without error).
ConsumedMessage ToConsumed(const rd_kafka_message_t* m) {
  ConsumedMessage c;
  c.topic = rd_kafka_topic_name(m->rkt);
  c.partition = m->partition;
  c.offset = m->offset;
  if (m->key) c.key.assign(static_cast<const char*>(m->key), m->key_len);
  if (m->payload) c.value.assign(static_cast<const char*>(m->payload), m->len);
  c.tombstone = m->payload == nullptr;
  rd_kafka_headers_t* headers = nullptr;
  if (rd_kafka_message_headers(const_cast<rd_kafka_message_t*>(m), &headers) ==
      RD_KAFKA_RESP_ERR_NO_ERROR) {
    const char* name;
    const void* value;
    size_t size;
    for (size_t i = 0;
         rd_kafka_header_get_all(headers, i, &name, &value, &size) == RD_KAFKA_RESP_ERR_NO_ERROR;
         ++i)
      c.headers.emplace_back(
          name, value ? std::string(static_cast<const char*>(value), size) : std::string());
  }
  return c;
}

}  // namespace

struct KafkaConsumer::Impl {
  HandlePtr rk;
  bool closed = false;
  bool paused = false;
  RebalanceListener* listener = nullptr;

  static std::vector<TopicPartition> ToVector(const rd_kafka_topic_partition_list_t* list) {
    std::vector<TopicPartition> out;
    for (int i = 0; i < list->cnt; ++i)
      out.push_back({list->elems[i].topic, list->elems[i].partition});
    return out;
  }

  // "topic[0], topic[2]", for the log.
  static std::string Describe(const std::vector<TopicPartition>& parts) {
    std::string out;
    for (const auto& p : parts)
      out += (out.empty() ? "" : ", ") + p.topic + "[" + std::to_string(p.partition) + "]";
    return out;
  }

  // librdkafka calls this from inside rd_kafka_consumer_poll / close on the caller's thread.
  static void OnRebalance(rd_kafka_t* rk, rd_kafka_resp_err_t err,
                          rd_kafka_topic_partition_list_t* partitions, void* opaque) {
    auto* self = static_cast<Impl*>(opaque);
    auto log = logging::Get("kafka");
    bool cooperative = std::string_view(rd_kafka_rebalance_protocol(rk)) == "COOPERATIVE";
    auto parts = ToVector(partitions);
    if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
      rd_kafka_error_t* e = nullptr;
      if (cooperative) {
        e = rd_kafka_incremental_assign(rk, partitions);
      } else if (auto r = rd_kafka_assign(rk, partitions); r != RD_KAFKA_RESP_ERR_NO_ERROR) {
        log->error("assign: {}", rd_kafka_err2str(r));
      }
      if (e) {
        log->error("incremental assign: {}", rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
      }
      // Each partition takes the member's state now: one that arrives while the member is
      // paused starts paused, and one that was paused when it was lost (librdkafka 2.0.2 keeps
      // that flag through unassign and assign) must not come back paused and never fetch.
      if (self->paused)
        rd_kafka_pause_partitions(rk, partitions);
      else
        rd_kafka_resume_partitions(rk, partitions);
      log->info("assigned {} partition(s): {}", parts.size(), Describe(parts));
      if (self->listener) self->listener->OnAssigned(parts);
      return;
    }
    bool lost = rd_kafka_assignment_lost(rk) != 0;
    log->info("{} {} partition(s): {}", lost ? "lost" : "revoked", parts.size(), Describe(parts));
    if (self->listener) self->listener->OnRevoked(parts, lost);
    if (cooperative) {
      if (auto* e = rd_kafka_incremental_unassign(rk, partitions)) {
        log->error("incremental unassign: {}", rd_kafka_error_string(e));
        rd_kafka_error_destroy(e);
      }
    } else {
      rd_kafka_assign(rk, nullptr);
    }
  }

  ~Impl() {
    if (rk && !closed) rd_kafka_consumer_close(rk.get());
  }
};

KafkaConsumer::KafkaConsumer(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
KafkaConsumer::~KafkaConsumer() = default;

Result<std::unique_ptr<KafkaConsumer>> KafkaConsumer::Create(const KafkaSettings& settings,
                                                             const std::string& group_id,
                                                             const std::string& client_id,
                                                             const std::vector<std::string>& topics,
                                                             RebalanceListener* listener) {
  auto conf = BaseConf(settings, client_id,
                       {
                           {"group.id", group_id},
                           {"enable.auto.commit", "false"},
                           {"enable.auto.offset.store", "false"},
                           {"auto.offset.reset", "earliest"},
                           {"partition.assignment.strategy", "cooperative-sticky"},
                           // What librdkafka fetches ahead of the worker: by default 100,000
                           // messages per partition or 64 MiB, which with a backlog held
                           // each worker at about 185 MiB (bench/README.md, "Memory"). A worker
                           // takes 500 per batch; 5,000 ahead (at most 8 MiB) keeps it fed.
                           {"queued.min.messages", "5000"},
                           {"queued.max.messages.kbytes", "8192"},
                       });
  if (!conf) return std::unexpected(conf.error());
  auto impl = std::make_unique<Impl>();
  impl->listener = listener;
  rd_kafka_conf_set_rebalance_cb(conf->get(), &Impl::OnRebalance);
  rd_kafka_conf_set_opaque(conf->get(), impl.get());
  char err[512];
  rd_kafka_t* rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf->get(), err, sizeof err);
  if (!rk) return Fail(ErrorCode::kInvalidArgument, std::string("Kafka consumer: ") + err);
  conf->release();
  impl->rk.reset(rk);
  rd_kafka_poll_set_consumer(rk);
  PartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(topics.size())));
  for (const auto& t : topics)
    rd_kafka_topic_partition_list_add(list.get(), t.c_str(), RD_KAFKA_PARTITION_UA);
  if (auto e = rd_kafka_subscribe(rk, list.get()); e != RD_KAFKA_RESP_ERR_NO_ERROR)
    return Fail(ErrorCode::kInvalidArgument, std::string("subscribe: ") + rd_kafka_err2str(e));
  return std::unique_ptr<KafkaConsumer>(new KafkaConsumer(std::move(impl)));
}

Result<std::vector<ConsumedMessage>> KafkaConsumer::Poll(std::size_t max_messages,
                                                         std::chrono::milliseconds timeout) {
  std::vector<ConsumedMessage> out;
  if (impl_->closed) return Fail(ErrorCode::kFailedPrecondition, "the consumer is closed");
  int wait = static_cast<int>(timeout.count());
  while (out.size() < max_messages) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(impl_->rk.get(), wait);
    wait = 0;  // only the first message is waited for
    if (!m) break;
    std::unique_ptr<rd_kafka_message_t, void (*)(rd_kafka_message_t*)> guard(
        m, rd_kafka_message_destroy);
    if (m->err) {
      if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) continue;
      if (m->err == RD_KAFKA_RESP_ERR__FATAL) {
        char buf[512];
        rd_kafka_fatal_error(impl_->rk.get(), buf, sizeof buf);
        return Fail(ErrorCode::kInternal, std::string("Kafka consumer failed: ") + buf);
      }
      logging::Get("kafka")->warn("consumer: {}", rd_kafka_message_errstr(m));
      continue;
    }
    out.push_back(ToConsumed(m));
  }
  return out;
}

Status KafkaConsumer::Commit(const std::vector<PartitionOffset>& offsets) {
  if (offsets.empty()) return {};
  PartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(offsets.size())));
  for (const auto& o : offsets)
    rd_kafka_topic_partition_list_add(list.get(), o.topic.c_str(), o.partition)->offset =
        o.next_offset;
  // rd_kafka_commit(sync) waits for the group coordinator for as long as there is none: with
  // every broker down, the worker's loop stopped for 43 s in the fault suite, recording no
  // finished run. The answer is awaited on a queue of its own for kCommitWait instead; the
  // commit may still complete later, and committing again later is harmless.
  std::unique_ptr<rd_kafka_queue_t, void (*)(rd_kafka_queue_t*)> queue(
      rd_kafka_queue_new(impl_->rk.get()), &rd_kafka_queue_destroy);
  auto err = rd_kafka_commit_queue(impl_->rk.get(), list.get(), queue.get(), nullptr, nullptr);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
    return Fail(ErrorCode::kUnavailable, std::string("offset commit: ") + rd_kafka_err2str(err));
  rd_kafka_event_t* answer = rd_kafka_queue_poll(queue.get(), kCommitWait.count());
  if (!answer)
    return Fail(ErrorCode::kUnavailable,
                "offset commit: no answer from the group coordinator within " +
                    std::to_string(kCommitWait.count()) + " ms");
  err = rd_kafka_event_error(answer);
  rd_kafka_event_destroy(answer);
  if (err != RD_KAFKA_RESP_ERR_NO_ERROR)
    return Fail(ErrorCode::kUnavailable, std::string("offset commit: ") + rd_kafka_err2str(err));
  return {};
}

namespace {

Status PauseOrResume(rd_kafka_t* rk, bool pause) {
  rd_kafka_topic_partition_list_t* raw = nullptr;
  if (auto e = rd_kafka_assignment(rk, &raw); e != RD_KAFKA_RESP_ERR_NO_ERROR)
    return Fail(ErrorCode::kUnavailable, std::string("assignment: ") + rd_kafka_err2str(e));
  PartitionListPtr list(raw);
  auto e = pause ? rd_kafka_pause_partitions(rk, list.get())
                 : rd_kafka_resume_partitions(rk, list.get());
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
    return Fail(ErrorCode::kUnavailable,
                std::string(pause ? "pause: " : "resume: ") + rd_kafka_err2str(e));
  return {};
}

}  // namespace

Status KafkaConsumer::Pause() {
  impl_->paused = true;
  return PauseOrResume(impl_->rk.get(), true);
}

Status KafkaConsumer::Resume() {
  impl_->paused = false;
  return PauseOrResume(impl_->rk.get(), false);
}

std::vector<PartitionLag> KafkaConsumer::Lag() {
  std::vector<PartitionLag> out;
  rd_kafka_topic_partition_list_t* raw = nullptr;
  if (rd_kafka_assignment(impl_->rk.get(), &raw) != RD_KAFKA_RESP_ERR_NO_ERROR) return out;
  PartitionListPtr assigned(raw);
  rd_kafka_position(impl_->rk.get(), assigned.get());
  for (int i = 0; i < assigned->cnt; ++i) {
    const auto& p = assigned->elems[i];
    std::int64_t low = 0, high = 0;
    if (p.offset < 0 ||
        rd_kafka_get_watermark_offsets(impl_->rk.get(), p.topic, p.partition, &low, &high) !=
            RD_KAFKA_RESP_ERR_NO_ERROR ||
        high < 0)
      continue;
    out.push_back({p.topic, p.partition, std::max<std::int64_t>(0, high - p.offset)});
  }
  return out;
}

bool KafkaConsumer::paused() const { return impl_->paused; }

void KafkaConsumer::Close() {
  if (impl_->closed) return;
  // librdkafka 2.0.2 with the cooperative-sticky assignor does not send LeaveGroup from
  // rd_kafka_consumer_close(): the group then waits session.timeout.ms for this member before it
  // hands its partitions to anyone else. Unsubscribing first takes the path that does leave.
  rd_kafka_unsubscribe(impl_->rk.get());
  rd_kafka_consumer_close(impl_->rk.get());
  impl_->closed = true;
}

namespace {

using MetadataPtr =
    std::unique_ptr<const rd_kafka_metadata_t, void (*)(const rd_kafka_metadata_t*)>;

Result<MetadataPtr> TopicMetadata(rd_kafka_t* rk, const std::string& topic,
                                  std::chrono::milliseconds timeout) {
  const rd_kafka_metadata_t* md = nullptr;
  rd_kafka_topic_t* t = rd_kafka_topic_new(rk, topic.c_str(), nullptr);
  auto e = rd_kafka_metadata(rk, 0, t, &md, static_cast<int>(timeout.count()));
  rd_kafka_topic_destroy(t);
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
    return Fail(ErrorCode::kUnavailable,
                "no metadata of topic " + topic + ": " + rd_kafka_err2str(e));
  MetadataPtr owned(md, &rd_kafka_metadata_destroy);
  if (md->topic_cnt != 1 || md->topics[0].err != RD_KAFKA_RESP_ERR_NO_ERROR)
    return Fail(ErrorCode::kNotFound, "topic " + topic + " does not exist");
  return owned;
}

// Each partition of `topic` that holds messages, with its end (the next offset) now, added
// to `list` to be read from its beginning. kFailedPrecondition, with `from_the_first`, when a
// partition no longer starts at offset 0 (retention deleted its first messages).
// Each partition of `topic`, by id, with its first offset and its end (watermarks; no
// committed offset).
Result<std::vector<PartitionProgress>> Watermarks(rd_kafka_t* rk, const std::string& topic,
                                                  std::chrono::milliseconds timeout) {
  auto md = TopicMetadata(rk, topic, timeout);
  if (!md) return std::unexpected(md.error());
  std::vector<PartitionProgress> out;
  const auto& t = (*md)->topics[0];
  for (int i = 0; i < t.partition_cnt; ++i) {
    PartitionProgress p;
    p.partition = t.partitions[i].id;
    auto e = rd_kafka_query_watermark_offsets(rk, topic.c_str(), p.partition, &p.start, &p.end,
                                              static_cast<int>(timeout.count()));
    if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
      return Fail(ErrorCode::kUnavailable, "no offsets of " + topic + " partition " +
                                               std::to_string(p.partition) + ": " +
                                               rd_kafka_err2str(e));
    out.push_back(p);
  }
  std::sort(out.begin(), out.end(), [](auto& a, auto& b) { return a.partition < b.partition; });
  return out;
}

Result<std::map<std::int32_t, std::int64_t>> PartitionEnds(rd_kafka_t* rk, const std::string& topic,
                                                           rd_kafka_topic_partition_list_t* list,
                                                           const TopicReadOptions& options) {
  auto partitions = Watermarks(rk, topic, options.timeout);
  if (!partitions) return std::unexpected(partitions.error());
  std::map<std::int32_t, std::int64_t> ends;
  for (const auto& p : *partitions) {
    if (options.from_the_first && p.start > 0)
      return Fail(ErrorCode::kFailedPrecondition,
                  topic + " partition " + std::to_string(p.partition) + " starts at offset " +
                      std::to_string(p.start) +
                      ": its first messages were deleted (set retention.ms=-1 on the topic)");
    if (p.end <= p.start) continue;
    ends[p.partition] = p.end;
    rd_kafka_topic_partition_list_add(list, topic.c_str(), p.partition)->offset =
        RD_KAFKA_OFFSET_BEGINNING;
  }
  return ends;
}

// Polls `rk` until every partition in `ends` was read up to its end.
Status ReadToEnds(rd_kafka_t* rk, const std::string& topic,
                  std::map<std::int32_t, std::int64_t>& ends,
                  const std::function<Status(ConsumedMessage)>& each,
                  std::chrono::milliseconds timeout) {
  auto last_message = std::chrono::steady_clock::now();
  while (!ends.empty()) {
    rd_kafka_message_t* m = rd_kafka_consumer_poll(rk, 200);
    std::unique_ptr<rd_kafka_message_t, void (*)(rd_kafka_message_t*)> guard(
        m, [](rd_kafka_message_t* p) {
          if (p) rd_kafka_message_destroy(p);
        });
    bool eof = m && m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF;
    if (!m || (m->err && !eof)) {
      if (m) logging::Get("kafka")->warn("reading {}: {}", topic, rd_kafka_message_errstr(m));
      if (std::chrono::steady_clock::now() - last_message > timeout)
        return Fail(ErrorCode::kUnavailable, "reading " + topic + ": no message for " +
                                                 std::to_string(timeout.count()) + " ms");
      continue;
    }
    last_message = std::chrono::steady_clock::now();
    auto end = ends.find(m->partition);
    if (end == ends.end()) continue;
    // An end of partition at or past the end taken at the start: the offsets before it that
    // hold no message (a compacted topic's, a transaction's markers) were skipped.
    if (eof) {
      if (m->offset >= end->second) ends.erase(end);
      continue;
    }
    if (m->offset >= end->second) continue;
    if (auto s = each(ToConsumed(m)); !s) return s;
    if (m->offset + 1 >= end->second) ends.erase(end);
  }
  return {};
}

}  // namespace

Status ReadTopicToEnd(const KafkaSettings& settings, const std::string& topic,
                      const std::string& client_id,
                      const std::function<Status(ConsumedMessage)>& each,
                      const TopicReadOptions& options) {
  // It reads as fast as `each` takes the messages: a smaller prefetch than librdkafka's 64 MiB
  // keeps its memory near what the caller holds.
  auto conf = BaseConf(settings, client_id,
                       {{"group.id", client_id},
                        {"enable.auto.commit", "false"},
                        {"enable.partition.eof", "true"},
                        {"queued.max.messages.kbytes", "8192"}});
  if (!conf) return std::unexpected(conf.error());
  char err[512];
  HandlePtr rk(rd_kafka_new(RD_KAFKA_CONSUMER, conf->get(), err, sizeof err));
  if (!rk) return Fail(ErrorCode::kInvalidArgument, std::string("Kafka consumer: ") + err);
  conf->release();
  rd_kafka_poll_set_consumer(rk.get());
  PartitionListPtr list(rd_kafka_topic_partition_list_new(1));
  auto ends = PartitionEnds(rk.get(), topic, list.get(), options);
  if (!ends) return std::unexpected(ends.error());
  if (ends->empty()) return {};
  if (auto e = rd_kafka_assign(rk.get(), list.get()); e != RD_KAFKA_RESP_ERR_NO_ERROR)
    return Fail(ErrorCode::kUnavailable, std::string("assign: ") + rd_kafka_err2str(e));
  auto read = ReadToEnds(rk.get(), topic, *ends, each, options.timeout);
  rd_kafka_consumer_close(rk.get());
  return read;
}

Status KafkaProducer::CheckTopic(const std::string& topic, std::chrono::milliseconds timeout) {
  auto md = TopicMetadata(impl_->rk.get(), topic, timeout);
  if (!md) return std::unexpected(md.error());
  return {};
}

namespace {

// The offsets `group` committed on `partitions` (each entry's offset; negative when none).
Status CommittedOffsets(const KafkaSettings& settings, const std::string& group,
                        rd_kafka_topic_partition_list_t* partitions,
                        std::chrono::milliseconds timeout) {
  // A consumer handle with the group's id asks its coordinator; it never subscribes, so it
  // never joins the group.
  auto conf = BaseConf(settings, "conveyor-group-progress",
                       {{"group.id", group}, {"enable.auto.commit", "false"}});
  if (!conf) return std::unexpected(conf.error());
  char err[512];
  HandlePtr rk(rd_kafka_new(RD_KAFKA_CONSUMER, conf->get(), err, sizeof err));
  if (!rk) return Fail(ErrorCode::kInvalidArgument, std::string("Kafka consumer: ") + err);
  conf->release();
  auto e = rd_kafka_committed(rk.get(), partitions, static_cast<int>(timeout.count()));
  if (e != RD_KAFKA_RESP_ERR_NO_ERROR)
    return Fail(ErrorCode::kUnavailable,
                "no committed offsets of group " + group + ": " + rd_kafka_err2str(e));
  return {};
}

}  // namespace

Result<std::vector<PartitionProgress>> GroupProgress(const KafkaSettings& settings,
                                                     const std::string& topic,
                                                     const std::string& group,
                                                     std::chrono::milliseconds timeout) {
  // Asking for a topic's metadata must not create it (a mistyped name is kNotFound).
  auto conf =
      BaseConf(settings, "conveyor-group-progress", {{"allow.auto.create.topics", "false"}});
  if (!conf) return std::unexpected(conf.error());
  char err[512];
  HandlePtr rk(rd_kafka_new(RD_KAFKA_PRODUCER, conf->get(), err, sizeof err));
  if (!rk) return Fail(ErrorCode::kInvalidArgument, std::string("Kafka client: ") + err);
  conf->release();
  auto out = Watermarks(rk.get(), topic, timeout);
  if (!out) return std::unexpected(out.error());
  if (group.empty() || out->empty()) return out;
  PartitionListPtr list(rd_kafka_topic_partition_list_new(static_cast<int>(out->size())));
  for (const auto& p : *out)
    rd_kafka_topic_partition_list_add(list.get(), topic.c_str(), p.partition);
  if (auto s = CommittedOffsets(settings, group, list.get(), timeout); !s)
    return std::unexpected(s.error());
  for (int i = 0; i < list->cnt; ++i) {
    const auto& e = list->elems[i];
    if (e.err != RD_KAFKA_RESP_ERR_NO_ERROR)
      return Fail(ErrorCode::kUnavailable, "no committed offset of " + topic + " partition " +
                                               std::to_string(e.partition) + " for group " + group +
                                               ": " + rd_kafka_err2str(e.err));
    for (auto& p : *out)
      if (p.partition == e.partition)  // RD_KAFKA_OFFSET_INVALID: none
        p.committed = e.offset < 0 ? -1 : e.offset;
  }
  return out;
}

}  // namespace conveyor
