// SAVE BGSAVE LASTSAVE BGREWRITEAOF, the hidden FERRITE.SETFLAGS (replays memcached flags
// from a rewritten AOF), and INFO persistence with Redis' field names.
#include <strings.h>

#include <sstream>

#include "ferrite/module.hpp"
#include "host/context.h"
#include "host/persistence/persistence.h"
#include "host/server_commands.h"

namespace ferrite::host::persist {

namespace {

std::string_view SV(const ferrite_slice& s) { return {s.ptr, s.len}; }

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  return a.size() == b.size() && strncasecmp(a.data(), b.data(), a.size()) == 0;
}

int Simple(ferrite_ctx* c, std::string_view s) {
  c->sink->simple(c->st, s.data(), s.size());
  return FERRITE_OK;
}

int Error(ferrite_ctx* c, std::string_view msg, ferrite_error_code code = FERRITE_E_GENERIC) {
  SendError(c, code, msg);
  return FERRITE_OK;
}

PersistenceService* Svc(ferrite_ctx* c) { return PersistenceService::Of(c->host); }

// Dispatch holds every shard lock around these (ALL_KEYS): the fork point is a
// consistent cut of the keyspace.
int CmdSave(ferrite_ctx* c, int, const ferrite_slice*) {
  auto* s = Svc(c);
  if (!s) return Error(c, "ERR persistence is not running");
  if (s->rdb_child_running()) return Error(c, "ERR Background save already in progress");
  // Redis answers a failed SAVE with a bare "-ERR"; the log has the reason.
  if (!s->SaveLocked().empty()) return Error(c, "ERR");
  return Simple(c, "OK");
}

int CmdBgsave(ferrite_ctx* c, int argc, const ferrite_slice* argv) {
  auto* s = Svc(c);
  if (!s) return Error(c, "ERR persistence is not running");
  bool schedule = false;
  if (argc == 2) {
    if (!EqualsIgnoreCase(SV(argv[1]), "SCHEDULE")) return Error(c, "", FERRITE_E_SYNTAX);
    schedule = true;
  } else if (argc > 2) {
    return Error(c, "", FERRITE_E_SYNTAX);
  }
  std::string err = s->BgsaveLocked();
  if (err.empty()) return Simple(c, "Background saving started");
  if (schedule && err.rfind("ERR Another child", 0) == 0) {
    s->ScheduleBgsave();
    return Simple(c, "Background saving scheduled");
  }
  return Error(c, err);
}

int CmdLastsave(ferrite_ctx* c, int, const ferrite_slice*) {
  auto* s = Svc(c);
  c->sink->integer(c->st, s ? s->lastsave() : 0);
  return FERRITE_OK;
}

int CmdBgrewriteaof(ferrite_ctx* c, int, const ferrite_slice*) {
  auto* s = Svc(c);
  if (!s) return Error(c, "ERR persistence is not running");
  bool scheduled = false;
  std::string err = s->BgrewriteLocked(&scheduled);
  if (!err.empty()) return Error(c, err);
  return Simple(c, scheduled ? "Background append only file rewriting scheduled"
                             : "Background append only file rewriting started");
}

// FERRITE.SETFLAGS key flags: the memcached client flags of an existing key.
int CmdSetFlags(ferrite_ctx* c, int, const ferrite_slice* argv) {
  int64_t flags;
  if (!sdk::ParseInt64(SV(argv[2]), &flags) || flags < 0 || flags > UINT32_MAX)
    return Error(c, "", FERRITE_E_NOT_INTEGER);
  std::string_view key = SV(argv[1]);
  Keyspace& ks = c->host->keyspace();
  uint64_t hash = HashKey(key);
  Table& t = ks.shard(ks.ShardIndex(hash)).dbs[c->client->db];
  Entry* e = t.Find(key, hash);
  if (!e || t.ExpiredAt(e, c->host->clock().NowMs())) {
    c->sink->integer(c->st, 0);
    return FERRITE_OK;
  }
  e->set_flags(static_cast<uint32_t>(flags));
  c->dirty = true;
  c->sink->integer(c->st, 1);
  return FERRITE_OK;
}

}  // namespace

void PersistenceService::ScheduleBgsave() {
  std::lock_guard lk(mu_);
  bgsave_scheduled_ = true;
}

std::string PersistenceService::InfoSection() {
  std::ostringstream o;
  int64_t now = h_.clock().NowMs();
  std::lock_guard lk(mu_);
  AofWriter* a = aof_on_ ? aof_.load() : nullptr;
  bool loading = h_.loading.active.load(), async_loading = h_.loading.async.load();
  o << "# Persistence\r\nloading:" << (loading ? 1 : 0)
    << "\r\nasync_loading:" << (async_loading ? 1 : 0) << "\r\ncurrent_cow_peak:0\r\n"
    << "current_cow_size:0\r\ncurrent_cow_size_age:0\r\ncurrent_fork_perc:0.00\r\n"
    << "current_save_keys_processed:0\r\ncurrent_save_keys_total:0\r\n"
    << "rdb_changes_since_last_save:" << h_.stats().dirty.load() - dirty_at_save_.load()
    << "\r\nrdb_bgsave_in_progress:" << (rdb_child_ > 0)
    << "\r\nrdb_last_save_time:" << lastsave_s_.load()
    << "\r\nrdb_last_bgsave_status:" << (last_bgsave_ok_ ? "ok" : "err")
    << "\r\nrdb_last_bgsave_time_sec:" << last_bgsave_secs_
    << "\r\nrdb_current_bgsave_time_sec:"
    << (rdb_child_ > 0 ? (now - rdb_child_start_ms_) / 1000 : -1)
    << "\r\nrdb_saves:" << rdb_saves_ << "\r\nrdb_last_cow_size:0\r\nrdb_last_load_keys_expired:"
    << load_expired_ << "\r\nrdb_last_load_keys_loaded:" << load_keys_
    << "\r\naof_enabled:" << (aof_on_ ? 1 : 0)
    << "\r\naof_rewrite_in_progress:" << (aof_child_ > 0)
    << "\r\naof_rewrite_scheduled:" << (rewrite_scheduled_ ? 1 : 0)
    << "\r\naof_last_rewrite_time_sec:" << last_rewrite_secs_
    << "\r\naof_current_rewrite_time_sec:"
    << (aof_child_ > 0 ? (now - aof_child_start_ms_) / 1000 : -1)
    << "\r\naof_last_bgrewrite_status:" << (last_rewrite_ok_ ? "ok" : "err")
    << "\r\naof_rewrites:" << aof_rewrites_
    << "\r\naof_last_write_status:" << (aof_ok_ ? "ok" : "err")
    << "\r\naof_last_cow_size:0\r\nmodule_fork_in_progress:0\r\nmodule_fork_last_cow_size:0"
    << "\r\nlatest_fork_usec:" << latest_fork_usec_ << "\r\n";
  if (a)
    o << "aof_current_size:" << a->size() << "\r\naof_base_size:" << a->base_size()
      << "\r\naof_pending_rewrite:" << (rewrite_scheduled_ ? 1 : 0)
      << "\r\naof_buffer_length:" << a->pending_bytes()
      << "\r\naof_pending_bio_fsync:0\r\naof_delayed_fsync:0\r\n";
  if (loading || async_loading) o << h_.loading.InfoFields(now / 1000);
  return o.str();
}

void RegisterPersistenceCommands(Host* h) {
  using namespace sdk::flags;
  constexpr uint32_t kFork = ADMIN | NOSCRIPT | ALL_KEYS;
  // clang-format off
  AddHostCommand(h, "SAVE",             1, kFork | NO_MULTI,                0, 0, 0, CmdSave,         "server", "Synchronously save the dataset to disk");
  AddHostCommand(h, "BGSAVE",          -1, kFork,                           0, 0, 0, CmdBgsave,       "server", "Asynchronously save the dataset to disk");
  AddHostCommand(h, "LASTSAVE",         1, FAST | LOADING | STALE,          0, 0, 0, CmdLastsave,     "server", "Unix time of the last successful save");
  AddHostCommand(h, "BGREWRITEAOF",     1, kFork,                           0, 0, 0, CmdBgrewriteaof, "server", "Asynchronously rewrite the append-only file");
  AddHostCommand(h, "FERRITE.SETFLAGS", 3, WRITE | FAST | HIDDEN,           1, 1, 1, CmdSetFlags,     "server", "Set the memcached flags of a key (AOF replay)");
  // clang-format on
}

}  // namespace ferrite::host::persist
