// What Redis 7.0 states about each of its commands for ACL purposes: the ACL categories
// and the key specs (where the keys are and whether a key is read or written). Taken
// from Redis' src/commands/*.json by gen_command_facts.py into command_facts.inc.
//
// A command Redis does not know (a plugin's own) gets its categories from its flags
// (ImplicitCategories) and its keys from its declared key positions (see permissions.cc).
#pragma once

#include <cstdint>
#include <string_view>
#include <vector>

#include "ferrite/module.h"

namespace ferrite::host::acl {

// Redis' ACL categories, in Redis' order (ACL CAT lists them so; describe rules walk them).
enum Category : uint32_t {
  kCatKeyspace = 1u << 0,
  kCatRead = 1u << 1,
  kCatWrite = 1u << 2,
  kCatSet = 1u << 3,
  kCatSortedset = 1u << 4,
  kCatList = 1u << 5,
  kCatHash = 1u << 6,
  kCatString = 1u << 7,
  kCatBitmap = 1u << 8,
  kCatHyperloglog = 1u << 9,
  kCatGeo = 1u << 10,
  kCatStream = 1u << 11,
  kCatPubsub = 1u << 12,
  kCatAdmin = 1u << 13,
  kCatFast = 1u << 14,
  kCatSlow = 1u << 15,
  kCatBlocking = 1u << 16,
  kCatDangerous = 1u << 17,
  kCatConnection = 1u << 18,
  kCatTransaction = 1u << 19,
  kCatScripting = 1u << 20,
};
inline constexpr int kCategoryCount = 21;
extern const char* const kCategoryNames[kCategoryCount];

// The category bit for a name (any case), 0 if none.
uint32_t CategoryByName(std::string_view name);
// Redis' setImplicitACLCategories: what a command's flags add to its declared categories.
uint32_t ImplicitCategories(uint32_t ferrite_flags, uint32_t declared);
// Parses a space-separated list of category names ("read fast @hash"; the '@' optional)
// into bits. Returns false if a name is unknown.
bool ParseCategoryList(std::string_view list, uint32_t* out);

// Redis' CMD_KEY_* flags.
enum KeyFlag : uint16_t {
  kKeyRo = 1u << 0,
  kKeyRw = 1u << 1,
  kKeyOw = 1u << 2,
  kKeyRm = 1u << 3,
  kKeyAccess = 1u << 4,
  kKeyUpdate = 1u << 5,
  kKeyInsert = 1u << 6,
  kKeyDelete = 1u << 7,
  kKeyNotKey = 1u << 8,
  kKeyIncomplete = 1u << 9,
  kKeyVariableFlags = 1u << 10,
};

enum class BeginSearch : int8_t { kIndex, kKeyword, kUnknown };
enum class FindKeys : int8_t { kRange, kKeynum, kUnknown };

struct KeySpec {
  uint16_t flags;
  BeginSearch bs;
  int bs_arg;           // index: position; keyword: startfrom
  const char* keyword;  // keyword search only
  FindKeys fk;
  int a, b, c;          // range: lastkey, step, limit; keynum: keynumidx, firstkey, step
};

struct CommandFacts {
  const char* fullname;  // "get", "config|get"
  uint32_t categories;
  int nspecs;
  KeySpec specs[3];
};

// Redis' facts for a command's full name (lower case), or nullptr.
const CommandFacts* FindFacts(std::string_view fullname);
// Every entry, for tests and the fuzz target.
const std::vector<const CommandFacts*>& AllFacts();

struct KeyRef {
  int pos;
  uint16_t flags;
};

// The keys of one call, as the permission check collects them: the usual few fit inline,
// so a check allocates nothing (it runs on every command a restricted user sends); more
// than kInline spill into a heap vector.
class KeyList {
 public:
  static constexpr size_t kInline = 16;
  void push_back(KeyRef k) {
    if (heap_.empty() && n_ < kInline) {
      inline_[n_++] = k;
      return;
    }
    Spill(k);
  }
  size_t size() const { return n_; }
  bool empty() const { return n_ == 0; }
  void clear() { Shrink(0); }
  // Drops the keys from `n` on (n <= size()).
  void Shrink(size_t n) {
    n_ = n;
    if (!heap_.empty()) heap_.resize(n);
  }
  const KeyRef* begin() const { return heap_.empty() ? inline_ : heap_.data(); }
  const KeyRef* end() const { return begin() + n_; }
  const KeyRef& operator[](size_t i) const { return begin()[i]; }

 private:
  void Spill(KeyRef k) {
    if (heap_.empty()) heap_.assign(inline_, inline_ + n_);
    heap_.push_back(k);
    n_++;
  }
  KeyRef inline_[kInline];
  size_t n_ = 0;
  std::vector<KeyRef> heap_;
};

// For facts that name exactly one key at a fixed position (GET, INCR, HGET, LPUSH...: one
// spec, an index and a range of one key, flags that do not depend on the arguments): that
// position, its flags in `flags`; 0 otherwise. FactsKeys finds the same key when the
// position is below argc (none otherwise), so the check takes it without a list.
inline int OneFixedKey(const CommandFacts& f, uint16_t* flags) {
  if (f.nspecs != 1) return 0;
  const KeySpec& s = f.specs[0];
  if (s.bs != BeginSearch::kIndex || s.fk != FindKeys::kRange || s.a != 0 ||
      (s.flags & (kKeyNotKey | kKeyIncomplete | kKeyVariableFlags)))
    return 0;
  *flags = s.flags;
  return s.bs_arg;
}

// Redis' getKeysFromCommandWithSpecs for one of its commands: the key positions and
// their flags. The commands whose specs are incomplete or variable (SORT, SORT_RO,
// MIGRATE, SET, BITFIELD) go through the key functions Redis uses for them. A spec that
// does not fit the arguments yields no keys (the command reports the syntax error).
void FactsKeys(const CommandFacts& f, int argc, const ferrite_slice* argv, KeyList& out);

}  // namespace ferrite::host::acl
