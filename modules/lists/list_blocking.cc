// BLPOP & co. on the host's block/re-run API.
//
// Each handler is written to be re-run from the start: it either serves from the first
// non-empty list (and propagates the non-blocking form, so AOF and replicas never see a
// blocking command) or parks the client again. The host keeps the original deadline on
// re-runs and queues waiters per key in arrival order, which gives FIFO service. A
// re-run tries the key that woke it first, as Redis serves from the key that became
// ready (MULTI; RPUSH b; RPUSH a; EXEC wakes `BLPOP a b 0` with b's element).
#include <cmath>
#include <cstdlib>
#include <string>
#include <vector>

#include "lists_internal.h"

namespace ferrite::mod::lists {

using sdk::Api;
using sdk::EqualsIgnoreCase;
using sdk::ParseInt64;
using sdk::SL;
using sdk::SV;

bool ParseTimeout(const Ctx& ctx, std::string_view arg, int64_t* ms) {
  std::string buf(arg);
  char* end = nullptr;
  long double v = buf.empty() || isspace(static_cast<unsigned char>(buf[0]))
                      ? NAN
                      : strtold(buf.c_str(), &end);
  if (buf.empty() || end != buf.c_str() + buf.size() || std::isnan(v)) {
    ctx.Error("ERR timeout is not a float or out of range");
    return false;
  }
  v *= 1000.0L;
  // NOTE: Redis casts to long long without a range check; on x86 anything that does not
  // fit (including inf) becomes LLONG_MIN and is reported as negative. Same reply here.
  if (!(v < 9.2e18L) || v < 0) {
    ctx.Error("ERR timeout is negative");
    return false;
  }
  *ms = static_cast<int64_t>(std::ceil(v));
  return true;
}

namespace {

// Opens a key a blocking command pops from. On the re-run of a woken waiter a key that
// now holds another type is only not ready (Redis 7.0 serves a blocked client from a list
// and leaves it blocked otherwise: MULTI; LPUSH k a; DEL k; SET k x; EXEC wakes nobody);
// a first run answers WRONGTYPE. False when the command has answered.
bool OpenSource(const Ctx& ctx, std::string_view name, ListKey* lk) {
  if (Api().ctx_block_rerun(ctx.get())) {
    lk->key = ctx.Open(name, FERRITE_KEY_WRITE);
    lk->list = lk->key.Exists() && lk->key.Is(St(ctx).type) ? lk->key.Value<ListValue>() : nullptr;
    return true;
  }
  return OpenList(ctx, name, FERRITE_KEY_WRITE, lk) == Open::kOk;
}

// Parks the client on `keys`; replies the time-out form if blocking is not allowed here.
int Block(const Ctx& ctx, const std::vector<ferrite_slice>& keys, int64_t timeout_ms) {
  if (Api().block_on_keys(ctx.get(), keys.data(), static_cast<int>(keys.size()), timeout_ms,
                          FERRITE_BLOCK_TIMEOUT_NULL_ARRAY) != FERRITE_OK)
    return ctx.NullArray();
  return FERRITE_BLOCKED;
}

int BPopGeneric(Ctx ctx, int argc, const ferrite_slice* argv, End end) {
  int64_t timeout;
  if (!ParseTimeout(ctx, SV(argv[argc - 1]), &timeout)) return FERRITE_OK;
  std::vector<ferrite_slice> keys(argv + 1, argv + argc - 1);
  for (int i : ctx.ReadyFirst(keys.data(), static_cast<int>(keys.size()))) {
    ListKey lk;
    if (!OpenSource(ctx, SV(keys[i]), &lk)) return FERRITE_OK;
    if (!lk.list) continue;
    std::string v = lk.list->Pop(end);
    lk.key.Modified(FERRITE_NOTIFY_LIST, PopEvent(end));
    ctx.Propagate({end == End::kHead ? "LPOP" : "RPOP", SV(keys[i])});
    ctx.Array(2);
    ctx.Bulk(SV(keys[i]));
    return ctx.Bulk(v);
  }
  return Block(ctx, keys, timeout);
}

int BMoveGeneric(Ctx ctx, const ferrite_slice* argv, End from, End to, std::string_view tout) {
  int64_t timeout;
  if (!ParseTimeout(ctx, tout, &timeout)) return FERRITE_OK;
  ListKey src;
  if (!OpenSource(ctx, SV(argv[1]), &src)) return FERRITE_OK;
  if (!src.list) return Block(ctx, {argv[1]}, timeout);
  ctx.Propagate({"LMOVE", SV(argv[1]), SV(argv[2]), EndWord(from), EndWord(to)});
  return MoveOne(ctx, &src, SV(argv[2]), from, to);
}

}  // namespace

int CmdBLPop(Ctx c, int n, const ferrite_slice* a) { return BPopGeneric(c, n, a, End::kHead); }
int CmdBRPop(Ctx c, int n, const ferrite_slice* a) { return BPopGeneric(c, n, a, End::kTail); }

int CmdBRPopLPush(Ctx ctx, int, const ferrite_slice* argv) {
  return BMoveGeneric(ctx, argv, End::kTail, End::kHead, SV(argv[3]));
}

int CmdBLMove(Ctx ctx, int, const ferrite_slice* argv) {
  End from, to;
  if (!ParseEnd(SV(argv[3]), &from) || !ParseEnd(SV(argv[4]), &to))
    return ctx.Error(FERRITE_E_SYNTAX);
  return BMoveGeneric(ctx, argv, from, to, SV(argv[5]));
}

int CmdBLMPop(Ctx ctx, int argc, const ferrite_slice* argv) {
  // Redis reads numkeys, the direction and COUNT first, the timeout last.
  MPopArgs a;
  if (!ParseMPopArgs(ctx, argc, argv, 2, &a)) return FERRITE_OK;
  int64_t timeout;
  if (!ParseTimeout(ctx, SV(argv[1]), &timeout)) return FERRITE_OK;
  int where = a.keys_end;
  End end = a.end;
  int64_t count = a.count;
  std::vector<ferrite_slice> keys(argv + 3, argv + where);
  for (int i : ctx.ReadyFirst(keys.data(), static_cast<int>(keys.size()))) {
    ListKey lk;
    if (!OpenSource(ctx, SV(keys[i]), &lk)) return FERRITE_OK;
    if (!lk.list) continue;
    PopManyReply(ctx, &lk, end, count);
    return FERRITE_OK;
  }
  return Block(ctx, keys, timeout);
}

}  // namespace ferrite::mod::lists
