// GET, SET and its variants (with Redis 8.4's IFEQ/IFNE/IFDEQ/IFDNE), GETSET, GETDEL,
// GETEX, MGET, MSET, MSETNX, MSETEX (Redis 8.4).
#include <string>
#include <vector>

#include "string_commands.h"

#include "mc_commands.h"
#include "string_ops.h"
#include "value_digest.h"

namespace ferrite::mod::strings {

using sdk::Key;
using sdk::SV;

namespace {

constexpr int64_t kKeepTtl = -2;  // OpStore: leave the key's expiry as it is
constexpr int64_t kNoTtl = -1;    // OpStore: remove any expiry

// A RESP write of a whole value: the string replaces whatever the key held, the
// memcached client flags go back to 0 and the expiry is replaced (or kept for KEEPTTL).
void OpStore(Key& k, std::string_view value, int64_t expire_abs_ms) {
  k.SetString(value);
  k.SetFlags(0);
  if (expire_abs_ms != kKeepTtl) k.SetExpire(expire_abs_ms);
}

// Replies the key's string value (or null); false after a WRONGTYPE reply.
bool ReplyValue(const Ctx& ctx, const Key& k) {
  if (!k.Exists()) {
    ctx.Null();
    return true;
  }
  auto v = k.String();
  if (!v) {
    ctx.Error(FERRITE_E_WRONGTYPE);
    return false;
  }
  ctx.Bulk(*v);
  return true;
}

// Resolves an expiry option, replying the error itself; false on error.
bool ResolveOrReply(const Ctx& ctx, const SetOptions& o, std::string_view cmd_lower,
                    int64_t* abs_ms) {
  switch (ResolveExpire(o.expire_arg, o.expire, ctx.NowMs(), abs_ms)) {
    case ExpireStatus::kOk: return true;
    case ExpireStatus::kNotInteger: ctx.Error(FERRITE_E_NOT_INTEGER); return false;
    case ExpireStatus::kInvalid: ctx.Error(InvalidExpireText(cmd_lower)); return false;
  }
  return false;
}

enum class SetReply { kOkOrNull, kOneOrZero };  // SET style vs SETNX style

struct SetRequest {
  std::string_view cmd_lower;  // for the invalid-expire error
  std::string_view key, value;
  SetOptions opts;
  SetReply reply = SetReply::kOkOrNull;
  int argc;
  const ferrite_slice* argv;
};

// What goes to the AOF and replicas: an absolute PXAT instead of a relative expiry
// (Redis 7.0 drops NX/XX/GET then, as the outcome is already decided), SET ... GET
// without its GET tokens, and a SET whose IFEQ/IFNE/IFDEQ/IFDNE condition held as a
// plain SET (KEEPTTL kept): the condition was decided here, and a redis-server 7.0
// replica refuses the IF* options as a syntax error.
void PropagateSet(const Ctx& ctx, const SetRequest& r, int64_t abs_ms) {
  if (abs_ms != kNoTtl) {
    ctx.Propagate({"SET", r.key, r.value, "PXAT", std::to_string(abs_ms)});
  } else if (IsValueCond(r.opts.cond)) {
    if (r.opts.keepttl) ctx.Propagate({"SET", r.key, r.value, "KEEPTTL"});
    else ctx.Propagate({"SET", r.key, r.value});
  } else if (r.opts.get) {
    std::vector<std::string> out;
    for (int j = 0; j < r.argc; j++) {
      std::string_view a = SV(r.argv[j]);
      if (j >= 3 && sdk::EqualsIgnoreCase(a, "GET")) continue;
      out.emplace_back(a);
    }
    ctx.Propagate(out);
  }
}

// Redis' setGenericCommand: serves SET, SETNX, SETEX and PSETEX.
int SetGeneric(Ctx ctx, const SetRequest& r) {
  int64_t abs_ms = kNoTtl;
  if (r.opts.expire != ExpireOpt::kNone && !ResolveOrReply(ctx, r.opts, r.cmd_lower, &abs_ms)) {
    return FERRITE_OK;
  }
  Key k = ctx.OpenWrite(r.key);
  const bool found = k.Exists();
  bool value_cond_holds = true;
  if (IsValueCond(r.opts.cond)) {
    // The condition needs a string (WRONGTYPE otherwise) and a well-formed digest; both
    // are checked before GET replies, so a failed request gets exactly one reply.
    std::optional<std::string_view> cur;
    if (found) {
      cur = k.String();
      if (!cur) return ctx.Error(FERRITE_E_WRONGTYPE);
    }
    switch (CheckValueCond(r.opts.cond, r.opts.compare_arg, cur)) {
      case CondOutcome::kPass: break;
      case CondOutcome::kFail: value_cond_holds = false; break;
      case CondOutcome::kBadDigest: return ctx.Error(kBadDigestError);
    }
  }
  if (r.opts.get && !ReplyValue(ctx, k)) return FERRITE_OK;
  if ((r.opts.cond == Cond::kNx && found) || (r.opts.cond == Cond::kXx && !found) ||
      !value_cond_holds) {
    if (r.opts.get) return FERRITE_OK;
    return r.reply == SetReply::kOkOrNull ? ctx.Null() : ctx.Int(0);
  }
  OpStore(k, r.value, r.opts.keepttl ? kKeepTtl : abs_ms);
  ctx.Notify(FERRITE_NOTIFY_STRING, "set", r.key);
  if (abs_ms != kNoTtl) ctx.Notify(FERRITE_NOTIFY_GENERIC, "expire", r.key);
  PropagateSet(ctx, r, abs_ms);
  if (r.opts.get) return FERRITE_OK;
  return r.reply == SetReply::kOkOrNull ? ctx.Ok() : ctx.Int(1);
}

// SETEX / PSETEX: key, expiry, value.
int SetWithExpiry(Ctx ctx, const ferrite_slice* argv, ExpireOpt unit, std::string_view name,
                  int argc) {
  SetRequest r{name, SV(argv[1]), SV(argv[3]), {}, SetReply::kOkOrNull, argc, argv};
  r.opts.expire = unit;
  r.opts.expire_arg = SV(argv[2]);
  return SetGeneric(ctx, r);
}

}  // namespace

int CmdGet(Ctx ctx, int argc, const ferrite_slice* argv) {
  Key k = ctx.Open(SV(argv[1]));
  if (!k.Exists() && WaitForWarmOnRespGet(ctx.get(), SV(argv[1]))) return FERRITE_BLOCKED;
  ReplyValue(ctx, k);
  return FERRITE_OK;
}

int CmdSet(Ctx ctx, int argc, const ferrite_slice* argv) {
  SetRequest r{"set", SV(argv[1]), SV(argv[2]), {}, SetReply::kOkOrNull, argc, argv};
  if (!ParseSetOptions(argc, argv, 3, OptsFor::kSet, &r.opts)) {
    return ctx.Error(FERRITE_E_SYNTAX);
  }
  return SetGeneric(ctx, r);
}

int CmdSetNx(Ctx ctx, int argc, const ferrite_slice* argv) {
  SetRequest r{"setnx", SV(argv[1]), SV(argv[2]), {}, SetReply::kOneOrZero, argc, argv};
  r.opts.cond = Cond::kNx;
  return SetGeneric(ctx, r);
}

int CmdSetEx(Ctx ctx, int argc, const ferrite_slice* argv) {
  return SetWithExpiry(ctx, argv, ExpireOpt::kEx, "setex", argc);
}

int CmdPSetEx(Ctx ctx, int argc, const ferrite_slice* argv) {
  return SetWithExpiry(ctx, argv, ExpireOpt::kPx, "psetex", argc);
}

int CmdGetSet(Ctx ctx, int argc, const ferrite_slice* argv) {
  std::string_view key = SV(argv[1]), value = SV(argv[2]);
  Key k = ctx.OpenWrite(key);
  if (!ReplyValue(ctx, k)) return FERRITE_OK;
  OpStore(k, value, kNoTtl);
  ctx.Notify(FERRITE_NOTIFY_STRING, "set", key);
  ctx.Propagate({"SET", key, value});  // Redis 7.0 replicates GETSET as SET
  return FERRITE_OK;
}

int CmdGetDel(Ctx ctx, int argc, const ferrite_slice* argv) {
  std::string_view key = SV(argv[1]);
  Key k = ctx.OpenWrite(key);
  if (!ReplyValue(ctx, k) || !k.Exists()) return FERRITE_OK;
  k.Delete();
  ctx.Notify(FERRITE_NOTIFY_GENERIC, "del", key);
  ctx.Propagate({"DEL", key});
  return FERRITE_OK;
}

// GETEX: options are checked first, then the key, then the expiry value; the value is
// replied before the expiry changes. An EXAT/PXAT already in the past deletes the key.
int CmdGetEx(Ctx ctx, int argc, const ferrite_slice* argv) {
  std::string_view key = SV(argv[1]);
  SetOptions o;
  if (!ParseSetOptions(argc, argv, 2, OptsFor::kGetEx, &o)) return ctx.Error(FERRITE_E_SYNTAX);
  Key k = ctx.OpenWrite(key);
  if (!k.Exists()) return ctx.Null();
  if (!k.IsString()) return ctx.Error(FERRITE_E_WRONGTYPE);
  int64_t abs_ms = kNoTtl;
  if (o.expire != ExpireOpt::kNone && !ResolveOrReply(ctx, o, "getex", &abs_ms)) {
    return FERRITE_OK;
  }
  ctx.Bulk(*k.String());
  const bool absolute = o.expire == ExpireOpt::kExAt || o.expire == ExpireOpt::kPxAt;
  if (absolute && abs_ms <= ctx.NowMs()) {
    k.Delete();
    ctx.Notify(FERRITE_NOTIFY_GENERIC, "del", key);
    ctx.Propagate({"DEL", key});
  } else if (o.expire != ExpireOpt::kNone) {
    k.SetExpire(abs_ms);
    ctx.Dirty();
    ctx.Notify(FERRITE_NOTIFY_GENERIC, "expire", key);
    ctx.Propagate({"PEXPIREAT", key, std::to_string(abs_ms)});
  } else if (o.persist && k.Expire() != kNoTtl) {
    k.SetExpire(kNoTtl);
    ctx.Dirty();
    ctx.Notify(FERRITE_NOTIFY_GENERIC, "persist", key);
    ctx.Propagate({"PERSIST", key});
  }
  return FERRITE_OK;
}

// MGET never fails on a wrong type: such keys read as null. With memcached-warm-resp on,
// missing keys are first fetched from the old memcached (warm on a miss).
int CmdMGet(Ctx ctx, int argc, const ferrite_slice* argv) {
  if (WarmOnRespEnabled(ctx.get())) {
    std::vector<std::string_view> missing;
    for (int j = 1; j < argc; j++)
      if (!ctx.Open(SV(argv[j])).Exists()) missing.push_back(SV(argv[j]));
    if (!missing.empty() && WaitForWarmOnRespMget(ctx.get(), missing)) return FERRITE_BLOCKED;
  }
  ctx.Array(static_cast<size_t>(argc - 1));
  for (int j = 1; j < argc; j++) {
    Key k = ctx.Open(SV(argv[j]));
    auto v = k.String();
    if (v) {
      ctx.Bulk(*v);
    } else {
      ctx.Null();
    }
  }
  return FERRITE_OK;
}

namespace {

enum class MSetMode { kAlways, kOnlyIfNoneExist };

int MSetGeneric(Ctx ctx, int argc, const ferrite_slice* argv, MSetMode mode) {
  if (argc % 2 == 0) {
    return ctx.Error(FERRITE_E_ARITY, mode == MSetMode::kAlways ? "mset" : "msetnx");
  }
  if (mode == MSetMode::kOnlyIfNoneExist) {
    for (int j = 1; j < argc; j += 2) {
      if (ctx.OpenWrite(SV(argv[j])).Exists()) return ctx.Int(0);
    }
  }
  for (int j = 1; j < argc; j += 2) {
    Key k = ctx.OpenWrite(SV(argv[j]));
    OpStore(k, SV(argv[j + 1]), kNoTtl);
    ctx.Notify(FERRITE_NOTIFY_STRING, "set", SV(argv[j]));
  }
  return mode == MSetMode::kAlways ? ctx.Ok() : ctx.Int(1);
}

}  // namespace

int CmdMSet(Ctx ctx, int argc, const ferrite_slice* argv) {
  return MSetGeneric(ctx, argc, argv, MSetMode::kAlways);
}

int CmdMSetNx(Ctx ctx, int argc, const ferrite_slice* argv) {
  return MSetGeneric(ctx, argc, argv, MSetMode::kOnlyIfNoneExist);
}

namespace {

// MSETEX's effect in commands a redis-server 7.0 replica knows: MSET when the keys get
// no expiry, else one SET per key with the absolute PXAT (or KEEPTTL), which the host
// wraps in MULTI/EXEC. NX/XX were decided here.
void PropagateMSetEx(const Ctx& ctx, const ferrite_slice* argv, int opts_at, bool keepttl,
                     int64_t abs_ms) {
  if (abs_ms == kNoTtl && !keepttl) {
    std::vector<std::string> out{"MSET"};
    for (int j = 2; j < opts_at; j++) out.emplace_back(SV(argv[j]));
    ctx.Propagate(out);
    return;
  }
  const std::string at = std::to_string(abs_ms);
  for (int j = 2; j < opts_at; j += 2) {
    if (keepttl) ctx.Propagate({"SET", SV(argv[j]), SV(argv[j + 1]), "KEEPTTL"});
    else ctx.Propagate({"SET", SV(argv[j]), SV(argv[j + 1]), "PXAT", at});
  }
}

}  // namespace

// MSETEX numkeys key value [key value ...] [NX | XX] [EX s | PX ms | EXAT s | PXAT ms |
// KEEPTTL]: all keys or none (NX: none may exist, XX: all must), one shared expiry.
// numkeys is checked first, then the options, then the expiry value.
int CmdMSetEx(Ctx ctx, int argc, const ferrite_slice* argv) {
  int64_t numkeys = 0;
  if (!sdk::ParseInt64(SV(argv[1]), &numkeys) || numkeys < 1 || numkeys > INT32_MAX) {
    return ctx.Error("ERR invalid numkeys value");
  }
  if (numkeys > (argc - 2) / 2) return ctx.Error("ERR wrong number of key-value pairs");
  const int opts_at = 2 + static_cast<int>(numkeys) * 2;
  SetOptions o;
  if (!ParseSetOptions(argc, argv, opts_at, OptsFor::kMSetEx, &o)) {
    return ctx.Error(FERRITE_E_SYNTAX);
  }
  int64_t abs_ms = kNoTtl;
  if (o.expire != ExpireOpt::kNone && !ResolveOrReply(ctx, o, "msetex", &abs_ms)) {
    return FERRITE_OK;
  }
  if (o.cond == Cond::kNx || o.cond == Cond::kXx) {
    for (int j = 2; j < opts_at; j += 2) {
      if (ctx.OpenWrite(SV(argv[j])).Exists() != (o.cond == Cond::kXx)) return ctx.Int(0);
    }
  }
  for (int j = 2; j < opts_at; j += 2) {
    Key k = ctx.OpenWrite(SV(argv[j]));
    OpStore(k, SV(argv[j + 1]), o.keepttl ? kKeepTtl : abs_ms);
    ctx.Notify(FERRITE_NOTIFY_STRING, "set", SV(argv[j]));
    if (abs_ms != kNoTtl) ctx.Notify(FERRITE_NOTIFY_GENERIC, "expire", SV(argv[j]));
  }
  PropagateMSetEx(ctx, argv, opts_at, o.keepttl, abs_ms);
  return ctx.Int(1);
}

int GetKeysMSetEx(int argc, const ferrite_slice* argv, int* out, int cap) {
  int64_t n = 0;
  if (argc < 4 || !sdk::ParseInt64(SV(argv[1]), &n) || n < 1 || n > (argc - 2) / 2) return -1;
  for (int64_t i = 0; i < n && i < cap; i++) out[i] = static_cast<int>(2 + 2 * i);
  return static_cast<int>(n);
}

}  // namespace ferrite::mod::strings
