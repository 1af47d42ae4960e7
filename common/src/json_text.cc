#include "conveyor/json_text.h"

namespace conveyor {
namespace {

std::string Subject(std::string_view what) {
  return what.empty() ? std::string() : std::string(what) + " ";
}

// The parser's reason without its "[json.exception.parse_error.101] " prefix.
std::string Reason(const nlohmann::json::exception& e) {
  std::string_view text = e.what();
  if (auto end = text.find("] "); text.starts_with("[json.exception") && end != text.npos)
    text.remove_prefix(end + 2);
  return std::string(text);
}

}  // namespace

Result<nlohmann::json> ParseJson(std::string_view text, std::string_view what, std::string field) {
  using Event = nlohmann::json::parse_event_t;
  bool too_deep = false;
  // Once too deep, every value is discarded, so nothing deep is ever built; the parser goes
  // on to the end only to tell a document that is also malformed.
  auto within_depth = [&too_deep](int depth, Event event, nlohmann::json&) {
    if ((event == Event::object_start || event == Event::array_start) && depth >= kMaxJsonDepth)
      too_deep = true;
    return !too_deep;
  };
  nlohmann::json doc;
  try {
    doc = nlohmann::json::parse(text, within_depth, /*allow_exceptions=*/true);
  } catch (const nlohmann::json::parse_error& e) {
    return Fail(ErrorCode::kInvalidArgument,
                Subject(what) + "is not a JSON document (" + Reason(e) + ")", std::move(field));
  } catch (const nlohmann::json::out_of_range& e) {
    // A number beyond a double's range ("1e400") is not a parse_error but out_of_range.406.
    return Fail(ErrorCode::kInvalidArgument,
                Subject(what) + "holds a number out of range (" + Reason(e) + ")",
                std::move(field));
  }
  if (too_deep)
    return Fail(ErrorCode::kTooLarge,
                Subject(what) + "nests JSON arrays and objects deeper than the limit of " +
                    std::to_string(kMaxJsonDepth) + " levels",
                std::move(field));
  return doc;
}

}  // namespace conveyor
