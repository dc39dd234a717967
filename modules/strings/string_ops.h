// The value-level rules of the string commands, kept free of the host so they can be
// tested without one: SET/GETEX option parsing, expiry arithmetic, integer and float
// increments, GETRANGE index math, the SETRANGE/APPEND size limit and LCS.
//
// Every function reproduces redis-server 7.0's behaviour (t_string.c), including the
// order in which errors are detected, because clients see that order.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "ferrite/module.h"

namespace ferrite::mod::strings {

// ---- SET / GETEX options -------------------------------------------------------------

enum class OptsFor { kSet, kGetEx, kMSetEx };
// NX/XX test existence; the IF* conditions (Redis 8.4) test the current value.
enum class Cond { kNone, kNx, kXx, kIfEq, kIfNe, kIfDeq, kIfDne };
enum class ExpireOpt { kNone, kEx, kPx, kExAt, kPxAt };

struct SetOptions {
  Cond cond = Cond::kNone;
  bool get = false;
  bool keepttl = false;
  bool persist = false;
  ExpireOpt expire = ExpireOpt::kNone;
  std::string_view expire_arg;  // the argument after EX/PX/EXAT/PXAT
  std::string_view compare_arg;  // the argument after IFEQ/IFNE/IFDEQ/IFDNE
};

// Parses argv[start..argc) with Redis' parseExtendedStringArgumentsOrReply rules:
// NX/XX exclude each other, KEEPTTL/PERSIST exclude every expiry option, the four
// expiry options exclude each other but may repeat (last wins), GET may repeat.
// SET also takes Redis 8.4's IFEQ/IFNE/IFDEQ/IFDNE <arg>, which exclude NX, XX and each
// other (the same one may repeat, last wins). MSETEX takes NX/XX, KEEPTTL and the
// expiry options. Returns false on a syntax error.
bool ParseSetOptions(int argc, const ferrite_slice* argv, int start, OptsFor cmd,
                     SetOptions* out);

enum class ExpireStatus { kOk, kNotInteger, kInvalid };

// Turns an expiry argument into an absolute unix time in ms (getExpireMillisecondsOrReply):
// non-positive values and values whose ms form overflows are kInvalid.
ExpireStatus ResolveExpire(std::string_view arg, ExpireOpt opt, int64_t now_ms,
                           int64_t* abs_ms);

// "ERR invalid expire time in '<cmd>' command"
std::string InvalidExpireText(std::string_view cmd_lower);

// ---- numbers ---------------------------------------------------------------------------

enum class IncrStatus { kOk, kNotInteger, kOverflow };

// current: the stored string, or nullopt for a missing key (counts as 0).
IncrStatus AddInt64(std::optional<std::string_view> current, int64_t incr, int64_t* out);

// Redis string2ld: strtold over the whole string, no leading space, NaN and
// out-of-range values rejected, at most 5119 bytes.
bool ParseLongDouble(std::string_view s, long double* out);

enum class FloatStatus { kOk, kNotFloat, kNanOrInfinity };

// INCRBYFLOAT arithmetic; on kOk *out is the stored/replied text (FormatLongDouble).
FloatStatus AddLongDouble(std::optional<std::string_view> current, std::string_view incr,
                          std::string* out);

// ---- ranges and sizes ------------------------------------------------------------------

// GETRANGE / SUBSTR: inclusive, negative indexes count from the end, clamped.
std::string_view Substring(std::string_view s, int64_t start, int64_t end);

// True if a string of offset+len bytes stays within `limit` (proto-max-bulk-len).
// Never overflows, whatever offset is.
bool FitsLimit(uint64_t offset, uint64_t len, int64_t limit);

// proto-max-bulk-len from the host, 512 MB when the host does not know the setting.
int64_t MaxBulkLen();

// ---- LCS -------------------------------------------------------------------------------

struct LcsRange {
  uint32_t a_start, a_end, b_start, b_end;
  uint32_t Len() const { return a_end - a_start + 1; }
};

struct LcsResult {
  uint32_t len = 0;             // length of the longest common subsequence
  std::string lcs;              // the subsequence itself (when computed)
  std::vector<LcsRange> ranges; // matching ranges, last match first (Redis' order)
};

enum class LcsWant { kLength, kString };  // kString also yields ranges

// Bytes of the DP table Redis would allocate; compared against proto-max-bulk-len.
uint64_t LcsTableBytes(std::string_view a, std::string_view b);

// The classic DP over bytes, walked back the way Redis walks it so the chosen
// subsequence and ranges are identical. Ranges shorter than min_match_len are dropped.
LcsResult ComputeLcs(std::string_view a, std::string_view b, LcsWant want,
                     int64_t min_match_len);

}  // namespace ferrite::mod::strings
