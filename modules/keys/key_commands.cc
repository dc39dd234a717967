// Generic keyspace commands. Cmd* parse and reply; Op* touch the keyspace through the
// host API and say what happened. Replies, errors, keyspace events and propagation
// follow redis-server 7.0 (db.c, expire.c, object.c).
#include "key_commands.h"

#include <algorithm>
#include <cctype>
#include <string>
#include <unordered_set>
#include <vector>

#include "key_options.h"

namespace ferrite::mod::keys {

using sdk::Api;
using sdk::EqualsIgnoreCase;
using sdk::Key;
using sdk::SL;
using sdk::SV;

namespace {

constexpr uint32_t kGeneric = FERRITE_NOTIFY_GENERIC;

int ReplyErr(const Ctx& ctx, const ReplyError& e) { return ctx.Error(e.code, e.detail); }

std::string MaxMemoryPolicy() {
  char buf[64] = {0};
  if (Api().config_string("maxmemory-policy", buf, sizeof buf) < 0) return "noeviction";
  return buf;
}

}  // namespace

void NotifyInDb(const Ctx& ctx, int db, const char* event, std::string_view key) {
  int current = ctx.Db();
  if (db == current) {
    ctx.Notify(kGeneric, event, key);
    return;
  }
  Api().notify_db(ctx.get(), db, kGeneric, event, SL(key));
}

// ---- DEL UNLINK EXISTS TOUCH TYPE ----------------------------------------------------

namespace {

// Deletes one key of the client's db; true if it existed.
bool OpDelete(const Ctx& ctx, std::string_view key) {
  Key k = ctx.OpenWrite(key);
  if (!k.Exists()) return false;
  k.Delete();
  ctx.Notify(kGeneric, "del", key);
  return true;
}

// Opens that read metadata only (EXISTS TYPE TTL OBJECT) leave the access time alone,
// as Redis' LOOKUP_NOTOUCH.
constexpr int kNoTouch = FERRITE_KEY_READ | FERRITE_KEY_NOTOUCH;

// Number of arguments from argv[1] on that name a live key (duplicates count again).
// TOUCH opens normally, which refreshes the access time; EXISTS does not.
int64_t OpCountExisting(const Ctx& ctx, int argc, const ferrite_slice* argv, int mode) {
  int64_t n = 0;
  for (int i = 1; i < argc; i++) {
    if (ctx.Open(SV(argv[i]), mode).Exists()) n++;
  }
  return n;
}

}  // namespace

// UNLINK frees in the background in Redis; here both free in place, so they share one
// handler and differ only in name (and so in what is propagated).
int CmdDel(Ctx ctx, int argc, const ferrite_slice* argv) {
  int64_t deleted = 0;
  for (int i = 1; i < argc; i++) deleted += OpDelete(ctx, SV(argv[i])) ? 1 : 0;
  return ctx.Int(deleted);
}

int CmdUnlink(Ctx ctx, int argc, const ferrite_slice* argv) { return CmdDel(ctx, argc, argv); }

int CmdExists(Ctx ctx, int argc, const ferrite_slice* argv) {
  return ctx.Int(OpCountExisting(ctx, argc, argv, kNoTouch));
}

int CmdTouch(Ctx ctx, int argc, const ferrite_slice* argv) {
  return ctx.Int(OpCountExisting(ctx, argc, argv, FERRITE_KEY_READ));
}

int CmdType(Ctx ctx, int argc, const ferrite_slice* argv) {
  Key k = ctx.Open(SV(argv[1]), kNoTouch);
  const ferrite_type* t = k.Exists() ? k.Type() : nullptr;
  return ctx.Simple(t ? Api().type_name(t) : "none");
}

// ---- RENAME RENAMENX ------------------------------------------------------------------

namespace {

enum class IfTarget { kReplace, kKeep };
enum class RenameResult { kNoSuchKey, kSameKey, kTargetExists, kRenamed };

RenameResult OpRename(const Ctx& ctx, std::string_view src, std::string_view dst,
                      IfTarget if_target) {
  if (!ctx.OpenWrite(src).Exists()) return RenameResult::kNoSuchKey;
  if (src == dst) return RenameResult::kSameKey;
  if (if_target == IfTarget::kKeep && ctx.OpenWrite(dst).Exists()) {
    return RenameResult::kTargetExists;
  }
  int db = ctx.Db();
  if (Api().key_rename(ctx.get(), db, SL(src), db, SL(dst)) != FERRITE_OK) {
    return RenameResult::kNoSuchKey;
  }
  ctx.Dirty();
  ctx.Notify(kGeneric, "rename_from", src);
  ctx.Notify(kGeneric, "rename_to", dst);
  return RenameResult::kRenamed;
}

int RenameGeneric(const Ctx& ctx, const ferrite_slice* argv, IfTarget if_target) {
  RenameResult r = OpRename(ctx, SV(argv[1]), SV(argv[2]), if_target);
  bool nx = if_target == IfTarget::kKeep;
  switch (r) {
    case RenameResult::kNoSuchKey: return ctx.Error(FERRITE_E_NO_SUCH_KEY);
    case RenameResult::kTargetExists: return ctx.Int(0);
    case RenameResult::kSameKey: return nx ? ctx.Int(0) : ctx.Ok();
    case RenameResult::kRenamed: return nx ? ctx.Int(1) : ctx.Ok();
  }
  return ctx.Ok();
}

}  // namespace

int CmdRename(Ctx ctx, int argc, const ferrite_slice* argv) {
  return RenameGeneric(ctx, argv, IfTarget::kReplace);
}

int CmdRenameNx(Ctx ctx, int argc, const ferrite_slice* argv) {
  return RenameGeneric(ctx, argv, IfTarget::kKeep);
}

// ---- COPY MOVE ------------------------------------------------------------------------

namespace {

enum class CopyResult { kNoSource, kTargetExists, kFailed, kCopied };

CopyResult OpCopy(const Ctx& ctx, std::string_view src, int dst_db, std::string_view dst,
                  IfTarget if_target) {
  if (!ctx.Open(src).Exists()) return CopyResult::kNoSource;
  {
    Key target = ctx.OpenDb(dst_db, dst, FERRITE_KEY_WRITE);
    if (target.Exists()) {
      if (if_target == IfTarget::kKeep) return CopyResult::kTargetExists;
      // Silent, as in Redis: the only event of a COPY is copy_to.
      target.Delete();
    }
  }
  if (Api().key_copy(ctx.get(), ctx.Db(), SL(src), dst_db, SL(dst)) != FERRITE_OK) {
    return CopyResult::kFailed;
  }
  ctx.Dirty();
  NotifyInDb(ctx, dst_db, "copy_to", dst);
  return CopyResult::kCopied;
}

}  // namespace

int CmdCopy(Ctx ctx, int argc, const ferrite_slice* argv) {
  int dst_db = ctx.Db();
  IfTarget if_target = IfTarget::kKeep;
  for (int j = 3; j < argc; j++) {
    std::string_view opt = SV(argv[j]);
    if (EqualsIgnoreCase(opt, "replace")) {
      if_target = IfTarget::kReplace;
    } else if (EqualsIgnoreCase(opt, "db") && argc - j - 1 >= 1) {
      if (auto e = ParseDbIndex(SV(argv[++j]), Api().num_databases(), &dst_db)) {
        return ReplyErr(ctx, *e);
      }
    } else {
      return ctx.Error(FERRITE_E_SYNTAX);
    }
  }
  std::string_view src = SV(argv[1]), dst = SV(argv[2]);
  if (dst_db == ctx.Db() && src == dst) {
    return ctx.Error("ERR source and destination objects are the same");
  }
  switch (OpCopy(ctx, src, dst_db, dst, if_target)) {
    case CopyResult::kNoSource:
    case CopyResult::kTargetExists: return ctx.Int(0);
    case CopyResult::kFailed: return ctx.Error("ERR this value type cannot be copied");
    case CopyResult::kCopied: return ctx.Int(1);
  }
  return ctx.Int(0);
}

namespace {

// Moves `key` from the client's db to dst_db unless it is missing or taken there.
bool OpMove(const Ctx& ctx, std::string_view key, int dst_db) {
  int src_db = ctx.Db();
  if (!ctx.OpenWrite(key).Exists()) return false;
  if (ctx.OpenDb(dst_db, key, FERRITE_KEY_WRITE).Exists()) return false;
  if (Api().key_rename(ctx.get(), src_db, SL(key), dst_db, SL(key)) != FERRITE_OK) {
    return false;
  }
  ctx.Dirty();
  ctx.Notify(kGeneric, "move_from", key);
  NotifyInDb(ctx, dst_db, "move_to", key);
  return true;
}

}  // namespace

int CmdMove(Ctx ctx, int argc, const ferrite_slice* argv) {
  int dst_db = 0;
  if (auto e = ParseDbIndex(SV(argv[2]), Api().num_databases(), &dst_db)) {
    return ReplyErr(ctx, *e);
  }
  if (dst_db == ctx.Db()) return ctx.Error("ERR source and destination objects are the same");
  return ctx.Int(OpMove(ctx, SV(argv[1]), dst_db) ? 1 : 0);
}

// ---- OBJECT ---------------------------------------------------------------------------

namespace {

constexpr const char* kObjectHelp[] = {
    "OBJECT <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "ENCODING <key>",
    "    Return the kind of internal representation used in order to store the value",
    "    associated with a <key>.",
    "FREQ <key>",
    "    Return the access frequency index of the <key>. The returned integer is",
    "    proportional to the logarithm of the recent access frequency of the key.",
    "IDLETIME <key>",
    "    Return the idle time of the <key>, that is the approximated number of",
    "    seconds elapsed since the last access to the key.",
    "REFCOUNT <key>",
    "    Return the number of references of the value associated with the specified",
    "    <key>.",
    "HELP",
    "    Prints this help.",
};

constexpr char kLfuNotSelected[] =
    "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note "
    "that when switching between policies at runtime LRU and LFU data will take some time "
    "to adjust.";
constexpr char kLfuSelected[] =
    "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when "
    "switching between policies at runtime LRU and LFU data will take some time to adjust.";

// Redis shares the objects of the integers 0..9999 (refcount INT_MAX) unless an LRU or
// LFU policy with a memory limit needs per-key access data. Only int-encoded values are
// shared: "12" after an APPEND is a raw string of its own.
int64_t OpRefCount(Key& k) {
  constexpr int64_t kSharedRefcount = 2147483647;
  auto s = k.String();
  const char* enc = Api().key_encoding(k.get());
  int64_t v = 0;
  if (!s || !enc || std::string_view(enc) != "int") return 1;
  if (!sdk::ParseInt64(*s, &v) || v < 0 || v >= 10000) return 1;
  bool limited = Api().config_int("maxmemory") > 0;
  if (limited && IsLruOrLfuPolicy(MaxMemoryPolicy())) return 1;
  return kSharedRefcount;
}

int ObjectOnKey(const Ctx& ctx, std::string_view sub, std::string_view key) {
  Key k = ctx.Open(key, kNoTouch);
  if (!k.Exists()) return ctx.Null();
  if (EqualsIgnoreCase(sub, "encoding")) {
    const char* enc = Api().key_encoding(k.get());
    return enc ? ctx.Bulk(enc) : ctx.Null();
  }
  if (EqualsIgnoreCase(sub, "refcount")) return ctx.Int(OpRefCount(k));
  bool lfu = IsLfuPolicy(MaxMemoryPolicy());
  if (EqualsIgnoreCase(sub, "idletime")) {
    if (lfu) return ctx.Error(kLfuSelected);
    return ctx.Int(Api().key_idle_ms(k.get()) / 1000);
  }
  if (!lfu) return ctx.Error(kLfuNotSelected);
  return ctx.Int(Api().key_lfu_freq(k.get()));
}

}  // namespace

// OBJECT is a container command in Redis 7.0: each subcommand has its own arity and
// the errors name it ("object|encoding").
int CmdObject(Ctx ctx, int argc, const ferrite_slice* argv) {
  std::string_view sub = SV(argv[1]);
  if (EqualsIgnoreCase(sub, "help")) {
    if (argc != 2) return ctx.Error(FERRITE_E_ARITY, "object|help");
    ctx.Array(std::size(kObjectHelp));
    for (const char* line : kObjectHelp) ctx.Simple(line);
    return FERRITE_OK;
  }
  for (const char* name : {"encoding", "refcount", "idletime", "freq"}) {
    if (!EqualsIgnoreCase(sub, name)) continue;
    if (argc != 3) return ctx.Error(FERRITE_E_ARITY, std::string("object|") + name);
    return ObjectOnKey(ctx, sub, SV(argv[2]));
  }
  std::string upper(SV(argv[0]));
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return ctx.Error("ERR unknown subcommand '" + Printable(sub, 128) + "'. Try " + upper +
                   " HELP.");
}

int ObjectGetKeys(int argc, const ferrite_slice* argv, int* out, int cap) {
  if (argc < 3) return 0;
  if (cap >= 1) out[0] = 2;
  return 1;
}

// ---- EXPIRE PEXPIRE EXPIREAT PEXPIREAT PERSIST ----------------------------------------

namespace {

enum class TimeBase { kNow, kEpoch };
enum class ExpireResult { kNoKey, kRefused, kSet, kDeleted };

// Applies an absolute expiry to `key`. A time already past deletes the key, which is
// what replicas and the AOF then see (DEL); otherwise they see PEXPIREAT with the
// absolute time, so replay does not depend on when it happens.
ExpireResult OpExpire(const Ctx& ctx, std::string_view key, unsigned flags, int64_t when_ms) {
  Key k = ctx.OpenWrite(key);
  if (!k.Exists()) return ExpireResult::kNoKey;
  if (flags != 0 && !ExpireAllowed(flags, k.Expire(), when_ms)) return ExpireResult::kRefused;
  if (when_ms <= ctx.NowMs()) {
    k.Delete();
    ctx.Propagate({"DEL", key});
    ctx.Notify(kGeneric, "del", key);
    return ExpireResult::kDeleted;
  }
  k.SetExpire(when_ms);
  ctx.Dirty();
  ctx.Propagate({"PEXPIREAT", key, std::to_string(when_ms)});
  ctx.Notify(kGeneric, "expire", key);
  return ExpireResult::kSet;
}

int ExpireGeneric(const Ctx& ctx, int argc, const ferrite_slice* argv, TimeUnit unit,
                  TimeBase base, std::string_view name) {
  unsigned flags = 0;
  if (auto e = ParseExpireFlags(argc, argv, 3, &flags)) return ReplyErr(ctx, *e);
  int64_t when = 0;
  if (!sdk::ParseInt64(SV(argv[2]), &when)) return ctx.Error(FERRITE_E_NOT_INTEGER);
  int64_t base_ms = base == TimeBase::kNow ? ctx.NowMs() : 0;
  int64_t when_ms = 0;
  if (!ToAbsoluteMs(when, unit, base_ms, &when_ms)) {
    return ctx.Error(InvalidExpireTimeMessage(name));
  }
  ExpireResult r = OpExpire(ctx, SV(argv[1]), flags, when_ms);
  return ctx.Int(r == ExpireResult::kSet || r == ExpireResult::kDeleted ? 1 : 0);
}

}  // namespace

int CmdExpire(Ctx ctx, int argc, const ferrite_slice* argv) {
  return ExpireGeneric(ctx, argc, argv, TimeUnit::kSeconds, TimeBase::kNow, "expire");
}

int CmdPExpire(Ctx ctx, int argc, const ferrite_slice* argv) {
  return ExpireGeneric(ctx, argc, argv, TimeUnit::kMillis, TimeBase::kNow, "pexpire");
}

int CmdExpireAt(Ctx ctx, int argc, const ferrite_slice* argv) {
  return ExpireGeneric(ctx, argc, argv, TimeUnit::kSeconds, TimeBase::kEpoch, "expireat");
}

int CmdPExpireAt(Ctx ctx, int argc, const ferrite_slice* argv) {
  return ExpireGeneric(ctx, argc, argv, TimeUnit::kMillis, TimeBase::kEpoch, "pexpireat");
}

int CmdPersist(Ctx ctx, int argc, const ferrite_slice* argv) {
  std::string_view key = SV(argv[1]);
  Key k = ctx.OpenWrite(key);
  if (!k.Exists() || k.Expire() == -1) return ctx.Int(0);
  k.SetExpire(-1);
  ctx.Dirty();
  ctx.Notify(kGeneric, "persist", key);
  return ctx.Int(1);
}

// ---- TTL PTTL EXPIRETIME PEXPIRETIME --------------------------------------------------

namespace {

enum class TtlForm { kRemaining, kAbsolute };

int TtlGeneric(const Ctx& ctx, const ferrite_slice* argv, TimeUnit unit, TtlForm form) {
  Key k = ctx.Open(SV(argv[1]), kNoTouch);
  if (!k.Exists()) return ctx.Int(-2);
  int64_t expire_ms = k.Expire();
  if (form == TtlForm::kAbsolute) return ctx.Int(ExpireTimeReply(expire_ms, unit));
  return ctx.Int(TtlReply(expire_ms, ctx.NowMs(), unit));
}

}  // namespace

int CmdTtl(Ctx ctx, int argc, const ferrite_slice* argv) {
  return TtlGeneric(ctx, argv, TimeUnit::kSeconds, TtlForm::kRemaining);
}

int CmdPTtl(Ctx ctx, int argc, const ferrite_slice* argv) {
  return TtlGeneric(ctx, argv, TimeUnit::kMillis, TtlForm::kRemaining);
}

int CmdExpireTime(Ctx ctx, int argc, const ferrite_slice* argv) {
  return TtlGeneric(ctx, argv, TimeUnit::kSeconds, TtlForm::kAbsolute);
}

int CmdPExpireTime(Ctx ctx, int argc, const ferrite_slice* argv) {
  return TtlGeneric(ctx, argv, TimeUnit::kMillis, TtlForm::kAbsolute);
}

// ---- KEYS SCAN RANDOMKEY DBSIZE FLUSHDB FLUSHALL (flagged ALL_KEYS) -------------------

namespace {

// db_scan reports live keys only (expired ones are skipped, not deleted), so KEYS and
// SCAN never open the keys they return and leave their access times alone, as Redis.
struct Collector {
  const ScanOptions* opts;
  std::vector<std::string> keys;
  std::unordered_set<std::string>* seen = nullptr;  // KEYS only: drop repeats
};

int Collect(void* udata, ferrite_slice key, const ferrite_type* type) {
  auto* c = static_cast<Collector*>(udata);
  std::string_view name = SV(key);
  if (c->opts->use_pattern && !sdk::GlobMatch(c->opts->pattern, name)) return 0;
  if (c->opts->type) {
    const char* tn = type ? Api().type_name(type) : "";
    if (!EqualsIgnoreCase(*c->opts->type, tn ? tn : "")) return 0;
  }
  if (c->seen && !c->seen->emplace(name).second) return 0;
  c->keys.emplace_back(name);
  return 0;
}

}  // namespace

int CmdKeys(Ctx ctx, int argc, const ferrite_slice* argv) {
  ScanOptions opts;
  opts.pattern = SV(argv[1]);
  opts.use_pattern = opts.pattern != "*";
  std::unordered_set<std::string> seen;
  Collector c{&opts, {}, &seen};
  uint64_t cursor = 0;
  do {
    cursor = Api().db_scan(ctx.get(), ctx.Db(), cursor, 1024, Collect, &c);
  } while (cursor != 0);
  return ctx.BulkArray(c.keys);
}

int CmdScan(Ctx ctx, int argc, const ferrite_slice* argv) {
  uint64_t cursor = 0;
  if (!ParseScanCursor(SV(argv[1]), &cursor)) return ctx.Error("ERR invalid cursor");
  ScanOptions opts;
  if (auto e = ParseScanOptions(argc, argv, 2, &opts)) return ReplyErr(ctx, *e);
  Collector c{&opts, {}, nullptr};
  uint64_t next = Api().db_scan(ctx.get(), ctx.Db(), cursor, static_cast<size_t>(opts.count),
                                Collect, &c);
  ctx.Array(2);
  ctx.Bulk(std::to_string(next));
  return ctx.BulkArray(c.keys);
}

int CmdRandomKey(Ctx ctx, int argc, const ferrite_slice* argv) {
  ferrite_slice key{};
  if (!Api().db_random_key(ctx.get(), ctx.Db(), &key)) return ctx.Null();
  return ctx.Bulk(SV(key));
}

int CmdDbSize(Ctx ctx, int argc, const ferrite_slice* argv) {
  return ctx.Int(static_cast<int64_t>(Api().db_size(ctx.get(), ctx.Db())));
}

namespace {

// Flushes are always propagated, even of an empty db, as Redis forces it.
int FlushGeneric(const Ctx& ctx, int argc, const ferrite_slice* argv, int db) {
  if (!ParseFlushArgs(argc, argv)) return ctx.Error(FERRITE_E_SYNTAX);
  Api().db_flush(ctx.get(), db);
  ctx.Dirty();
  return ctx.Ok();
}

}  // namespace

int CmdFlushDb(Ctx ctx, int argc, const ferrite_slice* argv) {
  return FlushGeneric(ctx, argc, argv, ctx.Db());
}

int CmdFlushAll(Ctx ctx, int argc, const ferrite_slice* argv) {
  return FlushGeneric(ctx, argc, argv, -1);
}

}  // namespace ferrite::mod::keys
