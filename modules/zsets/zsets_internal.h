// Shared by the zsets module's translation units: plugin state, lookups, range
// parsing and reply helpers.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "ferrite/module.hpp"
#include "zset_value.h"

namespace ferrite::mod::zsets {

struct ZSetsState {
  const ferrite_type* type = nullptr;
  int64_t max_listpack_entries = 128;  // zset-max-listpack-entries
  int64_t max_listpack_value = 64;     // zset-max-listpack-value
  ZLimits Limits() const {
    return {static_cast<size_t>(max_listpack_entries), static_cast<size_t>(max_listpack_value)};
  }
};

// The zset-max-listpack-* settings for type callbacks (snapshot load), which get no
// context: the host's live values (config_int works without one), else Redis' defaults.
ZLimits LoadLimits();

// A zset being changed by a command. Setting a member can move the value to a new
// block (see zset_value.h): the holder then re-points the key at it, which frees the
// old block, or -- for a value not attached to a key yet -- frees the old block itself
// (and the value, if it is never attached).
class ZSetRef {
 public:
  ZSetRef(ZSetValue* z, sdk::Key* key, const ferrite_type* type)
      : z_(z), key_(key), type_(type) {}
  ~ZSetRef() {
    if (!key_) ZSetValue::Destroy(z_);
  }
  ZSetRef(const ZSetRef&) = delete;
  ZSetRef& operator=(const ZSetRef&) = delete;

  ZSetValue* get() const { return z_; }
  ZSetValue* operator->() const { return z_; }
  void Set(std::string_view m, double score, const ZLimits& lim) {
    ZSetValue* now = z_->Set(m, score, lim);
    if (now == z_) return;
    if (key_) {
      key_->SetValue(type_, now);
    } else {
      ZSetValue::Destroy(z_);
    }
    z_ = now;
  }
  // Hands a value that is not attached yet to `key`, which owns it from then on.
  void Attach(sdk::Key& key) {
    key.SetValue(type_, z_);
    key_ = &key;
  }

 private:
  ZSetValue* z_;
  sdk::Key* key_;
  const ferrite_type* type_;
};

enum class Found { kZSet, kMissing, kWrongType };

inline Found LookupZSet(const sdk::Key& k, const ZSetsState& st, ZSetValue** out) {
  if (!k.Exists()) return Found::kMissing;
  if (!k.Is(st.type)) return Found::kWrongType;
  *out = k.Value<ZSetValue>();
  return Found::kZSet;
}

// After removing members from the zset `z` held by k: gives back a block the listpack
// no longer needs, as Redis' listpack shrinks on removal (re-points the key). An
// emptied zset is left alone: Modified() deletes the key.
inline void ShrinkKey(sdk::Key& k, ZSetValue* z) {
  if (z->Size() == 0) return;
  ZSetValue* now = z->ShrinkToFit();
  if (now != z) k.SetValue(k.Type(), now);
}

// "(1.5" / "2" / "-inf" / "+inf" bounds.
struct ScoreRange {
  double min = 0, max = 0;
  bool minex = false, maxex = false;
};
bool ParseScoreRange(std::string_view min, std::string_view max, ScoreRange* r);

// "[a" / "(a" / "-" / "+" bounds.
struct LexBound {
  enum Kind { kNegInf, kPosInf, kValue } kind = kValue;
  std::string value;
  bool exclusive = false;
};
struct LexRange {
  LexBound min, max;
};
bool ParseLexRange(std::string_view min, std::string_view max, LexRange* r);

// The ascending ranks [first, last) whose elements are inside the range.
std::pair<size_t, size_t> SpanOf(const ZSetValue& z, const ScoreRange& r);
std::pair<size_t, size_t> SpanOf(const ZSetValue& z, const LexRange& r);

using Scored = std::vector<std::pair<std::string, double>>;

// Replies members (and scores): RESP2 a flat array, RESP3 an array of pairs.
void ReplyScored(const sdk::Ctx& ctx, const Scored& v, bool withscores);


// Redis' blocking timeout: fractional seconds -> ms; replies the error itself.
bool ParseTimeout(const sdk::Ctx& ctx, std::string_view s, int64_t* ms);

// Whether a key holds a set (of the sets module), read through SMEMBERS.
bool IsSetKey(const sdk::Key& k);
std::vector<std::string> SetMembers(const sdk::Ctx& ctx, std::string_view key);

ferrite_type_desc ZSetTypeDesc();

// Handlers, registered in zsets_module.cc.
#define FERRITE_ZSET_HANDLER(name) int name(sdk::Ctx ctx, int argc, const ferrite_slice* argv)
FERRITE_ZSET_HANDLER(CmdZAdd);
FERRITE_ZSET_HANDLER(CmdZIncrBy);
FERRITE_ZSET_HANDLER(CmdZRem);
FERRITE_ZSET_HANDLER(CmdZCard);
FERRITE_ZSET_HANDLER(CmdZScore);
FERRITE_ZSET_HANDLER(CmdZMScore);
FERRITE_ZSET_HANDLER(CmdZRank);
FERRITE_ZSET_HANDLER(CmdZRevRank);
FERRITE_ZSET_HANDLER(CmdZCount);
FERRITE_ZSET_HANDLER(CmdZLexCount);
FERRITE_ZSET_HANDLER(CmdZScan);
FERRITE_ZSET_HANDLER(CmdZRandMember);
FERRITE_ZSET_HANDLER(CmdZRange);
FERRITE_ZSET_HANDLER(CmdZRangeStore);
FERRITE_ZSET_HANDLER(CmdZRevRange);
FERRITE_ZSET_HANDLER(CmdZRangeByScore);
FERRITE_ZSET_HANDLER(CmdZRevRangeByScore);
FERRITE_ZSET_HANDLER(CmdZRangeByLex);
FERRITE_ZSET_HANDLER(CmdZRevRangeByLex);
FERRITE_ZSET_HANDLER(CmdZRemRangeByRank);
FERRITE_ZSET_HANDLER(CmdZRemRangeByScore);
FERRITE_ZSET_HANDLER(CmdZRemRangeByLex);
FERRITE_ZSET_HANDLER(CmdZPopMin);
FERRITE_ZSET_HANDLER(CmdZPopMax);
FERRITE_ZSET_HANDLER(CmdZMPop);
FERRITE_ZSET_HANDLER(CmdBZPopMin);
FERRITE_ZSET_HANDLER(CmdBZPopMax);
FERRITE_ZSET_HANDLER(CmdBZMPop);
FERRITE_ZSET_HANDLER(CmdZUnion);
FERRITE_ZSET_HANDLER(CmdZInter);
FERRITE_ZSET_HANDLER(CmdZDiff);
FERRITE_ZSET_HANDLER(CmdZUnionStore);
FERRITE_ZSET_HANDLER(CmdZInterStore);
FERRITE_ZSET_HANDLER(CmdZDiffStore);
FERRITE_ZSET_HANDLER(CmdZInterCard);
// geo_commands.cc
FERRITE_ZSET_HANDLER(CmdGeoAdd);
FERRITE_ZSET_HANDLER(CmdGeoDist);
FERRITE_ZSET_HANDLER(CmdGeoHash);
FERRITE_ZSET_HANDLER(CmdGeoPos);
FERRITE_ZSET_HANDLER(CmdGeoRadius);
FERRITE_ZSET_HANDLER(CmdGeoRadiusRo);
FERRITE_ZSET_HANDLER(CmdGeoRadiusByMember);
FERRITE_ZSET_HANDLER(CmdGeoRadiusByMemberRo);
FERRITE_ZSET_HANDLER(CmdGeoSearch);
FERRITE_ZSET_HANDLER(CmdGeoSearchStore);
#undef FERRITE_ZSET_HANDLER

// Key specs for the numkeys forms.
int GetKeysZStore(int argc, const ferrite_slice* argv, int* out, int cap);   // dst n k...
int GetKeysNumKeys(int argc, const ferrite_slice* argv, int* out, int cap);  // n k...
int GetKeysBZMPop(int argc, const ferrite_slice* argv, int* out, int cap);   // t n k...
int GetKeysGeoRadius(int argc, const ferrite_slice* argv, int* out, int cap); // k ... STORE k

}  // namespace ferrite::mod::zsets
