#include "kafka_commands.h"

#include <algorithm>
#include <charconv>
#include <map>
#include <ostream>

#include "conveyor/cloud_event.h"
#include "conveyor/dead_letter.h"
#include "conveyor/time_format.h"
#include "conveyor/uuid.h"
#include "progress_view.h"

namespace conveyor::cli {
namespace {

Result<std::vector<DeadLetter>> ReadDeadLetters(const TopicSettings& s) {
  return conveyor::ReadDeadLetters(s.kafka, s.dlq, "conveyor-cli");
}

}  // namespace

Result<DeadLetterRef> ParseMessageRef(const std::string& text) {
  DeadLetterRef ref;
  auto colon = text.find(':');
  auto number = [](std::string_view t, auto& v) {
    auto [end, ec] = std::from_chars(t.data(), t.data() + t.size(), v);
    return ec == std::errc() && end == t.data() + t.size() && v >= 0;
  };
  bool ok = colon == std::string::npos
                ? number(text, ref.offset)
                : number(std::string_view(text).substr(0, colon), ref.partition) &&
                      number(std::string_view(text).substr(colon + 1), ref.offset);
  if (!ok)
    return Fail(ErrorCode::kInvalidArgument,
                "'" + text + "' is not OFFSET or PARTITION:OFFSET of the dead-letter topic");
  return ref;
}

int DlqList(const TopicSettings& s, Output& io) {
  auto dead = ReadDeadLetters(s);
  if (!dead) return Failed(io, dead.error());
  if (io.json) {
    auto all = nlohmann::json::array();
    for (const auto& d : *dead) all.push_back(DeadLetterJson(d));
    // Poison need not be UTF-8: such bytes are shown as U+FFFD rather than refused.
    io.out << all.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    return 0;
  }
  for (const auto& d : *dead)
    io.out << d.message.partition << ":" << d.message.offset << "  "
           << (d.type.empty() ? "(not an event)" : Printable(d.type, 0)) << "  "
           << Printable(d.subject, 0) << "  from "
           << MessageName(d.origin_topic, d.origin_partition, d.origin_offset) << "\n    "
           << Printable(d.reason, 0) << "\n";
  if (dead->empty()) io.out << "the dead-letter topic " << s.dlq << " is empty\n";
  return 0;
}

int DlqReplay(const TopicSettings& s, const std::vector<std::string>& refs, Output& io) {
  // Every reference is read, and every message found with an origin, before any is
  // published: all or none.
  std::vector<DeadLetterRef> wanted;
  for (const auto& r : refs) {
    auto ref = ParseMessageRef(r);
    if (!ref) return Failed(io, ref.error());
    wanted.push_back(*ref);
  }
  auto dead = ReadDeadLetters(s);
  if (!dead) return Failed(io, dead.error());
  auto replays = ReplaysOf(*dead, wanted, s.dlq);
  if (!replays) return Failed(io, replays.error());
  auto producer = KafkaProducer::Create(s.kafka, "conveyor-cli", std::chrono::seconds(30));
  if (!producer) return Failed(io, producer.error());
  for (std::size_t i = 0; i < replays->size(); ++i) {
    const auto& message = (*replays)[i];
    auto sent = (*producer)->Publish(message);
    if (!sent) return Failed(io, sent.error());
    io.out << "replayed " << MessageName(s.dlq, wanted[i].partition, wanted[i].offset) << " to "
           << MessageName(message.topic, sent->partition, sent->offset) << "\n";
  }
  return 0;
}

std::string NotificationLine(const std::string& value) {
  auto e = CloudEvent::Parse(value);
  if (!e) return Printable(value, 0);
  const auto& d = e->data;
  auto text = [&](const char* k) {
    return d.contains(k) && d[k].is_string() ? d[k].get<std::string>() : std::string();
  };
  std::string line = FormatRfc3339(e->time) + "  " + e->type + "  task " + e->subject;
  // The rest is a handler's text: no control characters reach the terminal.
  if (d.contains("percent") && d["percent"].is_number())
    line += "  " + std::to_string(d["percent"].get<int>()) + "% " + text("description");
  else
    line += "  " + text("state") + "  " + text("result");
  return Printable(line, 0);
}

int Tail(const TopicSettings& s, const TailOptions& o, Output& io, const std::atomic<bool>& stop) {
  // A topic that does not exist would be waited for in silence: say so instead.
  if (auto exists = GroupProgress(s.kafka, s.notifications, "", std::chrono::seconds(10)); !exists)
    return Failed(io, exists.error());
  auto settings = s.kafka;
  settings.properties["auto.offset.reset"] = o.from_beginning ? "earliest" : "latest";
  // A group of its own that commits nothing: every tail reads for itself.
  auto group = "conveyor-tail-" + Uuid::Random().ToString();
  auto consumer = KafkaConsumer::Create(settings, group, "conveyor-cli", {s.notifications});
  if (!consumer) return Failed(io, consumer.error());
  int seen = 0;
  auto deadline = std::chrono::steady_clock::now() + o.timeout;
  while (!stop && (o.count == 0 || seen < o.count)) {
    if (o.count > 0 && o.timeout.count() > 0 && std::chrono::steady_clock::now() >= deadline) {
      io.err << "conveyor: " << seen << " of " << o.count << " events after " << o.timeout.count()
             << " s\n";
      return 1;
    }
    auto batch = (*consumer)->Poll(o.count == 0 ? 100 : static_cast<std::size_t>(o.count - seen),
                                   std::chrono::milliseconds(200));
    if (!batch) return Failed(io, batch.error());
    for (const auto& m : *batch) {
      io.out << (io.json ? Printable(m.value, 0) : NotificationLine(m.value)) << "\n" << std::flush;
      ++seen;
    }
  }
  (*consumer)->Close();
  return o.count > 0 && seen < o.count ? 1 : 0;  // stopped before it saw what it was asked for
}

}  // namespace conveyor::cli
