// Per-field expiry as Redis 7.4 defines it: HEXPIRE HPEXPIRE HEXPIREAT HPEXPIREAT,
// HTTL HPTTL HEXPIRETIME HPEXPIRETIME, HPERSIST.
//
// Replies per field: HEXPIRE* -2 no such field, 0 condition not met, 1 set, 2 deleted
// (time already passed); HTTL* -2 no such field, -1 no TTL; HPERSIST -2, -1, 1.
// Propagation is deterministic: set TTLs go out as HPEXPIREAT with the absolute time,
// fields deleted by a past time as HDEL.
#include <string>
#include <vector>

#include "hashes_internal.h"

namespace ferrite::mod::hashes {

using sdk::EqualsIgnoreCase;
using sdk::ParseInt64;
using sdk::SV;

namespace {

// Redis 7.4 caps field expiry at EB_EXPIRE_TIME_MAX >> 2 (ms since the epoch).
constexpr int64_t kMaxAbsMs = ((int64_t{1} << 48) - 1) >> 2;

enum class Unit { kSeconds, kMillis };
enum class Base { kRelative, kAbsolute };
enum class Cond { kNone, kNX, kXX, kGT, kLT };

// Parses "FIELDS numfields f1 ... fn" starting at argv[at]; replies on error.
bool ParseFields(const Ctx& ctx, int argc, const ferrite_slice* argv, int at, int* first,
                 int* n) {
  if (at >= argc || !EqualsIgnoreCase(SV(argv[at]), "FIELDS")) {
    ctx.Error("ERR Mandatory argument FIELDS is missing or not at the right position");
    return false;
  }
  int64_t num;
  if (at + 1 >= argc || !ParseInt64(SV(argv[at + 1]), &num) || num < 1) {
    ctx.Error("ERR Parameter `numFields` should be greater than 0");
    return false;
  }
  if (num != argc - at - 2) {
    ctx.Error("ERR The `numfields` parameter must match the number of arguments");
    return false;
  }
  *first = at + 2;
  *n = static_cast<int>(num);
  return true;
}

bool ParseExpireTime(const Ctx& ctx, std::string_view arg, Unit unit, Base base,
                     std::string_view cmd, int64_t* at_ms) {
  int64_t v;
  if (!ParseInt64(arg, &v)) {
    ctx.Error(FERRITE_E_NOT_INTEGER);
    return false;
  }
  if (v < 0) {
    ctx.Error("ERR invalid expire time, must be >= 0");
    return false;
  }
  int64_t basetime = base == Base::kRelative ? ctx.NowMs() : 0;
  if ((unit == Unit::kSeconds && v > kMaxAbsMs / 1000) ||
      (unit == Unit::kSeconds ? v * 1000 : v) > kMaxAbsMs - basetime) {
    ctx.Error("ERR invalid expire time in '" + std::string(cmd) + "' command");
    return false;
  }
  *at_ms = (unit == Unit::kSeconds ? v * 1000 : v) + basetime;
  return true;
}

bool CondHolds(Cond c, int64_t prev, int64_t next) {
  // A field without TTL counts as an infinite one for GT and LT.
  switch (c) {
    case Cond::kNone: return true;
    case Cond::kNX: return prev == -1;
    case Cond::kXX: return prev != -1;
    case Cond::kGT: return prev != -1 && next > prev;
    case Cond::kLT: return prev == -1 || next < prev;
  }
  return true;
}

int ExpireGeneric(Ctx ctx, int argc, const ferrite_slice* argv, Unit unit, Base base,
                  std::string_view cmd) {
  HashKey hk;
  if (OpenHash(ctx, SV(argv[1]), FERRITE_KEY_WRITE, &hk) != Open::kOk) return FERRITE_OK;
  int64_t at_ms;
  if (!ParseExpireTime(ctx, SV(argv[2]), unit, base, cmd, &at_ms)) return FERRITE_OK;
  Cond cond = Cond::kNone;
  std::string_view opt = SV(argv[3]);
  if (EqualsIgnoreCase(opt, "NX")) cond = Cond::kNX;
  else if (EqualsIgnoreCase(opt, "XX")) cond = Cond::kXX;
  else if (EqualsIgnoreCase(opt, "GT")) cond = Cond::kGT;
  else if (EqualsIgnoreCase(opt, "LT")) cond = Cond::kLT;
  int first, n;
  if (!ParseFields(ctx, argc, argv, cond == Cond::kNone ? 3 : 4, &first, &n)) return FERRITE_OK;
  ctx.Array(static_cast<size_t>(n));
  if (!hk.hash) {
    for (int i = 0; i < n; i++) ctx.Int(-2);
    return FERRITE_OK;
  }
  std::vector<std::string> updated{"HPEXPIREAT", std::string(SV(argv[1])), std::to_string(at_ms),
                                   "FIELDS", ""};
  std::vector<std::string> deleted{"HDEL", std::string(SV(argv[1]))};
  bool past = at_ms <= ctx.NowMs();
  for (int i = 0; i < n; i++) {
    std::string_view f = SV(argv[first + i]);
    if (!hk.hash->Exists(f)) {
      ctx.Int(-2);
    } else if (!CondHolds(cond, hk.hash->GetExpire(f), at_ms)) {
      ctx.Int(0);
    } else if (past) {
      hk.hash->Del(f);
      deleted.emplace_back(f);
      ctx.Int(2);
    } else {
      hk.hash->SetExpire(f, at_ms);
      updated.emplace_back(f);
      ctx.Int(1);
    }
  }
  if (updated.size() > 5) {
    updated[4] = std::to_string(updated.size() - 5);
    ctx.Propagate(updated);
    Modified(ctx, &hk, "hexpire");
  }
  if (deleted.size() > 2) {
    ctx.Propagate(deleted);
    Modified(ctx, &hk, "hdel");
  }
  return FERRITE_OK;
}

enum class Report { kTtl, kExpireTime };

int TtlGeneric(Ctx ctx, int argc, const ferrite_slice* argv, Unit unit, Report what) {
  HashKey hk;
  if (OpenHash(ctx, SV(argv[1]), FERRITE_KEY_READ, &hk) != Open::kOk) return FERRITE_OK;
  int first, n;
  if (!ParseFields(ctx, argc, argv, 2, &first, &n)) return FERRITE_OK;
  ctx.Array(static_cast<size_t>(n));
  int64_t now = ctx.NowMs();
  for (int i = 0; i < n; i++) {
    std::string_view f = SV(argv[first + i]);
    if (!hk.hash || !hk.hash->Exists(f)) {
      ctx.Int(-2);
      continue;
    }
    int64_t at = hk.hash->GetExpire(f);
    if (at == -1) {
      ctx.Int(-1);
      continue;
    }
    int64_t v = what == Report::kTtl ? at - now : at;
    // Seconds round up, as Redis does, so a live field never reports 0.
    ctx.Int(unit == Unit::kSeconds ? (v + 999) / 1000 : v);
  }
  return FERRITE_OK;
}

}  // namespace

bool ParseFieldExpireTime(const Ctx& ctx, std::string_view arg, FieldTtl kind,
                          std::string_view cmd, int64_t* at_ms) {
  const bool seconds = kind == FieldTtl::kEx || kind == FieldTtl::kExAt;
  const bool relative = kind == FieldTtl::kEx || kind == FieldTtl::kPx;
  return ParseExpireTime(ctx, arg, seconds ? Unit::kSeconds : Unit::kMillis,
                         relative ? Base::kRelative : Base::kAbsolute, cmd, at_ms);
}

int CmdHExpire(Ctx c, int n, const ferrite_slice* a) {
  return ExpireGeneric(c, n, a, Unit::kSeconds, Base::kRelative, "hexpire");
}
int CmdHPExpire(Ctx c, int n, const ferrite_slice* a) {
  return ExpireGeneric(c, n, a, Unit::kMillis, Base::kRelative, "hpexpire");
}
int CmdHExpireAt(Ctx c, int n, const ferrite_slice* a) {
  return ExpireGeneric(c, n, a, Unit::kSeconds, Base::kAbsolute, "hexpireat");
}
int CmdHPExpireAt(Ctx c, int n, const ferrite_slice* a) {
  return ExpireGeneric(c, n, a, Unit::kMillis, Base::kAbsolute, "hpexpireat");
}
int CmdHTtl(Ctx c, int n, const ferrite_slice* a) {
  return TtlGeneric(c, n, a, Unit::kSeconds, Report::kTtl);
}
int CmdHPTtl(Ctx c, int n, const ferrite_slice* a) {
  return TtlGeneric(c, n, a, Unit::kMillis, Report::kTtl);
}
int CmdHExpireTime(Ctx c, int n, const ferrite_slice* a) {
  return TtlGeneric(c, n, a, Unit::kSeconds, Report::kExpireTime);
}
int CmdHPExpireTime(Ctx c, int n, const ferrite_slice* a) {
  return TtlGeneric(c, n, a, Unit::kMillis, Report::kExpireTime);
}

int CmdHPersist(Ctx ctx, int argc, const ferrite_slice* argv) {
  HashKey hk;
  if (OpenHash(ctx, SV(argv[1]), FERRITE_KEY_WRITE, &hk) != Open::kOk) return FERRITE_OK;
  int first, n;
  if (!ParseFields(ctx, argc, argv, 2, &first, &n)) return FERRITE_OK;
  ctx.Array(static_cast<size_t>(n));
  bool changed = false;
  for (int i = 0; i < n; i++) {
    std::string_view f = SV(argv[first + i]);
    if (!hk.hash || !hk.hash->Exists(f)) {
      ctx.Int(-2);
    } else if (hk.hash->Persist(f)) {
      changed = true;
      ctx.Int(1);
    } else {
      ctx.Int(-1);
    }
  }
  if (changed) {
    Modified(ctx, &hk, "hpersist");
    PropagateSelf(ctx, hk, argc, argv);
  }
  return FERRITE_OK;
}

}  // namespace ferrite::mod::hashes
