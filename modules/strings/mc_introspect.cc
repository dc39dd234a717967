// MC.DUMP, MC.EVICTIONS, MC.WATCH and memcached's watch log. See mc_introspect.h.
#include "mc_introspect.h"

#include <sys/time.h>

#include <array>
#include <atomic>
#include <cstdio>
#include <mutex>
#include <string>
#include <vector>

#include "ferrite/uri.hpp"

namespace ferrite::mod::strings {
namespace {

using sdk::Ctx;
using sdk::Key;
using sdk::SV;

// ---------------------------------------------------------------------------------------
// Item facts
// ---------------------------------------------------------------------------------------

constexpr uint64_t kBucketSlot = sizeof(void*);  // in key_info's mem_bytes, not the item's

struct ItemFacts {
  bool found = false;
  uint32_t cls = 0;
  uint64_t class_size = 0;
  ferrite_key_info info{};
};

ItemFacts FactsOf(const ferrite_key_info& info) {
  ItemFacts f;
  f.found = true;
  f.info = info;
  uint64_t bytes = info.mem_bytes > kBucketSlot ? info.mem_bytes - kBucketSlot : info.mem_bytes;
  f.cls = SizeClassOf(bytes, &f.class_size);
  return f;
}

// A look at a key that neither counts a hit nor touches it nor marks it fetched.
ItemFacts Peek(Ctx ctx, std::string_view key) {
  ItemFacts f;
  if (!FERRITE_HAS_API(&sdk::Api(), key_info)) return f;
  Key k = ctx.Open(key, FERRITE_KEY_NOTOUCH);
  ferrite_key_info info{};
  info.struct_size = sizeof info;
  if (!k.Exists() || !k.IsString() || sdk::Api().key_info(k.get(), &info) != FERRITE_OK) return f;
  return FactsOf(info);
}

}  // namespace

uint32_t ClassOfKey(Key& k) {
  if (!FERRITE_HAS_API(&sdk::Api(), key_info)) return 0;
  ferrite_key_info info{};
  info.struct_size = sizeof info;
  if (sdk::Api().key_info(k.get(), &info) != FERRITE_OK) return 0;
  return FactsOf(info).cls;
}

namespace {


// ---------------------------------------------------------------------------------------
// Watchers
// ---------------------------------------------------------------------------------------

enum WatchBits : uint32_t { kFetchers = 1, kMutations = 2, kEvictions = 4 };

struct Watchers {
  std::mutex mu;
  std::vector<std::pair<ferrite_conn_id, uint32_t>> list;
  std::atomic<uint32_t> mask{0};  // union of the watchers' kinds: the hot path reads this
  std::atomic<uint64_t> gid{0};

  void Recompute() {  // mu held
    uint32_t m = 0;
    for (auto& w : list) m |= w.second;
    mask.store(m, std::memory_order_relaxed);
  }
};

Watchers& W() {
  static Watchers w;
  return w;
}

bool Watching(uint32_t bits) { return (W().mask.load(std::memory_order_relaxed) & bits) != 0; }

// "ts=<sec>.<usec> gid=<n> " as memcached prints it (the microseconds unpadded: %d).
std::string LinePrefix() {
  timeval tv{};
  gettimeofday(&tv, nullptr);
  char buf[64];
  int n = snprintf(buf, sizeof buf, "ts=%lld.%d gid=%llu ", static_cast<long long>(tv.tv_sec),
                   static_cast<int>(tv.tv_usec),
                   static_cast<unsigned long long>(W().gid.fetch_add(1) + 1));
  return std::string(buf, static_cast<size_t>(n));
}

void Emit(uint32_t kind, const std::string& line) {
  Watchers& w = W();
  std::lock_guard lk(w.mu);
  ferrite_slice s{line.data(), line.size()};
  for (auto& [id, kinds] : w.list) {
    if (kinds & kind) sdk::Api().conn_push(id, 1, &s);
  }
}

void LogItemGet(Ctx ctx, std::string_view key, const char* status, const ItemFacts& f) {
  std::string line = LinePrefix() + "type=item_get key=";
  sdk::UriEncode(key, &line);
  char tail[160];
  snprintf(tail, sizeof tail, " status=%s clsid=%u cfd=%llu size=%llu\n", status,
           f.found ? f.cls : 0u, static_cast<unsigned long long>(ctx.ConnId()),
           static_cast<unsigned long long>(f.found ? f.info.value_len : 0));
  Emit(kFetchers, line + tail);
}

thread_local std::string_view t_status;  // the reply's status word (NoteStatus)

bool FoundWord(std::string_view w) {
  return w == "HIT" || w == "TOUCHED" || w == "DELETED" || w == "EXISTS" || w == "NON_NUMERIC";
}

// What memcached's item_store log calls the outcome; empty: not logged (an error reply).
const char* StoreWord(std::string_view w) {
  if (w == "STORED") return "stored";
  if (w == "NOT_STORED") return "not_stored";
  if (w == "EXISTS") return "exists";
  if (w == "NOT_FOUND") return "not_found";
  return "";
}

// The TTL a store asked for, in seconds (memcached's item_store ttl): from the stored
// item when there is one, else from the request's EX / PXAT.
int64_t RequestedTtl(Ctx ctx, int argc, const ferrite_slice* argv, const ItemFacts& after) {
  int64_t now = ctx.NowMs();
  if (after.found) return after.info.expire_ms < 0 ? 0 : (after.info.expire_ms - now + 999) / 1000;
  for (int i = 5; i + 1 < argc; i++) {
    int64_t v = 0;
    if (!sdk::ParseInt64(SV(argv[i + 1]), &v)) continue;
    if (sdk::EqualsIgnoreCase(SV(argv[i]), "EX")) {
      if (v <= 0) return 0;
      return v <= 60 * 60 * 24 * 30 ? v : v - now / 1000;
    }
    if (sdk::EqualsIgnoreCase(SV(argv[i]), "PXAT")) return v < 0 ? 0 : (v - now) / 1000;
  }
  return 0;
}

void LogItemStore(Ctx ctx, int argc, const ferrite_slice* argv, const char* status) {
  std::string_view key = SV(argv[1]);
  ItemFacts after = Peek(ctx, key);
  uint64_t cls_size = 0;
  // Not stored: the class the item would have taken (entry header 40 bytes, key, value).
  uint32_t cls = after.found ? after.cls : SizeClassOf(40 + key.size() + argv[2].len, &cls_size);
  std::string cmd(SV(argv[3]));
  for (char& c : cmd) c = static_cast<char>(c >= 'A' && c <= 'Z' ? c + 32 : c);
  int64_t ttl = RequestedTtl(ctx, argc, argv, after);
  std::string line = LinePrefix() + "type=item_store key=";
  sdk::UriEncode(key, &line);
  char tail[200];
  snprintf(tail, sizeof tail, " status=%s cmd=%s ttl=%u clsid=%u cfd=%llu size=%llu\n", status,
           cmd.c_str(), static_cast<unsigned>(ttl < 0 ? 0 : ttl), cls,
           static_cast<unsigned long long>(ctx.ConnId()),
           static_cast<unsigned long long>(argv[2].len));
  Emit(kMutations, line + tail);
}

// Facts of the key before the handler runs, per thread (handlers do not nest): a store
// logs what its lookup found, a delete what it removed.
thread_local ItemFacts t_before;
thread_local int64_t t_get_expired = 0;

// ---------------------------------------------------------------------------------------
// Evictions
// ---------------------------------------------------------------------------------------

struct ClassEvictions {
  uint64_t evicted = 0, nonzero = 0, unfetched = 0;
  int64_t last_idle_s = 0;
};

struct EvictionStats {
  std::mutex mu;
  std::array<ClassEvictions, kMaxSizeClass + 1> cls{};
};

EvictionStats& Ev() {
  static EvictionStats e;
  return e;
}

void OnEvicted(void*, int, uint32_t, const char*, ferrite_slice key) {
  ferrite_key_info info{};
  info.struct_size = sizeof info;
  if (sdk::Api().event_key_info(&info) != FERRITE_OK || !info.is_string) return;
  ItemFacts f = FactsOf(info);
  int64_t idle_s = info.idle_ms / 1000;
  {
    EvictionStats& ev = Ev();
    std::lock_guard lk(ev.mu);
    ClassEvictions& c = ev.cls[f.cls];
    c.evicted++;
    if (info.expire_ms >= 0) c.nonzero++;
    if (!info.fetched) c.unfetched++;
    c.last_idle_s = idle_s;
  }
  if (!Watching(kEvictions)) return;
  timeval tv{};
  gettimeofday(&tv, nullptr);
  int64_t now_ms = static_cast<int64_t>(tv.tv_sec) * 1000 + tv.tv_usec / 1000;
  long long ttl = info.expire_ms < 0 ? -1 : (info.expire_ms - now_ms) / 1000;
  std::string line = LinePrefix() + "type=eviction key=";
  sdk::UriEncode(SV(key), &line);
  char tail[160];
  snprintf(tail, sizeof tail, " fetch=%s ttl=%lld la=%d clsid=%u size=%llu\n",
           info.fetched ? "yes" : "no", ttl, static_cast<int>(idle_s), f.cls,
           static_cast<unsigned long long>(info.value_len));
  Emit(kEvictions, line + tail);
}

// ---------------------------------------------------------------------------------------
// Commands
// ---------------------------------------------------------------------------------------

constexpr size_t kDumpBatchMax = 4096;

int CmdMcDump(Ctx ctx, int argc, const ferrite_slice* argv) {
  uint64_t cursor = 0, count = 0;
  if (!sdk::ParseUint64(SV(argv[1]), &cursor) || !sdk::ParseUint64(SV(argv[2]), &count) ||
      count == 0) {
    return ctx.Error(FERRITE_E_NOT_INTEGER);
  }
  if (!FERRITE_HAS_API(&sdk::Api(), key_info)) return ctx.Error(FERRITE_E_GENERIC, "no key_info");
  struct Names {
    const ferrite_type* string_type;
    std::vector<std::string> keys;
  } names{sdk::Api().string_type(), {}};
  uint64_t next = sdk::Api().db_scan(
      ctx.get(), ctx.Db(), cursor, std::min<uint64_t>(count, kDumpBatchMax),
      [](void* u, ferrite_slice key, const ferrite_type* t) {
        auto* n = static_cast<Names*>(u);
        if (t == n->string_type) n->keys.emplace_back(key.ptr, key.len);
        return 0;
      },
      &names);
  std::vector<ItemFacts> items;
  std::vector<const std::string*> keys;
  items.reserve(names.keys.size());
  for (auto& name : names.keys) {
    ItemFacts f = Peek(ctx, name);
    if (!f.found) continue;  // expired meanwhile (the look removed it)
    items.push_back(f);
    keys.push_back(&name);
  }
  ctx.Array(2 + 10 * items.size());
  ctx.Simple("OK");
  ctx.Int(static_cast<int64_t>(next));
  for (size_t i = 0; i < items.size(); i++) {
    const ItemFacts& f = items[i];
    ctx.Bulk(*keys[i]);
    ctx.Int(f.cls);
    ctx.Int(static_cast<int64_t>(f.class_size));
    ctx.Int(static_cast<int64_t>(f.info.mem_bytes));
    ctx.Int(static_cast<int64_t>(f.info.value_len));
    ctx.Int(f.info.expire_ms);
    ctx.Int(f.info.idle_ms);
    ctx.Int(static_cast<int64_t>(f.info.version));
    ctx.Int(f.info.flags);
    ctx.Int(f.info.fetched);
  }
  return FERRITE_OK;
}

int CmdMcEvictions(Ctx ctx, int, const ferrite_slice*) {
  std::vector<std::pair<uint32_t, ClassEvictions>> rows;
  {
    EvictionStats& ev = Ev();
    std::lock_guard lk(ev.mu);
    for (uint32_t c = 0; c <= kMaxSizeClass; c++) {
      if (ev.cls[c].evicted > 0) rows.emplace_back(c, ev.cls[c]);
    }
  }
  ctx.Array(1 + 5 * rows.size());
  ctx.Simple("OK");
  for (auto& [c, e] : rows) {
    ctx.Int(c);
    ctx.Int(static_cast<int64_t>(e.evicted));
    ctx.Int(static_cast<int64_t>(e.nonzero));
    ctx.Int(e.last_idle_s);
    ctx.Int(static_cast<int64_t>(e.unfetched));
  }
  return FERRITE_OK;
}

void DropWatcher(void*, ferrite_conn_id id) {
  Watchers& w = W();
  std::lock_guard lk(w.mu);
  std::erase_if(w.list, [&](auto& e) { return e.first == id; });
  w.Recompute();
}

int CmdMcWatch(Ctx ctx, int, const ferrite_slice* argv) {
  uint64_t kinds = 0;
  if (!sdk::ParseUint64(SV(argv[1]), &kinds) || kinds == 0 || kinds > 7) {
    return ctx.Error(FERRITE_E_SYNTAX);
  }
  ferrite_conn_id id = ctx.ConnId();
  {
    Watchers& w = W();
    std::lock_guard lk(w.mu);
    bool known = false;
    for (auto& e : w.list) {
      if (e.first == id) e.second |= static_cast<uint32_t>(kinds), known = true;
    }
    if (!known) w.list.emplace_back(id, static_cast<uint32_t>(kinds));
    w.Recompute();
    if (!known) sdk::Api().conn_on_close(id, DropWatcher, nullptr);
  }
  // A watcher reads like a subscriber: client-output-buffer-limit pubsub closes one
  // that falls too far behind (memcached skips lines for it instead).
  sdk::Api().ctx_set_subscriptions(ctx.get(), 1);
  ctx.Array(1);
  return ctx.Simple("OK");
}

}  // namespace

uint32_t SizeClassOf(uint64_t b, uint64_t* class_size) {
  uint64_t size;
  uint32_t id;
  if (b <= 8) {
    size = 8, id = 1;
  } else if (b <= 128) {
    size = (b + 15) / 16 * 16;
    id = static_cast<uint32_t>(1 + size / 16);  // 16 -> 2 ... 128 -> 9
  } else {
    int k = 63 - __builtin_clzll(b - 1);  // 2^k < b <= 2^(k+1), k >= 7
    uint64_t step = uint64_t{1} << (k - 2);
    uint64_t n = (b - (uint64_t{1} << k) + step - 1) / step;  // 1..4
    size = (uint64_t{1} << k) + n * step;
    id = static_cast<uint32_t>(9 + 4 * (k - 7) + n);
  }
  if (id > kMaxSizeClass) {
    id = kMaxSizeClass;
    size = (uint64_t{1} << 20) + 2 * (uint64_t{1} << 18);  // class 63: 1.5 MiB and up
  }
  *class_size = size;
  return id;
}

void NoteStatus(std::string_view word) { t_status = word; }

bool WatchActive() { return Watching(kFetchers | kMutations); }

void WatchBefore(Ctx ctx, WatchedOp op, int argc, const ferrite_slice* argv) {
  t_status = {};
  t_before = {};
  if (!Watching(kFetchers) || argc < 2) return;
  t_get_expired = sdk::Api().stat_int("get_expired");
  // NOTE: this look expires a due key itself, so the handler's own lookup then counts
  // a plain miss; only while somebody watches fetchers.
  if (op == WatchedOp::kStore || sdk::EqualsIgnoreCase(SV(argv[0]), "MC.DELETE")) {
    t_before = Peek(ctx, SV(argv[1]));
  }
}

void WatchAfter(Ctx ctx, WatchedOp op, int argc, const ferrite_slice* argv) {
  if (argc < 2) return;
  std::string_view key = SV(argv[1]);
  std::string_view word = t_status;
  if (Watching(kFetchers)) {
    if (op == WatchedOp::kStore) {  // memcached looks the key up before storing
      LogItemGet(ctx, key, t_before.found ? "found" : "not_found", t_before);
    } else if (FoundWord(word)) {
      ItemFacts f = t_before.found ? t_before : Peek(ctx, key);
      f.found = true;
      LogItemGet(ctx, key, "found", f);
    } else {
      bool expired = sdk::Api().stat_int("get_expired") > t_get_expired;
      LogItemGet(ctx, key, expired ? "expired" : "not_found", ItemFacts{});
    }
  }
  if (op == WatchedOp::kStore && argc >= 4 && Watching(kMutations)) {
    const char* status = StoreWord(word);
    if (*status) LogItemStore(ctx, argc, argv, status);
  }
  t_status = {};
}

int RegisterMcIntrospection(ferrite_plugin* p) {
  if (FERRITE_HAS_API(&sdk::Api(), subscribe_evictions)) {
    sdk::Api().subscribe_evictions(p, OnEvicted, nullptr);
  }
  using namespace sdk::flags;
  constexpr uint32_t H = HIDDEN;
  static const sdk::CommandSpec kTable[] = {
      {"MC.DUMP",       3, H | READONLY | ALL_KEYS, 0, 0, 0, sdk::Guarded<CmdMcDump>,      "string"},
      {"MC.EVICTIONS",  1, H | READONLY,           0, 0, 0, sdk::Guarded<CmdMcEvictions>, "string"},
      {"MC.WATCH",      2, H | READONLY,           0, 0, 0, sdk::Guarded<CmdMcWatch>,     "string"},
  };
  return sdk::RegisterAll(p, kTable);
}

}  // namespace ferrite::mod::strings
