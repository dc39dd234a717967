// Non-blocking list commands: Cmd* parse and reply; ListValue does the data work.
// Argument checks happen in the same order as Redis 7.0 so the first error reported for
// a doubly-wrong request is the same one.
#include <algorithm>
#include <climits>
#include <string>
#include <vector>

#include "lists_internal.h"

namespace ferrite::mod::lists {

using sdk::Args;
using sdk::EqualsIgnoreCase;
using sdk::ParseInt64;
using sdk::SV;

Open OpenList(const Ctx& ctx, std::string_view name, int mode, ListKey* out) {
  out->key = ctx.Open(name, mode);
  out->list = nullptr;
  if (!out->key.Exists()) return Open::kOk;
  if (!out->key.Is(St(ctx).type)) {
    ctx.Error(FERRITE_E_WRONGTYPE);
    return Open::kWrongType;
  }
  out->list = out->key.Value<ListValue>();
  return Open::kOk;
}

ListValue* CreateList(const Ctx& ctx, ListKey* lk) {
  if (!lk->list) {
    auto* l = new ListValue();
    lk->key.SetValue(St(ctx).type, l);
    lk->list = lk->key.Value<ListValue>();
  }
  return lk->list;
}

bool ParseEnd(std::string_view arg, End* end) {
  if (EqualsIgnoreCase(arg, "LEFT")) {
    *end = End::kHead;
  } else if (EqualsIgnoreCase(arg, "RIGHT")) {
    *end = End::kTail;
  } else {
    return false;
  }
  return true;
}

namespace {

enum class IfMissing { kCreate, kSkip };

int PushGeneric(Ctx ctx, int argc, const ferrite_slice* argv, End end, IfMissing mode) {
  ListKey lk;
  if (OpenList(ctx, SV(argv[1]), FERRITE_KEY_WRITE, &lk) != Open::kOk) return FERRITE_OK;
  if (!lk.list && mode == IfMissing::kSkip) return ctx.Int(0);
  ListValue* l = CreateList(ctx, &lk);
  int64_t fill = St(ctx).fill;
  for (int i = 2; i < argc; i++) l->Push(end, SV(argv[i]), fill);
  size_t len = l->Size();
  lk.key.Modified(FERRITE_NOTIFY_LIST, PushEvent(end));
  return ctx.Int(static_cast<int64_t>(len));
}

int PopGeneric(Ctx ctx, int argc, const ferrite_slice* argv, End end) {
  if (argc > 3) return ctx.Error(FERRITE_E_ARITY, end == End::kHead ? "lpop" : "rpop");
  int64_t count = -1;
  if (argc == 3 && (!ParseInt64(SV(argv[2]), &count) || count < 0))
    return ctx.Error("ERR value is out of range, must be positive");
  ListKey lk;
  if (OpenList(ctx, SV(argv[1]), FERRITE_KEY_WRITE, &lk) != Open::kOk) return FERRITE_OK;
  if (!lk.list) return count >= 0 ? ctx.NullArray() : ctx.Null();
  if (count < 0) {
    std::string v = lk.list->Pop(end);
    lk.key.Modified(FERRITE_NOTIFY_LIST, PopEvent(end));
    return ctx.Bulk(v);
  }
  size_t n = std::min<size_t>(static_cast<size_t>(count), lk.list->Size());
  ctx.Array(n);
  for (size_t i = 0; i < n; i++) ctx.Bulk(lk.list->Pop(end));
  if (n) lk.key.Modified(FERRITE_NOTIFY_LIST, PopEvent(end));
  return FERRITE_OK;
}

// Maps Redis' [start, end] (negatives from the tail) onto the list; false if empty.
bool NormaliseRange(int64_t start, int64_t end, size_t len, size_t* s, size_t* e) {
  int64_t l = static_cast<int64_t>(len);
  if (start < 0) start += l;
  if (end < 0) end += l;
  if (start < 0) start = 0;
  if (start > end || start >= l) return false;
  if (end >= l) end = l - 1;
  *s = static_cast<size_t>(start);
  *e = static_cast<size_t>(end);
  return true;
}

bool NormaliseIndex(int64_t idx, size_t len, size_t* out) {
  int64_t l = static_cast<int64_t>(len);
  if (idx < 0) idx += l;
  if (idx < 0 || idx >= l) return false;
  *out = static_cast<size_t>(idx);
  return true;
}

}  // namespace

int CmdLPush(Ctx c, int n, const ferrite_slice* a) {
  return PushGeneric(c, n, a, End::kHead, IfMissing::kCreate);
}
int CmdRPush(Ctx c, int n, const ferrite_slice* a) {
  return PushGeneric(c, n, a, End::kTail, IfMissing::kCreate);
}
int CmdLPushX(Ctx c, int n, const ferrite_slice* a) {
  return PushGeneric(c, n, a, End::kHead, IfMissing::kSkip);
}
int CmdRPushX(Ctx c, int n, const ferrite_slice* a) {
  return PushGeneric(c, n, a, End::kTail, IfMissing::kSkip);
}
int CmdLPop(Ctx c, int n, const ferrite_slice* a) { return PopGeneric(c, n, a, End::kHead); }
int CmdRPop(Ctx c, int n, const ferrite_slice* a) { return PopGeneric(c, n, a, End::kTail); }

int CmdLLen(Ctx ctx, int, const ferrite_slice* argv) {
  ListKey lk;
  if (OpenList(ctx, SV(argv[1]), FERRITE_KEY_READ, &lk) != Open::kOk) return FERRITE_OK;
  return ctx.Int(lk.list ? static_cast<int64_t>(lk.list->Size()) : 0);
}

int CmdLRange(Ctx ctx, int argc, const ferrite_slice* argv) {
  Args args(argc, argv, 2);
  int64_t start = args.Int(), end = args.Int();
  if (args.Failed()) return args.Reply(ctx);
  ListKey lk;
  if (OpenList(ctx, SV(argv[1]), FERRITE_KEY_READ, &lk) != Open::kOk) return FERRITE_OK;
  size_t s, e;
  if (!lk.list || !NormaliseRange(start, end, lk.list->Size(), &s, &e)) {
    ctx.Array(0);
    return FERRITE_OK;
  }
  ctx.Array(e - s + 1);
  lk.list->ForRange(s, e, [&](std::string_view v) {
    ctx.Bulk(v);
    return true;
  });
  return FERRITE_OK;
}

int CmdLIndex(Ctx ctx, int, const ferrite_slice* argv) {
  ListKey lk;
  if (OpenList(ctx, SV(argv[1]), FERRITE_KEY_READ, &lk) != Open::kOk) return FERRITE_OK;
  if (!lk.list) return ctx.Null();
  int64_t idx;
  if (!ParseInt64(SV(argv[2]), &idx)) return ctx.Error(FERRITE_E_NOT_INTEGER);
  size_t i;
  if (!NormaliseIndex(idx, lk.list->Size(), &i)) return ctx.Null();
  return ctx.Bulk(lk.list->At(i));
}

int CmdLSet(Ctx ctx, int, const ferrite_slice* argv) {
  ListKey lk;
  if (OpenList(ctx, SV(argv[1]), FERRITE_KEY_WRITE, &lk) != Open::kOk) return FERRITE_OK;
  if (!lk.list) return ctx.Error(FERRITE_E_NO_SUCH_KEY);
  int64_t idx;
  if (!ParseInt64(SV(argv[2]), &idx)) return ctx.Error(FERRITE_E_NOT_INTEGER);
  size_t i;
  if (!NormaliseIndex(idx, lk.list->Size(), &i)) return ctx.Error(FERRITE_E_OUT_OF_RANGE);
  lk.list->Set(i, SV(argv[3]), St(ctx).fill);
  lk.key.Modified(FERRITE_NOTIFY_LIST, "lset");
  return ctx.Ok();
}

int CmdLInsert(Ctx ctx, int, const ferrite_slice* argv) {
  bool after;
  if (EqualsIgnoreCase(SV(argv[2]), "AFTER")) {
    after = true;
  } else if (EqualsIgnoreCase(SV(argv[2]), "BEFORE")) {
    after = false;
  } else {
    return ctx.Error(FERRITE_E_SYNTAX);
  }
  ListKey lk;
  if (OpenList(ctx, SV(argv[1]), FERRITE_KEY_WRITE, &lk) != Open::kOk) return FERRITE_OK;
  if (!lk.list) return ctx.Int(0);
  std::string_view pivot = SV(argv[3]);
  size_t pos = 0;
  bool found = false;
  lk.list->ForEach([&](std::string_view v) {
    if (v == pivot) {
      found = true;
      return false;
    }
    pos++;
    return true;
  });
  if (!found) return ctx.Int(-1);
  lk.list->InsertAt(after ? pos + 1 : pos, SV(argv[4]), St(ctx).fill);
  size_t len = lk.list->Size();
  lk.key.Modified(FERRITE_NOTIFY_LIST, "linsert");
  return ctx.Int(static_cast<int64_t>(len));
}

int CmdLRem(Ctx ctx, int, const ferrite_slice* argv) {
  int64_t count;
  if (!ParseInt64(SV(argv[2]), &count)) return ctx.Error(FERRITE_E_NOT_INTEGER);
  ListKey lk;
  if (OpenList(ctx, SV(argv[1]), FERRITE_KEY_WRITE, &lk) != Open::kOk) return FERRITE_OK;
  if (!lk.list) return ctx.Int(0);
  size_t removed = lk.list->Remove(SV(argv[3]), count, St(ctx).fill);
  if (removed) lk.key.Modified(FERRITE_NOTIFY_LIST, "lrem");
  return ctx.Int(static_cast<int64_t>(removed));
}

int CmdLTrim(Ctx ctx, int argc, const ferrite_slice* argv) {
  Args args(argc, argv, 2);
  int64_t start = args.Int(), end = args.Int();
  if (args.Failed()) return args.Reply(ctx);
  ListKey lk;
  if (OpenList(ctx, SV(argv[1]), FERRITE_KEY_WRITE, &lk) != Open::kOk) return FERRITE_OK;
  if (!lk.list) return ctx.Ok();
  size_t len = lk.list->Size(), s, e;
  int64_t fill = St(ctx).fill;
  if (!NormaliseRange(start, end, len, &s, &e)) {
    lk.list->EraseRange(0, len, fill);
  } else {
    lk.list->EraseRange(e + 1, len - e - 1, fill);
    lk.list->EraseRange(0, s, fill);
  }
  lk.key.Modified(FERRITE_NOTIFY_LIST, "ltrim");
  return ctx.Ok();
}

namespace {

struct LPosOpts {
  int64_t rank = 1, count = -1, maxlen = 0;
};

bool ParseLPos(const Ctx& ctx, int argc, const ferrite_slice* argv, LPosOpts* o) {
  for (int i = 3; i < argc; i++) {
    std::string_view opt = SV(argv[i]);
    bool more = i + 1 < argc;
    int64_t v = 0;
    if (!more || !(EqualsIgnoreCase(opt, "RANK") || EqualsIgnoreCase(opt, "COUNT") ||
                   EqualsIgnoreCase(opt, "MAXLEN"))) {
      ctx.Error(FERRITE_E_SYNTAX);
      return false;
    }
    bool is_int = ParseInt64(SV(argv[++i]), &v);
    if (EqualsIgnoreCase(opt, "RANK")) {
      if (!is_int) {
        ctx.Error(FERRITE_E_NOT_INTEGER);
        return false;
      }
      if (v == 0) {
        ctx.Error(
            "ERR RANK can't be zero: use 1 to start from the first match, 2 from the second "
            "... or use negative to start from the end of the list");
        return false;
      }
      // NOTE: Redis 7.0 accepts LLONG_MIN and then treats it as "first match from the
      // tail" (its negation overflows); we reproduce the reply rather than the overflow.
      o->rank = v == INT64_MIN ? -1 : v;
    } else if (EqualsIgnoreCase(opt, "COUNT")) {
      // As Redis (getRangeLongFromObjectOrReply with a message): a non-integer gets the
      // same reply as a negative number.
      if (!is_int || v < 0) {
        ctx.Error("ERR COUNT can't be negative");
        return false;
      }
      o->count = v;
    } else {
      if (!is_int || v < 0) {
        ctx.Error("ERR MAXLEN can't be negative");
        return false;
      }
      o->maxlen = v;
    }
  }
  return true;
}

}  // namespace

int CmdLPos(Ctx ctx, int argc, const ferrite_slice* argv) {
  LPosOpts o;
  if (!ParseLPos(ctx, argc, argv, &o)) return FERRITE_OK;
  ListKey lk;
  if (OpenList(ctx, SV(argv[1]), FERRITE_KEY_READ, &lk) != Open::kOk) return FERRITE_OK;
  if (!lk.list) {
    if (o.count >= 0) ctx.Array(0);
    else ctx.Null();
    return FERRITE_OK;
  }
  std::string_view elem = SV(argv[2]);
  std::vector<int64_t> hits;
  int64_t want_rank = o.rank < 0 ? -o.rank : o.rank;
  uint64_t want = o.count < 0 ? 1 : (o.count == 0 ? UINT64_MAX : static_cast<uint64_t>(o.count));
  int64_t matches = 0, scanned = 0;
  auto visit = [&](std::string_view v, size_t idx) {
    if (o.maxlen && scanned >= o.maxlen) return false;
    scanned++;
    if (v == elem && ++matches >= want_rank) hits.push_back(static_cast<int64_t>(idx));
    return hits.size() < want;
  };
  if (o.rank > 0) {
    size_t idx = 0;
    lk.list->ForEach([&](std::string_view v) { return visit(v, idx++); });
  } else {
    lk.list->ForEachReverse(visit);
  }
  if (o.count < 0) return hits.empty() ? ctx.Null() : ctx.Int(hits[0]);
  ctx.Array(hits.size());
  for (int64_t h : hits) ctx.Int(h);
  return FERRITE_OK;
}

int MoveOne(const Ctx& ctx, ListKey* src, std::string_view dst_name, End from, End to) {
  int64_t fill = St(ctx).fill;
  bool same = dst_name == src->key.Name();
  ListKey dst_storage;
  ListKey* dst = src;
  if (!same) {
    if (OpenList(ctx, dst_name, FERRITE_KEY_WRITE, &dst_storage) != Open::kOk)
      return FERRITE_OK;
    dst = &dst_storage;
  }
  std::string v = src->list->Pop(from);
  CreateList(ctx, dst)->Push(to, v, fill);
  // Redis order: the push event on the destination, then the pop on the source.
  dst->key.Modified(FERRITE_NOTIFY_LIST, PushEvent(to));
  src->key.Modified(FERRITE_NOTIFY_LIST, PopEvent(from));
  return ctx.Bulk(v);
}

namespace {

int LMoveGeneric(Ctx ctx, const ferrite_slice* argv, End from, End to) {
  ListKey src;
  if (OpenList(ctx, SV(argv[1]), FERRITE_KEY_WRITE, &src) != Open::kOk) return FERRITE_OK;
  if (!src.list) return ctx.Null();
  return MoveOne(ctx, &src, SV(argv[2]), from, to);
}

}  // namespace

int CmdRPopLPush(Ctx ctx, int, const ferrite_slice* argv) {
  return LMoveGeneric(ctx, argv, End::kTail, End::kHead);
}

int CmdLMove(Ctx ctx, int, const ferrite_slice* argv) {
  End from, to;
  if (!ParseEnd(SV(argv[3]), &from) || !ParseEnd(SV(argv[4]), &to))
    return ctx.Error(FERRITE_E_SYNTAX);
  return LMoveGeneric(ctx, argv, from, to);
}

void PopManyReply(const Ctx& ctx, ListKey* lk, End end, int64_t count) {
  size_t n = std::min<size_t>(static_cast<size_t>(count), lk->list->Size());
  std::string name(lk->key.Name());
  ctx.Array(2);
  ctx.Bulk(name);
  ctx.Array(n);
  for (size_t i = 0; i < n; i++) ctx.Bulk(lk->list->Pop(end));
  lk->key.Modified(FERRITE_NOTIFY_LIST, PopEvent(end));
  ctx.Propagate({end == End::kHead ? "LPOP" : "RPOP", name, std::to_string(n)});
}

bool ParseMPopArgs(const Ctx& ctx, int argc, const ferrite_slice* argv, int first,
                   MPopArgs* out) {
  auto fail = [&](std::string_view msg) {
    if (msg.empty()) ctx.Error(FERRITE_E_SYNTAX);
    else ctx.Error(msg);
    return false;
  };
  int64_t numkeys;
  if (!ParseInt64(SV(argv[first]), &numkeys) || numkeys < 1)
    return fail("ERR numkeys should be greater than 0");
  if (numkeys > argc - first - 2) return fail({});
  int where = first + 1 + static_cast<int>(numkeys);
  if (!ParseEnd(SV(argv[where]), &out->end)) return fail({});
  out->keys_end = where;
  bool has_count = false;
  for (int i = where + 1; i < argc; i++) {
    if (has_count || !EqualsIgnoreCase(SV(argv[i]), "COUNT") || i + 1 >= argc) return fail({});
    has_count = true;
    if (!ParseInt64(SV(argv[++i]), &out->count) || out->count < 1)
      return fail("ERR count should be greater than 0");
  }
  return true;
}

int CmdLMPop(Ctx ctx, int argc, const ferrite_slice* argv) {
  MPopArgs a;
  if (!ParseMPopArgs(ctx, argc, argv, 1, &a)) return FERRITE_OK;
  int where = a.keys_end;
  End end = a.end;
  int64_t count = a.count;
  for (int k = 2; k < where; k++) {
    ListKey lk;
    if (OpenList(ctx, SV(argv[k]), FERRITE_KEY_WRITE, &lk) != Open::kOk) return FERRITE_OK;
    if (!lk.list) continue;
    PopManyReply(ctx, &lk, end, count);
    return FERRITE_OK;
  }
  return ctx.NullArray();
}

namespace {
int MPopKeys(int argc, const ferrite_slice* argv, int numkeys_at, int* out, int cap) {
  int64_t numkeys;
  if (numkeys_at >= argc || !ParseInt64(SV(argv[numkeys_at]), &numkeys) || numkeys < 1 ||
      numkeys > argc - numkeys_at - 2)
    return -1;
  for (int i = 0; i < numkeys && i < cap; i++) out[i] = numkeys_at + 1 + i;
  return static_cast<int>(numkeys);
}
}  // namespace

int LMPopGetKeys(int argc, const ferrite_slice* argv, int* out, int cap) {
  return MPopKeys(argc, argv, 1, out, cap);
}
int BLMPopGetKeys(int argc, const ferrite_slice* argv, int* out, int cap) {
  return MPopKeys(argc, argv, 2, out, cap);
}

// LIST.PACKED-THRESHOLD <bytes>: elements longer than <bytes> become plain (list_value.h).
int CmdPackedThreshold(Ctx ctx, int, const ferrite_slice* argv) {
  int64_t bytes = 0;
  if (!ParseInt64(SV(argv[1]), &bytes) || bytes < 1) return ctx.Error(FERRITE_E_NOT_INTEGER);
  SetPlainThreshold(static_cast<size_t>(bytes));
  return ctx.Simple("OK");
}

}  // namespace ferrite::mod::lists
