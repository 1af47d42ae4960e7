#include "exec_protocol.h"

#include <charconv>
#include <cstdint>

namespace conveyor {

ExecLine ParseExecLine(std::string_view line) {
  if (line.ends_with('\r')) line.remove_suffix(1);
  ExecLine out;
  auto keyword = [&](std::string_view word) {
    return line.starts_with(word) && (line.size() == word.size() || line[word.size()] == ' ');
  };
  auto rest = [&](std::string_view word) {
    return line.size() > word.size() ? line.substr(word.size() + 1) : std::string_view();
  };
  if (keyword("progress")) {
    auto args = rest("progress");
    auto space = args.find(' ');
    auto number = args.substr(0, space);
    int percent = 0;
    auto [end, ec] = std::from_chars(number.data(), number.data() + number.size(), percent);
    if (number.empty() || ec != std::errc() || end != number.data() + number.size() ||
        percent < 0 || percent > 100) {
      out.kind = ExecLine::Kind::kMalformed;
      out.problem = "progress needs a whole percent from 0 to 100 first";
      out.text = std::string(line);
      return out;
    }
    out.kind = ExecLine::Kind::kProgress;
    out.percent = percent;
    if (space != std::string_view::npos) out.text = std::string(args.substr(space + 1));
    return out;
  }
  if (keyword("result")) {
    out.kind = ExecLine::Kind::kResult;
    out.text = std::string(rest("result"));
    return out;
  }
  if (keyword("file")) {
    auto name = rest("file");
    if (name.empty()) {
      out.kind = ExecLine::Kind::kMalformed;
      out.problem = "file needs a name";
      out.text = std::string(line);
      return out;
    }
    out.kind = ExecLine::Kind::kFile;
    out.text = std::string(name);
    return out;
  }
  out.kind = ExecLine::Kind::kOther;
  return out;
}

void BoundedLog::Append(std::string_view bytes) {
  kept_.append(bytes);
  if (kept_.size() > limit_) {
    auto excess = kept_.size() - limit_;
    kept_.erase(0, excess);
    cut_ += excess;
  }
}

std::string BoundedLog::Text() const {
  if (cut_ == 0) return SafeText(kept_);
  return "[conveyor: the first " + std::to_string(cut_) + " bytes were cut; the last " +
         std::to_string(kept_.size()) + " follow]\n" + SafeText(kept_);
}

std::string BoundedLog::LastLine() const {
  std::string_view all = kept_;
  while (!all.empty() && (all.back() == '\n' || all.back() == '\r' || all.back() == ' '))
    all.remove_suffix(1);
  auto nl = all.rfind('\n');
  return SafeText(nl == std::string_view::npos ? all : all.substr(nl + 1));
}

std::string SafeText(std::string_view bytes) {
  static constexpr std::string_view kReplacement = "\xEF\xBF\xBD";
  std::string out;
  out.reserve(bytes.size());
  std::size_t i = 0;
  while (i < bytes.size()) {
    auto c = static_cast<unsigned char>(bytes[i]);
    std::size_t len = 0;
    std::uint32_t min = 0;
    if (c == 0) {
      out += kReplacement;
      ++i;
      continue;
    }
    if (c < 0x80) {
      out.push_back(static_cast<char>(c));
      ++i;
      continue;
    }
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      min = 0x10000;
    }
    bool ok = len > 0 && i + len <= bytes.size();
    std::uint32_t cp = ok ? (c & (0x7F >> len)) : 0;
    for (std::size_t k = 1; ok && k < len; ++k) {
      auto cc = static_cast<unsigned char>(bytes[i + k]);
      ok = (cc & 0xC0) == 0x80;
      cp = (cp << 6) | (cc & 0x3F);
    }
    ok = ok && cp >= min && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF);
    if (!ok) {
      out += kReplacement;
      ++i;
      continue;
    }
    out.append(bytes.substr(i, len));
    i += len;
  }
  return out;
}

}  // namespace conveyor
