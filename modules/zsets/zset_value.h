// The sorted-set value: a ZPack ("listpack") while small, a ZSkipList ("skiplist")
// past zset-max-listpack-entries / zset-max-listpack-value. Like Redis it converts
// back only when a whole result is built at once (ZUNIONSTORE, ZRANGESTORE ...).
//
// Memory: a ZSetValue is one malloc block, a 4-byte header followed by the listpack
// entries (as Redis' listpack, which its robj points at). The host's key entry is our
// stable handle, so there is no separate value object: growing the listpack past its
// block, or converting it, yields a new block and the owner re-points at it (ZSetPtr
// below; a key through key_set_value, see ZSetRef in zsets_internal.h). A skiplist
// zset is a 16-byte block pointing at the skiplist.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>

#include "zset_listpack.h"
#include "zset_skiplist.h"

namespace ferrite::mod::zsets {

enum class ZEncoding : uint8_t { kListpack, kSkiplist };
enum class Dir { kForward, kReverse };

struct ZLimits {
  size_t max_entries = 128;  // zset-max-listpack-entries
  size_t max_value = 64;     // zset-max-listpack-value
};

using ZVisitor = std::function<bool(std::string_view member, double score)>;
using ZPred = std::function<bool(std::string_view member, double score)>;

class ZSetValue {
 public:
  ZSetValue(const ZSetValue&) = delete;
  ZSetValue& operator=(const ZSetValue&) = delete;

  // An empty set in the encoding Redis picks for `size_hint` members of at most
  // `len_hint` bytes.
  static ZSetValue* Create(const ZLimits& lim, size_t size_hint, size_t len_hint);
  static void Destroy(ZSetValue* z);

  size_t Size() const;
  ZEncoding Encoding() const { return IsSkip() ? ZEncoding::kSkiplist : ZEncoding::kListpack; }
  const char* EncodingName() const;
  std::optional<double> Score(std::string_view m) const;
  // Inserts or re-scores m; converts to a skiplist when the listpack limits are passed.
  // Returns the value to use from now on: `this`, or a new block when the listpack
  // outgrew its block or was converted; `this` is then stale, only to be released.
  [[nodiscard]] ZSetValue* Set(std::string_view m, double score, const ZLimits& lim);
  // Never moves the value (a listpack keeps its block; see ShrinkToFit).
  bool Remove(std::string_view m);
  // After removals: a tight copy when the listpack uses well under its block (by 25%
  // and at least 32 bytes), else `this`. As for Set, `this` is then left for its owner.
  [[nodiscard]] ZSetValue* ShrinkToFit();
  // 0-based ascending rank of a member, nullopt if absent.
  std::optional<size_t> Rank(std::string_view m) const;
  // How many leading elements (ascending) satisfy pred; pred must hold for a prefix.
  size_t CountWhile(const ZPred& pred) const;
  // Visits elements from ascending rank `start` towards the end (kForward) or the
  // beginning (kReverse) until fn returns false.
  void Walk(size_t start, Dir dir, const ZVisitor& fn) const;
  void ForEach(const ZVisitor& fn) const { Walk(0, Dir::kForward, fn); }
  std::pair<std::string, double> AtRank(size_t r) const;
  // ZSCAN step: a listpack returns everything and cursor 0.
  uint64_t Scan(uint64_t cursor, const ZVisitor& fn) const;
  // Bytes the allocator gave us (usable sizes), skiplist included.
  size_t MemUsage() const;
  ZSetValue* Clone() const;
  // These return the value to use from now on, as Set does.
  [[nodiscard]] ZSetValue* ConvertToSkiplist();
  // Back to a listpack when it fits (results built in one go).
  [[nodiscard]] ZSetValue* ConvertToListpackIfFits(const ZLimits& lim);

 private:
  static constexpr uint32_t kSkipBit = 1;
  static constexpr size_t kHeader = sizeof(uint32_t);
  static constexpr size_t kSkipOffset = 8;  // skiplist zsets: the ZSkipList* (aligned)
  // The listpack's byte count lives in 31 bits; a bigger one converts.
  static constexpr size_t kMaxListpackBytes = (size_t{1} << 31) - 1;

  ZSetValue() = default;
  static ZSetValue* Alloc(size_t bytes);
  static ZSetValue* NewListpack();
  static ZSetValue* NewSkiplist();
  bool IsSkip() const { return meta_ & kSkipBit; }
  size_t Used() const { return meta_ >> 1; }
  void SetUsed(size_t used) { meta_ = static_cast<uint32_t>(used << 1); }
  uint8_t* Data() { return reinterpret_cast<uint8_t*>(this) + kHeader; }
  const uint8_t* Data() const { return reinterpret_cast<const uint8_t*>(this) + kHeader; }
  ZSkipList* Skip() const;
  ZSetValue* InsertListpack(std::string_view m, double score);

  // bit 0: skiplist; bits 1-31: bytes of listpack entries after the header.
  uint32_t meta_ = 0;
};

struct ZSetDeleter {
  void operator()(ZSetValue* z) const { ZSetValue::Destroy(z); }
};

// A zset value nobody else points at (results being built, snapshot loads, tests): it
// follows the value when an operation moves it and frees the old block.
class ZSetPtr : public std::unique_ptr<ZSetValue, ZSetDeleter> {
 public:
  using unique_ptr::unique_ptr;
  void Set(std::string_view m, double score, const ZLimits& lim) { Follow(get()->Set(m, score, lim)); }
  void ConvertToSkiplist() { Follow(get()->ConvertToSkiplist()); }
  void ConvertToListpackIfFits(const ZLimits& lim) { Follow(get()->ConvertToListpackIfFits(lim)); }

 private:
  void Follow(ZSetValue* now) {
    if (now != get()) reset(now);
  }
};

// The generator behind ZRANDMEMBER and random levels of the commands.
std::mt19937_64& ZRng();

}  // namespace ferrite::mod::zsets
