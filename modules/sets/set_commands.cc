// Single-key set commands: SADD SREM SCARD SISMEMBER SMISMEMBER SMEMBERS SPOP
// SRANDMEMBER SMOVE SSCAN.
#include <algorithm>
#include <cerrno>
#include <cstdlib>
#include <string>
#include <unordered_set>
#include <vector>

#include "sets_internal.h"

namespace ferrite::mod::sets {

using sdk::Ctx;
using sdk::Key;
using sdk::SV;

namespace {
constexpr size_t kPropagateBatch = 1024;  // SREM batch size when SPOP propagates

void ReplyMembers(const Ctx& ctx, const std::vector<std::string>& v) {
  ctx.Set(v.size());
  for (auto& m : v) ctx.Bulk(m);
}

// Propagates removals as SREM key m... in batches (SPOP is not deterministic).
void PropagateSRem(const Ctx& ctx, std::string_view key, const std::vector<std::string>& v) {
  for (size_t i = 0; i < v.size(); i += kPropagateBatch) {
    std::vector<std::string> argv = {"SREM", std::string(key)};
    for (size_t j = i; j < v.size() && j < i + kPropagateBatch; j++) argv.push_back(v[j]);
    ctx.Propagate(argv);
  }
}
}  // namespace

int CmdSAdd(Ctx ctx, int argc, const ferrite_slice* argv) {
  auto* st = ctx.State<SetsState>();
  Key k = ctx.OpenWrite(SV(argv[1]));
  SetValue* s = nullptr;
  Found f = LookupSet(k, *st, &s);
  if (f == Found::kWrongType) return ctx.Error(FERRITE_E_WRONGTYPE);
  int64_t added = 0;
  if (f == Found::kMissing) {
    SetPtr n(SetValue::Create(SV(argv[2])));
    for (int i = 2; i < argc; i++) {
      if (n.Add(SV(argv[i]), static_cast<size_t>(st->max_intset_entries))) added++;
    }
    k.SetValue(st->type, n.release());
  } else {
    for (int i = 2; i < argc; i++) {
      if (AddToKey(k, *st, &s, SV(argv[i]))) added++;
    }
  }
  if (added) k.Modified(FERRITE_NOTIFY_SET, "sadd");
  return ctx.Int(added);
}

int CmdSRem(Ctx ctx, int argc, const ferrite_slice* argv) {
  auto* st = ctx.State<SetsState>();
  Key k = ctx.OpenWrite(SV(argv[1]));
  SetValue* s = nullptr;
  Found f = LookupSet(k, *st, &s);
  if (f == Found::kWrongType) return ctx.Error(FERRITE_E_WRONGTYPE);
  if (f == Found::kMissing) return ctx.Int(0);
  int64_t removed = 0;
  for (int i = 2; i < argc && s->Size() > 0; i++) {
    if (s->Remove(SV(argv[i]))) removed++;
  }
  if (removed && s->Size() > 0) ShrinkKey(k, *st, s);
  if (removed) k.Modified(FERRITE_NOTIFY_SET, "srem");
  return ctx.Int(removed);
}

int CmdSCard(Ctx ctx, int argc, const ferrite_slice* argv) {
  auto* st = ctx.State<SetsState>();
  Key k = ctx.Open(SV(argv[1]));
  SetValue* s = nullptr;
  Found f = LookupSet(k, *st, &s);
  if (f == Found::kWrongType) return ctx.Error(FERRITE_E_WRONGTYPE);
  return ctx.Int(f == Found::kMissing ? 0 : static_cast<int64_t>(s->Size()));
}

int CmdSIsMember(Ctx ctx, int argc, const ferrite_slice* argv) {
  auto* st = ctx.State<SetsState>();
  Key k = ctx.Open(SV(argv[1]));
  SetValue* s = nullptr;
  Found f = LookupSet(k, *st, &s);
  if (f == Found::kWrongType) return ctx.Error(FERRITE_E_WRONGTYPE);
  return ctx.Int(f == Found::kSet && s->Contains(SV(argv[2])) ? 1 : 0);
}

int CmdSMIsMember(Ctx ctx, int argc, const ferrite_slice* argv) {
  auto* st = ctx.State<SetsState>();
  Key k = ctx.Open(SV(argv[1]));
  SetValue* s = nullptr;
  Found f = LookupSet(k, *st, &s);
  if (f == Found::kWrongType) return ctx.Error(FERRITE_E_WRONGTYPE);
  ctx.Array(static_cast<size_t>(argc - 2));
  for (int i = 2; i < argc; i++) ctx.Int(f == Found::kSet && s->Contains(SV(argv[i])) ? 1 : 0);
  return FERRITE_OK;
}

int CmdSMembers(Ctx ctx, int argc, const ferrite_slice* argv) {
  auto* st = ctx.State<SetsState>();
  Key k = ctx.Open(SV(argv[1]));
  SetValue* s = nullptr;
  Found f = LookupSet(k, *st, &s);
  if (f == Found::kWrongType) return ctx.Error(FERRITE_E_WRONGTYPE);
  if (f == Found::kMissing) {
    ctx.Set(0);
    return FERRITE_OK;
  }
  ctx.Set(s->Size());
  s->ForEach([&](std::string_view m) { ctx.Bulk(m); });
  return FERRITE_OK;
}

namespace {
int SPopOne(const Ctx& ctx, Key& k, const SetsState& st, SetValue* s) {
  std::string m = s->Random(Rng());
  s->Remove(m);
  if (s->Size() > 0) ShrinkKey(k, st, s);
  ctx.Propagate({"SREM", k.Name(), m});
  k.Modified(FERRITE_NOTIFY_SET, "spop");
  return ctx.Bulk(m);
}

int SPopCount(const Ctx& ctx, Key& k, const SetsState& st, SetValue* s, uint64_t count) {
  std::vector<std::string> popped;
  if (count >= s->Size()) {
    popped = s->Members();
    ctx.Propagate({"DEL", k.Name()});
    for (auto& m : popped) s->Remove(m);
  } else {
    popped.reserve(count);
    while (popped.size() < count) {
      popped.push_back(s->Random(Rng()));
      s->Remove(popped.back());
    }
    PropagateSRem(ctx, k.Name(), popped);
    ShrinkKey(k, st, s);
  }
  // Reply before Modified(): an emptied key is deleted there, freeing `s`.
  ReplyMembers(ctx, popped);
  k.Modified(FERRITE_NOTIFY_SET, "spop");
  return FERRITE_OK;
}
}  // namespace

int CmdSPop(Ctx ctx, int argc, const ferrite_slice* argv) {
  auto* st = ctx.State<SetsState>();
  if (argc > 3) return ctx.Error(FERRITE_E_SYNTAX);
  int64_t count = 1;
  if (argc == 3) {
    // Redis answers the same for "x" and "-1".
    if (!sdk::ParseInt64(SV(argv[2]), &count) || count < 0) {
      return ctx.Error("ERR value is out of range, must be positive");
    }
  }
  Key k = ctx.OpenWrite(SV(argv[1]));
  SetValue* s = nullptr;
  Found f = LookupSet(k, *st, &s);
  if (f == Found::kWrongType) return ctx.Error(FERRITE_E_WRONGTYPE);
  if (argc == 2) return f == Found::kMissing ? ctx.Null() : SPopOne(ctx, k, *st, s);
  if (f == Found::kMissing || count == 0) {
    ctx.Set(0);
    return FERRITE_OK;
  }
  return SPopCount(ctx, k, *st, s, static_cast<uint64_t>(count));
}

namespace {
// SRANDMEMBER key count: distinct members for count >= 0, repeats allowed below 0.
void RandMembers(const Ctx& ctx, const SetValue& s, int64_t count) {
  auto& rng = Rng();
  if (count < 0) {
    uint64_t n = static_cast<uint64_t>(-count);
    ctx.Array(n);
    for (uint64_t i = 0; i < n; i++) ctx.Bulk(s.Random(rng));
    return;
  }
  uint64_t want = static_cast<uint64_t>(count);
  if (want >= s.Size()) {
    ctx.Array(s.Size());
    s.ForEach([&](std::string_view m) { ctx.Bulk(m); });
    return;
  }
  std::vector<std::string> out;
  if (want * 3 > s.Size()) {
    // Many: copy all and drop random ones (sampling would keep hitting duplicates).
    out = s.Members();
    while (out.size() > want) {
      size_t i = std::uniform_int_distribution<size_t>(0, out.size() - 1)(rng);
      std::swap(out[i], out.back());
      out.pop_back();
    }
  } else {
    std::unordered_set<std::string> seen;
    while (out.size() < want) {
      std::string m = s.Random(rng);
      if (seen.insert(m).second) out.push_back(std::move(m));
    }
  }
  ctx.BulkArray(out);
}
}  // namespace

int CmdSRandMember(Ctx ctx, int argc, const ferrite_slice* argv) {
  auto* st = ctx.State<SetsState>();
  if (argc > 3) return ctx.Error(FERRITE_E_SYNTAX);
  int64_t count = 0;
  if (argc == 3) {
    if (const char* e = sdk::ParseRandomCount(SV(argv[2]), &count)) return ctx.Error(e);
  }
  Key k = ctx.Open(SV(argv[1]));
  SetValue* s = nullptr;
  Found f = LookupSet(k, *st, &s);
  if (f == Found::kWrongType) return ctx.Error(FERRITE_E_WRONGTYPE);
  if (argc == 2) return f == Found::kMissing ? ctx.Null() : ctx.Bulk(s->Random(Rng()));
  if (f == Found::kMissing || count == 0) {
    ctx.Array(0);
    return FERRITE_OK;
  }
  RandMembers(ctx, *s, count);
  return FERRITE_OK;
}

int CmdSMove(Ctx ctx, int argc, const ferrite_slice* argv) {
  auto* st = ctx.State<SetsState>();
  std::string_view src_name = SV(argv[1]), dst_name = SV(argv[2]), m = SV(argv[3]);
  Key src = ctx.OpenWrite(src_name);
  SetValue* s = nullptr;
  Found fs = LookupSet(src, *st, &s);
  if (fs == Found::kMissing) return ctx.Int(0);
  if (fs == Found::kWrongType) return ctx.Error(FERRITE_E_WRONGTYPE);
  if (src_name == dst_name) return ctx.Int(s->Contains(m) ? 1 : 0);
  Key dst = ctx.OpenWrite(dst_name);
  SetValue* d = nullptr;
  Found fd = LookupSet(dst, *st, &d);
  if (fd == Found::kWrongType) return ctx.Error(FERRITE_E_WRONGTYPE);
  if (!s->Remove(m)) return ctx.Int(0);
  if (s->Size() > 0) ShrinkKey(src, *st, s);
  src.Modified(FERRITE_NOTIFY_SET, "srem");
  if (fd == Found::kMissing) {
    SetPtr n(SetValue::Create(m));
    n.Add(m, static_cast<size_t>(st->max_intset_entries));
    dst.SetValue(st->type, n.release());
    dst.Modified(FERRITE_NOTIFY_SET, "sadd");
  } else if (AddToKey(dst, *st, &d, m)) {
    dst.Modified(FERRITE_NOTIFY_SET, "sadd");
  }
  return ctx.Int(1);
}

int CmdSScan(Ctx ctx, int argc, const ferrite_slice* argv) {
  auto* st = ctx.State<SetsState>();
  uint64_t cursor = 0;
  if (!sdk::ParseScanCursor(SV(argv[2]), &cursor)) return ctx.Error("ERR invalid cursor");
  Key k = ctx.Open(SV(argv[1]));
  SetValue* s = nullptr;
  Found f = LookupSet(k, *st, &s);
  if (f == Found::kWrongType) return ctx.Error(FERRITE_E_WRONGTYPE);
  if (f == Found::kMissing) return sdk::ReplyEmptyScan(ctx);
  sdk::ScanOptions opts;
  if (auto e = sdk::ParseScanOptions(argc, argv, 3, 0, &opts)) return ctx.Error(*e);
  int64_t count = opts.count;
  std::vector<std::string> found;
  auto collect = [&](std::string_view m) {
    if (opts.Matches(m)) found.emplace_back(m);
  };
  // Like Redis: stop after `count` elements or count*10 buckets, whichever first.
  int64_t budget = count * 10;
  size_t seen = 0;
  do {
    cursor = s->Scan(cursor, [&](std::string_view m) {
      seen++;
      collect(m);
    });
  } while (cursor != 0 && static_cast<int64_t>(seen) < count && --budget > 0);
  ctx.Array(2);
  ctx.Bulk(std::to_string(cursor));
  return ctx.BulkArray(found);
}

}  // namespace ferrite::mod::sets
