// The set value: an intset while every member is a canonical integer and the set is
// small (set-max-intset-entries), a chained hash table of strings otherwise. Like
// Redis 7.0 it never converts back. OBJECT ENCODING: "intset" / "hashtable".
//
// Memory: a SetValue is one malloc block, a 4-byte header followed by the intset's
// elements (as Redis' intset, which its robj points at). The host's key entry is our
// stable handle, so there is no separate value object: growing the intset past its
// block, or converting it, yields a new block, and the owner re-points at it (SetPtr
// below; a key is re-pointed through key_set_value, see sets_internal.h). A hash table
// set is a 16-byte block pointing at the table.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <string_view>
#include <vector>

#include "chained_table.h"
#include "intset.h"

namespace ferrite::mod::sets {

enum class SetEncoding : uint8_t { kIntSet, kHashTable };

// A member stored in the hash table: next link, length and bytes in one allocation.
struct SetNode {
  SetNode* next;
  uint32_t len;
  char data[1];
  std::string_view View() const { return {data, len}; }
  static SetNode* Make(std::string_view s);
  static void Free(SetNode* n);
};
struct SetNodeTraits {
  static std::string_view Key(const SetNode* n) { return n->View(); }
  static SetNode*& Next(SetNode* n) { return n->next; }
};

// Redis string2ll: the member is stored in an intset only if this accepts it.
bool MemberAsInt(std::string_view s, int64_t* out);

class SetValue {
 public:
  SetValue(const SetValue&) = delete;
  SetValue& operator=(const SetValue&) = delete;

  // An empty set whose first member is `first` (decides the starting encoding).
  static SetValue* Create(std::string_view first);
  // An empty intset.
  static SetValue* CreateIntSet();
  static void Destroy(SetValue* v);

  size_t Size() const;
  SetEncoding Encoding() const { return IsHash() ? SetEncoding::kHashTable : SetEncoding::kIntSet; }
  const char* EncodingName() const;
  bool Contains(std::string_view m) const;
  // Adds m (*added = false if it was already a member); converts to a hash table when
  // m is not an integer or the intset would exceed max_intset entries. Returns the
  // value to use from now on: `this`, or a new block when the intset outgrew its block
  // or was converted. `this` is then left unchanged, for its owner to release.
  [[nodiscard]] SetValue* Add(std::string_view m, size_t max_intset, bool* added);
  // Never moves the value (an intset keeps its block; see ShrinkToFit).
  bool Remove(std::string_view m);
  // After removals: a tight copy when the intset uses well under its block (by 25% and
  // at least 32 bytes), else `this`. As for Add, `this` is then left for its owner.
  [[nodiscard]] SetValue* ShrinkToFit();
  // Calls fn(member) for every member (intset: ascending; hash table: table order).
  void ForEach(const std::function<void(std::string_view)>& fn) const;
  std::vector<std::string> Members() const;
  // One random member (non-empty set).
  std::string Random(std::mt19937_64& rng) const;
  // SSCAN step: intsets return everything and cursor 0.
  uint64_t Scan(uint64_t cursor, const std::function<void(std::string_view)>& fn) const;
  // Bytes the allocator gave us (usable sizes), table and members included.
  size_t MemUsage() const;
  SetValue* Clone() const;
  // A new hash-table block with the same members (`this` if already one; else `this`
  // is left unchanged, as for Add).
  [[nodiscard]] SetValue* ConvertToHashTable();
  int IntSetWidth() const { return IsHash() ? 0 : static_cast<int>(Width()); }

 private:
  using Table = ChainedTable<SetNode, SetNodeTraits>;
  static constexpr uint32_t kHashBit = 1;
  static constexpr size_t kHeader = sizeof(uint32_t);
  static constexpr size_t kTableOffset = 8;  // hash table sets: the Table* (aligned)
  // The intset length lives in 29 bits; a longer one converts (Redis caps it lower).
  static constexpr size_t kMaxIntSetLen = (size_t{1} << 29) - 1;

  SetValue() = default;
  static SetValue* Alloc(size_t bytes);
  static SetValue* NewHashTable();
  bool IsHash() const { return meta_ & kHashBit; }
  uint32_t Width() const { return 2u << ((meta_ >> 1) & 3); }
  size_t IntLen() const { return meta_ >> 3; }
  void SetIntMeta(uint32_t width, size_t len);
  uint8_t* Ints() { return reinterpret_cast<uint8_t*>(this) + kHeader; }
  const uint8_t* Ints() const { return reinterpret_cast<const uint8_t*>(this) + kHeader; }
  Table* Tbl() const;
  // This block if it has room for `bytes`, else a new one holding a copy of the intset.
  SetValue* Reserve(size_t bytes);
  SetValue* ConvertAndAdd(std::string_view m, bool* added);

  // bit 0: hash table; bits 1-2: intset width (2 << code); bits 3-31: intset length.
  uint32_t meta_ = 0;
};

struct SetDeleter {
  void operator()(SetValue* v) const { SetValue::Destroy(v); }
};

// A set value nobody else points at (results being built, snapshot loads, tests): it
// follows the value when an operation moves it and frees the old block.
class SetPtr : public std::unique_ptr<SetValue, SetDeleter> {
 public:
  using unique_ptr::unique_ptr;
  bool Add(std::string_view m, size_t max_intset);
  void ConvertToHashTable();
};

std::mt19937_64& Rng();

}  // namespace ferrite::mod::sets
