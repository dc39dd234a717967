// Request framing for the Redis protocol: multibulk (`*N\r\n$len\r\n...`) and inline
// commands, with redis-server 7.0's exact acceptance rules and error texts
// (networking.c: processMultibulkBuffer / processInlineBuffer).
//
// Pure: no host calls, so every rule is unit-testable and fuzzable. The caller owns the
// input; the parser keeps only offsets across calls, so the host may move its buffer
// between calls as long as the unconsumed bytes are presented again from their start.
#pragma once

#include <climits>
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "ferrite/module.h"

namespace ferrite::proto::resp {

// Redis 7 refuses large frames from clients that still have to AUTH.
inline constexpr int64_t kUnauthMaxMultibulk = 10;
inline constexpr int64_t kUnauthMaxBulk = 16384;

struct Limits {
  int64_t max_bulk_len = 512LL * 1024 * 1024;  // proto-max-bulk-len
  int64_t max_multibulk_len = INT_MAX;         // Redis 7 accepts up to INT_MAX elements
  size_t inline_max = 64 * 1024;               // PROTO_INLINE_MAX_SIZE (also header lines)
  bool unauthenticated = false;                // requirepass set and no AUTH yet
};

enum class ProtocolError : uint8_t {
  kNone,
  kInvalidMultibulkLength,
  kInvalidBulkLength,
  kExpectedDollar,
  kTooBigInline,
  kTooBigMbulkCount,
  kTooBigBulkCount,
  kUnbalancedQuotes,
  kUnauthMultibulkLength,
  kUnauthBulkLength,
};

// Redis' reply text, without '-' and CRLF: "ERR Protocol error: invalid bulk length".
// `got` is the offending byte for kExpectedDollar.
std::string ProtocolErrorText(ProtocolError e, char got);

enum class ParseStatus : uint8_t {
  kCommand,     // a command is ready: Argc()/Argv(); *consumed = its size
  kEmpty,       // a request with no arguments ("*0", empty inline line): skip *consumed
  kIncomplete,  // need more bytes; nothing consumed, progress is remembered
  kError,       // protocol error: Error(); the connection must be closed after the reply
};

class RequestParser {
 public:
  // Parses the request that starts at data[0]. `data` must begin with the same bytes
  // as on the previous call when that call returned kIncomplete (more may follow).
  // Argv() slices point into `data` or into this parser, valid until the next call.
  ParseStatus Parse(const char* data, size_t len, const Limits& limits, size_t* consumed);

  int Argc() const { return static_cast<int>(argv_.size()); }
  const ferrite_slice* Argv() const { return argv_.data(); }
  ProtocolError Error() const { return error_; }
  char ErrorByte() const { return error_byte_; }
  std::string ErrorText() const { return ProtocolErrorText(error_, error_byte_); }

  // True while a partially received request is remembered.
  bool InProgress() const { return kind_ != Kind::kNone; }

 private:
  enum class Kind : uint8_t { kNone, kMultibulk, kInline };
  enum class Line : uint8_t { kFound, kMissing, kTooBig };

  ParseStatus ParseMultibulk(const char* data, size_t len, const Limits& limits,
                             size_t* consumed);
  ParseStatus ParseHeader(const char* data, size_t len, const Limits& limits,
                          size_t* consumed);
  ParseStatus ParseBulkLength(const char* data, size_t len, const Limits& limits);
  ParseStatus ParseInline(const char* data, size_t len, const Limits& limits,
                          size_t* consumed);
  Line FindLine(const char* data, size_t len, size_t start, char term, size_t max,
                size_t* at);
  ParseStatus Fail(ProtocolError e, char got = 0);
  void Reset();

  Kind kind_ = Kind::kNone;
  bool header_done_ = false;
  size_t pos_ = 0;              // next unparsed byte, relative to the request start
  size_t scan_ = 0;             // the current line holds no terminator before this
  bool scan_hit_nul_ = false;   // a NUL hides the terminator (see FindLine)
  int64_t bulks_left_ = 0;
  int64_t bulk_len_ = -1;       // -1: the next `$len` line is not read yet
  std::vector<std::pair<size_t, size_t>> spans_;  // (offset, length) of parsed bulks
  std::vector<ferrite_slice> argv_;
  std::vector<char> scratch_;   // unescaped inline tokens
  ProtocolError error_ = ProtocolError::kNone;
  char error_byte_ = 0;
};

}  // namespace ferrite::proto::resp
