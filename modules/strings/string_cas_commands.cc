// Redis 8.4's companions of SET's IFEQ/IFNE/IFDEQ/IFDNE: DIGEST (the XXH3 digest those
// conditions compare against) and DELEX (DEL, optionally under one of the conditions).
#include "string_commands.h"
#include "value_digest.h"

namespace ferrite::mod::strings {

using sdk::Key;
using sdk::SV;

namespace {

std::optional<Cond> DelExCondition(std::string_view w) {
  if (sdk::EqualsIgnoreCase(w, "IFEQ")) return Cond::kIfEq;
  if (sdk::EqualsIgnoreCase(w, "IFNE")) return Cond::kIfNe;
  if (sdk::EqualsIgnoreCase(w, "IFDEQ")) return Cond::kIfDeq;
  if (sdk::EqualsIgnoreCase(w, "IFDNE")) return Cond::kIfDne;
  return std::nullopt;
}

}  // namespace

// DIGEST key: null for a missing key, WRONGTYPE for a non-string.
int CmdDigest(Ctx ctx, int argc, const ferrite_slice* argv) {
  Key k = ctx.Open(SV(argv[1]));
  if (!k.Exists()) return ctx.Null();
  auto v = k.String();
  if (!v) return ctx.Error(FERRITE_E_WRONGTYPE);
  return ctx.Bulk(DigestHex(ValueDigest(*v)));
}

// DELEX key [IFEQ v | IFNE v | IFDEQ d | IFDNE d]. Without a condition it is DEL of one
// key of any type. The argument count and the condition word are checked before the key
// is looked up; a condition needs a string value. Propagated as DEL, event "del".
int CmdDelEx(Ctx ctx, int argc, const ferrite_slice* argv) {
  if (argc != 2 && argc != 4) return ctx.Error(FERRITE_E_ARITY, "delex");
  std::optional<Cond> cond;
  if (argc == 4) {
    cond = DelExCondition(SV(argv[2]));
    if (!cond) return ctx.Error("ERR Invalid condition. Use IFEQ, IFNE, IFDEQ, or IFDNE");
  }
  std::string_view key = SV(argv[1]);
  Key k = ctx.OpenWrite(key);
  if (!k.Exists()) return ctx.Int(0);
  if (cond) {
    auto cur = k.String();
    if (!cur) return ctx.Error(FERRITE_E_WRONGTYPE);
    switch (CheckValueCond(*cond, SV(argv[3]), cur)) {
      case CondOutcome::kPass: break;
      case CondOutcome::kFail: return ctx.Int(0);
      case CondOutcome::kBadDigest: return ctx.Error(kBadDigestError);
    }
  }
  k.Delete();
  ctx.Notify(FERRITE_NOTIFY_GENERIC, "del", key);
  ctx.Propagate({"DEL", key});
  return ctx.Int(1);
}

}  // namespace ferrite::mod::strings
