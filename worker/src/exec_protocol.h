// The pieces of the exec handler that do no I/O, apart so they can be unit-tested: the stdout
// line protocol, the bounded stderr log, and making a program's bytes safe to store as text.
// The protocol is documented for program authors in docs/handlers.md.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace conveyor {

// One line a program wrote to stdout, without its line end.
struct ExecLine {
  enum class Kind {
    kProgress,   // "progress <percent> [description]": percent in 0..100, description optional
    kResult,     // "result <text>": the run's result text (the last one wins)
    kFile,       // "file <name>": a file the run produced (the last one wins)
    kOther,      // anything else: ignored, so programs may print what they like
    kMalformed,  // starts like a protocol line but is not one; `problem` says why
  };
  Kind kind = Kind::kOther;
  int percent = 0;
  std::string text;  // description, result or file name
  std::string problem;
};

// Parses one stdout line. A trailing '\r' is dropped. Keywords are lower case and followed by
// one space (or, for progress, the end of the line after the percent).
ExecLine ParseExecLine(std::string_view line);

// Splits a byte stream into lines. Lines longer than `max_line` bytes are cut to that length
// (the rest up to the next '\n' is dropped). Not thread-safe.
class LineSplitter {
 public:
  explicit LineSplitter(std::size_t max_line) : max_line_(max_line) {}
  // Feeds bytes; calls on_line(std::string_view) for each complete line.
  template <typename F>
  void Feed(std::string_view bytes, F&& on_line) {
    for (char c : bytes) {
      if (c == '\n') {
        on_line(std::string_view(line_));
        line_.clear();
        skipping_ = false;
      } else if (!skipping_) {
        if (line_.size() < max_line_)
          line_.push_back(c);
        else
          skipping_ = true;
      }
    }
  }
  // At end of stream: the last line when it had no '\n'.
  template <typename F>
  void Finish(F&& on_line) {
    if (!line_.empty()) on_line(std::string_view(line_));
    line_.clear();
  }

 private:
  std::size_t max_line_;
  std::string line_;
  bool skipping_ = false;
};

// Keeps the last `limit` bytes of what is appended, and says how much was cut. Not
// thread-safe.
class BoundedLog {
 public:
  explicit BoundedLog(std::size_t limit) : limit_(limit) {}
  void Append(std::string_view bytes);
  // The kept bytes (made safe as text), preceded by a line saying how many bytes were cut
  // when any were.
  std::string Text() const;
  std::size_t cut() const { return cut_; }
  // The last non-empty line kept (made safe as text); empty when none.
  std::string LastLine() const;

 private:
  std::size_t limit_;
  std::string kept_;
  std::size_t cut_ = 0;
};

// `bytes` as valid UTF-8 without NUL characters (PostgreSQL text holds neither): each invalid
// sequence becomes U+FFFD, NUL becomes U+FFFD too.
std::string SafeText(std::string_view bytes);

}  // namespace conveyor
