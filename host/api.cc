// The SDK's implementation: every ferrite_host_api member, forwarding to the host's
// collaborators. Functions here are thin; behaviour lives in keyspace/dispatch/etc.
#include <malloc.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <stdexcept>

#include "ferrite/errors.h"
#include "ferrite/module.hpp"
#include "host/acl/command_facts.h"
#include "host/acl/gate.h"
#include "host/context.h"
#include "host/server_commands.h"
#include "host/info.h"
#include "host/io.h"
#include "host/logging.h"
#include "host/memory_overhead.h"
#include "host/net.h"

using ferrite::host::Client;
using ferrite::host::Entry;
using ferrite::host::Host;
using ferrite::host::Table;
using ferrite::host::ValueKind;
using ferrite::host::KeyMemoryUsage;

// ---------------------------------------------------------------------------------------
// Captured replies
// ---------------------------------------------------------------------------------------
struct ferrite_call_reply {
  ferrite_reply_type type = FERRITE_REPLY_NULL;
  ferrite_error_code code = FERRITE_E_GENERIC;
  std::string str;  // error: full RESP text
  int64_t i = 0;
  double d = 0;
  std::string fmt;  // verbatim format
  std::vector<std::unique_ptr<ferrite_call_reply>> elems;
  size_t expected = 0;  // aggregate: elements still to come
};

namespace ferrite::host {
namespace {

thread_local Host* tls_host = nullptr;
const ferrite_type kStringType = [] {
  ferrite_type t{};
  t.desc.struct_size = sizeof(ferrite_type_desc);
  t.desc.name = "string";
  t.desc.rdb_type = 0;
  t.name = "string";
  return t;
}();

// Capture state: a root plus a stack of open aggregates.
struct Capture {
  std::unique_ptr<ferrite_call_reply> root;
  std::vector<ferrite_call_reply*> stack;
};

ferrite_call_reply* CapNode(void* st, ferrite_reply_type t) {
  auto* c = static_cast<Capture*>(st);
  auto node = std::make_unique<ferrite_call_reply>();
  node->type = t;
  ferrite_call_reply* raw = node.get();
  if (c->stack.empty()) {
    c->root = std::move(node);
  } else {
    auto* parent = c->stack.back();
    parent->elems.push_back(std::move(node));
    if (--parent->expected == 0) c->stack.pop_back();
  }
  return raw;
}
void CapAgg(void* st, ferrite_reply_type t, size_t n) {
  auto* node = CapNode(st, t);
  node->expected = n;
  if (n > 0) static_cast<Capture*>(st)->stack.push_back(node);
}

const ferrite_reply_sink kCaptureSink = {
    sizeof(ferrite_reply_sink),
    [](void* st, const char* s, size_t n) { CapNode(st, FERRITE_REPLY_SIMPLE)->str.assign(s, n); },
    [](void* st, ferrite_error_code code, const char* d, size_t n) {
      auto* node = CapNode(st, FERRITE_REPLY_ERROR);
      node->code = code;
      char buf[1024];
      size_t len = ferrite_error_format(code, d, n, buf, sizeof buf);
      if (n > 0 && code != FERRITE_E_ARITY && n >= sizeof buf) node->str.assign(d, n);
      else node->str.assign(buf, len);
    },
    [](void* st, int64_t v) { CapNode(st, FERRITE_REPLY_INTEGER)->i = v; },
    [](void* st, double v) { CapNode(st, FERRITE_REPLY_DOUBLE)->d = v; },
    [](void* st, const char* s, size_t n) { CapNode(st, FERRITE_REPLY_BULK)->str.assign(s, n); },
    [](void* st) { CapNode(st, FERRITE_REPLY_NULL); },
    [](void* st) { CapNode(st, FERRITE_REPLY_NULL_ARRAY); },
    [](void* st, size_t n) { CapAgg(st, FERRITE_REPLY_ARRAY, n); },
    [](void* st, size_t n) { CapAgg(st, FERRITE_REPLY_MAP, n * 2); },
    [](void* st, size_t n) { CapAgg(st, FERRITE_REPLY_SET, n); },
    [](void* st, size_t n) { CapAgg(st, FERRITE_REPLY_PUSH, n); },
    [](void* st, int v) { CapNode(st, FERRITE_REPLY_BOOL)->i = v ? 1 : 0; },
    [](void* st, const char* fmt, const char* s, size_t n) {
      auto* node = CapNode(st, FERRITE_REPLY_VERBATIM);
      node->fmt.assign(fmt, strnlen(fmt, 3));
      node->str.assign(s, n);
    },
    [](void* st, const char* s, size_t n) { CapNode(st, FERRITE_REPLY_BIGNUM)->str.assign(s, n); },
    [](void* st, size_t n) { CapAgg(st, FERRITE_REPLY_MAP, n * 2); },
    [](void* st, const char* s, size_t n) {
      auto* node = CapNode(st, FERRITE_REPLY_DOUBLE);
      node->str.assign(s, n);  // replayed as written; scripts read the value
      node->d = std::strtod(node->str.c_str(), nullptr);
    },
};

bool HasDoubleText(const ferrite_reply_sink* s) {
  return s->struct_size >= offsetof(ferrite_reply_sink, double_text) + sizeof(s->double_text) &&
         s->double_text != nullptr;
}

void SinkDoubleText(const ferrite_reply_sink* s, void* st, const char* text, size_t n) {
  if (HasDoubleText(s)) s->double_text(st, text, n);
  else s->dbl(st, std::strtod(std::string(text, n).c_str(), nullptr));
}

}  // namespace

Host* CurrentHost() { return tls_host; }
const ferrite_type* StringTypePtr() { return &kStringType; }
void SetCurrentHost(Host* h) { tls_host = h; }
const ferrite_reply_sink* CaptureSink() { return &kCaptureSink; }

void ReplayReply(const ferrite_call_reply* r, const ferrite_reply_sink* s, void* st) {
  switch (r->type) {
    case FERRITE_REPLY_SIMPLE: s->simple(st, r->str.data(), r->str.size()); break;
    case FERRITE_REPLY_ERROR: s->error(st, FERRITE_E_GENERIC, r->str.data(), r->str.size()); break;
    case FERRITE_REPLY_INTEGER: s->integer(st, r->i); break;
    case FERRITE_REPLY_DOUBLE:
      if (r->str.empty()) s->dbl(st, r->d);
      else SinkDoubleText(s, st, r->str.data(), r->str.size());
      break;
    case FERRITE_REPLY_BULK: s->bulk(st, r->str.data(), r->str.size()); break;
    case FERRITE_REPLY_NULL: s->null(st); break;
    case FERRITE_REPLY_NULL_ARRAY: s->null_array(st); break;
    case FERRITE_REPLY_BOOL: s->boolean(st, static_cast<int>(r->i)); break;
    case FERRITE_REPLY_VERBATIM: s->verbatim(st, r->fmt.c_str(), r->str.data(), r->str.size()); break;
    case FERRITE_REPLY_BIGNUM: s->bignum(st, r->str.data(), r->str.size()); break;
    case FERRITE_REPLY_ARRAY:
    case FERRITE_REPLY_SET:
    case FERRITE_REPLY_PUSH:
    case FERRITE_REPLY_MAP: {
      size_t n = r->elems.size();
      if (r->type == FERRITE_REPLY_ARRAY) s->array(st, n);
      else if (r->type == FERRITE_REPLY_SET) s->set(st, n);
      else if (r->type == FERRITE_REPLY_PUSH) s->push(st, n);
      else s->map(st, n / 2);
      for (auto& e : r->elems) ReplayReply(e.get(), s, st);
      break;
    }
  }
}

void CountErrorReply(Host* h, ferrite_ctx* ctx, ferrite_error_code code, std::string_view detail) {
  h->stats().total_errors.fetch_add(1, std::memory_order_relaxed);
  h->error_stats().Count(code, detail);
  if (ctx) ctx->errors++;
}

int SendError(ferrite_ctx* c, ferrite_error_code code, std::string_view detail) {
  CountErrorReply(c->host, c, code, detail);
  c->sink->error(c->st, code, detail.data(), detail.size());
  return FERRITE_OK;
}

}  // namespace ferrite::host

namespace {

using namespace ferrite::host;

Host* H(ferrite_ctx* c) { return c->host; }

// ------------------------------- registration ------------------------------------------

int RegisterCommand(ferrite_plugin* p, const ferrite_command_desc* d) {
  if (!p->loading || !d || !d->name || !d->handler) return FERRITE_ERR;
  auto c = std::make_shared<Command>();
  c->name = d->name;
  c->arity = d->arity;
  c->flags = d->flags;
  c->first_key = d->first_key;
  c->last_key = d->last_key;
  c->key_step = d->key_step;
  c->handler = d->handler;
  c->getkeys = d->struct_size > offsetof(ferrite_command_desc, getkeys) ? d->getkeys : nullptr;
  if (d->struct_size > offsetof(ferrite_command_desc, summary) && d->summary) c->summary = d->summary;
  if (d->struct_size > offsetof(ferrite_command_desc, group) && d->group) c->group = d->group;
  if (d->struct_size >= offsetof(ferrite_command_desc, subcommand_count) + sizeof(size_t) &&
      d->subcommands)
    c->SetSubcommands(d->subcommands, d->subcommand_count);
  if (d->struct_size >= offsetof(ferrite_command_desc, acl_categories) + sizeof(const char*) &&
      d->acl_categories &&
      !acl::ParseCategoryList(d->acl_categories, &c->acl_declared)) {
    Logger("host.loader")->error("plugin {}: command '{}' declares an unknown ACL category in '{}'",
                                 p->name, d->name, d->acl_categories);
    return FERRITE_ERR;
  }
  if (d->struct_size >= offsetof(ferrite_command_desc, call_flags) + sizeof(ferrite_call_flags_fn))
    c->call_flags = d->call_flags;
  c->owner = p;
  std::string name = c->name;
  if (!p->host->registry().AddCommand(c)) {
    Logger("host.loader")->error("plugin {}: command '{}' is already registered", p->name, name);
    return FERRITE_ERR;
  }
  p->commands.push_back(name);
  return FERRITE_OK;
}

ferrite_type* RegisterType(ferrite_plugin* p, const ferrite_type_desc* d) {
  if (!p->loading || !d) return nullptr;
  bool has_expire = d->struct_size > offsetof(ferrite_type_desc, expire_subkeys) && d->expire_subkeys;
  bool has_names = d->struct_size > offsetof(ferrite_type_desc, subkey_expired_event) &&
                   d->subkey_delete_command && d->subkey_expired_event;
  if (has_expire && !has_names) {
    Logger("host.loader")->error("plugin {}: type '{}' has expire_subkeys but no "
                                 "subkey_delete_command/subkey_expired_event", p->name,
                                 d->name ? d->name : "?");
    return nullptr;
  }
  auto* t = p->host->registry().AddType(*d, p);
  if (!t) {
    Logger("host.loader")->error("plugin {}: type '{}' is already registered", p->name,
                                 d->name ? d->name : "?");
    return nullptr;
  }
  p->types.push_back(d->name);
  return t;
}

int RegisterProtocol(ferrite_plugin* p, const ferrite_protocol_desc* d, void* state) {
  if (!p->loading || !d || !d->name) return FERRITE_ERR;
  if (!p->host->registry().AddProtocol(*d, state, p)) {
    Logger("host.loader")->error("plugin {}: protocol '{}' is already registered", p->name, d->name);
    return FERRITE_ERR;
  }
  p->protocols.push_back(d->name);
  return FERRITE_OK;
}

int RegisterOption(ferrite_plugin* p, const ferrite_option_desc* d) {
  if (!d || !d->name || !d->storage) return FERRITE_ERR;
  try {
    p->host->config().RegisterModuleInt(p->name, d->name, d->default_value, d->min_value,
                                        d->max_value, d->storage);
  } catch (const std::exception& e) {
    Logger("host.loader")->error("plugin {}: option '{}': {}", p->name, d->name, e.what());
    return FERRITE_ERR;
  }
  return FERRITE_OK;
}

void SetPluginState(ferrite_plugin* p, void* s) { p->state = s; }

int SubscribeEvents(ferrite_plugin* p, uint32_t mask, ferrite_event_fn fn, void* udata) {
  p->host->AddEventSubscriber(p, mask, fn, udata);
  return FERRITE_OK;
}

spdlog::level::level_enum Level(ferrite_log_level l) {
  switch (l) {
    case FERRITE_LOG_DEBUG: return spdlog::level::debug;
    case FERRITE_LOG_INFO: return spdlog::level::info;
    case FERRITE_LOG_WARN: return spdlog::level::warn;
    default: return spdlog::level::err;
  }
}

void PluginLog(ferrite_plugin* p, ferrite_log_level l, const char* m, size_t n) {
  Logger("module." + (p ? p->name : std::string("?")))->log(Level(l), "{}", std::string_view(m, n));
}

const ferrite_type* StringType() { return StringTypePtr(); }

}  // namespace

namespace {

// ------------------------------- context -----------------------------------------------

void* CtxPluginState(ferrite_ctx* c) { return c->cmd && c->cmd->owner ? c->cmd->owner->state : nullptr; }
ferrite_conn_id CtxConnId(ferrite_ctx* c) { return c->client->id; }
int CtxDb(ferrite_ctx* c) { return c->client->db; }
int CtxSelect(ferrite_ctx* c, int db) {
  if (db < 0 || db >= H(c)->keyspace().num_dbs()) return FERRITE_ERR;
  c->client->db = db;
  return FERRITE_OK;
}
int CtxResp(ferrite_ctx* c) { return c->client->resp; }
int CtxInScript(ferrite_ctx* c) { return c->nested ? 1 : 0; }
int64_t NowMs(ferrite_ctx* c) { return c ? H(c)->clock().NowMs() : CurrentHost()->clock().NowMs(); }
int NumDatabases() { return CurrentHost() ? CurrentHost()->keyspace().num_dbs() : 16; }
void CtxLog(ferrite_ctx* c, ferrite_log_level l, const char* m, size_t n) {
  PluginLog(c->cmd ? c->cmd->owner : nullptr, l, m, n);
}

// ------------------------------- replies -----------------------------------------------

void RSimple(ferrite_ctx* c, const char* s, size_t n) { c->sink->simple(c->st, s, n); }
void RError(ferrite_ctx* c, ferrite_error_code code, const char* d, size_t n) {
  SendError(c, code, {d, n});
}
void RErrorCounted(ferrite_ctx* c, ferrite_error_code code, const char* d, size_t n) {
  c->errors++;
  c->sink->error(c->st, code, d, n);
}
void RInt(ferrite_ctx* c, int64_t v) { c->sink->integer(c->st, v); }
void RDouble(ferrite_ctx* c, double v) { c->sink->dbl(c->st, v); }
void RDoubleText(ferrite_ctx* c, const char* s, size_t n) { SinkDoubleText(c->sink, c->st, s, n); }
void RBulk(ferrite_ctx* c, const char* s, size_t n) { c->sink->bulk(c->st, s, n); }
void RNull(ferrite_ctx* c) { c->sink->null(c->st); }
void RNullArray(ferrite_ctx* c) { c->sink->null_array(c->st); }
void RArray(ferrite_ctx* c, size_t n) { c->sink->array(c->st, n); }
void RMap(ferrite_ctx* c, size_t n) { c->sink->map(c->st, n); }
void RSet(ferrite_ctx* c, size_t n) { c->sink->set(c->st, n); }
void RBool(ferrite_ctx* c, int v) { c->sink->boolean(c->st, v); }
void RVerbatim(ferrite_ctx* c, const char* f, const char* s, size_t n) { c->sink->verbatim(c->st, f, s, n); }
void RBignum(ferrite_ctx* c, const char* s, size_t n) { c->sink->bignum(c->st, s, n); }
void RCallReply(ferrite_ctx* c, const ferrite_call_reply* r) { ReplayReply(r, c->sink, c->st); }

// ------------------------------- keys --------------------------------------------------

bool Expired(Host* h, const Table& t, const Entry* e) {
  int64_t at = t.ExpireOf(e);
  return at >= 0 && at <= h->clock().NowMs();
}

// The lock contract: a handler touches only keys whose shard its command holds (the
// shards Host::PlanLocks chose, or a nested call's parent's). A key outside them is a
// bug in a key spec or a handler: fatal in a debug build; in a release build logged and
// refused by throwing, which the handler's exception barrier (sdk::Guarded, RunHandler)
// turns into an error reply.
void CheckShardHeld(Host* h, const ferrite_ctx* c, int si, std::string_view key) {
  if (LockSet::ThreadHolds(&h->keyspace(), si)) return;
  std::string_view cmd = c->cmd ? std::string_view(c->cmd->name) : std::string_view("?");
  Logger("host.dispatch")->error("'{}' touched key '{}' whose shard {} it does not hold", cmd,
                                 key.substr(0, 64), si);
#ifndef NDEBUG
  std::abort();
#else
  throw std::logic_error("key outside the shards the command locked");
#endif
}

ferrite_key* OpenKeyDb(ferrite_ctx* c, int db, ferrite_slice key, int mode) {
  Host* h = H(c);
  if (db < 0 || db >= h->keyspace().num_dbs()) return nullptr;
  uint64_t hash = HashKey({key.ptr, key.len});
  int si = h->keyspace().ShardIndex(hash);
  CheckShardHeld(h, c, si, {key.ptr, key.len});
  ferrite_key* k = nullptr;
  for (int i = 0; i < ferrite_ctx::kKeySlots && !k; i++) {
    if (c->slots_used & (1u << i)) continue;
    c->slots_used |= static_cast<uint8_t>(1u << i);
    k = &c->key_slots[i];
  }
  if (!k) {
    k = new ferrite_key;
    c->open_keys.push_back(k);
  }
  k->ctx = c;
  k->db = db;
  k->hash = hash;
  k->si = si;
  k->table = &h->keyspace().shard(k->si).dbs[db];
  if (key.len <= sizeof k->name_buf) {
    if (key.len) memcpy(k->name_buf, key.ptr, key.len);
    k->name = {k->name_buf, key.len};
  } else {
    k->name_heap.assign(key.ptr, key.len);
    k->name = k->name_heap;
  }
  k->mode = mode;
  k->e = k->table->Find(k->name, k->hash);
  if (k->e && Expired(h, *k->table, k->e)) {
    // While clients are paused the data set stands still: a read finds the key gone and
    // leaves it for after the pause (Redis' expireIfNeeded). A write (an EXEC under way
    // when the pause began) replaces it as always.
    if ((mode & FERRITE_KEY_WRITE) || !h->client_pause().Paused(h->clock().NowMs()))
      h->ExpireEntry(k->si, db, k->e);
    k->e = nullptr;
    if (mode & FERRITE_KEY_READ) h->stats().get_expired.fetch_add(1, std::memory_order_relaxed);
    if (mode & FERRITE_KEY_WRITE) h->stats().reclaimed.fetch_add(1, std::memory_order_relaxed);
  }
  if (mode & FERRITE_KEY_READ) {
    if (k->e) h->stats().keyspace_hits.fetch_add(1, std::memory_order_relaxed);
    else h->stats().keyspace_misses.fetch_add(1, std::memory_order_relaxed);
  }
  // CLIENT NO-TOUCH (Redis 7.2) leaves the access data alone, except for TOUCH itself.
  if (k->e && !(mode & FERRITE_KEY_NOTOUCH) &&
      (!c->client->no_touch || (c->cmd && c->cmd->name == "touch")))
    h->TouchEntry(k->e);
  return k;
}

ferrite_key* OpenKey(ferrite_ctx* c, ferrite_slice key, int mode) {
  return OpenKeyDb(c, c->client->db, key, mode);
}

// A write may have given the key's value volatile sub-keys (HEXPIRE) or removed them:
// the type's answer goes to the shard's sub-key expiry index. The entry is looked up
// again because another handle of the same handler may have deleted or replaced it.
void TrackSubkeysOnClose(ferrite_key* k) {
  if (!(k->mode & FERRITE_KEY_WRITE) || !k->ctx->dirty) return;
  if (Entry* e = k->table->Find(k->name, k->hash)) k->table->TrackSubkeys(e);
}

void CloseKey(ferrite_key* k) {
  if (!k) return;
  TrackSubkeysOnClose(k);
  ferrite_ctx* c = k->ctx;
  uintptr_t off = reinterpret_cast<uintptr_t>(k) - reinterpret_cast<uintptr_t>(c->key_slots);
  if (off < sizeof c->key_slots) {  // an inline slot: just free it
    c->slots_used &= static_cast<uint8_t>(~(1u << (off / sizeof(ferrite_key))));
    return;
  }
  auto& v = c->open_keys;
  for (auto it = v.begin(); it != v.end(); ++it)
    if (*it == k) {
      v.erase(it);
      break;
    }
  delete k;
}

int KeyExists(ferrite_key* k) { return k && k->e ? 1 : 0; }
const ferrite_type* KeyType(ferrite_key* k) {
  if (!k || !k->e) return nullptr;
  return k->e->type(StringTypePtr());
}
ferrite_slice KeyName(ferrite_key* k) { return {k->name.data(), k->name.size()}; }

// Redis' signalModifiedKey for CLIENT TRACKING: one relaxed load when nobody tracks.
void Invalidate(ferrite_key* k) {
  Tracking& t = k->ctx->host->tracking();
  if (t.Active()) t.InvalidateKey(k->ctx->client, k->name);
}

void Written(ferrite_key* k) {
  Host* h = k->ctx->host;
  k->e->version = h->keyspace().NextVersion(k->si);
  k->e->mc_bits = 0;  // memcached replaces the item on a write: no stale/win/fetched mark
  k->ctx->dirty = true;
  Invalidate(k);
}

// The key's entry, created (holding an empty string with room for `value_len` inline
// bytes when that is small) if the key does not exist. Creating a key fires the `new`
// event (Redis' dbAdd), before the command's own event.
Entry* EnsureEntry(ferrite_key* k, size_t value_len = 0) {
  if (!k->e) {
    k->e = k->table->Insert(k->name, k->hash, value_len <= kInlineValueMax ? value_len : 0);
    k->ctx->host->InitAccess(k->e);
    k->ctx->host->key_watches().KeyCreated(k->db, k->name);
    k->ctx->host->Notify(k->db, FERRITE_NOTIFY_NEW, "new", k->name);
  }
  return k->e;
}

// Gives e's string value `cap` bytes of capacity, keeping its contents (up to cap). An
// inline value that must grow moves to the heap; it never shrinks (see the callers).
// Returns the capacity the allocator gave (>= cap).
size_t SetStringCap(Entry* e, size_t cap) {
  char* p;
  if (e->value_inline()) {
    p = static_cast<char*>(malloc(cap));
    if (p) memcpy(p, e->str.ptr, std::min<size_t>(e->str.len, cap));
  } else {
    p = static_cast<char*>(realloc(e->str.ptr, cap));
  }
  if (!p) throw std::bad_alloc();
  e->str.ptr = p;
  return malloc_usable_size(p);
}

int KeyDelete(ferrite_key* k) {
  if (!k || !k->e) return 0;
  k->table->Erase(k->e);
  k->e = nullptr;
  k->ctx->dirty = true;
  Invalidate(k);
  // A waiter may need to learn that its key is gone (XREADGROUP fails then).
  k->ctx->host->SignalKeyReady(k->db, k->name);
  return 1;
}

int KeyStringGet(ferrite_key* k, ferrite_slice* out) {
  if (!k || !k->e || k->e->kind != ValueKind::kString) return FERRITE_ERR;
  out->ptr = k->e->str.ptr ? k->e->str.ptr : "";
  out->len = k->e->str.len;
  return FERRITE_OK;
}

char* KeyStringResize(ferrite_key* k, size_t n) {
  if (n > UINT32_MAX - 1) return nullptr;
  Entry* e = EnsureEntry(k, n);
  size_t before = Table::ValueBytes(e);  // a string's capacity, so far
  size_t have = before;
  bool replaced_module = e->kind != ValueKind::kString;
  if (replaced_module) {
    Table::FreeValue(e);
    have = 0;
  }
  if (n > have || (n + 64 < have / 2 && !e->value_inline())) {
    size_t cap = n < 16 ? 16 : n;
    if (n > have && have > 0 && n < have * 2 && e->str.len > 0) cap = have * 2;
    have = SetStringCap(e, cap);
  }
  if (n > e->str.len) memset(e->str.ptr + e->str.len, 0, n - e->str.len);
  e->str.len = static_cast<uint32_t>(n);
  e->str_raw = 1;
  Written(k);
  k->table->ValueChanged(before, have);
  return e->str.ptr;
}

int KeyStringSet(ferrite_key* k, const char* s, size_t n) {
  if (n > UINT32_MAX - 1) return FERRITE_ERR;
  Entry* e = EnsureEntry(k, n);
  size_t before = Table::ValueBytes(e);  // a string's capacity, so far
  size_t have = before;
  bool replaced_module = e->kind != ValueKind::kString;
  if (replaced_module) {
    Table::FreeValue(e);
    have = 0;
  }
  if (n > have || (n * 2 + 64 < have && !e->value_inline())) have = SetStringCap(e, n ? n : 1);
  if (n) memcpy(e->str.ptr, s, n);
  e->str.len = static_cast<uint32_t>(n);
  e->str_raw = 0;
  Written(k);
  k->table->ValueChanged(before, have);
  if (replaced_module) k->ctx->host->SignalKeyReady(k->db, k->name);
  return FERRITE_OK;
}

void* KeyValue(ferrite_key* k) {
  if (!k || !k->e || k->e->kind != ValueKind::kModule) return nullptr;
  return k->e->mod.ptr;
}

int KeySetValue(ferrite_key* k, const ferrite_type* t, void* v) {
  if (!t || t == StringTypePtr()) return FERRITE_ERR;
  Entry* e = EnsureEntry(k);
  size_t before = Table::ValueBytes(e);
  Table::FreeValue(e);
  e->set_module(t, v);
  Written(k);
  k->table->ValueChanged(before, 0);  // set_module counts 0 bytes; ModuleChanged adds them
  k->table->ModuleChanged(e);
  k->ctx->host->SignalKeyReady(k->db, k->name);
  return FERRITE_OK;
}

int64_t KeyGetExpire(ferrite_key* k) { return k && k->e ? k->table->ExpireOf(k->e) : -1; }
// A TTL change is not a value write: the version (memcached's CAS) stays, as memcached's
// touch keeps the CAS; WATCH compares the expiry itself (WatchState).
void KeySetExpire(ferrite_key* k, int64_t ms) {
  if (!k || !k->e) return;
  k->table->SetExpire(k->e, ms);
  k->ctx->dirty = true;
  Invalidate(k);  // EXPIRE, memcached touch: Redis signals the key as modified
}
uint32_t KeyGetFlags(ferrite_key* k) { return k && k->e ? k->e->flags() : 0; }
void KeySetFlags(ferrite_key* k, uint32_t f) {
  if (!k || !k->e) return;
  k->e->set_flags(f);
}
uint64_t KeyVersion(ferrite_key* k) { return k && k->e ? k->e->version : 0; }
uint32_t KeyGetMcBits(ferrite_key* k) { return k && k->e ? k->e->mc_bits : 0; }
void KeySetMcBits(ferrite_key* k, uint32_t bits) {
  if (k && k->e) k->e->mc_bits = bits & (FERRITE_MC_FETCHED | FERRITE_MC_STALE | FERRITE_MC_WON);
}
// memcached's explicit CAS (meta E<cas>, md x keeping the CAS): the key's version becomes
// the caller's number, which may be the one a WATCH recorded, so the watch registry counts
// the write as a change (EXEC compares that count too).
void KeySetVersion(ferrite_key* k, uint64_t v) {
  if (!k || !k->e) return;
  k->e->version = v;
  k->ctx->dirty = true;
  k->ctx->host->key_watches().VersionSet(k->db, k->name);
}
int64_t KeyIdleMs(ferrite_key* k) { return k && k->e ? k->ctx->host->IdleMs(k->e) : 0; }

// The members of ferrite_key_info that fit in the caller's struct_size.
void FillKeyInfo(Host* h, const Entry* e, int64_t expire_ms, ferrite_key_info* out) {
  ferrite_key_info v{};
  v.struct_size = out->struct_size;
  v.mem_bytes = KeyMemoryUsage(e);
  v.is_string = e->kind == ValueKind::kString;
  v.value_len = v.is_string ? e->str.len : 0;
  v.expire_ms = expire_ms;
  v.idle_ms = h->IdleMs(e);
  v.version = e->version;
  v.flags = e->flags();
  v.fetched = (e->mc_bits & FERRITE_MC_FETCHED) != 0;
  memcpy(out, &v, std::min(out->struct_size, sizeof v));
}

int KeyInfo(ferrite_key* k, ferrite_key_info* out) {
  if (!k || !k->e || !out) return FERRITE_ERR;
  FillKeyInfo(k->ctx->host, k->e, k->table->ExpireOf(k->e), out);
  return FERRITE_OK;
}

int EventKeyInfo(ferrite_key_info* out) {
  const Host::Evicting* ev = Host::EvictingEntry();
  Host* h = CurrentHost();
  if (!ev || !h || !out) return FERRITE_ERR;
  FillKeyInfo(h, ev->e, ev->expire_ms, out);
  return FERRITE_OK;
}

int64_t StatInt(const char* name) {
  Host* h = CurrentHost();
  if (!h || !name) return 0;
  ferrite::host::Stats& s = h->stats();
  const std::pair<std::string_view, const std::atomic<uint64_t>*> kCounters[] = {
      {"get_expired", &s.get_expired},           {"reclaimed", &s.reclaimed},
      {"crawler_reclaimed", &s.crawler_reclaimed}, {"expired_unfetched", &s.expired_unfetched},
      {"evicted_unfetched", &s.evicted_unfetched}, {"expired_keys", &s.expired_keys},
      {"evicted_keys", &s.evicted_keys},         {"keyspace_hits", &s.keyspace_hits},
      {"keyspace_misses", &s.keyspace_misses},   {"total_connections", &s.total_connections},
      {"rejected_connections", &s.rejected_connections}};
  std::string_view n(name);
  for (auto& [cn, v] : kCounters) {
    if (cn == n) return static_cast<int64_t>(v->load(std::memory_order_relaxed));
  }
  if (n == "connected_clients") return static_cast<int64_t>(h->num_clients());
  return 0;
}
int KeyLfuFreq(ferrite_key* k) { return k && k->e ? k->ctx->host->LfuDecayed(k->e) : 0; }

void KeyModified(ferrite_key* k, uint32_t cls, const char* event) {
  if (!k || !k->e) return;
  Host* h = k->ctx->host;
  Written(k);
  Entry* e = k->e;
  const ferrite_type* t = e->kind == ValueKind::kModule ? e->mod_type() : nullptr;
  if (t) k->table->ModuleChanged(e);
  if (event) h->Notify(k->db, cls, event, k->name);
  if (t && t->desc.length && t->desc.length(e->mod.ptr) == 0) {
    k->table->Erase(e);
    k->e = nullptr;
    h->Notify(k->db, FERRITE_NOTIFY_GENERIC, "del", k->name);
  }
  if (t) h->SignalKeyReady(k->db, k->name);
}

void KeyResized(ferrite_key* k) {
  if (!k || !k->e || k->e->kind != ValueKind::kModule) return;
  k->table->ModuleChanged(k->e);
}

void NotifyEvent(ferrite_ctx* c, uint32_t cls, const char* event, ferrite_slice key) {
  H(c)->Notify(c->client->db, cls, event, {key.ptr, key.len});
}
void NotifyDb(ferrite_ctx* c, int db, uint32_t cls, const char* event, ferrite_slice key) {
  H(c)->Notify(db, cls, event, {key.ptr, key.len});
}

// ------------------------------- whole keyspace ----------------------------------------

size_t DbSize(ferrite_ctx* c, int db) {
  auto& ks = H(c)->keyspace();
  if (db < 0 || db >= ks.num_dbs()) return 0;
  size_t n = 0;
  for (int i = 0; i < ks.num_shards(); i++) n += ks.shard(i).dbs[db].size();
  return n;
}

constexpr int kShardCursorBits = 12;

uint64_t DbScan(ferrite_ctx* c, int db, uint64_t cursor, size_t count, ferrite_scan_fn fn,
                void* udata) {
  Host* h = H(c);
  auto& ks = h->keyspace();
  if (db < 0 || db >= ks.num_dbs()) return 0;
  uint64_t si = cursor & ((1u << kShardCursorBits) - 1);
  uint64_t tc = cursor >> kShardCursorBits;
  if (count == 0) count = 10;
  size_t seen = 0;
  bool stop = false;
  int64_t now = h->clock().NowMs();
  const ferrite_type* st = StringTypePtr();
  // SCAN deletes the expired keys it meets, each propagated as a DEL of its own (Redis'
  // scanGenericCommand calls expireIfNeeded on them); KEYS and the memcached walks only
  // skip them (Redis' keysCommand tests keyIsExpired). Not on a replica, which waits for
  // its primary's DEL, nor while clients are paused: the data set then stands still.
  bool reclaim = c->cmd && c->cmd->name == "scan" &&
                 !h->replication().is_replica.load(std::memory_order_relaxed) &&
                 !h->client_pause().Paused(now);
  std::vector<std::pair<int, std::string>> expired;
  while (si < static_cast<uint64_t>(ks.num_shards())) {
    Table& t = ks.shard(static_cast<int>(si)).dbs[db];
    do {
      tc = t.Scan(tc, [&](Entry* e) {
        seen++;
        if (stop) return;
        if (t.ExpiredAt(e, now)) {
          if (reclaim) expired.emplace_back(static_cast<int>(si), e->key());
          return;
        }
        if (fn(udata, {e->key().data(), e->key().size()}, e->type(st)) != 0) stop = true;
      });
    } while (tc != 0 && seen < count && !stop);
    if (tc == 0) si++;
    if (seen >= count || stop) break;
  }
  // After the walk: erasing inside Table::Scan's callback would disturb its iteration.
  for (auto& [shard, key] : expired) {
    Table& t = ks.shard(shard).dbs[db];
    Entry* e = t.Find(key, HashKey(key));
    if (e && t.ExpiredAt(e, now)) h->ExpireEntry(shard, db, e);
  }
  if (si >= static_cast<uint64_t>(ks.num_shards())) return 0;
  return (tc << kShardCursorBits) | si;
}

void DbFlush(ferrite_ctx* c, int db) {
  auto& ks = H(c)->keyspace();
  for (int i = 0; i < ks.num_shards(); i++) {
    auto& s = ks.shard(i);
    for (int d = 0; d < ks.num_dbs(); d++)
      if (db < 0 || d == db) s.dbs[d].Clear();
  }
  c->dirty = true;
  H(c)->SignalDbFlushed(db);
  if (H(c)->tracking().Active()) H(c)->tracking().InvalidateAll();
}

int DbRandomKey(ferrite_ctx* c, int db, ferrite_slice* out) {
  Host* h = H(c);
  auto& ks = h->keyspace();
  if (DbSize(c, db) == 0) return 0;
  static thread_local std::mt19937_64 rng{std::random_device{}()};
  static thread_local std::string buf;
  for (int tries = 0; tries < 100; tries++) {
    int si = static_cast<int>(rng() % ks.num_shards());
    Table& t = ks.shard(si).dbs[db];
    Entry* e = t.RandomEntry(rng);
    if (!e) continue;
    if (Expired(h, t, e)) {
      h->ExpireEntry(si, db, e);
      if (DbSize(c, db) == 0) return 0;
      continue;
    }
    buf.assign(e->key());
    *out = {buf.data(), buf.size()};
    return 1;
  }
  // A few keys over many shards: the probes above can miss them all. Visit every shard
  // once, expiring dead entries on the way as Redis does, and never answer with a key
  // whose time is up (RANDOMKEY then said "b" for a db holding only an expired b).
  int n = ks.num_shards(), first = static_cast<int>(rng() % n);
  for (int i = 0; i < n; i++) {
    int si = (first + i) % n;
    Table& t = ks.shard(si).dbs[db];
    while (Entry* e = t.RandomEntry(rng)) {
      if (Expired(h, t, e)) {
        h->ExpireEntry(si, db, e);
        continue;
      }
      buf.assign(e->key());
      *out = {buf.data(), buf.size()};
      return 1;
    }
  }
  return 0;
}

Entry* LiveEntry(Host* h, int db, std::string_view key, int* si_out) {
  uint64_t hash = HashKey(key);
  int si = h->keyspace().ShardIndex(hash);
  Table& t = h->keyspace().shard(si).dbs[db];
  Entry* e = t.Find(key, hash);
  if (e && Expired(h, t, e)) {
    h->ExpireEntry(si, db, e);
    e = nullptr;
  }
  *si_out = si;
  return e;
}

// Allocates a new entry named `name` carrying e's metadata (value is set by caller).
Entry* CloneHeader(const Entry* e, std::string_view name) {
  Entry* n = static_cast<Entry*>(malloc(sizeof(Entry) + name.size()));
  if (!n) throw std::bad_alloc();
  memcpy(n, e, sizeof(Entry));
  n->next = nullptr;
  n->key_len = static_cast<uint32_t>(name.size());
  n->has_expire = 0;
  memcpy(n->key_data(), name.data(), name.size());
  return n;
}

int KeyRenameOrCopy(ferrite_ctx* c, int sdb, ferrite_slice src, int ddb, ferrite_slice dst,
                    bool copy) {
  Host* h = H(c);
  auto& ks = h->keyspace();
  if (sdb < 0 || ddb < 0 || sdb >= ks.num_dbs() || ddb >= ks.num_dbs()) return FERRITE_ERR;
  int ssi, dsi;
  for (ferrite_slice k : {src, dst})
    CheckShardHeld(h, c, ks.ShardIndex(HashKey({k.ptr, k.len})), {k.ptr, k.len});
  Entry* e = LiveEntry(h, sdb, {src.ptr, src.len}, &ssi);
  if (!e) return FERRITE_ERR;
  std::string_view dname(dst.ptr, dst.len);
  if (!copy && sdb == ddb && dname == std::string_view(src.ptr, src.len)) return FERRITE_OK;
  Entry* old = LiveEntry(h, ddb, dname, &dsi);
  if (h->tracking().Active()) {
    if (!copy) h->tracking().InvalidateKey(c->client, {src.ptr, src.len});
    h->tracking().InvalidateKey(c->client, dname);
  }
  Table& dt = ks.shard(dsi).dbs[ddb];
  if (old) dt.Erase(old);
  Entry* n = CloneHeader(e, dname);
  int64_t exp = ks.shard(ssi).dbs[sdb].ExpireOf(e);
  if (copy) {
    if (e->kind == ValueKind::kString) {
      n->str.ptr = static_cast<char*>(malloc(std::max<size_t>(e->str.len, 1)));
      if (!n->str.ptr) {
        free(n);
        throw std::bad_alloc();
      }
      if (e->str.len) memcpy(n->str.ptr, e->str.ptr, e->str.len);
    } else {
      const ferrite_type* t = e->mod_type();
      n->mod.ptr = t->desc.copy ? t->desc.copy(e->mod.ptr) : nullptr;
      if (!n->mod.ptr) {
        free(n);
        return FERRITE_ERR;
      }
    }
  } else {
    if (e->value_inline()) {  // the value lives in e's allocation: n needs its own copy
      n->str.ptr = static_cast<char*>(malloc(std::max<size_t>(e->str.len, 1)));
      if (!n->str.ptr) {
        free(n);
        throw std::bad_alloc();
      }
      memcpy(n->str.ptr, e->str.ptr, e->str.len);
    }
    Table& st = ks.shard(ssi).dbs[sdb];
    st.Unlink(e);
    free(e);  // value moved to n
  }
  n->version = ks.NextVersion(dsi);
  dt.Link(n);  // counts n's own bytes (a copied module value as its source's last count)
  h->key_watches().KeyCreated(ddb, dname);
  h->Notify(ddb, FERRITE_NOTIFY_NEW, "new", dname);  // Redis' dbAdd, even over a deleted key
  if (exp >= 0) dt.SetExpire(n, exp);
  c->dirty = true;
  if (n->kind == ValueKind::kModule) h->SignalKeyReady(ddb, dname);
  return FERRITE_OK;
}

int KeyRename(ferrite_ctx* c, int sdb, ferrite_slice s, int ddb, ferrite_slice d) {
  return KeyRenameOrCopy(c, sdb, s, ddb, d, false);
}
int KeyCopy(ferrite_ctx* c, int sdb, ferrite_slice s, int ddb, ferrite_slice d) {
  return KeyRenameOrCopy(c, sdb, s, ddb, d, true);
}

const char* KeyEncoding(ferrite_key* k) { return k && k->e ? EntryEncoding(*k->e) : nullptr; }

// ------------------------------- propagation, call -------------------------------------

void PropagateCmd(ferrite_ctx* c, int argc, const ferrite_slice* argv) {
  std::vector<std::string> cmd;
  cmd.reserve(argc);
  for (int i = 0; i < argc; i++) cmd.emplace_back(argv[i].ptr, argv[i].len);
  c->propagated.push_back({c->client->db, kPropagateAll, std::move(cmd)});
  c->propagate_overridden = true;
  c->dirty = true;
}

void PropagateTo(ferrite_ctx* c, uint32_t targets, int argc, const ferrite_slice* argv) {
  targets &= kPropagateAll;
  // Nothing consumes propagation (no AOF, no replica): no copy (PUBLISH is hot).
  if (!targets || !H(c)->PropagationActive()) return;
  std::vector<std::string> cmd;
  cmd.reserve(argc);
  for (int i = 0; i < argc; i++) cmd.emplace_back(argv[i].ptr, argv[i].len);
  c->propagated.push_back({c->client->db, targets, std::move(cmd)});
  c->propagate_overridden = true;
  c->forced = true;
}
void MarkDirty(ferrite_ctx* c) { c->dirty = true; }

ferrite_call_reply* Call(ferrite_ctx* c, int argc, const ferrite_slice* argv) {
  Capture cap;
  Host* h = H(c);
  const Command* cmd = nullptr;
  const Subcommand* sub = nullptr;
  // A refusal is counted as the command's error reply (Redis' scriptCall: afterErrorReply
  // and rejected_calls); the script that passes it on does not count it again.
  auto err = [&](ferrite_error_code code, std::string msg) {
    CountErrorReply(h, nullptr, code, msg);
    if (cmd) StatsOf(cmd, sub).rejected.fetch_add(1, std::memory_order_relaxed);
    kCaptureSink.error(&cap, code, msg.data(), msg.size());
    return cap.root.release();
  };
  auto err_text = [&](const std::string& msg) { return err(FERRITE_E_GENERIC, msg); };
  if (argc <= 0) return err(FERRITE_E_GENERIC, "ERR wrong number of arguments");
  cmd = h->registry().Find({argv[0].ptr, argv[0].len});
  if (!cmd) return err(FERRITE_E_GENERIC, "ERR Unknown Redis command called from script");
  if ((cmd->arity > 0 && argc != cmd->arity) || (cmd->arity < 0 && argc < -cmd->arity))
    return err(FERRITE_E_GENERIC, "ERR Wrong number of args calling Redis command from script");
  sub = cmd->FindSubcommand(argc, argv);
  if (sub && ((sub->arity > 0 && argc != sub->arity) || (sub->arity < 0 && argc < -sub->arity)))
    return err(FERRITE_E_GENERIC, "ERR Wrong number of args calling Redis command from script");
  const uint32_t flags = CallFlags(cmd, sub);
  if ((flags & FERRITE_CMD_NOSCRIPT) && !h->script_disable_deny.load(std::memory_order_relaxed))
    return err(FERRITE_E_GENERIC, "ERR This Redis command is not allowed from script");
  ReplicationHooks& repl = h->replication();
  const bool from_primary = c->client->repl_kind == Client::ReplKind::kMaster;
  // Redis' scriptVerifyAllowStale.
  if (!(flags & FERRITE_CMD_STALE) && repl.stale_refused.load(std::memory_order_relaxed) &&
      !from_primary)
    return err_text("ERR Can not execute the command on a stale replica");
  // Redis' scriptVerifyACL: a script's calls run as its caller's user (context lua in
  // ACL LOG); a module's own calls are not checked, as RM_Call without "C".
  if (std::string why; !AclAllowsCall(c, cmd, sub, argc, argv, &why))
    return err_text(why);
  // Redis' scriptVerifyWriteCommandAllow: a read-only script refuses writes and
  // may-replicate commands; until the script wrote, a write fails on a read-only
  // replica, a persistence error or too few good replicas (after its first write the
  // script cannot stop half-way).
  const bool write = flags & FERRITE_CMD_WRITE;
  if (c->script_no_writes && (write || (flags & FERRITE_CMD_MAY_REPLICATE)))
    return err_text("ERR Write commands are not allowed from read-only scripts.");
  if (write && !c->script_wrote && !from_primary) {
    if (repl.read_only.load(std::memory_order_relaxed))
      return err(FERRITE_E_READONLY, ferrite_error_default_text(FERRITE_E_READONLY));
    if (h->writes_refused.load(std::memory_order_relaxed))
      return err(FERRITE_E_MISCONF, ferrite_error_default_text(FERRITE_E_MISCONF));
    if (repl.no_good_replicas.load(std::memory_order_relaxed))
      return err_text("NOREPLICAS Not enough good replicas to write.");
  }
  // Redis' scriptVerifyOOM: over maxmemory when the script started and no WRITE command
  // called yet (whether it changed anything or not), a DENYOOM command fails; once the
  // script wrote, it cannot stop half-way. A script flagged allow-oom may always.
  if ((cmd->flags & FERRITE_CMD_DENYOOM) && c->client->pre_command_oom && !c->script_wrote &&
      !c->script_allow_oom)
    return err(FERRITE_E_OOM, ferrite_error_default_text(FERRITE_E_OOM));
  // A script that declared keys holds only their shards: the shards of a key it did not
  // declare are added to its lock set now and kept until it ends (LockSet::Extend waits
  // with priority, so this cannot deadlock; only this script claims: it holds the host's
  // script slot). Its earlier reads stay valid: nobody else could change their keys.
  LockSet* held = LockSet::Current();
  if (held && !held->holds_all() && c->cmd && c->cmd->lock_rule == Command::LockRule::kScript) {
    std::vector<int> shards;
    Host::LockKind kind = h->PlanCall(cmd, CallFlags(cmd, sub), argc, argv, shards);
    if (!h->ExtendHeld(kind, shards))
      return err(FERRITE_E_GENERIC, "ERR server is shutting down");
  }
  if (cmd->flags & FERRITE_CMD_WRITE) c->script_wrote = true;
  uint64_t t0 = __builtin_ia32_rdtsc();
  uint32_t errors = 0;
  RunHandler(h, c->client, cmd, argc, argv, &kCaptureSink, &cap, true, c, &errors);
  // Commands a script calls have their own commandstats, as in Redis (CMD_CALL_STATS).
  uint64_t cycles = __builtin_ia32_rdtsc() - t0;
  StatsOf(cmd, sub).Count(cycles, true, errors > 0, h->LatencyTracking());
  // A script that reads remembers the keys it declared (Redis 7.0), for its caller.
  Client* cl = c->client;
  if (h->tracking().Active() && cl->tracking.on && !cl->tracking.bcast &&
      (cmd->flags & FERRITE_CMD_READONLY) && c->cmd)
    h->tracking().RememberKeys(cl, c->cmd, c->argc, c->argv);
  if (!(CallFlags(cmd, sub) & (FERRITE_CMD_ADMIN | FERRITE_CMD_SKIP_MONITOR)))
    FeedMonitors(h, c->client, MonitorFeed::Origin::kScript, argc, argv);
  if (!cap.root) kCaptureSink.null(&cap);
  return cap.root.release();
}

void FreeCallReply(ferrite_call_reply* r) { delete r; }
ferrite_reply_type CRType(const ferrite_call_reply* r) { return r->type; }
int64_t CRInt(const ferrite_call_reply* r) { return r->i; }
double CRDouble(const ferrite_call_reply* r) { return r->d; }
ferrite_slice CRString(const ferrite_call_reply* r) { return {r->str.data(), r->str.size()}; }
size_t CRLength(const ferrite_call_reply* r) { return r->elems.size(); }
const ferrite_call_reply* CRElement(const ferrite_call_reply* r, size_t i) {
  return i < r->elems.size() ? r->elems[i].get() : nullptr;
}
ferrite_slice CRErrorText(const ferrite_call_reply* r) { return {r->str.data(), r->str.size()}; }
ferrite_slice CRVerbatimFormat(const ferrite_call_reply* r) { return {r->fmt.data(), r->fmt.size()}; }

// ------------------------------- blocking, connections ---------------------------------

int BlockOnKeys(ferrite_ctx* c, const ferrite_slice* keys, int n, int64_t timeout,
                ferrite_block_timeout_reply on_timeout) {
  if (c->nested || c->parent) return FERRITE_ERR;
  c->blocked = true;
  return H(c)->BlockClient(c->client, c->client->db, keys, n, timeout, on_timeout, c->argc, c->argv);
}

int BlockOnKeysEx(ferrite_ctx* c, const ferrite_slice* keys, int n, int64_t timeout,
                  ferrite_block_timeout_reply on_timeout, uint32_t flags, int argc,
                  const ferrite_slice* argv) {
  if (c->nested || c->parent) return FERRITE_ERR;
  c->blocked = true;
  if (argc <= 0 || !argv) argc = c->argc, argv = c->argv;
  return H(c)->BlockClient(c->client, c->client->db, keys, n, timeout, on_timeout, argc, argv,
                           flags);
}

// Read on the client's own thread, which is the one that set it.
int CtxBlockRerun(ferrite_ctx* c) {
  return !c->nested && !c->parent && c->client && c->client->block.rerunning ? 1 : 0;
}

int CtxBlockWokenKey(ferrite_ctx* c, ferrite_slice* out) {
  if (!CtxBlockRerun(c) || !c->client->block.serving_by_key) return 0;
  const std::string& k = c->client->block.serving_key;
  *out = {k.data(), k.size()};
  return 1;
}

// An EXEC body's parent is the EXEC; a script's calls have the script's command.
int CtxViaCall(ferrite_ctx* c) {
  return c->parent && !(c->parent->cmd && c->parent->cmd->name == "exec") ? 1 : 0;
}

int ConnPush(ferrite_conn_id id, int argc, const ferrite_slice* argv) {
  Host* h = CurrentHost();
  if (!h) return FERRITE_ERR;
  auto client = h->FindClient(id);
  if (!client || client->closed.load()) return FERRITE_ERR;
  auto msg = std::make_shared<std::vector<std::string>>();
  msg->reserve(argc);
  for (int i = 0; i < argc; i++) msg->emplace_back(argv[i].ptr, argv[i].len);
  std::weak_ptr<Client> weak = client;
  client->post([weak, msg] {
    auto cl = weak.lock();
    if (!cl || cl->closed.load() || !cl->proto) return;
    const ferrite_reply_sink* s = cl->proto->sink;
    s->push(cl->proto_state, msg->size());
    for (auto& m : *msg) s->bulk(cl->proto_state, m.data(), m.size());
    cl->host->CheckOutputLimits(cl.get());  // slow subscribers
    if (cl->on_output) cl->on_output();
  });
  return FERRITE_OK;
}

// A plugin that reports no kinds (SDK < 1.14): every subscription shows as a channel.
void CtxSetSubscriptions(ferrite_ctx* c, size_t n) {
  c->client->subscriptions = n;
  c->client->sub_channels = n;
  c->client->sub_patterns = c->client->sub_shard = 0;
}
void CtxSetSubscriptionCounts(ferrite_ctx* c, size_t channels, size_t patterns, size_t shard) {
  Client* cl = c->client;
  cl->subscriptions = channels + patterns + shard;
  cl->sub_channels = channels;
  cl->sub_patterns = patterns;
  cl->sub_shard = shard;
}
void RPush(ferrite_ctx* c, size_t n) { c->sink->push(c->st, n); }

int ConnOnReset(ferrite_conn_id id, void (*fn)(void*, ferrite_conn_id), void* udata) {
  Host* h = CurrentHost();
  if (!h) return FERRITE_ERR;
  auto client = h->FindClient(id);
  if (!client) return FERRITE_ERR;
  for (auto& [f, u] : client->reset_hooks)
    if (f == fn && u == udata) return FERRITE_OK;
  client->reset_hooks.emplace_back(fn, udata);
  return FERRITE_OK;
}

uint32_t CommandFlags(ferrite_slice name) {
  Host* h = CurrentHost();
  const Command* c = h ? h->registry().Find({name.ptr, name.len}) : nullptr;
  return c ? c->flags : 0;
}

int ConnOnClose(ferrite_conn_id id, void (*fn)(void*, ferrite_conn_id), void* udata) {
  Host* h = CurrentHost();
  if (!h) return FERRITE_ERR;
  auto client = h->FindClient(id);
  if (!client) return FERRITE_ERR;
  client->close_hooks.emplace_back(fn, udata);
  return FERRITE_OK;
}

// ------------------------------- io ----------------------------------------------------

void IoWriteLen(ferrite_io* io, uint64_t v) { io->WriteLen(v); }
void IoWriteString(ferrite_io* io, const char* s, size_t n) { io->WriteString(s, n); }
void IoWriteDouble(ferrite_io* io, double v) { io->WriteDouble(v); }
int IoReadLen(ferrite_io* io, uint64_t* v) { return io->ReadLen(v) ? FERRITE_OK : FERRITE_ERR; }
int IoReadString(ferrite_io* io, char** out, size_t* len) {
  std::string s;
  if (!io->ReadString(&s)) return FERRITE_ERR;
  *out = static_cast<char*>(malloc(s.size() + 1));
  if (!*out) return FERRITE_ERR;
  memcpy(*out, s.data(), s.size());
  (*out)[s.size()] = 0;
  *len = s.size();
  return FERRITE_OK;
}
int IoReadDouble(ferrite_io* io, double* v) { return io->ReadDouble(v) ? FERRITE_OK : FERRITE_ERR; }
void IoFree(void* p) { free(p); }
void AofEmit(ferrite_aof* a, int argc, const ferrite_slice* argv) { a->Emit(argc, argv); }

// ------------------------------- protocol plugins --------------------------------------

ferrite_exec_result Execute(ferrite_conn* c, int argc, const ferrite_slice* argv,
                            const ferrite_reply_sink* sink, void* st) {
  return c->host->Execute(c, argc, argv, sink, st);
}
void ConnWrite(ferrite_conn* c, const char* d, size_t n) { c->out.append(d, n); }
char* ConnReserve(ferrite_conn* c, size_t n) {
  c->reserve_base = c->out.size();
  c->out.resize(c->reserve_base + n);
  return c->out.data() + c->reserve_base;
}
void ConnCommit(ferrite_conn* c, size_t used) { c->out.resize(c->reserve_base + used); }
void ConnClose(ferrite_conn* c, int how) { c->close_mode = how; }
ferrite_conn_id ConnId(ferrite_conn* c) { return c->id; }
int ConnResp(ferrite_conn* c) { return c->resp; }
int ConnDb(ferrite_conn* c) { return c->db; }

int64_t ConfigInt(const char* name);
int64_t ConfigString(const char* name, char* buf, size_t cap);

int ConnNeedsAuth(ferrite_conn* c) {
  return !c->authenticated && c->host->auth_required.load(std::memory_order_relaxed) ? 1 : 0;
}
// The memcached plugins' SASL PLAIN and text-protocol `set` authentication: an ACL user
// (no user name: the default user). A failure is in ACL LOG as an AUTH's.
int ConnAuthenticate(ferrite_conn* c, ferrite_slice user, ferrite_slice pass) {
  std::string_view u(user.ptr, user.len);
  if (u.empty()) u = "default";
  return AclAuthenticate(c->host, c, u, {pass.ptr, pass.len}, "auth") ? FERRITE_OK : FERRITE_ERR;
}

int CtxAclCanReadAnyKey(ferrite_ctx* c) {
  if (!c || !c->client || AclUnrestricted(c->client)) return 1;
  return acl::Acl::CanReadAnyKey(AclRules(c->client), c->cmd, c->cmd->FindSubcommand(c->argc, c->argv), c->argc,
                                 c->argv)
             ? 1
             : 0;
}

int CtxAclCheckCmd(ferrite_ctx* c, int argc, const ferrite_slice* argv) {
  if (!c || argc <= 0) return -1;
  const Command* cmd = H(c)->registry().Find({argv[0].ptr, argv[0].len});
  if (!cmd) return -1;
  const Subcommand* sub = cmd->FindSubcommand(argc, argv);
  // Redis' lookupCommand: a container command with arguments must name a subcommand.
  if (!sub && argc >= 2 && !cmd->subcommands.empty()) return -1;
  if (!c->client || AclUnrestricted(c->client)) return 1;
  int idx = 0;
  return acl::Acl::Check(AclRules(c->client), cmd, sub, argc, argv, &idx) == acl::Verdict::kOk ? 1 : 0;
}

// Redis' scriptPrepareForRun for a script that declared its flags: the error text that
// refuses the run, or nullptr.
const char* ScriptStartRefusal(Host* h, Client* caller, int flags) {
  ReplicationHooks& repl = h->replication();
  const bool from_primary = caller->repl_kind == Client::ReplKind::kMaster;
  if (repl.stale_refused.load(std::memory_order_relaxed) && !from_primary &&
      !(flags & FERRITE_SCRIPT_ALLOW_STALE))
    return "MASTERDOWN Link with MASTER is down, replica-serve-stale-data is set to 'no' and "
           "'allow-stale' flag is not set on the script.";
  if (flags & FERRITE_SCRIPT_NO_WRITES) return nullptr;
  if (repl.read_only.load(std::memory_order_relaxed) && !from_primary)
    return "READONLY Can not run script with write flag on readonly replica";
  if (h->writes_refused.load(std::memory_order_relaxed) && !from_primary)
    return "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to "
           "persist to disk. Writable scripts are blocked. Use 'no-writes' flag for read only "
           "scripts.";
  if (repl.no_good_replicas.load(std::memory_order_relaxed))
    return "NOREPLICAS Not enough good replicas to write.";
  return nullptr;
}

int ScriptSetBusy(ferrite_ctx* c, int flags) {
  Host* h = H(c);
  int busy = flags & 0xff;
  if (busy && (flags & FERRITE_SCRIPT_DECLARED)) {
    if (const char* refusal = ScriptStartRefusal(h, c->client, flags)) {
      SendError(c, FERRITE_E_GENERIC, refusal);
      return -1;
    }
  }
  // Redis' scriptPrepareForRun: a script that declared flags without allow-oom (or
  // no-writes) does not start over maxmemory.
  if (busy && (flags & FERRITE_SCRIPT_DENY_OOM) && c->client->pre_command_oom)
    return FERRITE_E_OOM;
  c->script_allow_oom = busy && (flags & FERRITE_SCRIPT_ALLOW_OOM);
  c->script_no_writes = busy && (flags & FERRITE_SCRIPT_NO_WRITES);
  if (busy) h->script_gate().Begin();
  // Set before the start time other workers test first (dispatch.cc); cleared after it.
  LockSet* held = LockSet::Current();
  if (busy) h->script_scoped = held && !held->holds_all();
  h->script_busy_kind = busy;
  h->script_started_ms = busy ? h->clock().FreshMs() : 0;
  if (!busy && h->shutting_down && c->dirty) {
    // Stopped by the shutdown after writing (or ending just as it came): the data set
    // holds part of its effects.
    c->drop_effects = true;
    h->shutdown_interrupted_writes = true;
  }
  if (!busy) h->script_scoped = false;
  if (!busy) h->script_gate().End();  // wakes the other workers' waiting clients
  return 0;
}
// Only a script (EVAL/FCALL carry ALL_KEYS in their table) may let the worker serve
// others: this worker's connections get BUSY, ALLOW_BUSY commands with keys (WATCH, also
// handed over by other workers) run under the script's lock set (dispatch.cc).
void ScriptYield(ferrite_ctx* c) {
  if (!c || !c->client || !c->cmd || !(c->cmd->flags & FERRITE_CMD_ALL_KEYS)) return;
  ferrite::host::ServeWhileBusy(c->client);
  H(c)->script_gate().RunHandoffs();
}
int ShuttingDown() { return CurrentHost() && CurrentHost()->shutting_down ? 1 : 0; }

const char* TypeName(const ferrite_type* t) { return t ? t->desc.name : ""; }
const ferrite_type* FindType(const char* name) {
  if (!name) return nullptr;
  if (std::string_view(name) == "string") return StringTypePtr();
  Host* h = CurrentHost();
  return h ? h->registry().FindType(name) : nullptr;
}

}  // namespace

namespace {

// One map lookup under the config lock: no cache, so nothing can outlive its Config.
int64_t ConfigInt(const char* name) {
  Host* h = CurrentHost();
  if (!h || !name) return -1;
  if (const auto* ref = h->HotConfigRef(name)) return ref->load(std::memory_order_relaxed);
  auto v = h->config().IntByRedisName(name);
  return v ? *v : -1;
}

int64_t ConfigString(const char* name, char* buf, size_t cap) {
  Host* h = CurrentHost();
  if (!h || !name) return -1;
  auto v = h->config().StringByRedisName(name);
  if (!v) return -1;
  if (cap > 0) {
    size_t n = std::min(cap - 1, v->size());
    memcpy(buf, v->data(), n);
    buf[n] = 0;
  }
  return static_cast<int64_t>(v->size());
}

const ferrite_host_api kApi = [] {
  ferrite_host_api a{};
  a.struct_size = sizeof(ferrite_host_api);
  a.abi_major = FERRITE_ABI_MAJOR;
  a.abi_minor = FERRITE_ABI_MINOR;
  a.register_command = RegisterCommand;
  a.register_type = RegisterType;
  a.register_protocol = RegisterProtocol;
  a.register_option = RegisterOption;
  a.set_plugin_state = SetPluginState;
  a.subscribe_events = SubscribeEvents;
  a.log = PluginLog;
  a.string_type = StringType;
  a.find_type = FindType;
  a.ctx_plugin_state = CtxPluginState;
  a.ctx_conn_id = CtxConnId;
  a.ctx_db = CtxDb;
  a.ctx_select = CtxSelect;
  a.ctx_resp = CtxResp;
  a.ctx_in_script = CtxInScript;
  a.now_ms = NowMs;
  a.num_databases = NumDatabases;
  a.ctx_log = CtxLog;
  a.reply_simple = RSimple;
  a.reply_error = RError;
  a.reply_int = RInt;
  a.reply_double = RDouble;
  a.reply_double_text = RDoubleText;
  a.reply_error_counted = RErrorCounted;
  a.ctx_acl_can_read_any_key = CtxAclCanReadAnyKey;
  a.ctx_acl_check_cmd = CtxAclCheckCmd;
  a.reply_bulk = RBulk;
  a.reply_null = RNull;
  a.reply_null_array = RNullArray;
  a.reply_array = RArray;
  a.reply_map = RMap;
  a.reply_set = RSet;
  a.reply_bool = RBool;
  a.reply_verbatim = RVerbatim;
  a.reply_bignum = RBignum;
  a.reply_call_reply = RCallReply;
  a.open_key = OpenKey;
  a.open_key_db = OpenKeyDb;
  a.close_key = CloseKey;
  a.key_exists = KeyExists;
  a.key_type = KeyType;
  a.key_name = KeyName;
  a.key_delete = KeyDelete;
  a.key_string_get = KeyStringGet;
  a.key_string_set = KeyStringSet;
  a.key_string_resize = KeyStringResize;
  a.key_value = KeyValue;
  a.key_set_value = KeySetValue;
  a.key_get_expire = KeyGetExpire;
  a.key_set_expire = KeySetExpire;
  a.key_get_flags = KeyGetFlags;
  a.key_set_flags = KeySetFlags;
  a.key_version = KeyVersion;
  a.key_idle_ms = KeyIdleMs;
  a.key_lfu_freq = KeyLfuFreq;
  a.key_modified = KeyModified;
  a.notify = NotifyEvent;
  a.db_size = DbSize;
  a.db_scan = DbScan;
  a.db_flush = DbFlush;
  a.db_random_key = DbRandomKey;
  a.key_rename = KeyRename;
  a.key_copy = KeyCopy;
  a.key_encoding = KeyEncoding;
  a.propagate = PropagateCmd;
  a.mark_dirty = MarkDirty;
  a.call = Call;
  a.free_call_reply = FreeCallReply;
  a.call_reply_type = CRType;
  a.call_reply_integer = CRInt;
  a.call_reply_double = CRDouble;
  a.call_reply_string = CRString;
  a.call_reply_length = CRLength;
  a.call_reply_element = CRElement;
  a.call_reply_error_text = CRErrorText;
  a.block_on_keys = BlockOnKeys;
  a.conn_push = ConnPush;
  a.ctx_set_subscriptions = CtxSetSubscriptions;
  a.conn_on_close = ConnOnClose;
  a.io_write_len = IoWriteLen;
  a.io_write_string = IoWriteString;
  a.io_write_double = IoWriteDouble;
  a.io_read_len = IoReadLen;
  a.io_read_string = IoReadString;
  a.io_read_double = IoReadDouble;
  a.io_free = IoFree;
  a.aof_emit = AofEmit;
  a.execute = Execute;
  a.conn_write = ConnWrite;
  a.conn_reserve = ConnReserve;
  a.conn_commit = ConnCommit;
  a.conn_close = ConnClose;
  a.conn_id = ConnId;
  a.conn_resp = ConnResp;
  a.config_int = ConfigInt;
  a.conn_db = ConnDb;
  a.conn_needs_auth = ConnNeedsAuth;
  a.conn_authenticate = ConnAuthenticate;
  a.type_name = TypeName;
  a.config_string = ConfigString;
  a.script_set_busy = ScriptSetBusy;
  a.shutting_down = ShuttingDown;
  a.notify_db = NotifyDb;
  a.reply_push = RPush;
  a.conn_on_reset = ConnOnReset;
  a.command_flags = CommandFlags;
  a.call_reply_verbatim_format = CRVerbatimFormat;
  a.script_yield = ScriptYield;
  a.block_on_keys_ex = BlockOnKeysEx;
  a.ctx_block_rerun = CtxBlockRerun;
  a.ctx_via_call = CtxViaCall;
  a.ctx_block_woken_key = CtxBlockWokenKey;
  a.key_resized = KeyResized;
  a.key_get_mc_bits = KeyGetMcBits;
  a.key_set_mc_bits = KeySetMcBits;
  a.key_set_version = KeySetVersion;
  a.conn_request = [](ferrite_conn* c, int argc, const ferrite_slice* argv) {
    ConnRequest(c->host, c, argc, argv);
  };
  a.key_info = KeyInfo;
  a.event_key_info = EventKeyInfo;
  a.subscribe_evictions = [](ferrite_plugin* p, ferrite_event_fn fn, void* udata) -> int {
    p->host->AddEvictionSubscriber(p, fn, udata);
    return FERRITE_OK;
  };
  a.stat_int = StatInt;
  a.conn_resume = [](ferrite_conn* c) -> int {
    if (!c->resume_input) return FERRITE_ERR;
    c->resume_input();
    return FERRITE_OK;
  };
  a.ctx_set_subscription_counts = CtxSetSubscriptionCounts;
  a.info_register_fields = [](ferrite_plugin* p, const char* section,
                              void (*fn)(void*, ferrite_info*), void* udata) -> int {
    return AddInfoFields(p->host, p, section, fn, udata) ? FERRITE_OK : FERRITE_ERR;
  };
  a.info_field = InfoField;
  a.propagate_to = PropagateTo;
  a.register_subscription_lister = [](ferrite_plugin* p, ferrite_sub_lister_fn fn,
                                      void* udata) -> int {
    if (!fn) return FERRITE_ERR;
    p->host->AddSubscriptionLister(p, fn, udata);
    return FERRITE_OK;
  };
  return a;
}();

}  // namespace

namespace ferrite::host {

const ferrite_host_api* HostApi() { return &kApi; }

void* NewCaptureState() { return new Capture; }
ferrite_call_reply* TakeCapture(void* st) {
  auto* c = static_cast<Capture*>(st);
  c->stack.clear();
  return c->root.release();
}
void FreeCaptureState(void* st) { delete static_cast<Capture*>(st); }

void CloseAllKeys(ferrite_ctx* ctx) {
  for (auto* k : ctx->open_keys) {
    TrackSubkeysOnClose(k);
    delete k;
  }
  ctx->open_keys.clear();
  for (int i = 0; i < ferrite_ctx::kKeySlots; i++)
    if (ctx->slots_used & (1u << i)) TrackSubkeysOnClose(&ctx->key_slots[i]);
  ctx->slots_used = 0;
}

}  // namespace ferrite::host
