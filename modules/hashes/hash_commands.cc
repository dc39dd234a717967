// Hash commands (all but the field-TTL family): Cmd* parse and reply, HashValue works.
// Argument checks happen in Redis 7.0's order so doubly-wrong requests get its error.
#include <algorithm>
#include <cmath>
#include <random>
#include <string>
#include <unordered_set>
#include <vector>

#include "hashes_internal.h"

namespace ferrite::mod::hashes {

using sdk::EqualsIgnoreCase;
using sdk::GlobMatch;
using sdk::ParseInt64;
using sdk::ParseUint64;
using sdk::SV;

Open OpenHash(const Ctx& ctx, std::string_view name, int mode, HashKey* out) {
  out->key = ctx.Open(name, mode);
  out->hash = nullptr;
  if (!out->key.Exists()) return Open::kOk;
  if (!out->key.Is(St(ctx).type)) {
    ctx.Error(FERRITE_E_WRONGTYPE);
    return Open::kWrongType;
  }
  out->hash = HashValue::View(out->key.Value<void>(), &out->view);
  if (out->hash->HasVolatile()) {
    out->hash->ExpireDue(ctx.NowMs(), &out->expired);
    if (!out->expired.empty()) {
      std::vector<std::string> argv{"HDEL", std::string(name)};
      argv.insert(argv.end(), out->expired.begin(), out->expired.end());
      ctx.Propagate(argv);
      Modified(ctx, out, "hexpired");
    }
  }
  return Open::kOk;
}

HashValue* CreateHash(const Ctx& ctx, HashKey* hk) {
  if (!hk->hash) {
    hk->key.SetValue(St(ctx).type, new HashValue());
    hk->hash = HashValue::View(hk->key.Value<void>(), &hk->view);
  }
  return hk->hash;
}

void Modified(const Ctx& ctx, HashKey* hk, const char* event) {
  void* old = hk->key.Value<void>();
  void* now = HashValue::Settle(hk->hash, old);
  if (now != old) hk->key.SetValue(St(ctx).type, now);  // frees `old`
  hk->hash = HashValue::View(now, &hk->view);
  hk->key.Modified(FERRITE_NOTIFY_HASH, event);
  if (!hk->key.Exists()) hk->hash = nullptr;  // emptied: the host deleted the key
}

void PropagateSelf(const Ctx& ctx, const HashKey& hk, int argc, const ferrite_slice* argv) {
  if (hk.expired.empty()) return;
  std::vector<std::string> a;
  for (int i = 0; i < argc; i++) a.emplace_back(SV(argv[i]));
  ctx.Propagate(a);
}

namespace {

enum class SetReply { kAdded, kOk };

int SetGeneric(Ctx ctx, int argc, const ferrite_slice* argv, SetReply reply) {
  if (argc % 2 != 0)
    return ctx.Error(FERRITE_E_ARITY, reply == SetReply::kOk ? "hmset" : "hset");
  HashKey hk;
  if (OpenHash(ctx, SV(argv[1]), FERRITE_KEY_WRITE, &hk) != Open::kOk) return FERRITE_OK;
  HashValue* h = CreateHash(ctx, &hk);
  Limits lim = St(ctx).limits();
  int64_t added = 0;
  for (int i = 2; i < argc; i += 2) added += h->Set(SV(argv[i]), SV(argv[i + 1]), lim);
  Modified(ctx, &hk, "hset");
  PropagateSelf(ctx, hk, argc, argv);
  return reply == SetReply::kOk ? ctx.Ok() : ctx.Int(added);
}

}  // namespace

int CmdHSet(Ctx c, int n, const ferrite_slice* a) { return SetGeneric(c, n, a, SetReply::kAdded); }
int CmdHMSet(Ctx c, int n, const ferrite_slice* a) { return SetGeneric(c, n, a, SetReply::kOk); }

int CmdHSetNx(Ctx ctx, int argc, const ferrite_slice* argv) {
  HashKey hk;
  if (OpenHash(ctx, SV(argv[1]), FERRITE_KEY_WRITE, &hk) != Open::kOk) return FERRITE_OK;
  if (hk.hash && hk.hash->Exists(SV(argv[2]))) return ctx.Int(0);
  CreateHash(ctx, &hk)->Set(SV(argv[2]), SV(argv[3]), St(ctx).limits());
  Modified(ctx, &hk, "hset");
  PropagateSelf(ctx, hk, argc, argv);
  return ctx.Int(1);
}

int CmdHGet(Ctx ctx, int, const ferrite_slice* argv) {
  HashKey hk;
  if (OpenHash(ctx, SV(argv[1]), FERRITE_KEY_READ, &hk) != Open::kOk) return FERRITE_OK;
  std::string_view v;
  if (!hk.hash || !hk.hash->Get(SV(argv[2]), &v)) return ctx.Null();
  return ctx.Bulk(v);
}

int CmdHMGet(Ctx ctx, int argc, const ferrite_slice* argv) {
  HashKey hk;
  if (OpenHash(ctx, SV(argv[1]), FERRITE_KEY_READ, &hk) != Open::kOk) return FERRITE_OK;
  ctx.Array(static_cast<size_t>(argc - 2));
  for (int i = 2; i < argc; i++) {
    std::string_view v;
    if (hk.hash && hk.hash->Get(SV(argv[i]), &v)) ctx.Bulk(v);
    else ctx.Null();
  }
  return FERRITE_OK;
}

int CmdHDel(Ctx ctx, int argc, const ferrite_slice* argv) {
  HashKey hk;
  if (OpenHash(ctx, SV(argv[1]), FERRITE_KEY_WRITE, &hk) != Open::kOk) return FERRITE_OK;
  if (!hk.hash) return ctx.Int(0);
  int64_t deleted = 0;
  for (int i = 2; i < argc; i++) deleted += hk.hash->Del(SV(argv[i]));
  if (deleted) {
    Modified(ctx, &hk, "hdel");
    PropagateSelf(ctx, hk, argc, argv);
  }
  return ctx.Int(deleted);
}

int CmdHLen(Ctx ctx, int, const ferrite_slice* argv) {
  HashKey hk;
  if (OpenHash(ctx, SV(argv[1]), FERRITE_KEY_READ, &hk) != Open::kOk) return FERRITE_OK;
  return ctx.Int(hk.hash ? static_cast<int64_t>(hk.hash->Size()) : 0);
}

int CmdHStrLen(Ctx ctx, int, const ferrite_slice* argv) {
  HashKey hk;
  if (OpenHash(ctx, SV(argv[1]), FERRITE_KEY_READ, &hk) != Open::kOk) return FERRITE_OK;
  std::string_view v;
  if (!hk.hash || !hk.hash->Get(SV(argv[2]), &v)) return ctx.Int(0);
  return ctx.Int(static_cast<int64_t>(v.size()));
}

int CmdHExists(Ctx ctx, int, const ferrite_slice* argv) {
  HashKey hk;
  if (OpenHash(ctx, SV(argv[1]), FERRITE_KEY_READ, &hk) != Open::kOk) return FERRITE_OK;
  return ctx.Int(hk.hash && hk.hash->Exists(SV(argv[2])) ? 1 : 0);
}

namespace {

enum Parts { kFields = 1, kValues = 2, kBoth = 3 };

int GetAllGeneric(Ctx ctx, const ferrite_slice* argv, int parts) {
  HashKey hk;
  if (OpenHash(ctx, SV(argv[1]), FERRITE_KEY_READ, &hk) != Open::kOk) return FERRITE_OK;
  size_t n = hk.hash ? hk.hash->Size() : 0;
  if (parts == kBoth) ctx.Map(n);
  else ctx.Array(n);
  if (!hk.hash) return FERRITE_OK;
  hk.hash->ForEach([&](std::string_view f, std::string_view v) {
    if (parts & kFields) ctx.Bulk(f);
    if (parts & kValues) ctx.Bulk(v);
  });
  return FERRITE_OK;
}

}  // namespace

int CmdHKeys(Ctx c, int, const ferrite_slice* a) { return GetAllGeneric(c, a, kFields); }
int CmdHVals(Ctx c, int, const ferrite_slice* a) { return GetAllGeneric(c, a, kValues); }
int CmdHGetAll(Ctx c, int, const ferrite_slice* a) { return GetAllGeneric(c, a, kBoth); }

int CmdHIncrBy(Ctx ctx, int argc, const ferrite_slice* argv) {
  int64_t incr, cur = 0;
  if (!ParseInt64(SV(argv[3]), &incr)) return ctx.Error(FERRITE_E_NOT_INTEGER);
  HashKey hk;
  if (OpenHash(ctx, SV(argv[1]), FERRITE_KEY_WRITE, &hk) != Open::kOk) return FERRITE_OK;
  std::string_view v;
  if (hk.hash && hk.hash->Get(SV(argv[2]), &v) && !ParseInt64(v, &cur))
    return ctx.Error("ERR hash value is not an integer");
  if ((incr < 0 && cur < 0 && incr < INT64_MIN - cur) ||
      (incr > 0 && cur > 0 && incr > INT64_MAX - cur))
    return ctx.Error(FERRITE_E_OVERFLOW);
  cur += incr;
  CreateHash(ctx, &hk)->Set(SV(argv[2]), std::to_string(cur), St(ctx).limits(),
                            HashValue::Ttl::kKeep);
  Modified(ctx, &hk, "hincrby");
  PropagateSelf(ctx, hk, argc, argv);
  return ctx.Int(cur);
}

namespace {
bool ParseLongDouble(std::string_view s, long double* out) {
  if (s.empty() || s.size() > 5000 || isspace(static_cast<unsigned char>(s[0]))) return false;
  std::string buf(s);
  char* end = nullptr;
  errno = 0;
  long double v = strtold(buf.c_str(), &end);
  if (end != buf.c_str() + buf.size() || std::isnan(v)) return false;
  if (errno == ERANGE && (v == HUGE_VALL || v == -HUGE_VALL || v == 0)) return false;
  *out = v;
  return true;
}
}  // namespace

int CmdHIncrByFloat(Ctx ctx, int, const ferrite_slice* argv) {
  long double incr, cur = 0;
  if (!ParseLongDouble(SV(argv[3]), &incr)) return ctx.Error(FERRITE_E_NOT_FLOAT);
  if (std::isinf(incr)) return ctx.Error("ERR value is NaN or Infinity");
  HashKey hk;
  if (OpenHash(ctx, SV(argv[1]), FERRITE_KEY_WRITE, &hk) != Open::kOk) return FERRITE_OK;
  std::string_view v;
  if (hk.hash && hk.hash->Get(SV(argv[2]), &v) && !ParseLongDouble(v, &cur))
    return ctx.Error("ERR hash value is not a float");
  cur += incr;
  if (std::isnan(cur) || std::isinf(cur))
    return ctx.Error("ERR increment would produce NaN or Infinity");
  std::string out = sdk::FormatLongDouble(cur);
  CreateHash(ctx, &hk)->Set(SV(argv[2]), out, St(ctx).limits(), HashValue::Ttl::kKeep);
  Modified(ctx, &hk, "hincrbyfloat");
  // Replicas and the AOF get the result, never a float operation to redo.
  ctx.Propagate({"HSET", SV(argv[1]), SV(argv[2]), out});
  return ctx.Bulk(out);
}

namespace {

std::mt19937_64& Rng() {
  thread_local std::mt19937_64 rng{std::random_device{}()};
  return rng;
}

void ReplyPair(const Ctx& ctx, std::string_view f, std::string_view v, bool withvalues) {
  if (withvalues && ctx.Resp() >= 3) ctx.Array(2);
  ctx.Bulk(f);
  if (withvalues) ctx.Bulk(v);
}

int RandFieldCount(Ctx ctx, HashValue* h, int64_t count, bool withvalues) {
  size_t size = h ? h->Size() : 0;
  if (!h || count == 0) {
    ctx.Array(0);
    return FERRITE_OK;
  }
  bool flat = withvalues && ctx.Resp() < 3;
  if (count < 0) {  // repeats allowed
    uint64_t n = static_cast<uint64_t>(-count);
    ctx.Array(flat ? n * 2 : n);
    for (uint64_t i = 0; i < n; i++) {
      auto nv = h->Random(Rng());
      ReplyPair(ctx, nv.field, nv.value, withvalues);
    }
    return FERRITE_OK;
  }
  size_t n = std::min<size_t>(static_cast<size_t>(count), size);
  ctx.Array(flat ? n * 2 : n);
  if (n == size) {
    h->ForEach([&](std::string_view f, std::string_view v) { ReplyPair(ctx, f, v, withvalues); });
  } else if (n * 3 > size || h->IsCompact()) {
    // Many of them: a partial Fisher-Yates shuffle over all entries.
    std::vector<Table::NodeView> all;
    all.reserve(size);
    h->ForEach([&](std::string_view f, std::string_view v) { all.push_back({f, v}); });
    for (size_t i = 0; i < n; i++) {
      std::swap(all[i], all[i + Rng()() % (size - i)]);
      ReplyPair(ctx, all[i].field, all[i].value, withvalues);
    }
  } else {
    // Few of a big hash: random picks, skipping repeats.
    std::unordered_set<std::string_view> seen;
    while (seen.size() < n) {
      auto nv = h->Random(Rng());
      if (seen.insert(nv.field).second) ReplyPair(ctx, nv.field, nv.value, withvalues);
    }
  }
  return FERRITE_OK;
}

}  // namespace

int CmdHRandField(Ctx ctx, int argc, const ferrite_slice* argv) {
  if (argc >= 3) {
    int64_t count;
    bool withvalues;
    if (const char* e = sdk::ParseRandomCountWith(argc, argv, "WITHVALUES", &count, &withvalues))
      return ctx.Error(e);
    HashKey hk;
    if (OpenHash(ctx, SV(argv[1]), FERRITE_KEY_READ, &hk) != Open::kOk) return FERRITE_OK;
    return RandFieldCount(ctx, hk.hash, count, withvalues);
  }
  HashKey hk;
  if (OpenHash(ctx, SV(argv[1]), FERRITE_KEY_READ, &hk) != Open::kOk) return FERRITE_OK;
  if (!hk.hash) return ctx.Null();
  return ctx.Bulk(hk.hash->Random(Rng()).field);
}

int CmdHScan(Ctx ctx, int argc, const ferrite_slice* argv) {
  uint64_t cursor;
  if (!sdk::ParseScanCursor(SV(argv[2]), &cursor)) return ctx.Error("ERR invalid cursor");
  HashKey hk;
  if (OpenHash(ctx, SV(argv[1]), FERRITE_KEY_READ, &hk) != Open::kOk) return FERRITE_OK;
  if (!hk.hash) return sdk::ReplyEmptyScan(ctx);
  sdk::ScanOptions opts;
  if (auto e = sdk::ParseScanOptions(argc, argv, 3, sdk::kScanNoValues, &opts))
    return ctx.Error(*e);
  int64_t count = opts.count;
  bool novalues = opts.novalues;
  std::vector<std::pair<std::string, std::string>> out;
  uint64_t next = 0;
  if (hk.hash) {
    auto take = [&](std::string_view f, std::string_view v) {
      if (opts.Matches(f)) out.emplace_back(f, v);
    };
    // Like Redis: keep walking buckets until about `count` entries were looked at.
    size_t visited = 0, budget = static_cast<size_t>(count) * 10;
    next = cursor;
    do {
      size_t before = out.size();
      next = hk.hash->Scan(next, take);
      visited += std::max<size_t>(1, out.size() - before);
    } while (next != 0 && out.size() < static_cast<size_t>(count) && visited < budget);
  }
  ctx.Array(2);
  ctx.Bulk(std::to_string(next));
  ctx.Array(novalues ? out.size() : out.size() * 2);
  for (auto& [f, v] : out) {
    ctx.Bulk(f);
    if (!novalues) ctx.Bulk(v);
  }
  return FERRITE_OK;
}

}  // namespace ferrite::mod::hashes
