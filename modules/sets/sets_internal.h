// Shared by the sets module's translation units: plugin state and lookup helpers.
#pragma once

#include <string_view>

#include "ferrite/module.hpp"
#include "set_value.h"

namespace ferrite::mod::sets {

// One per loaded plugin handle (several test hosts may load the .so in one process).
struct SetsState {
  const ferrite_type* type = nullptr;
  int64_t max_intset_entries = 512;  // set-max-intset-entries
};

// set-max-intset-entries for type callbacks (snapshot load), which get no context:
// the host's live setting (config_int works without one), else Redis' default.
size_t MaxIntSetEntries();

enum class Found { kSet, kMissing, kWrongType };

// Classifies what `k` holds; on kSet stores the value in *out.
inline Found LookupSet(const sdk::Key& k, const SetsState& st, SetValue** out) {
  if (!k.Exists()) return Found::kMissing;
  if (!k.Is(st.type)) return Found::kWrongType;
  *out = k.Value<SetValue>();
  return Found::kSet;
}

// Adds m to the set `*s` held by key k. Adding can move the value to a new block (see
// set_value.h): the key is then re-pointed at it, which frees the old block, and *s
// follows. Returns false if m was already a member.
inline bool AddToKey(sdk::Key& k, const SetsState& st, SetValue** s, std::string_view m) {
  bool added;
  SetValue* now = (*s)->Add(m, static_cast<size_t>(st.max_intset_entries), &added);
  if (now != *s) {
    k.SetValue(st.type, now);
    *s = now;
  }
  return added;
}

// After removing members from the non-empty set `s` held by k: gives back a block the
// intset no longer needs, as Redis' intset shrinks on removal (re-points the key).
inline void ShrinkKey(sdk::Key& k, const SetsState& st, SetValue* s) {
  SetValue* now = s->ShrinkToFit();
  if (now != s) k.SetValue(st.type, now);
}


ferrite_type_desc SetTypeDesc();

// Handlers, registered in sets_module.cc.
int CmdSAdd(sdk::Ctx ctx, int argc, const ferrite_slice* argv);
int CmdSRem(sdk::Ctx ctx, int argc, const ferrite_slice* argv);
int CmdSCard(sdk::Ctx ctx, int argc, const ferrite_slice* argv);
int CmdSIsMember(sdk::Ctx ctx, int argc, const ferrite_slice* argv);
int CmdSMIsMember(sdk::Ctx ctx, int argc, const ferrite_slice* argv);
int CmdSMembers(sdk::Ctx ctx, int argc, const ferrite_slice* argv);
int CmdSPop(sdk::Ctx ctx, int argc, const ferrite_slice* argv);
int CmdSRandMember(sdk::Ctx ctx, int argc, const ferrite_slice* argv);
int CmdSMove(sdk::Ctx ctx, int argc, const ferrite_slice* argv);
int CmdSScan(sdk::Ctx ctx, int argc, const ferrite_slice* argv);
int CmdSInter(sdk::Ctx ctx, int argc, const ferrite_slice* argv);
int CmdSInterStore(sdk::Ctx ctx, int argc, const ferrite_slice* argv);
int CmdSInterCard(sdk::Ctx ctx, int argc, const ferrite_slice* argv);
int CmdSUnion(sdk::Ctx ctx, int argc, const ferrite_slice* argv);
int CmdSUnionStore(sdk::Ctx ctx, int argc, const ferrite_slice* argv);
int CmdSDiff(sdk::Ctx ctx, int argc, const ferrite_slice* argv);
int CmdSDiffStore(sdk::Ctx ctx, int argc, const ferrite_slice* argv);

int GetKeysSInterCard(int argc, const ferrite_slice* argv, int* out, int cap);

}  // namespace ferrite::mod::sets
