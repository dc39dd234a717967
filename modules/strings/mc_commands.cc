// MC.* handlers: the memcached item model (value + client flags + cas + exptime) on the
// host's string entries. See mc_commands.h for the reply contract.
//
// Propagation: every MC write replaces verbatim propagation with a deterministic form —
//   stored items      MC.SET key <final value> SET <flags> [PXAT abs_ms]
//                     (a SET with exptime 0 or PXAT and no CAS is already that: verbatim)
//   append            MC.SET key <data> APPEND 0   (no clock, no cas)
//   prepend           MC.SET key <whole value> SET <flags> [PXAT abs_ms]
//   delete / expired  DEL key
//   touch             PEXPIREAT key abs_ms | PERSIST key
// so AOF replay and replicas never see a relative time or a cas compare.
#include "mc_commands.h"

#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <cctype>
#include <cerrno>
#include <cstdlib>
#include <string>
#include <utility>
#include <vector>

#include "ferrite/module.hpp"
#include "mc_introspect.h"

namespace ferrite::mod::strings {
namespace {

using sdk::Ctx;
using sdk::Key;
using sdk::SV;

// memcached's item counters for `stats`. NOTE: process-wide, not per plugin handle: two
// test hosts in one process share them (only stats output is affected).
struct McCounters {
  std::atomic<uint64_t> cmd_get{0}, get_hits{0}, get_misses{0}, cmd_set{0}, cmd_touch{0},
      touch_hits{0}, touch_misses{0}, delete_hits{0}, delete_misses{0}, incr_hits{0},
      incr_misses{0}, decr_hits{0}, decr_misses{0}, cas_hits{0}, cas_misses{0},
      cas_badval{0}, cmd_flush{0}, total_items{0};

  std::vector<std::pair<std::string, uint64_t>> Snapshot() const {
    return {{"cmd_get", cmd_get},           {"cmd_set", cmd_set},
            {"cmd_flush", cmd_flush},       {"cmd_touch", cmd_touch},
            {"get_hits", get_hits},         {"get_misses", get_misses},
            {"delete_misses", delete_misses}, {"delete_hits", delete_hits},
            {"incr_misses", incr_misses},   {"incr_hits", incr_hits},
            {"decr_misses", decr_misses},   {"decr_hits", decr_hits},
            {"cas_misses", cas_misses},     {"cas_hits", cas_hits},
            {"cas_badval", cas_badval},     {"touch_hits", touch_hits},
            {"touch_misses", touch_misses}, {"total_items", total_items}};
  }
};

McCounters& Counters() {
  static McCounters c;
  return c;
}

constexpr int64_t kMaxRelativeSeconds = 60 * 60 * 24 * 30;  // memcached REALTIME_MAXDELTA

struct Expiry {
  bool expired = false;  // negative or past absolute: the item is gone at once
  int64_t abs_ms = -1;   // -1 = no expiry
};

Expiry FromMemcached(int64_t now_ms, int64_t e) {
  if (e == 0) return {};
  if (e < 0) return {true, 0};
  int64_t abs = e <= kMaxRelativeSeconds ? now_ms + e * 1000 : e * 1000;
  if (abs <= now_ms) return {true, 0};
  return {false, abs};
}

// memcached's safe_strtoull on an item's bytes: leading blanks, digits, then the end or
// a blank (memcached stores "\r\n" after the data, so "12 junk" parses as 12). A '-'
// anywhere in a value that wrapped negative makes it non-numeric.
// Only the number is copied: a long value ("1 2vvv…", 3 KB) counts as 1, as in memcached.
// NOTE: strtoull stops at the copy's end, so "7\0x" parses as 7 like memcached's C string.
bool ParseItemNumber(std::string_view s, uint64_t* out) {
  size_t n = 0;
  auto is = [&](int (*cls)(int)) { return n < s.size() && cls(static_cast<unsigned char>(s[n])); };
  while (is(isspace)) n++;
  if (n < s.size() && (s[n] == '+' || s[n] == '-')) n++;
  while (is(isdigit)) n++;
  // a NUL ends the number too: memcached parses the item as a C string
  if (s.empty() || (n < s.size() && !isspace(static_cast<unsigned char>(s[n])) && s[n] != '\0')) {
    return false;
  }
  std::string buf(s.substr(0, n));
  char* end = nullptr;
  errno = 0;
  unsigned long long v = strtoull(buf.c_str(), &end, 10);
  if (errno == ERANGE || end == buf.c_str()) return false;
  if (*end != '\0' && !isspace(static_cast<unsigned char>(*end))) return false;
  if (static_cast<long long>(v) < 0 && buf.find('-') != std::string::npos) return false;
  *out = v;
  return true;
}

// Options shared by the MC.* commands; each appears at most once, in any order.
struct McOpts {
  bool has_exp = false;
  int64_t exp = 0;           // EX: memcached exptime
  bool has_pxat = false;
  int64_t pxat = -1;         // PXAT: absolute ms (propagated form); -1 none
  bool has_cas = false;
  uint64_t cas = 0;
  bool has_vivify = false;
  int64_t vivify_exp = 0;
  bool has_touch = false;
  int64_t touch_exp = 0;
  bool vivify_last = false;  // VIVIFY came after TOUCH: its exptime wins on a created item
  bool has_initial = false;
  uint64_t initial = 0;
  bool brief = false;  // BRIEF: a hit replies value, flags and cas only
  bool no_bump = false;  // NOBUMP (meta u): no LRU bump, the item is not marked fetched
  bool idle = false;     // IDLE (meta l): reply the idle time before this request
  bool has_recache = false;
  int64_t recache = 0;             // RECACHE (meta R): win when the TTL is below this
  bool recache_after_touch = false;  // R came after T: it sees the touched TTL
  bool has_new_cas = false;
  uint64_t new_cas = 0;  // NEWCAS (meta E): the item's CAS after this write
  bool stale = false;    // STALE (meta I)
  bool empty = false;    // EMPTY (md x): keep the item with an empty value
  bool has_flags = false;
  uint32_t flags = 0;    // FLAGS (md x): the emptied item's client flags
  bool warm = false;     // WARM (MC.GAT): a miss waits for warm on a miss
};

bool ParseOpts(sdk::Args& a, McOpts* o) {
  while (!a.Done()) {
    if (a.Match("EX")) {
      o->has_exp = true, o->exp = a.Int();
    } else if (a.Match("PXAT")) {
      o->has_pxat = true, o->pxat = a.Int();
    } else if (a.Match("CAS")) {
      o->has_cas = true;
      if (!sdk::ParseUint64(a.Str(), &o->cas)) a.Fail(FERRITE_E_NOT_INTEGER);
    } else if (a.Match("VIVIFY")) {
      o->has_vivify = true, o->vivify_exp = a.Int(), o->vivify_last = true;
    } else if (a.Match("TOUCH")) {
      o->has_touch = true, o->touch_exp = a.Int(), o->vivify_last = false;
    } else if (a.Match("BRIEF")) {
      o->brief = true;
    } else if (a.Match("NOBUMP")) {
      o->no_bump = true;
    } else if (a.Match("IDLE")) {
      o->idle = true;
    } else if (a.Match("RECACHE")) {
      o->has_recache = true, o->recache = a.Int(), o->recache_after_touch = o->has_touch;
    } else if (a.Match("NEWCAS")) {
      o->has_new_cas = true;
      if (!sdk::ParseUint64(a.Str(), &o->new_cas)) a.Fail(FERRITE_E_NOT_INTEGER);
    } else if (a.Match("STALE")) {
      o->stale = true;
    } else if (a.Match("EMPTY")) {
      o->empty = true;
    } else if (a.Match("WARM")) {
      o->warm = true;
    } else if (a.Match("FLAGS")) {
      uint64_t f = 0;
      if (!sdk::ParseUint64(a.Str(), &f) || f > UINT32_MAX) a.Fail(FERRITE_E_NOT_INTEGER);
      o->has_flags = true, o->flags = static_cast<uint32_t>(f);
    } else if (a.Match("INITIAL")) {
      o->has_initial = true;
      if (!sdk::ParseUint64(a.Str(), &o->initial)) a.Fail(FERRITE_E_NOT_INTEGER);
    } else {
      a.Fail(FERRITE_E_SYNTAX);
    }
    if (a.Failed()) return false;
  }
  return true;
}

int ReplyStatus(Ctx ctx, std::string_view word) {
  NoteStatus(word);
  ctx.Array(1);
  return ctx.Simple(word);
}

int64_t TtlSeconds(Ctx ctx, const Key& k) {
  int64_t e = k.Expire();
  if (e < 0) return -1;
  int64_t left = e - ctx.NowMs();
  return left <= 0 ? 0 : (left + 999) / 1000;
}

int64_t Cas(const Key& k) { return static_cast<int64_t>(k.Version()); }

// Emits the keyspace events of a store (`event`, string class; expire if it has a TTL).
void NotifyStored(Ctx ctx, const Key& k, const char* event = "set") {
  ctx.Notify(FERRITE_NOTIFY_STRING, event, k.Name());
  if (k.Expire() >= 0) ctx.Notify(FERRITE_NOTIFY_GENERIC, "expire", k.Name());
}

// The keyspace events and the deterministic MC.SET form.
void PropagateStored(Ctx ctx, const Key& k, std::string_view value,
                     const char* event = "set") {
  NotifyStored(ctx, k, event);
  std::string flags = std::to_string(k.Flags());
  int64_t e = k.Expire();
  if (e < 0) {
    ctx.Propagate({"MC.SET", k.Name(), value, "SET", flags});
  } else {
    ctx.Propagate({"MC.SET", k.Name(), value, "SET", flags, "PXAT", std::to_string(e)});
  }
}

void PropagateExpire(Ctx ctx, const Key& k) {
  int64_t e = k.Expire();
  ctx.Notify(FERRITE_NOTIFY_GENERIC, e < 0 ? "persist" : "expire", k.Name());
  if (e < 0) {
    ctx.Propagate({"PERSIST", k.Name()});
  } else {
    ctx.Propagate({"PEXPIREAT", k.Name(), std::to_string(e)});
  }
}

// Deletes the key for an already-expired store/touch and propagates DEL.
void DropExpired(Ctx ctx, Key& k) {
  std::string name(k.Name());
  if (!k.Delete()) return;
  ctx.Notify(FERRITE_NOTIFY_GENERIC, "del", name);
  ctx.Propagate({"DEL", name});
}

// A store whose exptime is already past: memcached links the item, so the reply carries
// a fresh CAS unique no other item has (binary header, meta `c`), then it is gone. Writing
// the key before dropping it gives the same: a new version, and the old item removed.
int64_t StoreExpired(Ctx ctx, Key& k, std::string_view value) {
  bool existed = k.Exists();
  k.SetString(value);
  int64_t cas = Cas(k);
  if (existed) {
    DropExpired(ctx, k);
  } else {
    k.Delete();  // nothing was there: no event, nothing to propagate
  }
  return cas;
}

// True when an item of n bytes is over memcached-item-size-max. The host refuses a
// setting below 1 KB, so smaller items skip the config lookup (the common case).
bool TooLarge(size_t n) {
  if (n <= 1024) return false;
  int64_t v = sdk::Api().config_int("memcached-item-size-max");
  return static_cast<int64_t>(n) > (v > 0 ? v : int64_t{512} * 1024 * 1024);
}

// ---------------------------------------------------------------------------------------
// Reads
// ---------------------------------------------------------------------------------------

// What a hit replies: classic get/gets/gat and binary get print value, flags and cas
// only (kBrief skips the TTL and idle-time lookups, each a clock read); meta get may
// print any field.
enum class HitFields { kBrief, kAll };

constexpr int64_t kTtlUnchanged = INT64_MIN;  // ttl_before: the command kept the TTL

// What a meta read reports of the item as it was before the request (memcached reads
// `h` and `l` before its delayed LRU bump), and whether the request won the recache token.
struct MetaRead {
  int64_t idle_s = 0;
  uint32_t bits = 0;  // FERRITE_MC_* before this request
  bool won = false;
};

// Opens the key for a meta read (bumped unless NOBUMP) and notes the "before" view. The
// bump changes only the idle time: when the request asks for it (IDLE, meta `l`) a
// first handle that does not bump reads it. NOTE: that handle is closed before the
// second lookup, whose lazy expiry may free the entry if the key expired in between.
Key OpenForMeta(Ctx ctx, std::string_view key, int mode, const McOpts& o, MetaRead* m) {
  auto note = [&](const Key& k) {
    int64_t idle = sdk::Api().key_idle_ms(k.get());
    m->idle_s = idle < 0 ? 0 : idle / 1000;
  };
  if (o.idle && !o.no_bump) {
    Key peek = ctx.Open(key, FERRITE_KEY_NOTOUCH);
    if (peek.Exists()) note(peek);
  }
  Key k = ctx.Open(key, o.no_bump ? mode | FERRITE_KEY_NOTOUCH : mode);
  if (k.Exists()) {
    if (o.idle && o.no_bump) note(k);
    m->bits = k.McBits();
  }
  return k;
}

// memcached's R<token>: the item wins a recache when its TTL is below the token (an
// exptime: relative seconds, or an absolute unix time past 30 days; <= 0 never wins).
bool RecacheDue(Ctx ctx, int64_t r, int64_t ttl_s) {
  if (r <= 0 || ttl_s < 0) return false;
  if (r <= kMaxRelativeSeconds) return ttl_s < r;
  return ctx.NowMs() / 1000 + ttl_s < r;
}

// After a meta read hit: the recache token and the fetched mark (not under NOBUMP).
// memcached hands W to the request that created the item (N), to one whose R threshold
// is above the TTL and to the first reader of a stale item; once handed out, later
// readers see Z until the item is written again.
void FinishMetaRead(Ctx ctx, Key& k, const McOpts& o, bool created, int64_t recache_ttl,
                    MetaRead* m) {
  bool token_out = (m->bits & FERRITE_MC_WON) != 0;
  m->won = created || (!token_out && o.has_recache && RecacheDue(ctx, o.recache, recache_ttl)) ||
           (!token_out && (m->bits & FERRITE_MC_STALE) != 0);
  uint32_t after = m->bits | (m->won ? FERRITE_MC_WON : 0) | (o.no_bump ? 0 : FERRITE_MC_FETCHED);
  if (after != k.McBits()) k.SetMcBits(after);
}

// Classic reads (get, gets, gat, touch, binary get) mark the item fetched (mg `h`, me).
void MarkFetched(Key& k) {
  uint32_t b = k.McBits();
  if ((b & FERRITE_MC_FETCHED) == 0) k.SetMcBits(b | FERRITE_MC_FETCHED);
}

// `m` is given for HitFields::kAll (meta get), which replies every field.
int ReplyHit(Ctx ctx, const Key& k, std::string_view value, bool created, HitFields fields,
             int64_t ttl_before = kTtlUnchanged, const MetaRead* m = nullptr) {
  bool all = fields == HitFields::kAll && m != nullptr;
  NoteStatus("HIT");
  ctx.Array(all ? 10 : 4);
  ctx.Simple("HIT");
  ctx.Bulk(value);
  ctx.Int(k.Flags());
  if (!all) return ctx.Int(Cas(k));
  ctx.Int(Cas(k));
  int64_t ttl = TtlSeconds(ctx, k);
  ctx.Int(ttl);
  ctx.Int(m->idle_s);
  ctx.Int(created ? 1 : 0);
  ctx.Int(ttl_before == kTtlUnchanged ? ttl : ttl_before);
  ctx.Int(m->bits);
  return ctx.Int(m->won ? 1 : 0);
}

// On a miss, asks the host's warm-on-a-miss service (MC.WARM) whether the key is being
// fetched from an old memcached; if so the client waits on the key (every waiter is
// woken: they all read, none consumes) and this command runs again once the item is
// stored or the fetch gave up. The protocol plugin re-reads the whole request then.
int64_t WarmWaitMs(Ctx ctx, std::string_view key) {
  ferrite_slice argv[2] = {{"MC.WARM", 7}, {key.data(), key.size()}};
  ferrite_call_reply* r = sdk::Api().call(ctx.get(), 2, argv);
  int64_t wait_ms = sdk::Api().call_reply_type(r) == FERRITE_REPLY_INTEGER ? sdk::Api().call_reply_integer(r) : 0;
  sdk::Api().free_call_reply(r);
  return wait_ms;
}

bool WaitForWarm(Ctx ctx, std::string_view key) {
  if (sdk::Api().ctx_block_rerun(ctx.get())) return false;  // the wait is over: answer now
  if (sdk::Api().ctx_in_script(ctx.get())) return false;    // MULTI / EVAL cannot wait
  int64_t wait_ms = WarmWaitMs(ctx, key);
  if (wait_ms <= 0) return false;
  ferrite_slice k{key.data(), key.size()};
  return sdk::Api().block_on_keys_ex(ctx.get(), &k, 1, wait_ms, FERRITE_BLOCK_TIMEOUT_NULL,
                                FERRITE_BLOCK_WAKE_ALL, 0, nullptr) == FERRITE_OK;
}

int CmdMcGet(Ctx ctx, int argc, const ferrite_slice* argv) {
  HitFields fields = HitFields::kAll;
  bool warm = false;
  McOpts o;
  for (int i = 2; i < argc; i++) {
    std::string_view w = SV(argv[i]);
    if (sdk::EqualsIgnoreCase(w, "BRIEF")) {
      fields = HitFields::kBrief;
    } else if (sdk::EqualsIgnoreCase(w, "WARM")) {
      warm = true;
    } else if (sdk::EqualsIgnoreCase(w, "NOBUMP")) {
      o.no_bump = true;
    } else if (sdk::EqualsIgnoreCase(w, "IDLE")) {
      o.idle = true;
    } else if (sdk::EqualsIgnoreCase(w, "RECACHE") && i + 1 < argc) {
      o.has_recache = true;
      if (!sdk::ParseInt64(SV(argv[++i]), &o.recache)) return ctx.Error(FERRITE_E_NOT_INTEGER);
    } else {
      return ctx.Error(FERRITE_E_SYNTAX);
    }
  }
  McCounters& st = Counters();
  std::string_view key = SV(argv[1]);
  MetaRead m;
  bool meta = fields == HitFields::kAll;
  Key k = meta ? OpenForMeta(ctx, key, FERRITE_KEY_READ, o, &m) : ctx.Open(key);
  auto v = k.String();
  if (!v) {
    if (warm && WaitForWarm(ctx, key)) return FERRITE_BLOCKED;  // counted on the re-read
    st.cmd_get++;
    st.get_misses++;
    return ReplyStatus(ctx, "MISS");
  }
  st.cmd_get++;
  st.get_hits++;
  if (!meta) {
    MarkFetched(k);
    return ReplyHit(ctx, k, *v, false, fields);
  }
  FinishMetaRead(ctx, k, o, false, TtlSeconds(ctx, k), &m);
  return ReplyHit(ctx, k, *v, false, fields, kTtlUnchanged, &m);
}

// get-and-touch and meta get with T / N: touches the TTL and/or creates an empty item
// on a miss (memcached's "vivify" for the anti-stampede recache pattern).
int CmdMcGat(Ctx ctx, int argc, const ferrite_slice* argv) {
  sdk::Args a(argc, argv, 2);
  McOpts o;
  if (!ParseOpts(a, &o)) return a.Reply(ctx);
  McCounters& st = Counters();
  std::string_view key = SV(argv[1]);
  MetaRead m;
  bool meta = !o.brief;
  Key k = meta ? OpenForMeta(ctx, key, FERRITE_KEY_WRITE, o, &m) : ctx.OpenWrite(key);
  auto v = k.String();
  bool created = false;
  if (!v) {
    if (!o.has_vivify) {
      // gat/gats, mg T, binary GAT: fetched from the old memcached first, then touched
      if (o.warm && WaitForWarm(ctx, key)) return FERRITE_BLOCKED;  // counted on the re-read
      if (o.has_touch) st.cmd_touch++, st.touch_misses++;
      else st.cmd_get++, st.get_misses++;
      return ReplyStatus(ctx, "MISS");
    }
    Expiry e = FromMemcached(ctx.NowMs(), o.vivify_exp);
    k.SetString("");
    k.SetFlags(0);
    k.SetExpire(e.expired ? ctx.NowMs() : e.abs_ms);
    if (o.has_new_cas) k.SetVersion(o.new_cas);
    PropagateStored(ctx, k, "");
    created = true;
    st.total_items++;
    v = k.String();
  }
  HitFields fields = o.brief ? HitFields::kBrief : HitFields::kAll;
  int64_t ttl_pre = meta && !created ? TtlSeconds(ctx, k) : -1;
  int64_t ttl_before = created ? -1 : o.has_touch && meta ? ttl_pre : kTtlUnchanged;
  auto finish = [&] {
    if (!meta) return MarkFetched(k);
    FinishMetaRead(ctx, k, o, created, o.recache_after_touch ? TtlSeconds(ctx, k) : ttl_pre, &m);
  };
  if (o.has_touch && !(created && o.vivify_last)) {
    st.cmd_touch++, st.touch_hits++;
    Expiry e = FromMemcached(ctx.NowMs(), o.touch_exp);
    std::string value(*v);
    if (e.expired) {
      // memcached returns the item once and it is gone afterwards.
      finish();
      Key keep = std::move(k);
      int r = ReplyHit(ctx, keep, value, created, fields, ttl_before, &m);
      DropExpired(ctx, keep);
      return r;
    }
    k.SetExpire(e.abs_ms);
    PropagateExpire(ctx, k);
    finish();
    return ReplyHit(ctx, k, value, created, fields, ttl_before, &m);
  }
  st.cmd_get++, st.get_hits++;
  finish();
  return ReplyHit(ctx, k, *v, created, fields, ttl_before, &m);
}

int CmdMcMeta(Ctx ctx, int argc, const ferrite_slice* argv) {
  Key k = ctx.Open(SV(argv[1]));
  auto v = k.String();
  if (!v) return ReplyStatus(ctx, "MISS");
  int64_t ttl = TtlSeconds(ctx, k);
  int64_t idle = sdk::Api().key_idle_ms(k.get());
  ctx.Array(8);
  ctx.Simple("HIT");
  ctx.Int(ttl < 0 ? -1 : -ttl);  // memcached prints current_time - exptime
  ctx.Int(idle < 0 ? 0 : idle / 1000);
  ctx.Int(Cas(k));
  ctx.Int(static_cast<int64_t>(v->size()));
  ctx.Int(k.Flags());
  ctx.Int(k.McBits());
  return ctx.Int(ClassOfKey(k));
}

// ---------------------------------------------------------------------------------------
// Storage
// ---------------------------------------------------------------------------------------

enum class StoreMode { kSet, kAdd, kReplace, kAppend, kPrepend, kCas };

bool ParseMode(std::string_view s, StoreMode* m) {
  static const std::pair<const char*, StoreMode> kModes[] = {
      {"SET", StoreMode::kSet},         {"ADD", StoreMode::kAdd},
      {"REPLACE", StoreMode::kReplace}, {"APPEND", StoreMode::kAppend},
      {"PREPEND", StoreMode::kPrepend}, {"CAS", StoreMode::kCas}};
  for (auto& [name, mode] : kModes) {
    if (sdk::EqualsIgnoreCase(s, name)) {
      *m = mode;
      return true;
    }
  }
  return false;
}

// [STORED cas size]; NEWCAS (meta E) gives the stored item the client's CAS.
int ReplyStored(Ctx ctx, Key& k, const McOpts& o) {
  Counters().total_items++;
  NoteStatus("STORED");
  if (o.has_new_cas) k.SetVersion(o.new_cas);
  auto v = k.String();
  ctx.Array(3);
  ctx.Simple("STORED");
  ctx.Int(Cas(k));
  return ctx.Int(v ? static_cast<int64_t>(v->size()) : 0);
}

// A store that is gone at once (exptime in the past) still answers a fresh CAS.
int ReplyStoredExpired(Ctx ctx, int64_t cas, size_t size) {
  NoteStatus("STORED");
  ctx.Array(3);
  ctx.Simple("STORED");
  ctx.Int(cas);
  return ctx.Int(static_cast<int64_t>(size));
}

// The stale mark (md I, ms I below the item's CAS) in the AOF and replication stream:
// replayed, it marks the stored item stale as md I does.
void PropagateStale(Ctx ctx, const Key& k) { ctx.Propagate({"MC.DELETE", k.Name(), "STALE"}); }

// APPEND / PREPEND keep the item's flags and TTL (memcached ignores the ones sent).
// VIVIFY (meta ms MA/MP N<ttl>): a miss creates the item from the data, with the flags
// sent and N's TTL, as memcached 1.6.19+ does.
int StoreConcat(Ctx ctx, Key& k, StoreMode mode, std::string_view data, const McOpts& o,
                std::string_view mode_word, uint32_t flags) {
  auto cur = k.String();
  if (!cur) {
    if (!o.has_vivify) return ReplyStatus(ctx, "NOT_STORED");
    Expiry e = FromMemcached(ctx.NowMs(), o.vivify_exp);
    if (e.expired) return ReplyStoredExpired(ctx, StoreExpired(ctx, k, data), data.size());
    k.SetString(data);
    k.SetFlags(flags);
    k.SetExpire(e.abs_ms);
    PropagateStored(ctx, k, data);
    return ReplyStored(ctx, k, o);
  }
  // memcached compares a cas on append/prepend only when it is not 0 (set/cas compare 0 too)
  if (o.has_cas && o.cas != 0 && static_cast<uint64_t>(Cas(k)) != o.cas) {
    return ReplyStatus(ctx, "EXISTS");
  }
  if (TooLarge(cur->size() + data.size())) {
    return ctx.Error(FERRITE_E_TOO_LARGE);
  }
  size_t old = cur->size();
  char* p = k.Resize(old + data.size());
  if (data.empty()) {
    // Nothing to copy, and an empty string may have no block at all (p is null).
  } else if (mode == StoreMode::kAppend) {
    memcpy(p + old, data.data(), data.size());
  } else {
    memmove(p + data.size(), p, old);
    memcpy(p, data.data(), data.size());
  }
  k.Modified(FERRITE_NOTIFY_STRING, mode == StoreMode::kAppend ? "append" : "prepend");
  if (mode == StoreMode::kAppend) {
    ctx.Propagate({"MC.SET", k.Name(), data, mode_word, "0"});
  } else {
    // Redis has no prepend: the whole value, so a redis-server replica can apply it too
    // (host/replication rewrites MC.SET ... SET into SET; docs/replication.md).
    std::string whole(p, old + data.size());
    int64_t e = k.Expire();
    std::string flags = std::to_string(k.Flags());
    if (e < 0) ctx.Propagate({"MC.SET", k.Name(), whole, "SET", flags});
    else ctx.Propagate({"MC.SET", k.Name(), whole, "SET", flags, "PXAT", std::to_string(e)});
  }
  return ReplyStored(ctx, k, o);
}

int CmdMcSet(Ctx ctx, int argc, const ferrite_slice* argv) {
  std::string_view value = SV(argv[2]);
  StoreMode mode;
  uint64_t flags = 0;
  if (!ParseMode(SV(argv[3]), &mode)) return ctx.Error(FERRITE_E_SYNTAX);
  if (!sdk::ParseUint64(SV(argv[4]), &flags) || flags > UINT32_MAX) {
    return ctx.Error(FERRITE_E_NOT_INTEGER);
  }
  sdk::Args a(argc, argv, 5);
  McOpts o;
  if (!ParseOpts(a, &o)) return a.Reply(ctx);
  if (TooLarge(value.size())) return ctx.Error(FERRITE_E_TOO_LARGE);
  McCounters& st = Counters();
  st.cmd_set++;
  Key k = ctx.OpenWrite(SV(argv[1]));
  if (mode == StoreMode::kAppend || mode == StoreMode::kPrepend) {
    return StoreConcat(ctx, k, mode, value, o, SV(argv[3]), static_cast<uint32_t>(flags));
  }
  bool exists = k.Exists();
  auto is_string = [&] { return exists && k.IsString(); };  // a type lookup: only when needed
  bool stale = false;  // meta ms I with a CAS below the item's: stored, marked stale
  if (mode == StoreMode::kCas || (o.has_cas && mode != StoreMode::kAdd)) {
    if (!is_string()) {
      st.cas_misses++;
      return ReplyStatus(ctx, "NOT_FOUND");
    }
    uint64_t cur = static_cast<uint64_t>(Cas(k));
    stale = o.stale && o.cas != 0 && o.cas < cur;
    if (cur != o.cas && !stale) {
      st.cas_badval++;
      return ReplyStatus(ctx, "EXISTS");
    }
    st.cas_hits++;
  } else if (mode == StoreMode::kAdd && exists) {
    return ReplyStatus(ctx, "NOT_STORED");
  } else if (mode == StoreMode::kReplace && !is_string()) {
    return ReplyStatus(ctx, "NOT_STORED");
  }
  Expiry e;
  uint32_t won = k.McBits() & FERRITE_MC_WON;
  if (stale) {
    e.abs_ms = k.Expire();  // a stale store keeps the item's TTL (memcached)
  } else if (o.has_pxat) {
    e.abs_ms = o.pxat;
    e.expired = o.pxat >= 0 && o.pxat <= ctx.NowMs();
  } else if (o.has_exp) {
    e = FromMemcached(ctx.NowMs(), o.exp);
  }
  if (e.expired) {
    // Stored and instantly expired: whatever was there is gone.
    return ReplyStoredExpired(ctx, StoreExpired(ctx, k, value), value.size());
  }
  k.SetString(value);
  k.SetFlags(static_cast<uint32_t>(flags));
  if (k.Expire() != e.abs_ms) k.SetExpire(e.abs_ms);  // SetString already bumped the cas
  // A plain SET with no relative time and no cas compare replays to the same state, so
  // the host propagates it verbatim: no rewritten copy of the value per store.
  if (mode == StoreMode::kSet && !o.has_cas && !o.has_new_cas && (o.has_pxat || o.exp == 0)) {
    NotifyStored(ctx, k);
  } else {
    PropagateStored(ctx, k, value);
  }
  if (stale) {  // keeps a recache token already handed out (memcached's do_store_item)
    k.SetMcBits(FERRITE_MC_STALE | won);
    PropagateStale(ctx, k);
  }
  return ReplyStored(ctx, k, o);
}

// ---------------------------------------------------------------------------------------
// Delete, touch, arithmetic, flush
// ---------------------------------------------------------------------------------------

// md x (EMPTY): the item stays, with an empty value, the flags and TTL sent (none: 0 and
// no expiry) and its CAS (memcached's tombstone); md I (STALE): the item stays, marked
// stale, with a new CAS, the TTL sent (TOUCH) and no recache token out, so the next mg
// wins one. Both together leave a stale tombstone.
int InvalidateItem(Ctx ctx, Key& k, const McOpts& o) {
  int64_t now = ctx.NowMs();
  if (o.empty) {
    uint64_t cas = static_cast<uint64_t>(Cas(k));
    Expiry e = FromMemcached(now, o.has_touch ? o.touch_exp : 0);
    k.SetString("");
    k.SetFlags(o.has_flags ? o.flags : 0);
    if (e.expired) {
      DropExpired(ctx, k);
      return ReplyStatus(ctx, "DELETED");
    }
    k.SetExpire(e.abs_ms);
    k.SetVersion(o.has_new_cas && !o.stale ? o.new_cas : cas);
    PropagateStored(ctx, k, "");
  }
  if (o.stale) {
    if (o.has_touch && !o.empty) {
      Expiry e = FromMemcached(now, o.touch_exp);
      if (e.expired) {
        DropExpired(ctx, k);
        return ReplyStatus(ctx, "DELETED");
      }
      k.SetExpire(e.abs_ms);
      PropagateExpire(ctx, k);
    }
    uint32_t fetched = k.McBits() & FERRITE_MC_FETCHED;
    k.Modified(FERRITE_NOTIFY_STRING, nullptr);  // a new CAS; clears the bits
    k.SetMcBits(fetched | FERRITE_MC_STALE);
    if (o.has_new_cas) k.SetVersion(o.new_cas);
    PropagateStale(ctx, k);
  }
  return ReplyStatus(ctx, "DELETED");
}

int CmdMcDelete(Ctx ctx, int argc, const ferrite_slice* argv) {
  sdk::Args a(argc, argv, 2);
  McOpts o;
  if (!ParseOpts(a, &o)) return a.Reply(ctx);
  McCounters& st = Counters();
  Key k = ctx.OpenWrite(SV(argv[1]));
  if (!k.Exists()) {
    st.delete_misses++;
    return ReplyStatus(ctx, "NOT_FOUND");
  }
  if (o.has_cas && static_cast<uint64_t>(Cas(k)) != o.cas) {
    st.delete_misses++;
    return ReplyStatus(ctx, "EXISTS");
  }
  if (!o.stale) st.delete_hits++;
  if ((o.stale || o.empty) && k.IsString()) return InvalidateItem(ctx, k, o);
  k.Delete();
  ctx.Notify(FERRITE_NOTIFY_GENERIC, "del", SV(argv[1]));
  ctx.Propagate({"DEL", SV(argv[1])});
  return ReplyStatus(ctx, "DELETED");
}

int CmdMcTouch(Ctx ctx, int argc, const ferrite_slice* argv) {
  int64_t exp = 0;
  if (!sdk::ParseInt64(SV(argv[2]), &exp)) return ctx.Error(FERRITE_E_NOT_INTEGER);
  McCounters& st = Counters();
  st.cmd_touch++;
  Key k = ctx.OpenWrite(SV(argv[1]));
  if (!k.String()) {
    st.touch_misses++;
    return ReplyStatus(ctx, "NOT_FOUND");
  }
  st.touch_hits++;
  MarkFetched(k);
  Expiry e = FromMemcached(ctx.NowMs(), exp);
  int64_t cas = Cas(k);
  if (e.expired) {
    DropExpired(ctx, k);
  } else {
    k.SetExpire(e.abs_ms);
    PropagateExpire(ctx, k);
    cas = Cas(k);
  }
  NoteStatus("TOUCHED");
  ctx.Array(2);
  ctx.Simple("TOUCHED");
  return ctx.Int(cas);
}

enum class Made { kNo, kCreated };

int ReplyArith(Ctx ctx, const Key& k, uint64_t v, int64_t cas, Made made, int64_t ttl_before) {
  NoteStatus("HIT");
  ctx.Array(6);
  ctx.Simple("HIT");
  ctx.Bulk(std::to_string(v));
  ctx.Int(cas);
  int64_t ttl = TtlSeconds(ctx, k);
  ctx.Int(ttl);
  ctx.Int(made == Made::kCreated ? 1 : 0);
  return ctx.Int(ttl_before == kTtlUnchanged ? ttl : ttl_before);
}

int CmdMcArith(Ctx ctx, int argc, const ferrite_slice* argv) {
  bool incr = sdk::EqualsIgnoreCase(SV(argv[2]), "INCR");
  if (!incr && !sdk::EqualsIgnoreCase(SV(argv[2]), "DECR")) return ctx.Error(FERRITE_E_SYNTAX);
  uint64_t delta = 0;
  if (!sdk::ParseUint64(SV(argv[3]), &delta)) return ctx.Error(FERRITE_E_NOT_INTEGER);
  sdk::Args a(argc, argv, 4);
  McOpts o;
  if (!ParseOpts(a, &o)) return a.Reply(ctx);
  McCounters& st = Counters();
  Key k = ctx.OpenWrite(SV(argv[1]));
  auto cur = k.String();
  if (!cur) {
    if (!o.has_vivify) {
      (incr ? st.incr_misses : st.decr_misses)++;
      return ReplyStatus(ctx, "NOT_FOUND");
    }
    // memcached applies T and N to the item it just created in flag order: the later wins
    bool touch_wins = o.has_touch && !o.vivify_last;
    Expiry e = FromMemcached(ctx.NowMs(), touch_wins ? o.touch_exp : o.vivify_exp);
    std::string init = std::to_string(o.initial);
    if (e.expired) {
      return ReplyArith(ctx, k, o.initial, StoreExpired(ctx, k, init), Made::kCreated, -1);
    }
    k.SetString(init);
    k.SetFlags(0);
    k.SetExpire(e.abs_ms);
    if (o.has_new_cas) k.SetVersion(o.new_cas);
    PropagateStored(ctx, k, init);
    st.total_items++;
    return ReplyArith(ctx, k, o.initial, Cas(k), Made::kCreated, -1);
  }
  // memcached refuses an empty value before it compares the cas, any other non-number after
  if (cur->empty()) return ReplyStatus(ctx, "NON_NUMERIC");
  if (o.has_cas && static_cast<uint64_t>(Cas(k)) != o.cas) return ReplyStatus(ctx, "EXISTS");
  uint64_t v = 0;
  if (!ParseItemNumber(*cur, &v)) return ReplyStatus(ctx, "NON_NUMERIC");
  (incr ? st.incr_hits : st.decr_hits)++;
  v = incr ? v + delta : (delta > v ? 0 : v - delta);  // incr wraps, decr floors at 0
  std::string out = std::to_string(v);
  int64_t ttl_before = o.has_touch ? TtlSeconds(ctx, k) : kTtlUnchanged;
  // memcached rewrites a number that fits in place, keeping the item (and its bits)
  uint32_t bits = out.size() <= cur->size() ? k.McBits() : 0;
  k.SetString(out);  // keeps flags and TTL, as memcached does
  if (bits != 0) k.SetMcBits(bits);
  if (o.has_new_cas) k.SetVersion(o.new_cas);
  if (o.has_touch) {
    Expiry e = FromMemcached(ctx.NowMs(), o.touch_exp);
    k.SetExpire(e.expired ? ctx.NowMs() : e.abs_ms);
  }
  PropagateStored(ctx, k, out, incr ? "incrby" : "decrby");
  return ReplyArith(ctx, k, v, Cas(k), Made::kNo, ttl_before);
}

// flush_all [delay]: with a delay, every item that exists now expires at now + delay at
// the latest. NOTE: memcached also invalidates items written during the delay; we only
// bound the TTL of the items present when the command runs.
struct FlushScan {
  Ctx ctx;
  int db;
  int64_t deadline;
  std::vector<std::string> keys;
};

int CmdMcFlush(Ctx ctx, int argc, const ferrite_slice* argv) {
  int64_t delay = 0;
  if (argc > 1 && !sdk::ParseInt64(SV(argv[1]), &delay)) return ctx.Error(FERRITE_E_NOT_INTEGER);
  Counters().cmd_flush++;
  int db = ctx.Db();
  if (delay <= 0) {
    sdk::Api().db_flush(ctx.get(), db);
    ctx.Propagate({"FLUSHDB"});
    return ReplyStatus(ctx, "OK");
  }
  Expiry e = FromMemcached(ctx.NowMs(), delay);
  FlushScan fs{ctx, db, e.abs_ms, {}};
  uint64_t cursor = 0;
  do {
    cursor = sdk::Api().db_scan(
        ctx.get(), db, cursor, 256,
        [](void* u, ferrite_slice key, const ferrite_type*) {
          static_cast<FlushScan*>(u)->keys.emplace_back(key.ptr, key.len);
          return 0;
        },
        &fs);
  } while (cursor != 0);
  for (auto& name : fs.keys) {
    Key k = ctx.OpenWrite(name);
    if (!k.Exists()) continue;
    int64_t cur = k.Expire();
    if (cur < 0 || cur > fs.deadline) {
      k.SetExpire(fs.deadline);
      PropagateExpire(ctx, k);
    }
  }
  return ReplyStatus(ctx, "OK");
}

int CmdMcStats(Ctx ctx, int argc, const ferrite_slice* argv) {
  auto rows = Counters().Snapshot();
  rows.emplace_back("curr_items", sdk::Api().db_size(ctx.get(), ctx.Db()));
  ctx.Array(1 + 2 * rows.size());
  ctx.Simple("OK");
  for (auto& [name, v] : rows) {
    ctx.Bulk(name);
    ctx.Bulk(std::to_string(v));
  }
  return FERRITE_OK;
}

// The module's option memcached-warm-resp, one per loaded instance of the module.
struct WarmOptions {
  int64_t resp_get = 0;  // 1: RESP GET misses wait for warm on a miss too
};
std::mutex g_options_mu;
std::map<ferrite_plugin*, std::unique_ptr<WarmOptions>> g_options;

}  // namespace

bool WaitForWarmOnRespGet(ferrite_ctx* c, std::string_view key) {
  Ctx ctx(c);
  auto* o = ctx.State<WarmOptions>();
  if (o == nullptr || __atomic_load_n(&o->resp_get, __ATOMIC_RELAXED) == 0) return false;
  return WaitForWarm(ctx, key);
}

// MGET's misses: each is asked of warm on a miss (one fetch per key, joined when one is
// in flight) and the client waits on those being fetched; MGET runs again when one is
// stored or given up, and waits again only for keys still in flight, so it answers
// within the fetch time-out. Every fetch ends with MC.WARMDONE, which wakes the client
// before the block's own time-out (whose null would not be MGET's reply) can pass.
bool WarmOnRespEnabled(ferrite_ctx* c) {
  auto* o = Ctx(c).State<WarmOptions>();
  return o != nullptr && __atomic_load_n(&o->resp_get, __ATOMIC_RELAXED) != 0;
}

bool WaitForWarmOnRespMget(ferrite_ctx* c, const std::vector<std::string_view>& missing) {
  Ctx ctx(c);
  if (!WarmOnRespEnabled(c) || sdk::Api().ctx_in_script(c)) return false;
  std::vector<ferrite_slice> wait;
  int64_t longest = 0;
  for (auto key : missing) {
    int64_t ms = WarmWaitMs(ctx, key);
    if (ms <= 0) continue;
    wait.push_back({key.data(), key.size()});
    longest = std::max(longest, ms);
  }
  if (wait.empty()) return false;
  constexpr int64_t kWakeMarginMs = 1000;
  return sdk::Api().block_on_keys_ex(c, wait.data(), static_cast<int>(wait.size()),
                                     longest + kWakeMarginMs, FERRITE_BLOCK_TIMEOUT_NULL,
                                     FERRITE_BLOCK_WAKE_ALL, 0, nullptr) == FERRITE_OK;
}

void UnregisterMcState(ferrite_plugin* p) {
  std::lock_guard lk(g_options_mu);
  g_options.erase(p);
}

int RegisterMcCommands(ferrite_plugin* p) {
  WarmOptions* o;
  {
    std::lock_guard lk(g_options_mu);
    auto& slot = g_options[p];
    slot = std::make_unique<WarmOptions>();
    o = slot.get();
  }
  sdk::Api().set_plugin_state(p, o);
  ferrite_option_desc od{};
  od.struct_size = sizeof od;
  od.name = "memcached-warm-resp";
  od.default_value = 0;
  od.min_value = 0;
  od.max_value = 1;
  od.storage = &o->resp_get;
  if (sdk::Api().register_option(p, &od) != FERRITE_OK) return FERRITE_ERR;
  using namespace sdk::flags;
  using sdk::Guarded;
  constexpr uint32_t H = HIDDEN;
  constexpr WatchedOp F = WatchedOp::kFetch, S = WatchedOp::kStore;
  static const sdk::CommandSpec kTable[] = {
      {"MC.GET",   -2, H | READONLY | FAST,        1, 1, 1, Guarded<Watched<CmdMcGet, F>>,    "string"},
      {"MC.GAT",   -2, H | WRITE | DENYOOM | FAST, 1, 1, 1, Guarded<Watched<CmdMcGat, F>>,    "string"},
      {"MC.META",   2, H | READONLY | FAST,        1, 1, 1, Guarded<CmdMcMeta>,               "string"},
      {"MC.SET",   -5, H | WRITE | DENYOOM,        1, 1, 1, Guarded<Watched<CmdMcSet, S>>,    "string"},
      {"MC.DELETE",-2, H | WRITE | FAST,           1, 1, 1, Guarded<Watched<CmdMcDelete, F>>, "string"},
      {"MC.TOUCH",  3, H | WRITE | FAST,           1, 1, 1, Guarded<Watched<CmdMcTouch, F>>,  "string"},
      {"MC.ARITH", -4, H | WRITE | DENYOOM | FAST, 1, 1, 1, Guarded<Watched<CmdMcArith, F>>,  "string"},
      {"MC.FLUSH", -1, H | WRITE | ALL_KEYS,       0, 0, 0, Guarded<CmdMcFlush>,              "string"},
      {"MC.STATS",  1, H | READONLY | ALL_KEYS,    0, 0, 0, Guarded<CmdMcStats>,              "string"},
  };
  if (RegisterMcIntrospection(p) != FERRITE_OK) return FERRITE_ERR;
  return sdk::RegisterAll(p, kTable);
}

}  // namespace ferrite::mod::strings
