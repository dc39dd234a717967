// Redis 8.0's hash commands that read or write fields together with their TTLs:
// HGETDEL, HGETEX and HSETEX (redis.io documents them; redis-server 7.0 has none).
//
// Argument checks, their order and their texts are Redis 8's (t_hash.c): HGETDEL and
// HGETEX look the key up (WRONGTYPE) before they read their arguments, HSETEX reads its
// arguments first. What is propagated (AOF, replicas):
//   HGETDEL            HDEL key <the requested fields>, when it deleted one
//   HGETEX EX|PX|...   HPEXPIREAT key <abs-ms> FIELDS n <fields>, when a TTL was set
//   HGETEX PERSIST     HPERSIST key FIELDS n <fields>, when a TTL was removed
//   HGETEX, past time  HDEL key <field>, one per deleted field (MULTI/EXEC around them)
//   HSETEX, past time  HDEL key <field>, one per field
//   HSETEX             HSET key <field value...> (the same effect: HSET drops field TTLs
//                      too), then HPEXPIREAT key <abs-ms> FIELDS n <fields> per distinct
//                      TTL the fields have after it (the new time, or with KEEPTTL the
//                      kept ones). A redis-server 7.0 replica knows HSET but not HSETEX,
//                      so it still gets every value (repl_stream.h: the TTLs reach it as
//                      a no-op).
#include <algorithm>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "hashes_internal.h"

namespace ferrite::mod::hashes {

using sdk::EqualsIgnoreCase;
using sdk::ParseInt64;
using sdk::SV;

namespace {

std::optional<FieldTtl> TtlWord(std::string_view w) {
  if (EqualsIgnoreCase(w, "EX")) return FieldTtl::kEx;
  if (EqualsIgnoreCase(w, "PX")) return FieldTtl::kPx;
  if (EqualsIgnoreCase(w, "EXAT")) return FieldTtl::kExAt;
  if (EqualsIgnoreCase(w, "PXAT")) return FieldTtl::kPxAt;
  return std::nullopt;
}

constexpr std::string_view kFieldsMissing =
    "ERR Mandatory argument FIELDS is missing or not at the right position";

// HGETDEL / HGETEX: argv[at - 1] must be FIELDS and argv[at] the number of the fields
// that follow it. Replies the error and returns false otherwise.
bool ParseFieldList(const Ctx& ctx, int argc, const ferrite_slice* argv, int at, int* n) {
  if (!EqualsIgnoreCase(SV(argv[at - 1]), "FIELDS")) {
    ctx.Error(kFieldsMissing);
    return false;
  }
  if (at >= argc) {  // HGETEX k EX 10 FIELDS: nothing where numfields belongs
    ctx.Error(FERRITE_E_ARITY, "hgetex");
    return false;
  }
  int64_t num = 0;
  if (!ParseInt64(SV(argv[at]), &num) || num < 1) {
    ctx.Error("ERR Number of fields must be a positive integer");
    return false;
  }
  if (num != argc - at - 1) {
    ctx.Error("ERR The `numfields` parameter must match the number of arguments");
    return false;
  }
  *n = static_cast<int>(num);
  return true;
}

enum class Exist { kAny, kFnx, kFxx };

// What HSETEX found before FIELDS.
struct SetExOptions {
  std::optional<FieldTtl> ttl;
  int ttl_at = 0;      // argv index of the TTL word
  int64_t at_ms = 0;   // the TTL as an absolute time
  bool keepttl = false;
  Exist exist = Exist::kAny;
  int first = 0;       // argv index of the first field
};

// HSETEX key [FNX | FXX] [EX s | PX ms | EXAT s | PXAT ms | KEEPTTL]
//        FIELDS numfields field value [field value ...]
// Redis' hsetexParseArgs, word by word, replying the first error.
bool ParseSetExOptions(const Ctx& ctx, int argc, const ferrite_slice* argv, SetExOptions* o) {
  for (int i = 2; i < argc; i++) {
    std::string_view w = SV(argv[i]);
    if (EqualsIgnoreCase(w, "FIELDS")) {
      int64_t num = 0;
      if (i >= argc - 3) break;  // arity
      if (!ParseInt64(SV(argv[i + 1]), &num) || num < 1 || num > INT32_MAX) {
        ctx.Error("ERR invalid number of fields");
        return false;
      }
      const int remaining = argc - i - 2;
      if (remaining % 2 != 0 || num != remaining / 2) break;  // arity
      o->first = i + 2;
      return true;
    }
    const bool fnx = EqualsIgnoreCase(w, "FNX");
    if (fnx || EqualsIgnoreCase(w, "FXX")) {
      if (o->exist != Exist::kAny) {
        ctx.Error("ERR Only one of FXX or FNX arguments can be specified");
        return false;
      }
      o->exist = fnx ? Exist::kFnx : Exist::kFxx;
      continue;
    }
    auto ttl = TtlWord(w);
    if (!ttl && !EqualsIgnoreCase(w, "KEEPTTL")) {
      ctx.Error("ERR unknown argument: " + std::string(w));
      return false;
    }
    if (o->ttl || o->keepttl) {
      ctx.Error("ERR Only one of EX, PX, EXAT, PXAT or KEEPTTL arguments can be specified");
      return false;
    }
    if (!ttl) {
      o->keepttl = true;
      continue;
    }
    if (i + 1 >= argc) {
      ctx.Error("ERR missing expire time");
      return false;
    }
    o->ttl = ttl;
    o->ttl_at = i;
    if (!ParseFieldExpireTime(ctx, SV(argv[++i]), *ttl, "hsetex", &o->at_ms)) return false;
  }
  ctx.Error(FERRITE_E_ARITY, "hsetex");
  return false;
}

}  // namespace

// HGETDEL key FIELDS numfields field...: each field's value (null when missing), the
// field deleted as it is read; the last one takes the key with it (events hdel, del).
int CmdHGetDel(Ctx ctx, int argc, const ferrite_slice* argv) {
  HashKey hk;
  if (OpenHash(ctx, SV(argv[1]), FERRITE_KEY_WRITE, &hk) != Open::kOk) return FERRITE_OK;
  if (!EqualsIgnoreCase(SV(argv[2]), "FIELDS")) return ctx.Error(kFieldsMissing);
  int64_t num = 0;
  if (!ParseInt64(SV(argv[3]), &num) || num < 1)
    return ctx.Error("ERR Number of fields must be a positive integer");
  if (num != argc - 4)
    return ctx.Error("ERR The `numfields` parameter must match the number of arguments");
  ctx.Array(static_cast<size_t>(num));
  bool deleted = false;
  for (int i = 4; i < argc; i++) {
    std::string_view f = SV(argv[i]), v;
    if (!hk.hash || !hk.hash->Get(f, &v)) {
      ctx.Null();
      continue;
    }
    ctx.Bulk(v);
    hk.hash->Del(f);
    deleted = true;
  }
  if (!deleted) return FERRITE_OK;
  Modified(ctx, &hk, "hdel");
  std::vector<std::string> hdel{"HDEL", std::string(SV(argv[1]))};
  for (int i = 4; i < argc; i++) hdel.emplace_back(SV(argv[i]));
  ctx.Propagate(hdel);
  return FERRITE_OK;
}

// HGETEX key [EX s | PX ms | EXAT s | PXAT ms | PERSIST] FIELDS numfields field...: the
// values, each field's TTL changed as it is read. The option, if any, is argv[2].
int CmdHGetEx(Ctx ctx, int argc, const ferrite_slice* argv) {
  HashKey hk;
  if (OpenHash(ctx, SV(argv[1]), FERRITE_KEY_WRITE, &hk) != Open::kOk) return FERRITE_OK;
  const std::string_view opt = SV(argv[2]);
  const std::optional<FieldTtl> ttl = TtlWord(opt);
  const bool persist = !ttl && EqualsIgnoreCase(opt, "PERSIST");
  int64_t at_ms = 0;
  if (ttl && !ParseFieldExpireTime(ctx, SV(argv[3]), *ttl, "hgetex", &at_ms)) return FERRITE_OK;
  const int num_at = ttl ? 5 : persist ? 4 : 3;
  int n = 0;
  if (!ParseFieldList(ctx, argc, argv, num_at, &n)) return FERRITE_OK;
  ctx.Array(static_cast<size_t>(n));
  if (!hk.hash) {
    for (int i = 0; i < n; i++) ctx.Null();
    return FERRITE_OK;
  }
  const bool past = ttl && at_ms <= ctx.NowMs();
  const std::string key(SV(argv[1]));
  int updated = 0;
  std::vector<std::string> deleted;
  for (int i = num_at + 1; i < argc; i++) {
    std::string_view f = SV(argv[i]), v;
    if (!hk.hash->Get(f, &v)) {
      ctx.Null();
      continue;
    }
    ctx.Bulk(v);
    if (past) {
      hk.hash->Del(f);
      deleted.emplace_back(f);
    } else if (ttl) {
      hk.hash->SetExpire(f, at_ms);
      updated++;
    } else if (persist && hk.hash->Persist(f)) {
      updated++;
    }
  }
  if (updated) {
    std::vector<std::string> out;
    if (ttl) out = {"HPEXPIREAT", key, std::to_string(at_ms)};
    else out = {"HPERSIST", key};
    for (int i = num_at - 1; i < argc; i++) out.emplace_back(SV(argv[i]));
    Modified(ctx, &hk, ttl ? "hexpire" : "hpersist");
    ctx.Propagate(out);
  } else if (!deleted.empty()) {
    Modified(ctx, &hk, "hdel");
    for (auto& f : deleted) ctx.Propagate({"HDEL", key, f});
  }
  return FERRITE_OK;
}

// HSETEX: 1 when the fields were set, 0 when FNX/FXX refused (nothing written then).
int CmdHSetEx(Ctx ctx, int argc, const ferrite_slice* argv) {
  SetExOptions o;
  if (!ParseSetExOptions(ctx, argc, argv, &o)) return FERRITE_OK;
  HashKey hk;
  if (OpenHash(ctx, SV(argv[1]), FERRITE_KEY_WRITE, &hk) != Open::kOk) return FERRITE_OK;
  if (o.exist != Exist::kAny) {
    for (int i = o.first; i < argc; i += 2) {
      const bool exists = hk.hash && hk.hash->Exists(SV(argv[i]));
      if (exists != (o.exist == Exist::kFxx)) return ctx.Int(0);
    }
  }
  HashValue* h = CreateHash(ctx, &hk);
  const Limits lim = St(ctx).limits();
  const bool past = o.ttl && o.at_ms <= ctx.NowMs();
  for (int i = o.first; i < argc; i += 2) {
    std::string_view f = SV(argv[i]);
    h->Set(f, SV(argv[i + 1]), lim, o.keepttl ? HashValue::Ttl::kKeep : HashValue::Ttl::kClear);
    if (o.ttl && !past) h->SetExpire(f, o.at_ms);
  }
  Modified(ctx, &hk, "hset");
  const std::string key(SV(argv[1]));
  if (past) {
    // Set, then expired at once, as Redis does: events hset, hdel (and del), and the
    // replicas get the deletions.
    for (int i = o.first; i < argc; i += 2) {
      hk.hash->Del(SV(argv[i]));
      ctx.Propagate({"HDEL", key, SV(argv[i])});
    }
    Modified(ctx, &hk, "hdel");
    return ctx.Int(1);
  }
  if (o.ttl) Modified(ctx, &hk, "hexpire");
  // HSET, then the TTLs as HPEXPIREAT (absolute), one per distinct time: a 7.0 replica
  // applies the HSET (the replication stream carries HPEXPIREAT so that 7.0 ignores it,
  // see repl_stream.h), where HSETEX itself would be an unknown command there and the
  // values would never arrive. With KEEPTTL, HSET drops the kept TTLs on a replica that
  // has them, so those go out again.
  std::vector<std::string> out{"HSET", key};
  for (int i = o.first; i < argc; i++) out.emplace_back(SV(argv[i]));
  ctx.Propagate(out);
  std::map<int64_t, std::vector<std::string>> by_time;
  for (int i = o.first; i < argc; i += 2) {
    int64_t at = hk.hash->GetExpire(SV(argv[i]));
    if (at == -1) continue;
    auto& fields = by_time[at];
    if (std::find(fields.begin(), fields.end(), SV(argv[i])) == fields.end())
      fields.emplace_back(SV(argv[i]));
  }
  for (auto& [at, fields] : by_time) {
    out = {"HPEXPIREAT", key, std::to_string(at), "FIELDS", std::to_string(fields.size())};
    out.insert(out.end(), fields.begin(), fields.end());
    ctx.Propagate(out);
  }
  return ctx.Int(1);
}

}  // namespace ferrite::mod::hashes
