#include "resp_parser.h"

#include <algorithm>
#include <cstring>
#include <string_view>

#include "ferrite/module.hpp"
#include "inline_args.h"

namespace ferrite::proto::resp {

using ferrite::sdk::ParseInt64;

std::string ProtocolErrorText(ProtocolError e, char got) {
  std::string s = "ERR Protocol error: ";
  switch (e) {
    case ProtocolError::kNone: return "ERR Protocol error";
    case ProtocolError::kInvalidMultibulkLength: return s + "invalid multibulk length";
    case ProtocolError::kInvalidBulkLength: return s + "invalid bulk length";
    case ProtocolError::kExpectedDollar: return s + "expected '$', got '" + got + "'";
    case ProtocolError::kTooBigInline: return s + "too big inline request";
    case ProtocolError::kTooBigMbulkCount: return s + "too big mbulk count string";
    case ProtocolError::kTooBigBulkCount: return s + "too big bulk count string";
    case ProtocolError::kUnbalancedQuotes: return s + "unbalanced quotes in request";
    case ProtocolError::kUnauthMultibulkLength: return s + "unauthenticated multibulk length";
    case ProtocolError::kUnauthBulkLength: return s + "unauthenticated bulk length";
  }
  return s;
}

ParseStatus RequestParser::Parse(const char* data, size_t len, const Limits& limits,
                                 size_t* consumed) {
  *consumed = 0;
  if (len == 0) return ParseStatus::kIncomplete;
  if (kind_ == Kind::kNone) kind_ = data[0] == '*' ? Kind::kMultibulk : Kind::kInline;
  if (kind_ == Kind::kMultibulk) return ParseMultibulk(data, len, limits, consumed);
  return ParseInline(data, len, limits, consumed);
}

// Redis finds line ends with strchr() on its NUL-terminated query buffer, so a NUL
// before the terminator hides it: such a line never ends and only the size limit can
// end the request. Redis applies the limit only while no terminator has arrived, so
// its verdict on a line longer than `max` depends on how reads were chunked; we
// reject any line longer than `max`, which is what Redis does when the bytes trickle
// in, and makes the outcome independent of how the input is split.
// The search resumes where the previous call stopped, so a long line that arrives in
// small pieces is scanned once.
RequestParser::Line RequestParser::FindLine(const char* data, size_t len, size_t start,
                                            char term, size_t max, size_t* at) {
  if (!scan_hit_nul_) {
    size_t from = std::max(scan_, start);
    size_t limit = std::min(len, start + max + 1);  // a later terminator is too late
    if (from < limit) {
      const char* t = static_cast<const char*>(memchr(data + from, term, limit - from));
      size_t stop = t ? static_cast<size_t>(t - data) : limit;
      const char* z = static_cast<const char*>(memchr(data + from, '\0', stop - from));
      if (z) {
        scan_hit_nul_ = true;
      } else if (t) {
        *at = stop;
        return Line::kFound;
      } else {
        scan_ = limit;
      }
    }
  }
  return len - start > max ? Line::kTooBig : Line::kMissing;
}

ParseStatus RequestParser::ParseMultibulk(const char* data, size_t len, const Limits& limits,
                                          size_t* consumed) {
  if (!header_done_) {
    ParseStatus st = ParseHeader(data, len, limits, consumed);
    if (st != ParseStatus::kCommand) return st;
  }
  while (bulks_left_ > 0) {
    if (bulk_len_ < 0) {
      ParseStatus st = ParseBulkLength(data, len, limits);
      if (st != ParseStatus::kCommand) return st;
    }
    // +2: the CRLF after the payload, which Redis skips without looking at it.
    if (len - pos_ < static_cast<uint64_t>(bulk_len_) + 2) return ParseStatus::kIncomplete;
    spans_.emplace_back(pos_, static_cast<size_t>(bulk_len_));
    pos_ += static_cast<size_t>(bulk_len_) + 2;
    bulk_len_ = -1;
    bulks_left_--;
  }
  argv_.clear();
  for (const auto& [off, n] : spans_) argv_.push_back({data + off, n});
  *consumed = pos_;
  Reset();
  return ParseStatus::kCommand;
}

// `*N\r\n`. Returns kCommand to mean "header parsed, go on".
ParseStatus RequestParser::ParseHeader(const char* data, size_t len, const Limits& limits,
                                       size_t* consumed) {
  size_t at = 0;
  switch (FindLine(data, len, 0, '\r', limits.inline_max, &at)) {
    case Line::kTooBig: return Fail(ProtocolError::kTooBigMbulkCount);
    case Line::kMissing: return ParseStatus::kIncomplete;
    case Line::kFound: break;
  }
  if (at + 2 > len) return ParseStatus::kIncomplete;  // the byte after '\r' (Redis: '\n')
  int64_t n = 0;
  if (!ParseInt64(std::string_view(data + 1, at - 1), &n) || n > limits.max_multibulk_len) {
    return Fail(ProtocolError::kInvalidMultibulkLength);
  }
  if (n > kUnauthMaxMultibulk && limits.unauthenticated) {
    return Fail(ProtocolError::kUnauthMultibulkLength);
  }
  pos_ = at + 2;
  if (n <= 0) {
    *consumed = pos_;
    Reset();
    argv_.clear();
    return ParseStatus::kEmpty;
  }
  header_done_ = true;
  bulks_left_ = n;
  spans_.clear();
  // NOTE: never trust the claimed count for memory; grow as bulks actually arrive.
  spans_.reserve(static_cast<size_t>(std::min<int64_t>(n, 1024)));
  return ParseStatus::kCommand;
}

// `$len\r\n`. Returns kCommand to mean "length known, go on".
ParseStatus RequestParser::ParseBulkLength(const char* data, size_t len,
                                           const Limits& limits) {
  size_t at = 0;
  switch (FindLine(data, len, pos_, '\r', limits.inline_max, &at)) {
    case Line::kTooBig: return Fail(ProtocolError::kTooBigBulkCount);
    case Line::kMissing: return ParseStatus::kIncomplete;
    case Line::kFound: break;
  }
  if (at + 2 > len) return ParseStatus::kIncomplete;
  if (data[pos_] != '$') return Fail(ProtocolError::kExpectedDollar, data[pos_]);
  int64_t n = 0;
  if (!ParseInt64(std::string_view(data + pos_ + 1, at - pos_ - 1), &n) || n < 0 ||
      n > limits.max_bulk_len) {
    return Fail(ProtocolError::kInvalidBulkLength);
  }
  if (n > kUnauthMaxBulk && limits.unauthenticated) {
    return Fail(ProtocolError::kUnauthBulkLength);
  }
  pos_ = at + 2;
  bulk_len_ = n;
  return ParseStatus::kCommand;
}

ParseStatus RequestParser::ParseInline(const char* data, size_t len, const Limits& limits,
                                       size_t* consumed) {
  size_t at = 0;
  switch (FindLine(data, len, 0, '\n', limits.inline_max, &at)) {
    case Line::kTooBig: return Fail(ProtocolError::kTooBigInline);
    case Line::kMissing: return ParseStatus::kIncomplete;
    case Line::kFound: break;
  }
  size_t end = at;
  if (end > 0 && data[end - 1] == '\r') end--;
  if (!SplitInlineArgs(std::string_view(data, end), &argv_, &scratch_)) {
    return Fail(ProtocolError::kUnbalancedQuotes);
  }
  *consumed = at + 1;
  Reset();
  return argv_.empty() ? ParseStatus::kEmpty : ParseStatus::kCommand;
}

ParseStatus RequestParser::Fail(ProtocolError e, char got) {
  error_ = e;
  error_byte_ = got;
  Reset();
  argv_.clear();
  return ParseStatus::kError;
}

void RequestParser::Reset() {
  kind_ = Kind::kNone;
  header_done_ = false;
  pos_ = 0;
  scan_ = 0;
  scan_hit_nul_ = false;
  bulks_left_ = 0;
  bulk_len_ = -1;
  spans_.clear();
}

}  // namespace ferrite::proto::resp
