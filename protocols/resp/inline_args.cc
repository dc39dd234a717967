#include "inline_args.h"

#include <cstddef>

namespace ferrite::proto::resp {
namespace {

// isspace() in the C locale, which is what sdssplitargs uses to skip blanks.
bool IsBlank(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

bool IsHex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

int HexValue(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  return c - 'A' + 10;
}

char Unescape(char c) {
  switch (c) {
    case 'n': return '\n';
    case 'r': return '\r';
    case 't': return '\t';
    case 'b': return '\b';
    case 'a': return '\a';
    default: return c;
  }
}

// One token of the line. Bytes go nowhere until the first quote: an unquoted token is
// a plain sub-slice of the line. From the first quote on, bytes are copied to scratch.
class Token {
 public:
  Token(std::string_view line, size_t start, std::vector<char>* scratch)
      : line_(line), start_(start), scratch_(scratch), scratch_start_(scratch->size()) {}

  // Called before the first quoted byte: move what was read so far to scratch.
  void StartCopy(size_t at) {
    if (copied_) return;
    copied_ = true;
    scratch_->insert(scratch_->end(), line_.data() + start_, line_.data() + at);
  }
  void Push(char c) {
    if (copied_) scratch_->push_back(c);
  }
  ferrite_slice Slice(size_t end) const {
    if (!copied_) return {line_.data() + start_, end - start_};
    return {scratch_->data() + scratch_start_, scratch_->size() - scratch_start_};
  }

 private:
  std::string_view line_;
  size_t start_;
  std::vector<char>* scratch_;
  size_t scratch_start_;
  bool copied_ = false;
};

enum class Quote { kNone, kDouble, kSingle };

}  // namespace

bool SplitInlineArgs(std::string_view line, std::vector<ferrite_slice>* argv,
                     std::vector<char>* scratch) {
  if (size_t nul = line.find('\0'); nul != std::string_view::npos) line = line.substr(0, nul);
  argv->clear();
  scratch->clear();
  // NOTE: every unescaped byte consumes at least one input byte, so scratch never
  // outgrows the line and the pointers handed out below stay valid.
  scratch->reserve(line.size());
  const size_t n = line.size();
  auto at = [&](size_t k) -> char { return k < n ? line[k] : '\0'; };
  size_t i = 0;
  for (;;) {
    while (i < n && IsBlank(line[i])) i++;
    if (i >= n) return true;
    Token tok(line, i, scratch);
    Quote q = Quote::kNone;
    size_t end = i;
    for (bool done = false; !done;) {
      char c = at(i);
      if (q == Quote::kDouble) {
        if (c == '\\' && at(i + 1) == 'x' && IsHex(at(i + 2)) && IsHex(at(i + 3))) {
          tok.Push(static_cast<char>(HexValue(at(i + 2)) * 16 + HexValue(at(i + 3))));
          i += 3;
        } else if (c == '\\' && at(i + 1)) {
          i++;
          tok.Push(Unescape(at(i)));
        } else if (c == '"') {
          if (at(i + 1) && !IsBlank(at(i + 1))) return false;
          done = true;
        } else if (!c) {
          return false;
        } else {
          tok.Push(c);
        }
      } else if (q == Quote::kSingle) {
        if (c == '\\' && at(i + 1) == '\'') {
          i++;
          tok.Push('\'');
        } else if (c == '\'') {
          if (at(i + 1) && !IsBlank(at(i + 1))) return false;
          done = true;
        } else if (!c) {
          return false;
        } else {
          tok.Push(c);
        }
      } else if (c == ' ' || c == '\n' || c == '\r' || c == '\t' || c == '\0') {
        end = i;
        done = true;
      } else if (c == '"' || c == '\'') {
        tok.StartCopy(i);
        q = c == '"' ? Quote::kDouble : Quote::kSingle;
      } else {
        tok.Push(c);
      }
      if (at(i)) i++;
    }
    argv->push_back(tok.Slice(end));
  }
}

}  // namespace ferrite::proto::resp
