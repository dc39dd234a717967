// The set value: an IntSet while every member is a canonical integer and the set is
// small (set-max-intset-entries), a chained hash table of strings otherwise. Like
// Redis 7.0 it never converts back. OBJECT ENCODING: "intset" / "hashtable".
#pragma once

#include <cstdint>
#include <functional>
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
  SetValue() = default;
  SetValue(const SetValue&) = delete;
  SetValue& operator=(const SetValue&) = delete;
  ~SetValue();

  // An empty set whose first member is `first` (decides the starting encoding).
  static SetValue* Create(std::string_view first);

  size_t Size() const;
  SetEncoding Encoding() const { return enc_; }
  const char* EncodingName() const;
  bool Contains(std::string_view m) const;
  // Adds m; converts to a hash table when m is not an integer or the intset would
  // exceed max_intset entries. Returns false if m was already a member.
  bool Add(std::string_view m, size_t max_intset);
  bool Remove(std::string_view m);
  // Calls fn(member) for every member (intset: ascending; hash table: table order).
  void ForEach(const std::function<void(std::string_view)>& fn) const;
  std::vector<std::string> Members() const;
  // One random member (non-empty set).
  std::string Random(std::mt19937_64& rng) const;
  // SSCAN step: intsets return everything and cursor 0.
  uint64_t Scan(uint64_t cursor, const std::function<void(std::string_view)>& fn) const;
  size_t MemUsage() const;
  SetValue* Clone() const;
  void ConvertToHashTable();

 private:
  using Table = ChainedTable<SetNode, SetNodeTraits>;
  // Two pointers and a tag: small sets pay for no empty table.
  SetEncoding enc_ = SetEncoding::kIntSet;
  IntSet is_;
  Table* ht_ = nullptr;  // only for kHashTable
};

std::mt19937_64& Rng();

}  // namespace ferrite::mod::sets
