// The sorted-set value: a ZPack ("listpack") while small, a ZSkipList ("skiplist")
// past zset-max-listpack-entries / zset-max-listpack-value. Like Redis it converts
// back only when a whole result is built at once (ZUNIONSTORE, ZRANGESTORE ...).
#pragma once

#include <cstdint>
#include <functional>
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
  ZSetValue() = default;
  ZSetValue(const ZSetValue&) = delete;
  ZSetValue& operator=(const ZSetValue&) = delete;
  ~ZSetValue();

  // An empty set in the encoding Redis picks for `size_hint` members of at most
  // `len_hint` bytes.
  static ZSetValue* Create(const ZLimits& lim, size_t size_hint, size_t len_hint);

  size_t Size() const;
  ZEncoding Encoding() const { return enc_; }
  const char* EncodingName() const;
  std::optional<double> Score(std::string_view m) const;
  // Inserts or re-scores m; converts to a skiplist when the listpack limits are passed.
  void Set(std::string_view m, double score, const ZLimits& lim);
  bool Remove(std::string_view m);
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
  size_t MemUsage() const;
  ZSetValue* Clone() const;
  void ConvertToSkiplist();
  // Back to a listpack when it fits (results built in one go).
  void ConvertToListpackIfFits(const ZLimits& lim);

 private:
  ZEncoding enc_ = ZEncoding::kListpack;
  ZPack lp_;
  ZSkipList* sl_ = nullptr;  // only for kSkiplist: it is large even when empty
};

// The generator behind ZRANDMEMBER and random levels of the commands.
std::mt19937_64& ZRng();

}  // namespace ferrite::mod::zsets
