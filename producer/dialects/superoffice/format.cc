#include "dialects/superoffice/format.h"

#include <date/tz.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <cstdio>

#include "conveyor/text.h"

namespace conveyor::superoffice {
namespace {

// The BatchTaskInfo fields (seed-apis.md §2.2) and whether they are objects with free keys.
struct FieldInfo {
  std::string_view name;
  bool has_members;
};
constexpr std::array<FieldInfo, 24> kFields = {{
    {"Id", false},
    {"Name", false},
    {"AssociateId", false},
    {"DetailsTable", false},
    {"DetailsRecord", false},
    {"IsSystemTask", false},
    {"IsInternalTask", false},
    {"ParameterObject", true},
    {"LastStarted", false},
    {"Created", false},
    {"StartCount", false},
    {"DatabaseSerialNumber", false},
    {"Context", false},
    {"Result", false},
    {"State", false},
    {"Description", false},
    {"Response", false},
    {"Request", false},
    {"ProgressDescription", false},
    {"ProgressPercent", false},
    {"FileName", false},
    {"CancellationBehaviour", false},
    {"TableRight", true},
    {"FieldProperties", true},
}};

const FieldInfo* FindField(std::string_view lower) {
  for (const auto& f : kFields)
    if (AsciiLower(f.name) == lower) return &f;
  return nullptr;
}

}  // namespace

Result<FieldSelection> FieldSelection::Parse(std::string_view text) {
  FieldSelection s;
  text = TrimSpaces(text);
  if (text.empty()) return s;
  s.all_ = false;
  while (true) {
    auto comma = text.find(',');
    auto item = TrimSpaces(text.substr(0, comma));
    if (!item.empty()) {
      Node* node = &s.root_;
      std::string_view rest = item;
      bool top = true;
      while (true) {
        auto slash = rest.find('/');
        auto part = TrimSpaces(rest.substr(0, slash));
        if (part.empty())
          return Fail(ErrorCode::kInvalidArgument,
                      "'" + std::string(item) + "' has an empty path segment", "$select");
        if (top) {
          const auto* field = FindField(AsciiLower(part));
          if (!field)
            return Fail(ErrorCode::kInvalidArgument,
                        "'" + std::string(part) + "' is not a BatchTaskInfo field", "$select");
          if (slash != std::string_view::npos && !field->has_members)
            return Fail(ErrorCode::kInvalidArgument,
                        "'" + std::string(item) + "': " + std::string(field->name) +
                            " has no members to select",
                        "$select");
        }
        node = &node->children[AsciiLower(part)];
        if (slash == std::string_view::npos) {
          node->whole = true;
          break;
        }
        rest.remove_prefix(slash + 1);
        top = false;
      }
    }
    if (comma == std::string_view::npos) break;
    text.remove_prefix(comma + 1);
  }
  if (s.root_.children.empty()) s.all_ = true;  // only commas and spaces
  return s;
}

void FieldSelection::ApplyTo(const Node& node, nlohmann::json& object) {
  for (auto it = object.begin(); it != object.end(); ++it) {
    auto child = node.children.find(AsciiLower(it.key()));
    if (child == node.children.end()) {
      *it = nullptr;
    } else if (!child->second.whole && it->is_object()) {
      ApplyTo(child->second, *it);
    }
  }
}

void FieldSelection::Apply(nlohmann::json& value) const {
  if (all_) return;
  if (value.is_object()) return ApplyTo(root_, value);
  if (value.is_array())
    for (auto& element : value)
      if (element.is_object()) ApplyTo(root_, element);
}

Result<OutputTimeZone> OutputTimeZone::Parse(std::string_view header) {
  OutputTimeZone z;
  header = TrimSpaces(header);
  if (header.empty()) return z;
  auto comma = header.find(',');
  auto name = TrimSpaces(header.substr(0, comma));
  while (comma != std::string_view::npos) {
    header.remove_prefix(comma + 1);
    comma = header.find(',');
    auto option = TrimSpaces(header.substr(0, comma));
    if (AsciiLower(option) != "includetzoffset")
      return Fail(ErrorCode::kInvalidArgument,
                  "unknown option '" + std::string(option) +
                      "'; the only option is includeTZOffset (\"Europe/Oslo, includeTZOffset\")",
                  "SO-TimeZone");
    z.include_offset_ = true;
  }
  try {
    z.zone_ = date::locate_zone(name);
  } catch (const std::exception&) {
    return Fail(ErrorCode::kInvalidArgument,
                "'" + std::string(name) +
                    "' is not a time zone; use an IANA name such as Europe/Oslo or UTC",
                "SO-TimeZone");
  }
  return z;
}

std::string OutputTimeZone::Format(Timestamp t) const {
  using namespace std::chrono;
  seconds offset{0};
  if (zone_) offset = zone_->get_info(time_point_cast<seconds>(t)).offset;
  auto local = t + offset;
  auto day = date::floor<date::days>(local);
  date::year_month_day ymd{day};
  date::hh_mm_ss<microseconds> time{local - day};
  char out[48];
  std::snprintf(out, sizeof out, "%04d-%02u-%02uT%02d:%02d:%02d.%06lld0", int(ymd.year()),
                unsigned(ymd.month()), unsigned(ymd.day()), int(time.hours().count()),
                int(time.minutes().count()), int(time.seconds().count()),
                static_cast<long long>(time.subseconds().count()));
  std::string s = out;
  if (zone_ && !include_offset_) return s;
  auto minutes = duration_cast<std::chrono::minutes>(offset).count();
  char sign = minutes < 0 ? '-' : '+';
  if (minutes < 0) minutes = -minutes;
  std::snprintf(out, sizeof out, "%c%02lld:%02lld", sign, static_cast<long long>(minutes / 60),
                static_cast<long long>(minutes % 60));
  return s + out;
}

}  // namespace conveyor::superoffice
