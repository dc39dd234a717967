// The value-level rules of the bitmap commands (a bitmap is a string), kept free of the
// host so they can be tested without one: bit offsets and BITFIELD types, population
// count and first-bit search over BYTE/BIT ranges, BITOP's operators, and BITFIELD's
// integer read/write with WRAP/SAT/FAIL overflow.
//
// Bit 0 is the most significant bit of byte 0 (Redis' SETBIT convention). Every
// function reproduces redis-server 7.0's src/bitops.c arithmetic, including its range
// clamping quirks, because clients see them.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace ferrite::mod::strings {

// ---- arguments -------------------------------------------------------------------------

// getBitOffsetFromArgument: a non-negative integer whose byte (offset >> 3) is below
// `max_bytes` (proto-max-bulk-len). With `bits` > 0 a "#n" form means n * bits (as C
// computes it: the product wraps). False for anything else.
bool ParseBitOffset(std::string_view arg, int bits, int64_t max_bytes, uint64_t* out);

// BITFIELD's <type>: i1..i64 or u1..u63.
struct FieldType {
  bool is_signed = false;
  int bits = 0;
};
bool ParseFieldType(std::string_view arg, FieldType* out);

// ---- BITCOUNT / BITPOS -----------------------------------------------------------------

enum class RangeUnit { kByte, kBit };

// Set bits in p[0..n).
uint64_t Popcount(const uint8_t* p, size_t n);

// redisBitpos: the position of the first bit equal to `bit` in p[0..n), treating the
// bytes past the end as zeros: for bit 0 an all-ones input answers n * 8, for bit 1 an
// all-zero input answers -1.
int64_t FirstBit(const uint8_t* p, size_t n, int bit);

// BITCOUNT key start end [unit] on string s: negative indexes count from the end, the
// range is clamped to the string.
int64_t CountBits(std::string_view s, int64_t start, int64_t end, RangeUnit unit);

// BITPOS key bit [start [end [unit]]] on string s (the key exists). Without start the
// whole string is searched; without end a search for 0 may answer the first bit past
// the end, with end it answers -1 instead.
int64_t FindBit(std::string_view s, int bit, std::optional<int64_t> start,
                std::optional<int64_t> end, RangeUnit unit);

// ---- BITOP -----------------------------------------------------------------------------

// AND OR XOR NOT (Redis 2.6) and DIFF DIFF1 ANDOR ONE (Redis 8.2):
//   DIFF  X & ~(Y1 | Y2 | ...)     DIFF1 ~X & (Y1 | Y2 | ...)
//   ANDOR X & (Y1 | Y2 | ...)      ONE   bits set in exactly one source
enum class BitOpKind { kAnd, kOr, kXor, kNot, kDiff, kDiff1, kAndOr, kOne };

std::optional<BitOpKind> ParseBitOp(std::string_view word);
const char* BitOpName(BitOpKind op);  // upper case, as the error messages spell it
// How many source keys the operator needs at least (NOT: exactly one).
int BitOpMinSources(BitOpKind op);

// The result of `op` over the sources (a missing key is an empty string): as long as
// the longest source, shorter ones read as zeros past their end.
std::string BitOp(BitOpKind op, const std::vector<std::string_view>& srcs);

// ---- BITFIELD --------------------------------------------------------------------------

enum class Overflow { kWrap, kSat, kFail };

// A byte array that reads through to a base string (zeros past its end) and keeps the
// bytes written since in an overlay, so BITFIELD can find out what it would change
// before it touches the key (Redis neither bumps nor propagates a no-op BITFIELD).
class BitOverlay {
 public:
  explicit BitOverlay(std::string_view base) : base_(base) {}
  uint8_t Get(uint64_t byte) const;
  void Put(uint64_t byte, uint8_t v) { written_[byte] = v; }
  const std::map<uint64_t, uint8_t>& Written() const { return written_; }

 private:
  std::string_view base_;
  std::map<uint64_t, uint8_t> written_;
};

uint64_t GetUnsignedField(const BitOverlay& b, uint64_t offset, int bits);
int64_t GetSignedField(const BitOverlay& b, uint64_t offset, int bits);
void SetUnsignedField(BitOverlay& b, uint64_t offset, int bits, uint64_t value);

// checkUnsigned/SignedBitfieldOverflow: 0 if value + incr fits in `bits`, 1 on
// overflow, -1 on underflow; then *limit is what WRAP or SAT stores.
int UnsignedOverflow(uint64_t value, int64_t incr, int bits, Overflow ow, uint64_t* limit);
int SignedOverflow(int64_t value, int64_t incr, int bits, Overflow ow, int64_t* limit);

// One BITFIELD SET or INCRBY on the overlay. Returns the reply value (SET: the old
// value, INCRBY: the new one) or nullopt when OVERFLOW FAIL refused it (nothing is
// written then); *changed says whether the stored bits differ afterwards.
enum class FieldWrite { kSet, kIncrBy };
std::optional<int64_t> WriteField(BitOverlay& b, FieldWrite op, FieldType t, uint64_t offset,
                                  int64_t arg, Overflow ow, bool* changed);

}  // namespace ferrite::mod::strings
