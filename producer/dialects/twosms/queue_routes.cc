#include <charconv>

#include "conveyor/logging.h"
#include "dialects/twosms/routes.h"

namespace conveyor::twosms {
namespace {

nlohmann::ordered_json PartitionDetail(const PartitionProgress& p) {
  return {{"Partition", p.partition},
          {"Start", p.start},
          {"End", p.end},
          {"Committed",
           p.committed < 0 ? nlohmann::ordered_json() : nlohmann::ordered_json(p.committed)},
          {"Lag", p.lag()}};
}

// A path's {partition} and {offset}: whole numbers, or the error naming the one that is not.
Result<DeadLetterRef> RefOf(const http::Request& req) {
  DeadLetterRef ref;
  auto number = [](const std::string& text, auto& v) {
    auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
    return ec == std::errc() && end == text.data() + text.size();
  };
  if (!number(req.path_params[0], ref.partition))
    return Fail(ErrorCode::kInvalidArgument, "'" + req.path_params[0] + "' is not a partition",
                "partition");
  if (!number(req.path_params[1], ref.offset))
    return Fail(ErrorCode::kInvalidArgument, "'" + req.path_params[1] + "' is not an offset",
                "offset");
  return ref;
}

}  // namespace

http::Answer QueueRoutes::State(const http::Request&) {
  auto state = queue_.State();
  if (!state) return JsonError(state.error());
  auto partitions = nlohmann::ordered_json::array();
  std::int64_t lag = 0;
  for (const auto& p : state->commands) {
    partitions.push_back(PartitionDetail(p));
    lag += p.lag();
  }
  nlohmann::ordered_json detail = {
      {"CommandsTopic", state->commands_topic},
      {"WorkerGroup", state->worker_group},
      {"ConsumerLag", lag},
      {"Partitions", std::move(partitions)},
      {"DeadLetterTopic", state->dlq_topic},
      {"DeadLetters", state->dead_letters ? nlohmann::ordered_json(*state->dead_letters)
                                          : nlohmann::ordered_json()}};
  return JsonEnvelope(200, SuccessEnvelope(std::move(detail), std::nullopt));
}

http::Answer QueueRoutes::DeadLetters(const http::Request& req) {
  auto page = PositiveParameter(req, "page", 1, 1'000'000'000, "the largest page");
  if (!page) return JsonError(page.error());
  auto size = PositiveParameter(req, "pageSize", kDefaultPageSize, kMaxPageSize, "the limit");
  if (!size) return JsonError(size.error());
  auto letters = queue_.DeadLetters();
  if (!letters) return JsonError(letters.error());
  auto details = nlohmann::ordered_json::array();
  auto total = static_cast<std::int64_t>(letters->size());
  // Newest first: the last read is the first listed.
  for (auto i = total - (*page - 1) * *size - 1; i >= 0 && i >= total - *page * *size; --i)
    details.push_back(
        nlohmann::ordered_json(DeadLetterJson((*letters)[static_cast<std::size_t>(i)])));
  Paging paging{*page, static_cast<int>(*size), total};
  return JsonEnvelope(200, ListEnvelope(std::move(details), paging, std::nullopt));
}

http::Answer QueueRoutes::Replay(const http::Request& req) {
  auto ref = RefOf(req);
  if (!ref) return JsonError(ref.error());
  auto replayed = queue_.Replay({*ref});
  if (!replayed) return JsonError(replayed.error());
  const auto& r = replayed->front();
  logging::Get("ingest")->info("dead letter [{}]@{} replayed to {} by {}", r.from.partition,
                               r.from.offset, MessageName(r.topic, r.to.partition, r.to.offset),
                               req.caller.Identity());
  nlohmann::ordered_json detail = {{"Partition", r.from.partition},
                                   {"Offset", r.from.offset},
                                   {"Topic", r.topic},
                                   {"ToPartition", r.to.partition},
                                   {"ToOffset", r.to.offset}};
  return JsonEnvelope(200, SuccessEnvelope(std::move(detail), std::nullopt));
}

}  // namespace conveyor::twosms
