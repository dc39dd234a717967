// Redis 8.0's hash commands that read or write fields together with their TTLs:
// HGETDEL, HGETEX and HSETEX (redis.io documents them; redis-server 7.0 has none).
//
// Propagation is deterministic, as for the HEXPIRE family: HGETDEL goes out as HDEL of
// the fields it removed; HGETEX as HPEXPIREAT (absolute ms), HPERSIST or HDEL (a time
// already past deletes) of the fields it changed, and not at all when none changed;
// HSETEX as itself with EX/PX/EXAT turned into PXAT, or as HDEL when its time is past.
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

enum class Exist { kAny, kFnx, kFxx };

// What HGETEX / HSETEX found before FIELDS.
struct FieldOptions {
  std::optional<FieldTtl> ttl;
  int ttl_at = 0;       // argv index of the TTL word
  int64_t at_ms = 0;    // the TTL as an absolute time
  bool persist = false; // HGETEX
  bool keepttl = false; // HSETEX
  Exist exist = Exist::kAny;
  int fields_at = 0;    // argv index of FIELDS
};

// HGETEX key [EX s | PX ms | EXAT s | PXAT ms | PERSIST] FIELDS numfields field...
bool ParseGetExOptions(const Ctx& ctx, int argc, const ferrite_slice* argv, FieldOptions* o,
                       int* first, int* n) {
  int i = 2;
  for (; i < argc; i++) {
    std::string_view w = SV(argv[i]);
    auto ttl = TtlWord(w);
    if (!ttl && !EqualsIgnoreCase(w, "PERSIST")) break;
    if (o->ttl || o->persist) {
      ctx.Error("ERR Only one of EX, PX, EXAT, PXAT or PERSIST arguments can be specified");
      return false;
    }
    if (!ttl) {
      o->persist = true;
      continue;
    }
    if (i + 1 >= argc) break;
    o->ttl = ttl;
    o->ttl_at = i;
    if (!ParseFieldExpireTime(ctx, SV(argv[++i]), *ttl, "hgetex", &o->at_ms)) return false;
  }
  if (i >= argc || !EqualsIgnoreCase(SV(argv[i]), "FIELDS")) {
    ctx.Error(kFieldsMissing);
    return false;
  }
  int64_t num = 0;
  if (i + 1 >= argc || !ParseInt64(SV(argv[i + 1]), &num) || num < 1) {
    ctx.Error("ERR Number of fields must be a positive integer");
    return false;
  }
  if (num != argc - i - 2) {
    ctx.Error("ERR The `numfields` parameter must match the number of arguments");
    return false;
  }
  *first = i + 2;
  *n = static_cast<int>(num);
  return true;
}

// HSETEX key [FNX | FXX] [EX s | PX ms | EXAT s | PXAT ms | KEEPTTL]
//        FIELDS numfields field value...
bool ParseSetExOptions(const Ctx& ctx, int argc, const ferrite_slice* argv, FieldOptions* o,
                       int* first, int* n) {
  int i = 2;
  for (; i < argc; i++) {
    std::string_view w = SV(argv[i]);
    if (EqualsIgnoreCase(w, "FIELDS")) break;
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
      ctx.Error("ERR unknown argument");
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
    if (i + 1 >= argc) break;
    o->ttl = ttl;
    o->ttl_at = i;
    if (!ParseFieldExpireTime(ctx, SV(argv[++i]), *ttl, "hsetex", &o->at_ms)) return false;
  }
  if (i >= argc || !EqualsIgnoreCase(SV(argv[i]), "FIELDS")) {
    ctx.Error(kFieldsMissing);
    return false;
  }
  int64_t num = 0;
  if (i + 1 >= argc || !ParseInt64(SV(argv[i + 1]), &num) || num < 1 ||
      num > INT64_MAX / 2) {
    ctx.Error("ERR invalid number of fields");
    return false;
  }
  if (num * 2 != argc - i - 2) {
    ctx.Error(FERRITE_E_ARITY, "hsetex");
    return false;
  }
  o->fields_at = i;
  *first = i + 2;
  *n = static_cast<int>(num);
  return true;
}

}  // namespace

// HGETDEL key FIELDS numfields field...: the values (null for missing fields), then
// the fields are gone; the last one takes the key with it.
int CmdHGetDel(Ctx ctx, int argc, const ferrite_slice* argv) {
  int64_t num = 0;
  if (!ParseInt64(SV(argv[3]), &num)) return ctx.Error(FERRITE_E_NOT_INTEGER);
  if (num == 0 || num != argc - 4) {
    return ctx.Error(
        "ERR numfields should be greater than 0 and match the provided number of fields");
  }
  HashKey hk;
  if (OpenHash(ctx, SV(argv[1]), FERRITE_KEY_WRITE, &hk) != Open::kOk) return FERRITE_OK;
  ctx.Array(static_cast<size_t>(num));
  std::vector<std::string> hdel{"HDEL", std::string(SV(argv[1]))};
  for (int i = 4; i < argc; i++) {
    std::string_view f = SV(argv[i]), v;
    if (!hk.hash || !hk.hash->Get(f, &v)) {
      ctx.Null();
      continue;
    }
    ctx.Bulk(v);
    hk.hash->Del(f);
    hdel.emplace_back(f);
  }
  if (hdel.size() > 2) {
    Modified(ctx, &hk, "hdel");
    ctx.Propagate(hdel);
  }
  return FERRITE_OK;
}

// HGETEX: the values first, then the TTL change on the fields that exist.
int CmdHGetEx(Ctx ctx, int argc, const ferrite_slice* argv) {
  FieldOptions o;
  int first = 0, n = 0;
  if (!ParseGetExOptions(ctx, argc, argv, &o, &first, &n)) return FERRITE_OK;
  HashKey hk;
  if (OpenHash(ctx, SV(argv[1]), FERRITE_KEY_WRITE, &hk) != Open::kOk) return FERRITE_OK;
  ctx.Array(static_cast<size_t>(n));
  for (int i = first; i < argc; i++) {
    std::string_view v;
    if (hk.hash && hk.hash->Get(SV(argv[i]), &v)) ctx.Bulk(v);
    else ctx.Null();
  }
  if (!hk.hash || (!o.ttl && !o.persist)) return FERRITE_OK;
  const std::string key(SV(argv[1]));
  std::vector<std::string> changed;
  if (o.ttl && o.at_ms <= ctx.NowMs()) {
    for (int i = first; i < argc; i++)
      if (hk.hash->Del(SV(argv[i]))) changed.emplace_back(SV(argv[i]));
    if (changed.empty()) return FERRITE_OK;
    changed.insert(changed.begin(), {"HDEL", key});
    Modified(ctx, &hk, "hexpired");
  } else {
    for (int i = first; i < argc; i++) {
      std::string_view f = SV(argv[i]);
      if (!hk.hash->Exists(f)) continue;
      if (o.ttl) hk.hash->SetExpire(f, o.at_ms);
      else if (!hk.hash->Persist(f)) continue;
      changed.emplace_back(f);
    }
    if (changed.empty()) return FERRITE_OK;
    const std::string count = std::to_string(changed.size());
    if (o.ttl) changed.insert(changed.begin(), {"HPEXPIREAT", key, std::to_string(o.at_ms), "FIELDS", count});
    else changed.insert(changed.begin(), {"HPERSIST", key, "FIELDS", count});
    Modified(ctx, &hk, o.ttl ? "hexpire" : "hpersist");
  }
  ctx.Propagate(changed);
  return FERRITE_OK;
}

// HSETEX: 1 when the fields were set, 0 when FNX/FXX refused (nothing written then).
int CmdHSetEx(Ctx ctx, int argc, const ferrite_slice* argv) {
  FieldOptions o;
  int first = 0, n = 0;
  if (!ParseSetExOptions(ctx, argc, argv, &o, &first, &n)) return FERRITE_OK;
  HashKey hk;
  if (OpenHash(ctx, SV(argv[1]), FERRITE_KEY_WRITE, &hk) != Open::kOk) return FERRITE_OK;
  if (o.exist != Exist::kAny) {
    for (int i = first; i < argc; i += 2) {
      const bool exists = hk.hash && hk.hash->Exists(SV(argv[i]));
      if (exists != (o.exist == Exist::kFxx)) return ctx.Int(0);
    }
  }
  const std::string key(SV(argv[1]));
  if (o.ttl && o.at_ms <= ctx.NowMs()) {
    // Written and expired at once: none of the fields remains, as HDEL says.
    std::vector<std::string> hdel{"HDEL", key};
    bool deleted = false;
    for (int i = first; i < argc; i += 2) {
      if (hk.hash && hk.hash->Del(SV(argv[i]))) deleted = true;
      hdel.emplace_back(SV(argv[i]));
    }
    if (deleted) Modified(ctx, &hk, "hexpired");
    ctx.Propagate(hdel);
    return ctx.Int(1);
  }
  HashValue* h = CreateHash(ctx, &hk);
  const Limits lim = St(ctx).limits();
  for (int i = first; i < argc; i += 2) {
    std::string_view f = SV(argv[i]);
    h->Set(f, SV(argv[i + 1]), lim, o.keepttl ? HashValue::Ttl::kKeep : HashValue::Ttl::kClear);
    if (o.ttl) h->SetExpire(f, o.at_ms);
  }
  Modified(ctx, &hk, "hset");
  if (o.ttl && hk.hash) Modified(ctx, &hk, "hexpire");
  std::vector<std::string> out;
  for (int i = 0; i < argc; i++) {
    if (o.ttl && *o.ttl != FieldTtl::kPxAt && i == o.ttl_at) {
      out.emplace_back("PXAT");
      out.push_back(std::to_string(o.at_ms));
      i++;
      continue;
    }
    out.emplace_back(SV(argv[i]));
  }
  ctx.Propagate(out);
  return ctx.Int(1);
}

}  // namespace ferrite::mod::hashes
